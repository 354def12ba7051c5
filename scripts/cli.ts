/**
 * Admin command line. `npm run cli -- users create --role <role> --email <email> [--org-siret <siret> --org-name <name>
 * --org-street <street> --org-postal-code <code> --org-locality <city>] [--phone <e164>]` creates an account and
 * prints its API key, once. `users set-password --email <email>` sets an account's password (for password login)
 * from standard input, never from the command line (it would stay in the shell history and the process list).
 * Staff accounts' API keys work only where an admin allowed them (issue 16 item 6): `--api-access` on `users create`,
 * or `users api-access --email <email> [--revoke]` later; `users reset-second-factor --email <email>` makes a staff
 * member enrol a new authenticator at the next sign-in. Each is recorded in the audit chain (actor role `cli`).
 */
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../config/index.js';
import { loadSecrets } from '../config/secrets.js';
import { createEabKey, findOrganisationBySiret, organisationValidated, revokeEabKey } from '../db/acme.js';
import { ACME_PRODUCTS, isAcmeProduct, type AcmeProduct } from '../domain/acme.js';
import { createUser, findUserByEmail, issueApiKey, upsertOrganisation } from '../db/accounts.js';
import { openDatabase, openPostgres, type DatabaseHandle } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { passwordWeakness, setPassword } from '../db/passwords.js';
import { resetSecondFactor, setStaffApiAccess } from '../db/second-factor.js';
import { isE164 } from '../domain/rules/phone.js';
import { checkPostalCode } from '../domain/rules/postal-code.js';
import { checkSiret } from '../domain/rules/siret.js';
import { isRole, ORGANISATION_ROLES, ROLES, STAFF_ROLES, type Role } from '../domain/roles.js';
import { pgliteSocketUrl, runningStack } from './embedded-stack.js';

/** The database as the running stack shares it, or opened directly when nothing else holds it. */
async function connect(): Promise<DatabaseHandle> {
  const config = loadConfig();
  if (config.DATABASE_URL === undefined) {
    const stack = runningStack(config.DATA_DIR);
    if (stack?.pglitePort != null) return openPostgres(pgliteSocketUrl(stack.pglitePort), 1);
  }
  const handle = await openDatabase(config);
  await migrateDatabase(handle);
  return handle;
}

const role = (value: string): Role => {
  if (!isRole(value)) throw new InvalidArgumentError(`one of ${ROLES.join(', ')}`);
  return value;
};
const email = (value: string): string => {
  if (!z.email().safeParse(value).success) throw new InvalidArgumentError('not an email address');
  return value.trim();
};
const siret = (value: string): string => {
  const check = checkSiret(value.replace(/\s/g, ''));
  if (!check.ok) throw new InvalidArgumentError(check.reason);
  return value.replace(/\s/g, '');
};
const postalCode = (value: string): string => {
  const check = checkPostalCode(value.trim());
  if (!check.ok) throw new InvalidArgumentError(check.reason);
  return value.trim();
};
const text = (max: number) => (value: string): string => {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > max) throw new InvalidArgumentError(`not empty, at most ${max} characters`);
  return trimmed;
};
const phone = (value: string): string => {
  if (!isE164(value)) throw new InvalidArgumentError('E.164 form, e.g. +33612345678');
  return value;
};
const language = (value: string): 'fr' | 'en' => {
  if (value !== 'fr' && value !== 'en') throw new InvalidArgumentError('fr or en');
  return value;
};

interface CreateOptions {
  role: Role;
  email: string;
  orgSiret?: string;
  orgName?: string;
  publicAdministration?: boolean;
  orgStreet?: string;
  orgPostalCode?: string;
  orgLocality?: string;
  phone?: string;
  givenName?: string;
  surname?: string;
  language: 'fr' | 'en';
  apiAccess?: boolean;
  json?: boolean;
}

const CLI_ACTOR = { userId: null, role: 'cli' } as const;

