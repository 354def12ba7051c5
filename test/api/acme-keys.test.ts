/**
 * ACME keys over HTTP on the real stack (GET/POST/DELETE /v1/organisations/{id}/acme-keys): the organisation's admin
 * and CA staff (RA, admin) make a key for a TLS product once the RA validated the organisation; the HMAC key is in
 * the creation's answer only and works against /acme/new-account; other roles get 403, other organisations 404;
 * revoking a key stops the ACME accounts bound with it; creation and revocation are in the audit chain.
 */
import { and, eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { acmeAccounts, acmeEabKeys, auditLog } from '../../db/schema.js';
import { AcmeTestClient, newAcmeKey } from '../acme/client.js';
import { validatedOrganisation, type ValidatedOrganisation } from '../acme/support.js';
import { freshSiret, type Account } from '../support.js';
import { testStackForFile } from '../stack-for-file.js';

interface ProblemBody {
  type: string;
  status: number;
  detail?: string;
}
interface CreatedKey {
  kid: string;
  hmacKey: string;
  product: string;
  createdAt: string;
  directoryUrl: string;
}
interface KeyView {
  kid: string;
  product: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  status: string;
}

const stack = testStackForFile();
let orgAdmin: Account;
let org: ValidatedOrganisation;
let other: ValidatedOrganisation;
let otherAdmin: Account;
let ra: Account;
let admin: Account;

beforeAll(async () => {
  ra = await stack.account('ra_operator');
  admin = await stack.account('admin');
  org = await validatedOrganisation(stack, ra, 'Clés ACME');
  other = await validatedOrganisation(stack, ra, 'Autre Validée');
  orgAdmin = await stack.account('org_admin', { siret: org.siret, orgName: 'Clés ACME' });
  otherAdmin = await stack.account('org_admin', { siret: other.siret, orgName: 'Autre Validée' });
}, 180_000);

const problem = (slug: string): string => `urn:certflow:problem:${slug}`;
const keysPath = (orgId: string): string => `/v1/organisations/${orgId}/acme-keys`;
const create = (key: string, orgId: string, product = 'SSL') => stack.http<CreatedKey & ProblemBody>('POST', keysPath(orgId), { key, json: { product } });
const list = (key: string, orgId: string) => stack.http<{ items: KeyView[]; directoryUrl: string } & ProblemBody>('GET', keysPath(orgId), { key });
const revoke = (key: string, orgId: string, kid: string) => stack.http<KeyView & ProblemBody>('DELETE', `${keysPath(orgId)}/${kid}`, { key });
const keyCount = async (orgId: string): Promise<number> => (await stack.db.select().from(acmeEabKeys).where(eq(acmeEabKeys.organisationId, orgId))).length;
const acmeClient = async () => new AcmeTestClient(`${stack.baseUrl}/acme/directory`, await newAcmeKey()).init();
const auditOf = async (action: string, kid: string) =>
  stack.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), sql`${auditLog.detail}->>'kid' = ${kid}`));

describe('POST /v1/organisations/{id}/acme-keys', () => {
  it('gives the org admin a key for a TLS product, its HMAC key once; the list never shows it; the key opens an ACME account', async () => {
    const made = await create(orgAdmin.key, org.organisationId, 'SSL_WILDCARD');
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ product: 'SSL_WILDCARD', directoryUrl: expect.stringMatching(/\/acme\/directory$/) as unknown });
    expect(made.body.kid).toMatch(/^eab_[A-Za-z0-9_-]+$/);
    expect(Buffer.from(made.body.hmacKey, 'base64url')).toHaveLength(32);
    expect(Date.now() - Date.parse(made.body.createdAt)).toBeLessThan(60_000);

    // Shown once: the list names the key, never its HMAC key.
    const listed = await list(orgAdmin.key, org.organisationId);
    expect(listed.status).toBe(200);
    const item = listed.body.items.find((k) => k.kid === made.body.kid);
    expect(item).toEqual({ kid: made.body.kid, product: 'SSL_WILDCARD', createdAt: made.body.createdAt, lastUsedAt: null, revokedAt: null, status: 'active' });
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(made.body.hmacKey);
    expect(text).not.toMatch(/hmac|sealed/i);

    // The creation is in the audit chain, by whom.
    const [created] = await auditOf('acme.eab.created', made.body.kid);
    expect(created).toMatchObject({ kind: 'decision', actorUserId: orgAdmin.user.id, actorRole: 'org_admin', detail: { organisationId: org.organisationId, product: 'SSL_WILDCARD' } });

    // The key works: an ACME account of the organisation, and the list says when it was used.
    const acme = await acmeClient();
    const account = await acme.newAccount(made.body);
    expect(account.status, JSON.stringify(account.body)).toBe(201);
    const used = (await list(orgAdmin.key, org.organisationId)).body.items.find((k) => k.kid === made.body.kid);
    expect(used?.lastUsedAt).not.toBeNull();
  });

  it('lets the RA and the admin make one for the organisation too', async () => {
    for (const staff of [ra, admin]) {
      const made = await create(staff.key, org.organisationId);
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const [created] = await auditOf('acme.eab.created', made.body.kid);
      expect(created).toMatchObject({ actorUserId: staff.user.id, actorRole: staff.user.role });
      expect((await list(staff.key, org.organisationId)).body.items.map((k) => k.kid)).toContain(made.body.kid);
    }
  });

  it('refuses a product ACME does not sell (422) and an organisation the RA has not validated (409); nothing made', async () => {
    const before = await keyCount(org.organisationId);
    const personal = await create(orgAdmin.key, org.organisationId, 'ID_RGS_STAR');
    expect([personal.status, personal.body.type]).toEqual([422, problem('product-not-acme')]);
    expect(personal.body.detail).toMatch(/SSL, SSL_RGS_STAR, SSL_WILDCARD/);
    const unknown = await create(orgAdmin.key, org.organisationId, 'NOT_A_PRODUCT');
    expect([unknown.status, unknown.body.type]).toEqual([400, problem('bad-request')]);
    expect(await keyCount(org.organisationId)).toBe(before);

    const newcomer = await stack.account('org_admin', { siret: freshSiret(), orgName: 'Pas Encore Validée' });
    const orgId = newcomer.user.organisationId as string;
    const refused = await create(newcomer.key, orgId);
    expect([refused.status, refused.body.type]).toEqual([409, problem('organisation-not-validated')]);
    expect(refused.body.detail).toMatch(/reuse period/);
    expect(await keyCount(orgId)).toBe(0);
    // Its list is there, empty.
    expect((await list(newcomer.key, orgId)).body.items).toEqual([]);
  });
});

