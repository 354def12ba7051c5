/**
 * Role × route × tenant, generated from the route table (api/app.ts createRoutes, plus the codec server's routes).
 *
 * 1. The table's declared access equals SPEC §1 / §8 as written down below, route by route: a route added without an
 *    entry here, or one that lets in a role the spec does not, fails.
 * 2. For every route and every caller (anonymous and each role): a role the route does not allow gets 403
 *    role-not-allowed, an anonymous caller 401; an allowed role gets through the gate (a probe that cannot act: ids
 *    that name nothing, a body that does not parse).
 * 3. For every tenant-scoped route: callers of an allowed role from ANOTHER organisation (and another customer of the
 *    same organisation, where a customer is allowed) get 404 on tenant A's real order, document, certificate,
 *    organisation and quote, with bodies that are valid, so the 404 is the tenant check; A's resources are unchanged.
 * 4. What is outside the table: the console's static files, the 404 fallback, the codec server (in the table here).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRoutes } from '../../api/app.js';
import { codecRoutes } from '../../api/routes/codec.js';
import type { AnyRoute } from '../../api/routing.js';
import { payloadCodecFromSecrets } from '../../config/payload-codec.js';
import { createUser, upsertOrganisation } from '../../db/accounts.js';
import { createEabKey, findEabKey } from '../../db/acme.js';
import { hashPassword } from '../../db/passwords.js';
import type { OrderView } from '../../domain/order.js';
import { ROLES, type Role } from '../../domain/roles.js';
import { minimalPdf } from '../documents/fixtures.js';
import { Driver } from '../workflows/drive.js';
import { type Account, freshSiret } from '../support.js';
import { appDepsOn } from '../app-deps.js';
import { testStackForFile } from '../stack-for-file.js';

type Tenant =
  /** Not about any organisation's data: public, CA staff only, or the CA's administration. */
  | 'none'
  /** `{id}` is an order; `{docId}` one of its documents; `{serial}` a certificate; `{id}` an organisation; `{number}` a quote. */
  | 'order'
  | 'document'
  | 'certificate'
  | 'organisation'
  | 'quote'
  /** A list: scoped to what the caller may see. */
  | 'scoped-list'
  /** The caller itself. */
  | 'self'
  /** Creates a resource owned by the caller (the holder rules are tested in the orders tests). */
  | 'creates'
  /**
   * Answers from what the request itself carries and keeps nothing (a CSR checked under the ordering rules): no
   * organisation's data is read or written. Whether a key is already certified is no secret: certificates are public.
   */
  | 'request-only';

interface Expected {
  readonly access: 'public' | readonly Role[];
  readonly tenant: Tenant;
}

const ALL = ROLES;
const STAFF = ['ra_operator', 'dra_operator', 'auditor', 'admin'] as const;

/**
 * SPEC §1 (roles) and §8 (who may call what), reviewed route by route. Where the table goes beyond §8's list, the
 * reason is given. Order of roles does not matter.
 * - customer: own orders (order, evidence, submit, accept, unlock, revoke own certificate, cancel before issuance).
 * - agent: a customer that may order for its organisation's people, sees its organisation's orders, face-to-face.
 * - org_admin: creates and lists its organisation's accounts, corrects its name and postal address (§8 PATCH); §8
 *   "GET /v1/orders: all roles (scoped)" lets it follow its organisation's orders and their certificates, but not read
 *   the holders' identity documents (evidence).
 * - every member of an organisation reads its profile (the customer area's "my organisation", §9).
 * - ra_operator: review, payment, originals, hold/release, resume (needs_attention), cancel, revoke, record domain
 *   validation; corrects an organisation's name or address found wrong in review (beyond §8's "org_admin (own), admin").
 * - dra_operator: face-to-face with its intervention form (which it uploads: evidence, intervention_form only).
 * - auditor: reads everything, histories, replay; writes nothing (so no quote: a quote takes a number).
 * - admin: accounts, mandates, partner codes (catalog); CA staff, so it reads histories and the audit chain too.
 */
