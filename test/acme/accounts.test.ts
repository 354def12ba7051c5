/**
 * The ACME front (RFC 8555 §6-7.3): directory and nonces, JWS checks (signature, url, nonce, key form), accounts bound
 * with an external account binding key of an organisation the RA validated, account update and deactivation, key
 * rollover, and the admin CLI that makes EAB keys. Raw JWS requests (jose), so each can be bent.
 */
import { spawnSync } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { acmeAccounts, acmeEabKeys, auditLog } from '../../db/schema.js';
import { revokeEabKey } from '../../db/acme.js';
import { freshSiret, startTestStack, type Account, type TestStack } from '../support.js';
import { AcmeTestClient, eabBinding, newAcmeKey, signJws } from './client.js';
import { eabFor, validatedOrganisation, type ValidatedOrganisation } from './support.js';

const ACME = (type: string): string => `urn:ietf:params:acme:error:${type}`;

let stack: TestStack;
let ra: Account;
let org: ValidatedOrganisation;
let other: ValidatedOrganisation;
let directoryUrl: string;

beforeAll(async () => {
  stack = await startTestStack();
  ra = await stack.account('ra_operator');
  org = await validatedOrganisation(stack, ra, 'ACME Validated');
  other = await validatedOrganisation(stack, ra, 'Other Validated');
  directoryUrl = `${stack.baseUrl}/acme/directory`;
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const client = async (alg: 'ES256' | 'RS256' | 'EdDSA' = 'ES256') => new AcmeTestClient(directoryUrl, await newAcmeKey(alg)).init();

async function accountCount(): Promise<number> {
  return (await stack.db.select().from(acmeAccounts)).length;
}

describe('directory and nonces', () => {
  it('lists the resources, requires EAB, and answers with a nonce and the index link', async () => {
    const res = await fetch(directoryUrl);
    expect(res.status).toBe(200);
    const dir = (await res.json()) as Record<string, unknown>;
    expect(dir).toMatchObject({ newNonce: `${stack.baseUrl}/acme/new-nonce`, newAccount: `${stack.baseUrl}/acme/new-account`, keyChange: `${stack.baseUrl}/acme/key-change`, meta: { externalAccountRequired: true } });
    expect(res.headers.get('replay-nonce')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(res.headers.get('link')).toBe(`<${directoryUrl}>;rel="index"`);
  });

  it('newNonce: HEAD 200, GET 204, each a new nonce, never cached', async () => {
    const head = await fetch(`${stack.baseUrl}/acme/new-nonce`, { method: 'HEAD' });
    const get = await fetch(`${stack.baseUrl}/acme/new-nonce`);
    expect([head.status, get.status]).toEqual([200, 204]);
    expect(head.headers.get('replay-nonce')).not.toBe(get.headers.get('replay-nonce'));
    expect(head.headers.get('cache-control')).toBe('no-store');
  });

  it('an unknown ACME path is an ACME problem, with a nonce', async () => {
    const res = await fetch(`${stack.baseUrl}/acme/nothing-here`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('replay-nonce')).not.toBeNull();
  });
});

describe('newAccount with external account binding', () => {
  it('creates the account (201, Location), finds it again by its key (200), for ES256, RS256 and EdDSA keys', async () => {
    for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
      const c = await client(alg);
      const created = await c.newAccount(await eabFor(stack, org.organisationId));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.headers.get('location')).toMatch(new RegExp(`^${stack.baseUrl}/acme/acct/[0-9a-f-]{36}$`));
      expect(created.body).toMatchObject({ status: 'valid', contact: ['mailto:ops@example.test'] });
      expect(created.headers.get('replay-nonce')).not.toBeNull();
      const again = await c.newAccount(undefined);
      expect(again.status).toBe(200);
      expect(again.headers.get('location')).toBe(created.headers.get('location'));
      const [row] = await stack.db.select().from(acmeAccounts).where(eq(acmeAccounts.jwkThumbprint, await c.thumbprint()));
      expect(row).toMatchObject({ organisationId: org.organisationId, product: 'SSL', status: 'valid' });
    }
  });

  it('without a binding: externalAccountRequired; onlyReturnExisting for a new key: accountDoesNotExist', async () => {
    const c = await client();
    const before = await accountCount();
    const none = await c.newAccount(undefined);
    expect([none.status, none.body.type]).toEqual([400, ACME('externalAccountRequired')]);
    const existing = await c.newAccount(undefined, { onlyReturnExisting: true });
    expect([existing.status, existing.body.type]).toEqual([400, ACME('accountDoesNotExist')]);
    expect(await accountCount()).toBe(before);
  });

  it("refuses another organisation's MAC, a revoked key, a binding of another key, a wrong url: unauthorized, nothing made", async () => {
    const mine = await eabFor(stack, org.organisationId);
    const theirs = await eabFor(stack, other.organisationId);
    const before = await accountCount();

    const mixed = await (await client()).newAccount({ kid: mine.kid, hmacKey: theirs.hmacKey });
    expect([mixed.status, mixed.body.type]).toEqual([403, ACME('unauthorized')]);

    const revoked = await eabFor(stack, org.organisationId);
    expect(await revokeEabKey(stack.db, revoked.kid, { userId: null, role: 'test' })).toBe(true);
    const refused = await (await client()).newAccount(revoked);
    expect([refused.status, refused.body.type]).toEqual([403, ACME('unauthorized')]);

    // The binding MACs some other key than the one signing the request.
    const c = await client();
    const stranger = await newAcmeKey();
    const otherKey = await c.post(c.directory.newAccount, { externalAccountBinding: await eabBinding(mine.kid, mine.hmacKey, stranger.jwk, c.directory.newAccount) }, { jwk: true });
    expect([otherKey.status, otherKey.body.type]).toEqual([403, ACME('unauthorized')]);

    const wrongUrl = await c.post(c.directory.newAccount, { externalAccountBinding: await eabBinding(mine.kid, mine.hmacKey, c.key.jwk, `${c.directory.newAccount}/x`) }, { jwk: true });
    expect([wrongUrl.status, wrongUrl.body.type]).toEqual([403, ACME('unauthorized')]);

    expect(await accountCount()).toBe(before);
    // The refusals naming our keys are in the audit trail; the good key still works afterwards.
    const refusals = (await stack.db.select().from(auditLog).where(eq(auditLog.action, 'acme.eab.used'))).filter((r) => r.kind === 'refused');
    expect(refusals.map((r) => (r.detail as { kid: string; reason: string }).reason)).toEqual(expect.arrayContaining(['bad-mac', 'revoked', 'other-key']));
    expect((await (await client()).newAccount(mine)).status).toBe(201);
  });

  it('an organisation the RA never validated gets no account', async () => {
    // A SIRET of its own: no other file approves an order of it.
    const unvalidated = await stack.account('customer', { siret: freshSiret(), orgName: 'Never Validated' });
    const key = await eabFor(stack, unvalidated.user.organisationId as string);
    const res = await (await client()).newAccount(key);
    expect([res.status, res.body.type]).toEqual([403, ACME('unauthorized')]);
    expect(res.body.detail).toMatch(/validation of your organisation/);
  });

  it('refuses bad contacts', async () => {
    const key = await eabFor(stack, org.organisationId);
    const tel = await (await client()).newAccount(key, { contact: ['tel:+33612345678'] });
    expect([tel.status, tel.body.type]).toEqual([400, ACME('unsupportedContact')]);
    const two = await (await client()).newAccount(key, { contact: ['mailto:a@example.test,b@example.test'] });
    expect([two.status, two.body.type]).toEqual([400, ACME('invalidContact')]);
  });
});

describe('JWS checks', () => {
  let c: AcmeTestClient;
  beforeAll(async () => {
    c = await client();
    expect((await c.newAccount(await eabFor(stack, org.organisationId))).status).toBe(201);
  });

  it('a wrong signature is malformed, and burns no nonce', async () => {
    const nonce = await c.freshNonce();
    const bad = await c.post(c.kid as string, '', { nonce, badSignature: true });
    expect([bad.status, bad.body.type]).toEqual([400, ACME('malformed')]);
    expect(bad.body.detail).toMatch(/signature/);
    expect((await c.post(c.kid as string, '', { nonce })).status).toBe(200);
  });

  it('a replayed nonce is badNonce with a fresh Replay-Nonce; a client retrying with it succeeds', async () => {
    const nonce = await c.freshNonce();
    expect((await c.post(c.kid as string, '', { nonce })).status).toBe(200);
    const replay = await c.post(c.kid as string, '', { nonce });
    expect([replay.status, replay.body.type]).toEqual([400, ACME('badNonce')]);
    const fresh = replay.headers.get('replay-nonce');
    expect(fresh).not.toBeNull();
    expect((await c.post(c.kid as string, '', { nonce: fresh as string })).status).toBe(200);
    // The retry a client library does: the first try's nonce is spent, the answer's nonce carries it through.
    const spent = await c.freshNonce();
    await c.post(c.kid as string, '', { nonce: spent });
    const retried = await c.postRetryingNonce(c.kid as string, '', { nonce: spent });
    expect(retried.status).toBe(200);
  });

  it('a made-up nonce is badNonce', async () => {
    const res = await c.post(c.kid as string, '', { nonce: 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect([res.status, res.body.type]).toEqual([400, ACME('badNonce')]);
  });

  it('a url other than the one requested is unauthorized', async () => {
    const res = await c.post(c.kid as string, '', { url: `${stack.baseUrl}/acme/new-account` });
    expect([res.status, res.body.type]).toEqual([403, ACME('unauthorized')]);
  });

  it('kid of no account: accountDoesNotExist; jwk where kid is due: malformed; HS256: badSignatureAlgorithm; wrong type: 415', async () => {
    const ghost = await client();
    ghost.kid = `${stack.baseUrl}/acme/acct/00000000-0000-7000-8000-000000000000`;
    const none = await ghost.post(ghost.kid, '');
    expect([none.status, none.body.type]).toEqual([400, ACME('accountDoesNotExist')]);

    const jwkForKid = await c.post(c.kid as string, '', { jwk: true });
    expect([jwkForKid.status, jwkForKid.body.type]).toEqual([400, ACME('malformed')]);

    const nonce = await c.freshNonce();
    const hmac = { protected: Buffer.from(JSON.stringify({ alg: 'HS256', kid: c.kid, nonce, url: c.kid })).toString('base64url'), payload: '', signature: 'AAAA' };
    const hs = await fetch(c.kid as string, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify(hmac) });
    const hsBody = (await hs.json()) as { type: string; algorithms: string[] };
    expect([hs.status, hsBody.type, hsBody.algorithms]).toEqual([400, ACME('badSignatureAlgorithm'), ['ES256', 'RS256', 'EdDSA']]);

    const json = await c.post(c.kid as string, '', { contentType: 'application/json' });
    expect([json.status, json.body.type]).toEqual([415, ACME('malformed')]);
    const garbage = await fetch(c.kid as string, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: '{"protected":' });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { type: string }).type).toBe(ACME('malformed'));
  });
});

