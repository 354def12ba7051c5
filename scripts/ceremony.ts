/**
 * The key ceremony, the only program that opens the roots' token (activities/ca/ceremony.ts does the work):
 *   npm run ceremony -- init         tokens, roots, issuing CAs, OCSP responders, first CRLs: whatever is missing
 *   npm run ceremony -- renew-ocsp   a new key and certificate for every CA's OCSP responder (yearly), then init
 * It reads the same settings as the processes (DATABASE_URL, PKCS11_MODULE, SOFTHSM2_CONF, PKCS11_CA_PIN,
 * PKCS11_OCSP_PIN) plus two only it knows: PKCS11_ROOT_PIN (certflow-root's user PIN) and PKCS11_SO_PIN (the
 * security officer PIN the tokens are initialised with). Outside production all four PINs default to values
 * derived from MASTER_KEY, so `npm start` runs it on a fresh machine with no setting; production must set them.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadConfig, type Config } from '../config/index.js';
import { derivedPin, embeddedSoftHsmConf, embeddedSoftHsmDir, tokenPins } from '../config/pkcs11.js';
import { loadSecrets, type Secrets } from '../config/secrets.js';
import type { Database } from '../db/client.js';
import { findTokenSlot, initToken, pkcs11Module, useSoftHsmConfig, writeSoftHsmConfig } from '../lib/pkcs11/module.js';
import { openToken, TOKEN_LABELS, type OpenToken } from '../lib/pkcs11/session.js';
import { runCeremony, type CeremonyOptions } from '../activities/ca/ceremony.js';

export interface CeremonyPins {
  readonly so: string;
  readonly root: string;
  readonly ca: string;
  readonly ocsp: string;
}

/** The ceremony's PINs: set ones, else (outside production) derived from the master key; production sets all. */
export function ceremonyPins(config: Config, secrets: Secrets, env: Record<string, string | undefined> = process.env): CeremonyPins {
  const production = config.CERTFLOW_ENV === 'production';
  const given = (name: string, label: string): string => {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return value;
    if (production) throw new Error(`${name} is required for the ceremony when CERTFLOW_ENV=production`);
    return derivedPin(secrets, label);
  };
  const { caPin, ocspPin } = tokenPins(config, secrets);
  if (caPin === undefined || ocspPin === undefined) throw new Error('PKCS11_CA_PIN and PKCS11_OCSP_PIN are required for the ceremony when CERTFLOW_ENV=production');
  return { so: given('PKCS11_SO_PIN', 'pkcs11-so'), root: given('PKCS11_ROOT_PIN', TOKEN_LABELS.root), ca: caPin, ocsp: ocspPin };
}

/** Opens the token, initialising it first when the module has none of that label. */
function openOrInit(modulePath: string, label: string, soPin: string, pin: string, done: string[]): OpenToken {
  if (findTokenSlot(pkcs11Module(modulePath), label) === undefined) {
    initToken(pkcs11Module(modulePath), { label, soPin, userPin: pin });
    done.push(`initialised token ${label}`);
  }
  return openToken({ modulePath, label, pin });
}

/** The whole ceremony against `db`; returns what it did, one line each (nothing when all was there). */
export async function ceremony(config: Config, db: Database, options: CeremonyOptions & { env?: Record<string, string | undefined> } = {}): Promise<string[]> {
  const secrets = loadSecrets(config);
  const conf = config.pkcs11.softHsmConf;
  // The embedded token directory is ours to make; any other SOFTHSM2_CONF is the operator's.
  if (conf !== undefined && conf === embeddedSoftHsmConf(config.DATA_DIR) && !existsSync(conf)) writeSoftHsmConfig(embeddedSoftHsmDir(config.DATA_DIR));
  const pkcs11 = { modulePath: config.pkcs11.modulePath, softHsmConf: conf, pins: ceremonyPins(config, secrets, options.env) };
  return ceremonyOn(db, { ...pkcs11, pkiBaseUrl: config.pkiBaseUrl }, options);
}

/** The ceremony with its settings given: the module, SoftHSM2's configuration, the four PINs, the CRL/AIA base. */
export async function ceremonyOn(
  db: Database,
  settings: { modulePath: string; softHsmConf: string | undefined; pins: CeremonyPins; pkiBaseUrl: string },
  options: CeremonyOptions = {},
): Promise<string[]> {
  useSoftHsmConfig(settings.softHsmConf);
  const { modulePath, pins } = settings;
  const done: string[] = [];
  const tokens = {
    root: openOrInit(modulePath, TOKEN_LABELS.root, pins.so, pins.root, done),
    ca: openOrInit(modulePath, TOKEN_LABELS.ca, pins.so, pins.ca, done),
    ocsp: openOrInit(modulePath, TOKEN_LABELS.ocsp, pins.so, pins.ocsp, done),
  };
  try {
    done.push(...(await runCeremony({ db, now: () => new Date(), pkiBaseUrl: settings.pkiBaseUrl, tokens }, options)));
  } finally {
    // The root token is closed the moment the ceremony ends: nothing else of this process may use it.
    tokens.root.close();
  }
  return done;
}

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'init';
  if (command !== 'init' && command !== 'renew-ocsp') {
    console.error('usage: npm run ceremony -- init | renew-ocsp');
    process.exit(2);
  }
  const { openDatabase } = await import('../db/client.js');
  const { migrateDatabase } = await import('../db/migrate.js');
  const config = loadConfig();
  const handle = await openDatabase(config);
  try {
    await migrateDatabase(handle);
    const done = await ceremony(config, handle.db, { renewOcsp: command === 'renew-ocsp' });
    console.log(done.length === 0 ? 'ceremony: nothing to do, every CA, responder and CRL is in place' : done.map((line) => `ceremony: ${line}`).join('\n'));
  } finally {
    await handle.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`ceremony failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