const EXPECTED: Readonly<Record<string, Expected>> = {
  'GET /healthz': { access: 'public', tenant: 'none' },
  'GET /readyz': { access: 'public', tenant: 'none' },
  'GET /openapi.json': { access: 'public', tenant: 'none' },
  'POST /v1/auth/register': { access: 'public', tenant: 'none' },
  'POST /v1/auth/activate': { access: 'public', tenant: 'none' },
  'POST /v1/auth/login': { access: 'public', tenant: 'none' },
  // A browser's sign-in and sign-out (the customer area): the same check as login, the session in a cookie.
  'POST /v1/auth/session': { access: 'public', tenant: 'none' },
  'POST /v1/auth/session/end': { access: 'public', tenant: 'none' },
  // A staff member's second step (issue 16 item 6): opened by the second-factor cookie of a right password, not a role.
  'POST /v1/auth/second-factor/enrolment': { access: 'public', tenant: 'none' },
  'POST /v1/auth/second-factor/enrolment/confirm': { access: 'public', tenant: 'none' },
  'POST /v1/auth/second-factor/verify': { access: 'public', tenant: 'none' },
  'POST /v1/auth/forgot-username': { access: 'public', tenant: 'none' },
  'POST /v1/auth/forgot-password': { access: 'public', tenant: 'none' },
  'POST /v1/auth/reset-password': { access: 'public', tenant: 'none' },
  'GET /v1/me': { access: ALL, tenant: 'self' },
  'GET /v1/catalog': { access: 'public', tenant: 'none' },
  'GET /v1/organisations/{id}': { access: ALL, tenant: 'organisation' },
  'PATCH /v1/organisations/{id}': { access: ['org_admin', 'ra_operator', 'admin'], tenant: 'organisation' },
  // The agent orders for the organisation's people (§1, §9): it picks one of them or makes the account of a new one.
  'POST /v1/organisations/{id}/users': { access: ['org_admin', 'agent'], tenant: 'organisation' },
  'GET /v1/organisations/{id}/users': { access: ['org_admin', 'agent', ...STAFF], tenant: 'organisation' },
  // ACME keys (§9, §11): the organisation's admin, or the RA and the admin on its behalf.
  'GET /v1/organisations/{id}/acme-keys': { access: ['org_admin', 'ra_operator', 'admin'], tenant: 'organisation' },
  'POST /v1/organisations/{id}/acme-keys': { access: ['org_admin', 'ra_operator', 'admin'], tenant: 'organisation' },
  'DELETE /v1/organisations/{id}/acme-keys/{kid}': { access: ['org_admin', 'ra_operator', 'admin'], tenant: 'organisation' },
  // Staff accounts: the API-key allowance and the second factor's reset are the admin's; the auditor reads them.
  'GET /v1/admin/users/{id}': { access: ['admin', 'auditor'], tenant: 'none' },
  'PATCH /v1/admin/users/{id}': { access: ['admin'], tenant: 'none' },
  'POST /v1/admin/users/{id}/second-factor/reset': { access: ['admin'], tenant: 'none' },
  'POST /v1/admin/users/{id}/agent-mandate': { access: ['admin'], tenant: 'none' },
  'POST /v1/admin/users/{id}/agent-mandate/revoke': { access: ['admin'], tenant: 'none' },
  'GET /v1/admin/users/{id}/agent-mandate': { access: ['admin', 'auditor'], tenant: 'none' },
  'GET /v1/admin/users/{id}/agent-mandate/contract': { access: ['admin', 'auditor'], tenant: 'none' },
  'POST /v1/admin/partner-codes': { access: ['admin'], tenant: 'none' },
  'POST /v1/admin/partner-codes/{code}/active': { access: ['admin'], tenant: 'none' },
  'GET /v1/admin/partner-codes': { access: ['admin', 'auditor'], tenant: 'none' },
  'POST /v1/admin/renewal-advice': { access: ['admin', 'ra_operator'], tenant: 'none' },
  'POST /v1/quotes': { access: ['customer', 'agent', 'org_admin', 'ra_operator', 'dra_operator', 'admin'], tenant: 'creates' },
  'GET /v1/quotes/{number}': { access: ALL, tenant: 'quote' },
  'POST /v1/orders': { access: ['customer', 'agent'], tenant: 'creates' },
  'GET /v1/orders/{id}': { access: ALL, tenant: 'order' },
  'GET /v1/orders': { access: ALL, tenant: 'scoped-list' },
  'POST /v1/orders/{id}/evidence': { access: ['customer', 'agent', 'dra_operator'], tenant: 'order' },
  'GET /v1/orders/{id}/evidence/{docId}': { access: ['customer', 'agent', ...STAFF], tenant: 'document' },
  'POST /v1/orders/{id}/submit': { access: ['customer', 'agent'], tenant: 'order' },
  'POST /v1/orders/{id}/review': { access: ['ra_operator'], tenant: 'none' },
  'POST /v1/orders/{id}/face-to-face': { access: ['dra_operator', 'agent'], tenant: 'order' },
  'POST /v1/orders/{id}/originals-received': { access: ['ra_operator'], tenant: 'none' },
  'POST /v1/orders/{id}/payment': { access: ['ra_operator'], tenant: 'none' },
  'POST /v1/orders/{id}/hold': { access: ['ra_operator'], tenant: 'none' },
  'POST /v1/orders/{id}/release': { access: ['ra_operator'], tenant: 'none' },
  'POST /v1/orders/{id}/resume': { access: ['ra_operator'], tenant: 'none' },
  'POST /v1/orders/{id}/cancel': { access: ['customer', 'agent', 'ra_operator'], tenant: 'order' },
  'POST /v1/orders/{id}/acceptance': { access: ['customer', 'agent'], tenant: 'order' },
  'POST /v1/orders/{id}/unlock-code': { access: ['customer', 'agent'], tenant: 'order' },
  'POST /v1/orders/{id}/unlock-code/verify': { access: ['customer', 'agent'], tenant: 'order' },
  'GET /v1/orders/{id}/certificate': { access: ALL, tenant: 'order' },
  // Public at the role gate: the payment provider proves itself with the HMAC signature (security.test.ts).
  'POST /v1/payments/webhook': { access: 'public', tenant: 'none' },
  'GET /v1/orders/{id}/timeline': { access: STAFF, tenant: 'none' },
  'GET /v1/audit/verify': { access: ['auditor', 'admin'], tenant: 'none' },
  'GET /v1/orders/{id}/history': { access: STAFF, tenant: 'none' },
  'POST /v1/audit/replay': { access: ['auditor', 'admin'], tenant: 'none' },
  'GET /v1/certificates/{serial}': { access: ALL, tenant: 'certificate' },
  'POST /v1/certificates/{serial}/revoke': { access: ['customer', 'agent', 'ra_operator'], tenant: 'certificate' },
  'POST /v1/certificates/{serial}/release-hold': { access: ['ra_operator'], tenant: 'none' },
  'POST /v1/certificates/{serial}/unblock-code': { access: ['customer', 'agent'], tenant: 'certificate' },
  'POST /v1/certificates/{serial}/unblock-code/verify': { access: ['customer', 'agent'], tenant: 'certificate' },
  'POST /v1/orders/{id}/domain-validation': { access: ['customer', 'agent', 'ra_operator'], tenant: 'order' },
  'POST /v1/csr-command': { access: 'public', tenant: 'none' },
  // The new-order page checks a CSR before ordering, under the same rules as POST /v1/orders.
  'POST /v1/csr/verify': { access: ['customer', 'agent'], tenant: 'request-only' },
  // The customer area's order page: the CA's payment details, the order form to sign, the certificate to accept.
  'GET /v1/ca-identity': { access: 'public', tenant: 'none' },
  'GET /v1/orders/{id}/order-form': { access: ['customer', 'agent', ...STAFF], tenant: 'order' },
  'GET /v1/orders/{id}/certificate/content': { access: ALL, tenant: 'order' },
  'GET /pds/{lang}': { access: 'public', tenant: 'none' },
  'GET /v1/ca': { access: 'public', tenant: 'none' },
  'GET /v1/ca/{ca}/chain': { access: 'public', tenant: 'none' },
  'GET /v1/ca/{ca}/certificate': { access: 'public', tenant: 'none' },
  'GET /v1/ca/{ca}/crl': { access: 'public', tenant: 'none' },
  'POST /v1/ocsp': { access: 'public', tenant: 'none' },
  'GET /v1/ocsp/{request}': { access: 'public', tenant: 'none' },
  // The codec server (outside /v1, mounted by codecServer): staff and auditors decrypt workflow payloads.
  'POST /codec/decode': { access: STAFF, tenant: 'none' },
  'POST /codec/encode': { access: STAFF, tenant: 'none' },
};