describe('account update, deactivation and key rollover', () => {
  it('updates contacts, then deactivates: the account takes no more requests', async () => {
    const c = await client();
    expect((await c.newAccount(await eabFor(stack, org.organisationId))).status).toBe(201);
    const updated = await c.post(c.kid as string, { contact: ['mailto:pki@example.test'] });
    expect([updated.status, updated.body.contact]).toEqual([200, ['mailto:pki@example.test']]);
    const other = await client();
    expect((await other.newAccount(await eabFor(stack, org.organisationId))).status).toBe(201);
    // One account's key does not reach another's URL.
    const foreign = await other.post(c.kid as string, '');
    expect([foreign.status, foreign.body.type]).toEqual([403, ACME('unauthorized')]);
    const off = await c.post(c.kid as string, { status: 'deactivated' });
    expect([off.status, off.body.status]).toEqual([200, 'deactivated']);
    const after = await c.post(c.kid as string, '');
    expect([after.status, after.body.type]).toEqual([403, ACME('unauthorized')]);
    const back = await c.newAccount(undefined);
    expect([back.status, back.body.type]).toEqual([403, ACME('unauthorized')]);
  });

  it('rolls the account over to a new key: the old key no longer signs, the new one does; a key in use is 409', async () => {
    const c = await client();
    expect((await c.newAccount(await eabFor(stack, org.organisationId))).status).toBe(201);
    const oldKey = c.key;
    const newKey = await newAcmeKey('EdDSA');
    const url = c.directory.keyChange;
    const inner = await signJws(newKey, { jwk: newKey.jwk, url }, { account: c.kid, oldKey: oldKey.jwk });
    const rolled = await c.post(url, inner);
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(200);
    const withOld = await c.post(c.kid as string, '');
    expect([withOld.status, withOld.body.type]).toEqual([400, ACME('malformed')]);
    c.key = newKey;
    expect((await c.post(c.kid as string, '')).status).toBe(200);
    // newAccount with the new key finds the same account.
    expect((await c.newAccount(undefined)).headers.get('location')).toBe(c.kid);

    // Rolling another account onto this key: 409 with the holder's URL.
    const d = await client();
    expect((await d.newAccount(await eabFor(stack, org.organisationId))).status).toBe(201);
    const taken = await d.post(url, await signJws(newKey, { jwk: newKey.jwk, url }, { account: d.kid, oldKey: d.key.jwk }));
    expect([taken.status, taken.headers.get('location')]).toEqual([409, c.kid]);
    // An inner JWS naming another account, or the wrong old key: unauthorized.
    const wrongOld = await d.post(url, await signJws(await newAcmeKey(), { jwk: (await newAcmeKey()).jwk, url }, { account: d.kid, oldKey: d.key.jwk }));
    expect([wrongOld.status, wrongOld.body.type]).toEqual([400, ACME('malformed')]);
    const fresh = await newAcmeKey();
    const otherAccount = await d.post(url, await signJws(fresh, { jwk: fresh.jwk, url }, { account: c.kid, oldKey: d.key.jwk }));
    expect([otherAccount.status, otherAccount.body.type]).toEqual([403, ACME('unauthorized')]);
  });
});