async function createAccount(o: CreateOptions): Promise<void> {
  if (ORGANISATION_ROLES.has(o.role) && (o.orgSiret === undefined || o.orgName === undefined)) {
    throw new Error(`a ${o.role} belongs to an organisation: give --org-siret and --org-name`);
  }
  if (!ORGANISATION_ROLES.has(o.role) && o.orgSiret !== undefined) {
    throw new Error(`${o.role} is a CA role: it belongs to no customer organisation, drop --org-siret`);
  }
  // A customer's account holds the person its certificates will name: no account of an organisation without a name.
  if (ORGANISATION_ROLES.has(o.role) && (o.givenName?.trim() ?? '') === '') throw new Error(`a ${o.role} is a person: give --given-name`);
  if (ORGANISATION_ROLES.has(o.role) && (o.surname?.trim() ?? '') === '') throw new Error(`a ${o.role} is a person: give --surname`);
  if (o.apiAccess === true && !STAFF_ROLES.has(o.role)) throw new Error(`--api-access is for staff accounts: a ${o.role}'s keys work without it`);
  if (o.orgSiret === undefined && [o.orgStreet, o.orgPostalCode, o.orgLocality].some((v) => v !== undefined)) {
    throw new Error('the address options are those of the organisation: give --org-siret and --org-name too');
  }
  const handle = await connect();
  try {
    if ((await findUserByEmail(handle.db, o.email)) !== undefined) throw new Error(`an account with email ${o.email} exists`);
    const org =
      o.orgSiret !== undefined && o.orgName !== undefined
        ? await upsertOrganisation(handle.db, {
            siret: o.orgSiret,
            name: o.orgName,
            publicAdministration: o.publicAdministration ?? false,
            // Parts given fill in those the organisation lacks; known ones stay (PATCH /v1/organisations/{id} corrects them).
            ...(o.orgStreet !== undefined ? { street: o.orgStreet } : {}),
            ...(o.orgPostalCode !== undefined ? { postalCode: o.orgPostalCode } : {}),
            ...(o.orgLocality !== undefined ? { locality: o.orgLocality } : {}),
          })
        : undefined;
    const user = await createUser(handle.db, {
      email: o.email,
      role: o.role,
      organisationId: org?.id ?? null,
      phone: o.phone ?? null,
      givenName: o.givenName ?? '',
      surname: o.surname ?? '',
      language: o.language,
    });
    const apiKey = await issueApiKey(handle.db, user.id, 'cli');
    const staff = STAFF_ROLES.has(o.role);
    if (staff && o.apiAccess === true) await setStaffApiAccess(handle.db, user.id, true, CLI_ACTOR);
    const apiAccess = !staff || o.apiAccess === true;
    if (o.json === true) {
      console.log(JSON.stringify({ userId: user.id, organisationId: org?.id ?? null, role: user.role, email: user.email, apiKey, apiAccess }));
    } else {
      console.log(`created ${user.role} ${user.email} (user ${user.id}${org ? `, organisation ${org.name} ${org.siret}` : ''})`);
      console.log(`API key, shown once — keep it now:\n${apiKey}`);
      if (!apiAccess) console.log('A staff key works only once an admin allows it (users api-access, or --api-access); staff sign in in the browser with a second factor.');
    }
  } finally {
    await handle.close();
  }
}