const ORG_ROLES: readonly Role[] = ['customer', 'agent', 'org_admin'];
const keyOf = (r: Pick<AnyRoute, 'method' | 'path'>): string => `${r.method.toUpperCase()} ${r.path}`;
const normalised = (a: 'public' | readonly string[]): 'public' | string[] => (a === 'public' ? a : [...a].sort());
/** POST and PATCH take a body; GET and DELETE (which names what it removes in its path) do not. */
const takesBody = (r: Pick<AnyRoute, 'method'>): boolean => r.method !== 'get' && r.method !== 'delete';

interface Problem {
  type?: string;
  status?: number;
}

const stack = testStackForFile();
let table: AnyRoute[];
/** Tenant A: the holder of the order, another customer of the same organisation, its agent and admin. */
let holderA: Account;
let colleagueA: Account;
let orgA: string;
/** Tenant B: one account per organisation role, and a customer signed in with a password (an access token). */
const tenantB: Partial<Record<Role, Account>> = {};
let customerBToken: string;
const staff: Partial<Record<Role, Account>> = {};
let order: OrderView;
let docId: string;
let serial: string;
let quoteNumber: string;
let acmeKid: string;

beforeAll(async () => {
  const deps = appDepsOn(stack);
  // The table the app mounts, plus the codec server's routes (deduplicated, should the codec routes join the table).
  const all = [...createRoutes(deps, () => ({})), ...codecRoutes({ codec: payloadCodecFromSecrets(stack.services.secrets) })];
  table = all.filter((r, i) => all.findIndex((o) => keyOf(o) === keyOf(r)) === i);

  const sirets = { a: freshSiret(), b: freshSiret() };
  holderA = await stack.account('customer', { siret: sirets.a, orgName: 'Tenant A' });
  colleagueA = await stack.account('customer', { siret: sirets.a, orgName: 'Tenant A' });
  orgA = holderA.user.organisationId ?? '';
  for (const role of ORG_ROLES) tenantB[role] = await stack.account(role, { siret: sirets.b, orgName: 'Tenant B' });
  for (const role of STAFF) staff[role] = await stack.account(role);

  // A customer of B who signs in with a password: the access token path of authentication.
  const orgB = await upsertOrganisation(stack.db, { siret: sirets.b, name: 'Tenant B', publicAdministration: false, locality: 'Lyon' });
  const password = `Matrix-${randomUUID()}`;
  const tokenUser = await createUser(stack.db, {
    email: `matrix-${randomUUID().slice(0, 8)}@example.test`,
    role: 'customer',
    organisationId: orgB.id,
    passwordHash: await hashPassword(password),
  });
  const login = await stack.http<{ accessToken: string }>('POST', '/v1/auth/login', { json: { email: tokenUser.email, password } });
  expect(login.status).toBe(200);
  customerBToken = login.body.accessToken;

  // Tenant A's real resources: an issued order with its documents and certificate, and a quote.
  const drive = new Driver(stack, { holder: holderA, ra: staff.ra_operator as Account, dra: staff.dra_operator as Account });
  order = await drive.toAcceptance('ID_RGS_STAR');
  serial = order.certificateSerial ?? '';
  expect(serial).toMatch(/^[0-9a-f]{16,40}$/);
  docId = order.checklist.find((c) => c.documentId !== undefined)?.documentId ?? '';
  expect(docId).toMatch(/^[0-9a-f-]{36}$/);
  const quote = await stack.http<{ number: string }>('POST', '/v1/quotes', {
    key: holderA.key,
    json: { siret: sirets.a, product: 'ID_RGS_STAR', durationYears: 1, quantity: 2 },
  });
  expect(quote.status, JSON.stringify(quote.body)).toBe(201);
  quoteNumber = quote.body.number;
  acmeKid = (await createEabKey(stack.db, stack.services.secrets.derive('acme-eab'), { organisationId: orgA, product: 'SSL', actor: { userId: null, role: 'test' } })).kid;
}, 180_000);