describe('EAB keys from the admin CLI', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cli.ts', ...args], {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), MASTER_KEY: inject('masterKey'), LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });

  it('prints kid and hmacKey once for a validated organisation, which binds an account; refuses one never validated', async () => {
    const made = cli(['acme', 'eab', 'create', '--org-siret', org.siret, '--product', 'SSL', '--json']);
    expect(made.status, made.stderr).toBe(0);
    const key = JSON.parse(made.stdout) as { kid: string; hmacKey: string; product: string };
    expect(key.hmacKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [row] = await stack.db.select().from(acmeEabKeys).where(eq(acmeEabKeys.kid, key.kid));
    // Kept only sealed.
    expect(row?.sealedHmacKey).not.toContain(key.hmacKey);
    expect((await (await client()).newAccount(key)).status).toBe(201);
    const audit = await stack.db.select().from(auditLog).where(eq(auditLog.action, 'acme.eab.created'));
    expect(audit.some((r) => (r.detail as { kid: string }).kid === key.kid && r.actorRole === 'cli')).toBe(true);

    const revoked = cli(['acme', 'eab', 'revoke', '--kid', key.kid]);
    expect(revoked.status, revoked.stderr).toBe(0);
    const [account] = await stack.db.select().from(acmeAccounts).where(eq(acmeAccounts.eabKid, key.kid));
    expect(account?.status).toBe('revoked');

    const unvalidated = freshSiret();
    await stack.account('customer', { siret: unvalidated, orgName: 'Never Validated' });
    const refused = cli(['acme', 'eab', 'create', '--org-siret', unvalidated, '--product', 'SSL']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/not validated/);
    const badProduct = cli(['acme', 'eab', 'create', '--org-siret', org.siret, '--product', 'ID_RGS_STAR']);
    expect(badProduct.status).not.toBe(0);
  });
});