describe('who may', () => {
  it('answers 403 to the organisation’s other roles and the auditor, 404 to another organisation’s admin', async () => {
    const made = await create(orgAdmin.key, org.organisationId);
    expect(made.status).toBe(201);
    const customer = await stack.account('customer', { siret: org.siret });
    const agent = await stack.account('agent', { siret: org.siret });
    const auditor = await stack.account('auditor');
    for (const caller of [customer, agent, auditor]) {
      for (const res of [await list(caller.key, org.organisationId), await create(caller.key, org.organisationId), await revoke(caller.key, org.organisationId, made.body.kid)]) {
        expect([res.status, res.body.type], caller.user.role).toEqual([403, problem('role-not-allowed')]);
      }
    }
    // Another organisation's admin: as if the organisation did not exist, and its key neither.
    for (const res of [await list(otherAdmin.key, org.organisationId), await create(otherAdmin.key, org.organisationId), await revoke(otherAdmin.key, org.organisationId, made.body.kid)]) {
      expect([res.status, res.body.type]).toEqual([404, problem('not-found')]);
    }
    // Nor through its own organisation's path.
    const sideways = await revoke(otherAdmin.key, other.organisationId, made.body.kid);
    expect([sideways.status, sideways.body.type]).toEqual([404, problem('not-found')]);
    const ghost = await revoke(orgAdmin.key, org.organisationId, 'eab_nosuchkey');
    expect(ghost.status).toBe(404);
    expect((await list(otherAdmin.key, other.organisationId)).body.items.map((k) => k.kid)).not.toContain(made.body.kid);
    expect((await list(orgAdmin.key, org.organisationId)).body.items.find((k) => k.kid === made.body.kid)?.status).toBe('active');
  });
});

describe('DELETE /v1/organisations/{id}/acme-keys/{kid}', () => {
  it('revokes the key and the ACME accounts bound with it, audited; a second revocation is a 409', async () => {
    const made = await create(orgAdmin.key, org.organisationId);
    const acme = await acmeClient();
    expect((await acme.newAccount(made.body)).status).toBe(201);
    const accountUrl = acme.kid as string;
    expect((await acme.post(accountUrl, '')).status).toBe(200);

    const res = await revoke(orgAdmin.key, org.organisationId, made.body.kid);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ kid: made.body.kid, status: 'revoked', revokedAt: expect.any(String) as unknown });
    expect((await list(orgAdmin.key, org.organisationId)).body.items.find((k) => k.kid === made.body.kid)?.status).toBe('revoked');

    // The account bound with it no longer works; the key opens no new one.
    const [row] = await stack.db.select().from(acmeAccounts).where(eq(acmeAccounts.eabKid, made.body.kid));
    expect(row?.status).toBe('revoked');
    const afterwards = await acme.post(accountUrl, '');
    expect([afterwards.status, afterwards.body.type]).toEqual([403, 'urn:ietf:params:acme:error:unauthorized']);
    expect((await (await acmeClient()).newAccount(made.body)).status).toBe(403);

    const [revoked] = await auditOf('acme.eab.revoked', made.body.kid);
    expect(revoked).toMatchObject({ kind: 'decision', actorUserId: orgAdmin.user.id, actorRole: 'org_admin', detail: { accounts: [row?.id] } });

    const again = await revoke(orgAdmin.key, org.organisationId, made.body.kid);
    expect([again.status, again.body.type]).toEqual([409, problem('already-revoked')]);
  });
});