describe('the route table against SPEC §1', () => {
  it('declares, for every route, exactly the access SPEC §1 gives it (no route without an expected entry)', () => {
    const declared = Object.fromEntries(table.map((r) => [keyOf(r), normalised(r.access)]));
    const expected = Object.fromEntries(Object.entries(EXPECTED).map(([k, e]) => [k, normalised(e.access)]));
    const missing = Object.keys(declared).filter((k) => !(k in expected));
    expect(missing, 'routes in the table without an expected entry in this test').toEqual([]);
    expect(declared).toEqual(expected);
  });

  it('gives a tenant scope to every route a role of an organisation may call', () => {
    const unscoped = Object.entries(EXPECTED)
      .filter(([, e]) => e.access !== 'public' && e.access.some((r) => ORG_ROLES.includes(r)) && e.tenant === 'none')
      .map(([k]) => k);
    expect(unscoped).toEqual([]);
  });
});

/** Ids that name nothing: a probe through them cannot act on anything. */
const GHOST: Record<string, string> = {
  id: '00000000-0000-4000-8000-000000000000',
  docId: '00000000-0000-4000-8000-000000000001',
  serial: '0000000000000000',
  number: 'D-2000-999999',
  code: 'NO-SUCH-CODE',
  ca: 'nosuch-root',
  lang: 'xx',
  request: 'AA',
  kid: 'eab_nosuchkey',
};
const fill = (path: string, ids: Record<string, string>): string =>
  path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = ids[name];
    if (value === undefined) throw new Error(`no id for {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
/** Parses under no route's body schema: unknown key (strict schemas), required fields missing, `query` not a string. */
const PROBE_BODY = { __matrix: true, query: 42 };

interface Caller {
  readonly name: string;
  readonly role: Role | 'anonymous';
  readonly key?: string;
}

describe('the role gate, for every route and every role', () => {
  it('answers 401 to anonymous callers and 403 to roles the route does not allow; lets allowed roles through', async () => {
    const callers: Caller[] = [
      { name: 'anonymous', role: 'anonymous' },
      ...ORG_ROLES.map((role) => ({ name: `${role} (tenant B)`, role, key: tenantB[role]?.key })),
      ...STAFF.map((role) => ({ name: role, role, key: staff[role]?.key })),
    ];
    const failures: string[] = [];
    let probes = 0;
    for (const route of table) {
      const path = fill(route.path, GHOST);
      await Promise.all(
        callers.map(async (caller) => {
          probes += 1;
          const res = await stack.http<Problem>(route.method.toUpperCase(), path, {
            ...(caller.key !== undefined ? { key: caller.key } : {}),
            ...(takesBody(route) ? { json: PROBE_BODY } : {}),
          });
          const where = `${keyOf(route)} as ${caller.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`;
          const type = typeof res.body === 'object' && res.body !== null ? res.body.type : undefined;
          if (res.status >= 500) failures.push(`5xx: ${where}`);
          if (route.access === 'public') {
            // The webhook's own 401 is its signature check, not the role gate.
            if (res.status === 403 || (res.status === 401 && keyOf(route) !== 'POST /v1/payments/webhook')) failures.push(`public route refused: ${where}`);
            return;
          }
          if (caller.role === 'anonymous') {
            if (res.status !== 401 || type !== 'urn:certflow:problem:unauthorized' || res.headers.get('www-authenticate') !== 'Bearer') {
              failures.push(`anonymous not 401: ${where}`);
            }
            return;
          }
          const allowed = route.access.includes(caller.role);
          if (!allowed) {
            if (res.status !== 403 || type !== 'urn:certflow:problem:role-not-allowed') failures.push(`role not refused: ${where}`);
            return;
          }
          if (res.status === 401 || type === 'urn:certflow:problem:role-not-allowed') failures.push(`allowed role refused: ${where}`);
          // The probe names nothing and parses under no schema: an allowed POST or PATCH must not have done anything.
          if (takesBody(route) && (res.status < 400 || res.status >= 500)) failures.push(`probe acted: ${where}`);
        }),
      );
    }
    expect(failures).toEqual([]);
    expect(probes).toBe(table.length * callers.length);
  }, 120_000);

  it('treats an access token (password login) like an API key at the gate', async () => {
    const staffOnly = table.filter((r) => r.access !== 'public' && !r.access.includes('customer'));
    expect(staffOnly.length).toBeGreaterThan(10);
    for (const route of staffOnly) {
      const res = await stack.http<Problem>(route.method.toUpperCase(), fill(route.path, GHOST), {
        key: customerBToken,
        ...(takesBody(route) ? { json: PROBE_BODY } : {}),
      });
      expect([res.status, res.body.type], keyOf(route)).toEqual([403, 'urn:certflow:problem:role-not-allowed']);
    }
    const me = await stack.http<{ role: string }>('GET', '/v1/me', { key: customerBToken });
    expect(me.body.role).toBe('customer');
  });

  it('refuses a malformed, unknown or forged credential with 401 on every non-public route', async () => {
    const forged = `${customerBToken.slice(0, -4)}AAAA`;
    for (const route of table.filter((r) => r.access !== 'public')) {
      for (const key of ['cfk_not-a-key', forged, 'Basic Zm9vOmJhcg==']) {
        const res = await stack.http<Problem>(route.method.toUpperCase(), fill(route.path, GHOST), {
          headers: { authorization: key.startsWith('Basic') ? key : `Bearer ${key}` },
          ...(takesBody(route) ? { json: PROBE_BODY } : {}),
        });
        expect(res.status, `${keyOf(route)} with ${key.slice(0, 12)}…`).toBe(401);
      }
    }
  }, 60_000);
});

/** Tenant A's real ids. */
const realIds = (): Record<string, string> => ({ id: order.id, docId, serial, number: quoteNumber, kid: acmeKid });

/** Valid bodies: with them, the only reason left for a refusal is the tenant check. */
function validBody(key: string): { json?: unknown; form?: () => FormData } | undefined {
  const bodies: Record<string, unknown> = {
    'POST /v1/orders/{id}/submit': {},
    'POST /v1/orders/{id}/face-to-face': { interventionFormDocumentId: docId, meetingDate: '2026-11-20' },
    'POST /v1/orders/{id}/cancel': { reason: 'a caller of another tenant' },
    'POST /v1/orders/{id}/acceptance': { decision: 'refuse' },
    'POST /v1/orders/{id}/unlock-code': {},
    'POST /v1/orders/{id}/unlock-code/verify': { code: '123456' },
    'POST /v1/orders/{id}/domain-validation': { action: 'check' },
    'POST /v1/certificates/{serial}/revoke': { reason: 'keyCompromise' },
    'POST /v1/certificates/{serial}/unblock-code': {},
    'POST /v1/certificates/{serial}/unblock-code/verify': { code: '123456' },
    'PATCH /v1/organisations/{id}': { name: 'Renamed by another tenant', address: { street: '1 rue du Vol', postalCode: '13001', locality: 'Marseille' } },
    'POST /v1/organisations/{id}/acme-keys': { product: 'SSL' },
    'POST /v1/organisations/{id}/users': { email: `intruder-${randomUUID().slice(0, 8)}@example.test`, givenName: 'Eve', surname: 'Intruse', language: 'fr' },
  };
  if (key === 'POST /v1/orders/{id}/evidence') {
    return {
      form: () => {
        const form = new FormData();
        form.append('documentType', 'identity_document');
        form.append('file', new Blob([new Uint8Array(minimalPdf())]), 'id.pdf');
        return form;
      },
    };
  }
  return key in bodies ? { json: bodies[key] } : undefined;
}

async function call(method: string, path: string, key: string, body?: { json?: unknown; form?: () => FormData }) {
  if (body?.form !== undefined) {
    const res = await fetch(stack.baseUrl + path, { method, headers: { authorization: `Bearer ${key}` }, body: body.form() });
    return { status: res.status, body: (await res.json()) as Problem };
  }
  return stack.http<Problem>(method, path, { key, ...(body?.json !== undefined ? { json: body.json } : {}) });
}

describe('tenants: another organisation gets 404, as for an id that does not exist', () => {
  it("answers 404 on every tenant-scoped route to callers of another tenant, and changes nothing of tenant A's", async () => {
    const scoped = table.filter((r) => ['order', 'document', 'certificate', 'organisation', 'quote'].includes(EXPECTED[keyOf(r)]?.tenant ?? ''));
    expect(scoped.length).toBeGreaterThanOrEqual(18);
    const before = await stack.http<OrderView>('GET', `/v1/orders/${order.id}`, { key: holderA.key });
    const orgBefore = await stack.http('GET', `/v1/organisations/${orgA}`, { key: holderA.key });
    expect(orgBefore.status).toBe(200);
    const failures: string[] = [];
    let probes = 0;
    for (const route of scoped) {
      const tenant = EXPECTED[keyOf(route)]?.tenant;
      const ids = { ...realIds(), ...(tenant === 'organisation' ? { id: orgA } : {}) };
      const body = takesBody(route) ? validBody(keyOf(route)) : undefined;
      if (takesBody(route)) {
        expect(body, `a valid body for ${keyOf(route)}`).toBeDefined();
        // The body really is valid: a 404 then comes from the tenant check, not from a 400 before it.
        if (route.body !== undefined && body?.json !== undefined) expect(route.body.safeParse(body.json).success, keyOf(route)).toBe(true);
      }
      const callers: Caller[] = [
        ...ORG_ROLES.map((role) => ({ name: `${role} of tenant B`, role, key: tenantB[role]?.key })),
        { name: 'customer of tenant B (access token)', role: 'customer' as const, key: customerBToken },
        // Same organisation, not the holder: a customer sees only its own orders, documents, certificates, quotes.
        { name: 'another customer of tenant A', role: 'customer' as const, key: colleagueA.key },
      ];
      for (const caller of callers) {
        if (route.access === 'public' || caller.role === 'anonymous' || !route.access.includes(caller.role)) continue;
        if (tenant === 'organisation' && caller.key === colleagueA.key) continue;
        probes += 1;
        const res = await call(route.method.toUpperCase(), fill(route.path, ids), caller.key ?? '', body);
        if (res.status !== 404 || res.body.type !== 'urn:certflow:problem:not-found') {
          failures.push(`${keyOf(route)} as ${caller.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(probes).toBeGreaterThanOrEqual(60);

    // Nothing of A's moved: the order, its certificate, its organisation's people.
    const after = await stack.http<OrderView>('GET', `/v1/orders/${order.id}`, { key: holderA.key });
    expect(after.body.status).toBe(before.body.status);
    expect(after.body.checklist).toEqual(before.body.checklist);
    const cert = await stack.http<{ status: string; revokedAt: string | null }>('GET', `/v1/certificates/${serial}`, { key: holderA.key });
    expect(cert.body.revokedAt).toBeNull();
    expect((await stack.http('GET', `/v1/organisations/${orgA}`, { key: holderA.key })).body).toEqual(orgBefore.body);
    expect((await findEabKey(stack.db, acmeKid))?.revokedAt).toBeNull();
  }, 120_000);

  it('shows tenant A what is its own, and the same ids to staff', async () => {
    for (const [path, key] of [
      [`/v1/orders/${order.id}`, holderA.key],
      [`/v1/orders/${order.id}/evidence/${docId}`, holderA.key],
      [`/v1/orders/${order.id}/certificate`, holderA.key],
      [`/v1/certificates/${serial}`, holderA.key],
      [`/v1/quotes/${quoteNumber}`, holderA.key],
      [`/v1/organisations/${orgA}/users`, staff.ra_operator?.key ?? ''],
      [`/v1/organisations/${orgA}`, holderA.key],
      [`/v1/organisations/${orgA}`, colleagueA.key],
      [`/v1/organisations/${orgA}`, staff.auditor?.key ?? ''],
      [`/v1/orders/${order.id}`, staff.auditor?.key ?? ''],
      [`/v1/orders/${order.id}/evidence/${docId}`, staff.auditor?.key ?? ''],
    ] as const) {
      expect((await stack.http('GET', path, { key })).status, path).toBe(200);
    }
  });

  it("keeps tenant A's order out of other tenants' lists, and out of another customer's", async () => {
    for (const key of [tenantB.customer?.key, tenantB.agent?.key, tenantB.org_admin?.key, customerBToken, colleagueA.key]) {
      const list = await stack.http<{ items: { id: string }[] }>('GET', '/v1/orders?limit=100', { key: key ?? '' });
      expect(list.status).toBe(200);
      expect(list.body.items.map((o) => o.id)).not.toContain(order.id);
      const filtered = await stack.http<{ items: { id: string }[] }>('GET', `/v1/orders?organisationId=${orgA}&limit=200`, { key: key ?? '' });
      expect(filtered.status === 200 ? filtered.body.items.map((o) => o.id) : []).not.toContain(order.id);
    }
    const own = await stack.http<{ items: { id: string }[] }>('GET', '/v1/orders?limit=100', { key: holderA.key });
    expect(own.body.items.map((o) => o.id)).toContain(order.id);
  });

  it('lets an agent of another organisation order for nobody of tenant A', async () => {
    const res = await stack.http<Problem>('POST', '/v1/orders', {
      key: tenantB.agent?.key ?? '',
      json: { product: 'ID_RGS_STAR', durationYears: 3, os: 'windows', payment: { method: 'transfer' }, termsAccepted: true, holderUserId: holderA.user.id },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('answers /v1/me with the caller itself', async () => {
    for (const account of [holderA, tenantB.agent as Account, staff.admin as Account]) {
      const me = await stack.http<{ userId: string }>('GET', '/v1/me', { key: account.key });
      expect(me.body.userId).toBe(account.user.id);
    }
  });
});

describe('outside the route table', () => {
  it('sends a visitor of the console to the sign-in page, serves the pages\' bundle, and nothing beside it', async () => {
    const page = await fetch(`${stack.baseUrl}/console/`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fconsole%2F');
    const script = await fetch(`${stack.baseUrl}/assets/main.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    for (const path of [
      '/console/app.js',
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/..%2f..%2fpackage.json',
      '/console/.env',
      '/assets/../package.json',
      '/assets/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/client/main.tsx',
    ]) {
      const res = await fetch(stack.baseUrl + path);
      const text = await res.text();
      expect(res.status, path).not.toBe(200);
      expect(text, path).not.toContain('"devDependencies"');
    }
  });

  it('answers an unknown route with a 404 problem, signed in or not', async () => {
    for (const key of [undefined, staff.admin?.key]) {
      const res = await stack.http<Problem>('GET', '/v1/nothing-here', key !== undefined ? { key } : {});
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });

  it('serves /openapi.json and /healthz to anyone, listing every route of the table (the codec server included)', async () => {
    expect((await stack.http('GET', '/healthz')).status).toBe(200);
    const doc = await stack.http<{ paths: Record<string, Record<string, { 'x-roles'?: string[]; security?: unknown[] }>> }>('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    for (const route of table) {
      const op = doc.body.paths[route.path]?.[route.method];
      expect(op, keyOf(route)).toBeDefined();
      if (route.access === 'public') expect(op?.security, keyOf(route)).toEqual([]);
      else expect([...(op?.['x-roles'] ?? [])].sort(), keyOf(route)).toEqual([...route.access].sort());
    }
  });
});