/** The first line of standard input (a pipe, or typed at the terminal). */
async function readPasswordLine(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (shown as you type; pipe it in to keep it off the screen): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

async function setAccountPassword(o: { email: string }): Promise<void> {
  const password = await readPasswordLine();
  const weakness = passwordWeakness(password, o.email);
  if (weakness !== undefined) throw new Error(weakness);
  const handle = await connect();
  try {
    const user = await findUserByEmail(handle.db, o.email);
    if (user === undefined) throw new Error(`no account with email ${o.email}`);
    await setPassword(handle.db, user.id, password);
    console.log(`password set for ${user.email} (${user.role}, ${user.status}); failed logins and lock cleared`);
  } finally {
    await handle.close();
  }
}

/** The staff account of an address, or an error. */
async function staffAccount(handle: DatabaseHandle, address: string) {
  const user = await findUserByEmail(handle.db, address);
  if (user === undefined) throw new Error(`no account with email ${address}`);
  if (!isRole(user.role) || !STAFF_ROLES.has(user.role)) throw new Error(`${address} is a ${user.role}, not a staff account`);
  return user;
}

async function setApiAccess(o: { email: string; revoke?: boolean }): Promise<void> {
  const handle = await connect();
  try {
    const user = await staffAccount(handle, o.email);
    await setStaffApiAccess(handle.db, user.id, o.revoke !== true, CLI_ACTOR);
    console.log(`${user.email} (${user.role}): API keys ${o.revoke === true ? 'refused' : 'allowed'}`);
  } finally {
    await handle.close();
  }
}

async function resetFactor(o: { email: string }): Promise<void> {
  const handle = await connect();
  try {
    const user = await staffAccount(handle, o.email);
    const reset = await resetSecondFactor(handle.db, user.id, CLI_ACTOR);
    console.log(reset ? `${user.email}: second factor reset, enrols again at the next sign-in` : `${user.email} had no second factor`);
  } finally {
    await handle.close();
  }
}

const acmeProduct = (value: string): AcmeProduct => {
  if (!isAcmeProduct(value)) throw new InvalidArgumentError(`one of ${ACME_PRODUCTS.join(', ')}`);
  return value;
};

/** An EAB key for an organisation the RA validated (an approved OV review within the BR's reuse period). */
async function createAcmeEab(o: { orgSiret: string; product: AcmeProduct; json?: boolean }): Promise<void> {
  const config = loadConfig();
  const handle = await connect();
  try {
    const org = await findOrganisationBySiret(handle.db, o.orgSiret);
    if (org === undefined) throw new Error(`no organisation with SIRET ${o.orgSiret}`);
    if (!(await organisationValidated(handle.db, org.id))) {
      throw new Error(`the RA has not validated ${org.name} (${org.siret}) within the reuse period: an OV order of it must be approved first`);
    }
    const sealKey = loadSecrets(config).derive('acme-eab');
    const { kid, hmacKey } = await createEabKey(handle.db, sealKey, { organisationId: org.id, product: o.product, actor: CLI_ACTOR });
    if (o.json === true) console.log(JSON.stringify({ kid, hmacKey, organisationId: org.id, product: o.product }));
    else console.log(`EAB key for ${org.name} (${org.siret}), ${o.product}; the HMAC key is shown once — keep it now:\nkid: ${kid}\nhmacKey: ${hmacKey}`);
  } finally {
    await handle.close();
  }
}

async function revokeAcmeEab(o: { kid: string }): Promise<void> {
  const handle = await connect();
  try {
    const done = await revokeEabKey(handle.db, o.kid, CLI_ACTOR);
    console.log(done ? `${o.kid} revoked, with the ACME accounts bound with it` : `no EAB key ${o.kid} in force`);
  } finally {
    await handle.close();
  }
}

const program = new Command('certflow').description('CertFlow administration');
const users = program.command('users').description('accounts and their API keys');
users
  .command('create')
  .description('create an account and print its API key once')
  .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
  .requiredOption('--email <email>', 'the account email', email)
  .option('--org-siret <siret>', 'SIRET of the organisation (created if new)', siret)
  .option('--org-name <name>', 'name of the organisation')
  .option('--org-street <street>', "the organisation's street address", text(200))
  .option('--org-postal-code <code>', "the organisation's postal code (5 digits)", postalCode)
  .option('--org-locality <city>', "the organisation's locality (named in its TLS certificates)", text(128))
  .option('--public-administration', 'the organisation is a public administration (pays by purchase order)')
  .option('--phone <e164>', 'mobile number for SMS codes', phone)
  .option('--given-name <name>', 'given name')
  .option('--surname <name>', 'surname')
  .option('--language <fr|en>', 'language of mails and SMS', language, 'fr')
  .option('--api-access', "staff: let the account's API keys work (staff sign in with a second factor; a key is one factor)")
  .option('--json', 'print the result as JSON')
  .action(async (o: CreateOptions) => {
    await createAccount(o);
  });

users
  .command('set-password')
  .description("set an account's password from the first line of standard input")
  .requiredOption('--email <email>', 'the account email', email)
  .action(async (o: { email: string }) => {
    await setAccountPassword(o);
  });

users
  .command('api-access')
  .description("allow a staff account's API keys (or refuse them with --revoke); audited")
  .requiredOption('--email <email>', 'the account email', email)
  .option('--revoke', 'refuse its keys again')
  .action(async (o: { email: string; revoke?: boolean }) => {
    await setApiAccess(o);
  });

users
  .command('reset-second-factor')
  .description("reset a staff account's second factor: it enrols a new authenticator at the next sign-in; audited")
  .requiredOption('--email <email>', 'the account email', email)
  .action(async (o: { email: string }) => {
    await resetFactor(o);
  });

const eab = program.command('acme').description('the ACME server (RFC 8555)').command('eab').description('external account binding keys');
eab
  .command('create')
  .description('make an EAB key for a validated organisation and a TLS product; prints kid and hmacKey once; audited')
  .requiredOption('--org-siret <siret>', 'SIRET of the organisation', siret)
  .requiredOption('--product <code>', `one of ${ACME_PRODUCTS.join(', ')}`, acmeProduct)
  .option('--json', 'print the result as JSON')
  .action(async (o: { orgSiret: string; product: AcmeProduct; json?: boolean }) => {
    await createAcmeEab(o);
  });
eab
  .command('revoke')
  .description('revoke an EAB key and the ACME accounts bound with it; audited')
  .requiredOption('--kid <kid>', 'the key id')
  .action(async (o: { kid: string }) => {
    await revokeAcmeEab(o);
  });

try {
  await program.parseAsync();
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = 1;
}
