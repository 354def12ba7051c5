/**
 * Organisations and agents over HTTP on the real stack: an organisation admin creates pending accounts (the
 * activation mail reaches a real SMTP server), lists its people; its members read its profile and its admin or CA
 * staff correct its name and postal address (recorded in the audit chain; a TLS order then names the new locality);
 * an admin grants and revokes the agent mandate on the signed contract, and the agent's powers (ordering for a
 * colleague, face-to-face) follow the mandate.
 */
import { createHash, randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { PDFDocument } from 'pdf-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentMandates, auditLog, organisations, users } from '../../db/schema.js';
import { createUser, getUser, issueApiKey, upsertOrganisation } from '../../db/accounts.js';
import type { OrderView } from '../../domain/order.js';
import type { Role } from '../../domain/roles.js';
import { openssl } from '../ca/support.js';
import { startFakeSmtp } from '../fakes/smtp.js';
import { type Account, freshSiret, rgsStarOrder, SIRETS } from '../support.js';
import { startedForFile, testStackForFile } from '../stack-for-file.js';

interface ProblemBody {
  type: string;
  status: number;
  detail?: string;
}
interface Member {
  id: string;
  email: string;
  givenName: string;
  surname: string;
  phone: string | null;
  language: string;
  role: string;
  status: string;
}

const smtp = startedForFile(() => startFakeSmtp(), 'the SMTP server');
const stack = testStackForFile(() => ({ env: { SMTP_URL: smtp.url } }));
let orgAdmin: Account;
let otherOrgAdmin: Account;
let admin: Account;
let contractPdf: Buffer;

beforeAll(async () => {
  orgAdmin = await stack.account('org_admin');
  otherOrgAdmin = await stack.account('org_admin', { siret: SIRETS.globex, orgName: 'Globex' });
  admin = await stack.account('admin');
  const doc = await PDFDocument.create();
  doc.addPage();
  doc.setTitle('Mandat de mandataire de certification');
  contractPdf = Buffer.from(await doc.save());
});

const problemType = (slug: string): string => `urn:certflow:problem:${slug}`;
const newMember = (overrides: Record<string, unknown> = {}) => ({
  email: `holder-${Math.random().toString(36).slice(2, 10)}@example.test`,
  givenName: 'Léa',
  surname: 'Martin',
  phone: '+33698765432',
  language: 'en',
  ...overrides,
});
const usersWithEmail = async (email: string): Promise<number> =>
  (await stack.db.select({ id: users.id }).from(users).where(sql`lower(${users.email}) = ${email.toLowerCase()}`)).length;

describe('POST /v1/organisations/{id}/users', () => {
  it('creates a pending customer of the organisation and mails its activation link', async () => {
    const orgId = orgAdmin.user.organisationId ?? '';
    const body = newMember();
    const res = await stack.http<Member>('POST', `/v1/organisations/${orgId}/users`, { key: orgAdmin.key, json: body });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: body.email, givenName: 'Léa', surname: 'Martin', phone: '+33698765432', language: 'en', role: 'customer', status: 'pending' });

    const row = await getUser(stack.db, res.body.id);
    expect(row).toMatchObject({ organisationId: orgId, role: 'customer', status: 'pending', passwordHash: null });

    const mail = await smtp.waitFor((m) => m.envelope.to.includes(body.email), 15_000);
    expect(mail.parsed.text ?? '').toMatch(/\/activate\?token=[A-Za-z0-9_%-]+/);
    // In the holder's language.
    expect(mail.parsed.subject ?? '').toMatch(/Activate/);
  });

  it('answers 404 to the admin of another organisation, 403 to a customer, and creates nothing', async () => {
    const orgId = orgAdmin.user.organisationId ?? '';
    const customer = await stack.account('customer');
    const staff = await stack.account('ra_operator');
    const cases: [Account, number, string][] = [
      [otherOrgAdmin, 404, 'not-found'],
      [customer, 403, 'role-not-allowed'],
      [staff, 403, 'role-not-allowed'],
    ];
    for (const [caller, status, slug] of cases) {
      const body = newMember();
      const res = await stack.http<ProblemBody>('POST', `/v1/organisations/${orgId}/users`, { key: caller.key, json: body });
      expect(res.status, caller.user.role).toBe(status);
      expect(res.body.type).toBe(problemType(slug));
      expect(await usersWithEmail(body.email)).toBe(0);
    }
    // An organisation that does not exist reads the same as another tenant's.
    const unknown = await stack.http<ProblemBody>('POST', '/v1/organisations/01a2014a-0000-7000-8000-000000000000/users', { key: orgAdmin.key, json: newMember() });
    expect(unknown.status).toBe(404);
  });

  it('refuses an address that already has an account (409) and bad input (400), changing nothing', async () => {
    const orgId = orgAdmin.user.organisationId ?? '';
    const taken = await stack.http<ProblemBody>('POST', `/v1/organisations/${orgId}/users`, {
      key: orgAdmin.key,
      json: newMember({ email: otherOrgAdmin.user.email.toUpperCase() }),
    });
    expect(taken.status).toBe(409);
    expect(taken.body.type).toBe(problemType('email-in-use'));
    expect(await usersWithEmail(otherOrgAdmin.user.email)).toBe(1);

    for (const bad of [newMember({ phone: '0612345678' }), newMember({ language: 'de' }), newMember({ email: 'not-an-address' }), newMember({ role: 'admin' })]) {
      const res = await stack.http<ProblemBody>('POST', `/v1/organisations/${orgId}/users`, { key: orgAdmin.key, json: bad });
      expect(res.status).toBe(400);
      expect(await usersWithEmail(String(bad.email))).toBe(0);
    }
  });
});

describe('GET /v1/organisations/{id}/users', () => {
  it("lists the organisation's people to its admin and to staff, to nobody else", async () => {
    const orgId = orgAdmin.user.organisationId ?? '';
    const created = await stack.http<Member>('POST', `/v1/organisations/${orgId}/users`, { key: orgAdmin.key, json: newMember() });
    expect(created.status).toBe(201);

    const own = await stack.http<{ items: Member[] }>('GET', `/v1/organisations/${orgId}/users`, { key: orgAdmin.key });
    expect(own.status).toBe(200);
    const ids = own.body.items.map((m) => m.id);
    expect(ids).toContain(created.body.id);
    expect(ids).toContain(orgAdmin.user.id);
    expect(ids).not.toContain(otherOrgAdmin.user.id);
    expect(own.body.items.find((m) => m.id === created.body.id)?.status).toBe('pending');

    for (const role of ['ra_operator', 'dra_operator', 'auditor', 'admin'] as const) {
      const staff = await stack.account(role);
      const res = await stack.http<{ items: Member[] }>('GET', `/v1/organisations/${orgId}/users`, { key: staff.key });
      expect(res.status, role).toBe(200);
      expect(res.body.items.map((m) => m.id)).toContain(created.body.id);
    }
    expect((await stack.http('GET', `/v1/organisations/${orgId}/users`, { key: otherOrgAdmin.key })).status).toBe(404);
    const customer = await stack.account('customer');
    expect((await stack.http('GET', `/v1/organisations/${orgId}/users`, { key: customer.key })).status).toBe(403);
    expect((await stack.http('GET', '/v1/organisations/not-a-uuid/users', { key: orgAdmin.key })).status).toBe(404);
  });
});

interface OrganisationBody {
  id: string;
  siret: string;
  name: string;
  address: { street: string | null; postalCode: string | null; locality: string | null };
  publicAdministration: boolean;
}

/** An organisation of this test's own, with an account per role asked for (an organisation made without an address, unless given). */
async function freshOrganisation(roles: readonly Role[], address: { street?: string; postalCode?: string; locality?: string } = {}) {
  const org = await upsertOrganisation(stack.db, { siret: freshSiret(), name: 'Menuiserie Roux', ...address });
  const accounts: Partial<Record<Role, Account>> = {};
  for (const role of roles) {
    const user = await createUser(stack.db, { email: `${role}-${randomUUID().slice(0, 8)}@example.test`, role, organisationId: org.id, phone: '+33612345678' });
    accounts[role] = { user, key: await issueApiKey(stack.db, user.id) };
  }
  return { org, accounts: accounts as Record<Role, Account> };
}

const organisationRow = async (id: string) => (await stack.db.select().from(organisations).where(eq(organisations.id, id)))[0];
const auditOf = (organisationId: string) =>
  stack.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, 'organisation_updated'), sql`${auditLog.detail}->>'organisationId' = ${organisationId}`))
    .orderBy(auditLog.seq);
const ADDRESS = { street: '12 rue des Tanneurs', postalCode: '69002', locality: 'Lyon' };

/** A fresh EC key's CSR for these names, made by openssl as a customer would. */
function newCsr(names: string[]): string {
  const san = ['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`];
  const run = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{key.pem}', '-subj', `/CN=${names[0]}`, ...san]);
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}
const sslOrder = (csr: string) => ({ product: 'SSL', durationYears: 1, os: 'other', payment: { method: 'transfer' }, termsAccepted: true, csr });

describe('GET /v1/organisations/{id}', () => {
  it("shows the organisation's profile and address to its members and to CA staff; 404 to another organisation", async () => {
    const { org, accounts } = await freshOrganisation(['customer', 'agent', 'org_admin'], ADDRESS);
    for (const role of ['customer', 'agent', 'org_admin'] as const) {
      const res = await stack.http<OrganisationBody>('GET', `/v1/organisations/${org.id}`, { key: accounts[role].key });
      expect(res.status, role).toBe(200);
      expect(res.body).toEqual({ id: org.id, siret: org.siret, name: 'Menuiserie Roux', address: ADDRESS, publicAdministration: false });
    }
    for (const role of ['ra_operator', 'dra_operator', 'auditor', 'admin'] as const) {
      expect((await stack.http('GET', `/v1/organisations/${org.id}`, { key: (await stack.account(role)).key })).status, role).toBe(200);
    }
    // An organisation made before addresses were asked for: its parts are null.
    const old = await freshOrganisation(['customer']);
    const bare = await stack.http<OrganisationBody>('GET', `/v1/organisations/${old.org.id}`, { key: old.accounts.customer.key });
    expect(bare.body.address).toEqual({ street: null, postalCode: null, locality: null });

    for (const key of [otherOrgAdmin.key, old.accounts.customer.key]) {
      const res = await stack.http<ProblemBody>('GET', `/v1/organisations/${org.id}`, { key });
      expect(res.status).toBe(404);
      expect(res.body.type).toBe(problemType('not-found'));
    }
    expect((await stack.http('GET', '/v1/organisations/01a2014a-0000-7000-8000-000000000000', { key: admin.key })).status).toBe(404);
    expect((await stack.http('GET', '/v1/organisations/not-a-uuid', { key: admin.key })).status).toBe(404);
  });
});

describe('PATCH /v1/organisations/{id}', () => {
  it('lets its admin correct the name and the address: the new view, the row, and one audit entry with before and after', async () => {
    const { org, accounts } = await freshOrganisation(['org_admin'], { locality: 'Lyon' });
    const address = { street: '  3 place Bellecour ', postalCode: '69002', locality: ' Lyon 2e ' };
    const res = await stack.http<OrganisationBody>('PATCH', `/v1/organisations/${org.id}`, {
      key: accounts.org_admin.key,
      json: { name: ' Menuiserie Roux & Fils ', address },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const corrected = { street: '3 place Bellecour', postalCode: '69002', locality: 'Lyon 2e' };
    expect(res.body).toEqual({ id: org.id, siret: org.siret, name: 'Menuiserie Roux & Fils', address: corrected, publicAdministration: false });
    expect(await organisationRow(org.id)).toMatchObject({ name: 'Menuiserie Roux & Fils', street: '3 place Bellecour', postalCode: '69002', locality: 'Lyon 2e' });
    const shown = await stack.http<OrganisationBody>('GET', `/v1/organisations/${org.id}`, { key: accounts.org_admin.key });
    expect(shown.body).toEqual(res.body);

    const [entry, ...more] = await auditOf(org.id);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      kind: 'decision',
      orderId: null,
      actorUserId: accounts.org_admin.user.id,
      actorRole: 'org_admin',
      detail: {
        organisationId: org.id,
        siret: org.siret,
        name: { from: 'Menuiserie Roux', to: 'Menuiserie Roux & Fils' },
        address: { from: { street: null, postalCode: null, locality: 'Lyon' }, to: corrected },
      },
    });
    // The chain still verifies with the new entry in it.
    const verify = await stack.http<{ ok: boolean }>('GET', '/v1/audit/verify', { key: admin.key });
    expect(verify.body.ok).toBe(true);

    // The name alone: the address stays, the entry names only what changed.
    const renamed = await stack.http<OrganisationBody>('PATCH', `/v1/organisations/${org.id}`, { key: accounts.org_admin.key, json: { name: 'Roux SAS' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Roux SAS', address: corrected });
    const entries = await auditOf(org.id);
    expect(entries).toHaveLength(2);
    expect(entries[1]?.detail).toEqual({ organisationId: org.id, siret: org.siret, name: { from: 'Menuiserie Roux & Fils', to: 'Roux SAS' } });
  });

  it('lets CA staff (admin, RA operator) correct it; other roles 403, another organisation 404; nothing changes', async () => {
    const { org, accounts } = await freshOrganisation(['customer', 'agent', 'org_admin'], ADDRESS);
    for (const role of ['admin', 'ra_operator'] as const) {
      const staff = await stack.account(role);
      const res = await stack.http<OrganisationBody>('PATCH', `/v1/organisations/${org.id}`, { key: staff.key, json: { name: `Roux (${role})` } });
      expect(res.status, role).toBe(200);
      expect(res.body.name).toBe(`Roux (${role})`);
      expect((await auditOf(org.id)).at(-1)).toMatchObject({ actorUserId: staff.user.id, actorRole: role });
    }
    const before = await organisationRow(org.id);
    const audited = (await auditOf(org.id)).length;
    const attempt = { name: 'Intrus', address: { street: '1 rue du Vol', postalCode: '13001', locality: 'Marseille' } };
    const cases: [Account, number, string][] = [
      [accounts.customer, 403, 'role-not-allowed'],
      [accounts.agent, 403, 'role-not-allowed'],
      [await stack.account('dra_operator'), 403, 'role-not-allowed'],
      [await stack.account('auditor'), 403, 'role-not-allowed'],
      [otherOrgAdmin, 404, 'not-found'],
    ];
    for (const [caller, status, slug] of cases) {
      const res = await stack.http<ProblemBody>('PATCH', `/v1/organisations/${org.id}`, { key: caller.key, json: attempt });
      expect(res.status, caller.user.role).toBe(status);
      expect(res.body.type).toBe(problemType(slug));
    }
    expect((await stack.http('PATCH', `/v1/organisations/${org.id}`, { json: attempt })).status).toBe(401);
    const unknown = await stack.http('PATCH', '/v1/organisations/01a2014a-0000-7000-8000-000000000000', { key: admin.key, json: attempt });
    expect(unknown.status).toBe(404);
    expect(await organisationRow(org.id)).toEqual(before);
    expect(await auditOf(org.id)).toHaveLength(audited);
  });

  it.each([
    ['a postal code of 4 digits', { address: { ...ADDRESS, postalCode: '6900' } }, 'address.postalCode'],
    ['a postal code with letters', { address: { ...ADDRESS, postalCode: '2A004' } }, 'address.postalCode'],
    ['a postal code of no department (00…)', { address: { ...ADDRESS, postalCode: '00150' } }, 'address.postalCode'],
    ['a postal code of no department (96…)', { address: { ...ADDRESS, postalCode: '96100' } }, 'address.postalCode'],
    ['a blank street', { address: { ...ADDRESS, street: '   ' } }, 'address.street'],
    ['a locality longer than a certificate holds', { address: { ...ADDRESS, locality: 'L'.repeat(129) } }, 'address.locality'],
    ['an address without its locality', { address: { street: ADDRESS.street, postalCode: ADDRESS.postalCode } }, 'address.locality'],
    ['a blank name', { name: ' ' }, 'name'],
    ['a field that cannot be changed', { siret: '44306184100047' }, '(body)'],
    ['nothing to change', {}, '(body)'],
  ])('refuses %s with 400 naming the field, changing nothing', async (_case, body, path) => {
    const { org, accounts } = await freshOrganisation(['org_admin'], ADDRESS);
    const res = await stack.http<ProblemBody & { errors: { path: string; message: string }[] }>('PATCH', `/v1/organisations/${org.id}`, {
      key: accounts.org_admin.key,
      json: body,
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e) => e.path)).toContain(path);
    expect(await organisationRow(org.id)).toMatchObject({ name: 'Menuiserie Roux', siret: org.siret, ...ADDRESS });
    expect(await auditOf(org.id)).toHaveLength(0);
  });

  it('takes the French postal codes of Corsica and overseas', async () => {
    const { org, accounts } = await freshOrganisation(['org_admin']);
    for (const postalCode of ['20000', '97400', '98800', '01000', '95880']) {
      const res = await stack.http<OrganisationBody>('PATCH', `/v1/organisations/${org.id}`, { key: accounts.org_admin.key, json: { address: { ...ADDRESS, postalCode } } });
      expect(res.status, postalCode).toBe(200);
      expect(res.body.address.postalCode).toBe(postalCode);
    }
  });

  it("unblocks TLS orders: without a locality SSL is 422, once its admin gives the address it is 201", async () => {
    const { accounts } = await freshOrganisation(['customer', 'org_admin']);
    const refused = await stack.http<ProblemBody>('POST', '/v1/orders', { key: accounts.customer.key, json: sslOrder(newCsr(['www.roux-menuiserie.fr'])) });
    expect(refused.status).toBe(422);
    expect(refused.body.type).toBe(problemType('organisation-locality-required'));

    const orgId = accounts.customer.user.organisationId ?? '';
    const patched = await stack.http('PATCH', `/v1/organisations/${orgId}`, { key: accounts.org_admin.key, json: { address: { street: '8 quai de la Fosse', postalCode: '44000', locality: 'Nantes' } } });
    expect(patched.status).toBe(200);
    const created = await stack.http<OrderView & ProblemBody>('POST', '/v1/orders', { key: accounts.customer.key, json: sslOrder(newCsr(['www.roux-menuiserie.fr'])) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ product: 'SSL', organisationId: orgId });
  });
});

/** POST multipart with `file` (the signed contract). */
async function uploadContract(key: string, userId: string, content: Buffer, name = 'mandat.pdf'): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(content)]), name);
  const res = await fetch(`${stack.baseUrl}/v1/admin/users/${userId}/agent-mandate`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const mandateRow = async (userId: string) => (await stack.db.select().from(agentMandates).where(eq(agentMandates.userId, userId)))[0];

describe('agent mandate', () => {
  it('refuses callers other than an admin, accounts that are not customers, and files that are not a contract, changing nothing', async () => {
    const customer = await stack.account('customer');
    // A contract of its own, so that "nothing stored" can be checked in the blob store.
    const refusedDoc = await PDFDocument.create();
    refusedDoc.addPage();
    refusedDoc.setTitle(`Refused ${customer.user.id}`);
    const refused = Buffer.from(await refusedDoc.save());
    for (const caller of [orgAdmin, await stack.account('ra_operator'), customer]) {
      const res = await uploadContract(caller.key, customer.user.id, refused);
      expect(res.status).toBe(403);
    }
    for (const notCustomer of [orgAdmin, await stack.account('dra_operator'), await stack.account('agent')]) {
      const res = await uploadContract(admin.key, notCustomer.user.id, refused);
      if (notCustomer.user.role === 'agent') {
        expect(res.status).toBe(409);
        continue;
      }
      expect(res.status).toBe(422);
      expect(res.body.type).toBe(problemType('mandate-requires-customer'));
      expect(await mandateRow(notCustomer.user.id)).toBeUndefined();
      expect((await getUser(stack.db, notCustomer.user.id))?.role).toBe(notCustomer.user.role);
    }
    const text = await uploadContract(admin.key, customer.user.id, Buffer.from('I agree, signed: me'), 'mandat.pdf');
    expect(text.status).toBe(415);
    expect(text.body.type).toBe(problemType('unsupported-file-type'));
    const unknown = await uploadContract(admin.key, '01a2014a-0000-7000-8000-000000000000', refused);
    expect(unknown.status).toBe(404);
    expect(await stack.services.blobs.has(createHash('sha256').update(refused).digest('hex'))).toBe(false);

    expect(await mandateRow(customer.user.id)).toBeUndefined();
    expect((await getUser(stack.db, customer.user.id))?.role).toBe('customer');
    const revoke = await stack.http<ProblemBody>('POST', `/v1/admin/users/${customer.user.id}/agent-mandate/revoke`, { key: admin.key });
    expect(revoke.status).toBe(409);
    expect(revoke.body.type).toBe(problemType('no-mandate'));
  });

  it('makes a customer an agent who orders for a colleague (the mails go to the colleague) and records face-to-face; revoked, it answers 403', async () => {
    const future = await stack.account('customer');
    const colleague = await stack.account('customer');
    // The colleague's own order: hidden from a fellow customer, visible to the organisation's agent.
    const own = await stack.http<OrderView>('POST', '/v1/orders', { key: colleague.key, json: rgsStarOrder() });
    expect(own.status).toBe(201);
    expect((await stack.http('GET', `/v1/orders/${own.body.id}`, { key: future.key })).status).toBe(404);

    // Before the mandate: no ordering for someone else.
    const before = await stack.http<ProblemBody>('POST', '/v1/orders', { key: future.key, json: rgsStarOrder({ holderUserId: colleague.user.id }) });
    expect(before.status).toBe(403);
    expect(before.body.type).toBe(problemType('agent-mandate-required'));

    const granted = await uploadContract(admin.key, future.user.id, contractPdf);
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ userId: future.user.id, role: 'agent', mandate: { contractMediaType: 'application/pdf', grantedByUserId: admin.user.id, revokedAt: null } });
    const row = await mandateRow(future.user.id);
    expect(row?.revokedAt).toBeNull();
    expect(await stack.services.blobs.has(row?.contractSha256 ?? '')).toBe(true);
    expect((await getUser(stack.db, future.user.id))?.role).toBe('agent');
    const again = await uploadContract(admin.key, future.user.id, contractPdf);
    expect(again.status).toBe(409);
    const shown = await stack.http<{ role: string }>('GET', `/v1/admin/users/${future.user.id}/agent-mandate`, { key: admin.key });
    expect(shown.status).toBe(200);
    expect(shown.body.role).toBe('agent');
    const contract = await fetch(`${stack.baseUrl}/v1/admin/users/${future.user.id}/agent-mandate/contract`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(contract.status).toBe(200);
    expect(contract.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await contract.arrayBuffer()).equals(contractPdf)).toBe(true);
    expect((await stack.http('GET', `/v1/admin/users/${future.user.id}/agent-mandate/contract`, { key: future.key })).status).toBe(403);
    expect((await stack.http('GET', `/v1/orders/${own.body.id}`, { key: future.key })).status).toBe(200);

    // An order for the colleague, who is its holder and gets its mails.
    const order = await stack.http<OrderView>('POST', '/v1/orders', {
      key: future.key,
      json: rgsStarOrder({ product: 'ID_RGS_2STAR', holderUserId: colleague.user.id }),
    });
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ holderUserId: colleague.user.id, orderedByUserId: future.user.id });
    expect(order.body.checklist.map((c) => c.documentType)).toContain('agent_mandate');
    const confirmation = await smtp.waitFor((m) => m.envelope.to.includes(colleague.user.email) && (m.parsed.text ?? '').includes(order.body.id), 20_000);
    expect(confirmation.envelope.to).not.toContain(future.user.email);

    // The agent records the face-to-face check for its organisation, with the signed intervention form.
    const form = new FormData();
    form.append('documentType', 'intervention_form');
    form.append('file', new Blob([new Uint8Array(contractPdf)]), 'intervention.pdf');
    const uploaded = await fetch(`${stack.baseUrl}/v1/orders/${order.body.id}/evidence`, { method: 'POST', headers: { authorization: `Bearer ${future.key}` }, body: form });
    expect(uploaded.status).toBe(201);
    const documentId = ((await uploaded.json()) as { document: { id: string } }).document.id;
    const f2f = await stack.http<OrderView>('POST', `/v1/orders/${order.body.id}/face-to-face`, {
      key: future.key,
      json: { interventionFormDocumentId: documentId, meetingDate: '2026-11-20' },
    });
    expect(f2f.status).toBe(200);

    // Revoked: a customer again, with a customer's powers only.
    const revoked = await stack.http<{ role: string; mandate: { revokedAt: string | null } }>('POST', `/v1/admin/users/${future.user.id}/agent-mandate/revoke`, { key: admin.key });
    expect(revoked.status).toBe(200);
    expect(revoked.body.role).toBe('customer');
    expect(revoked.body.mandate.revokedAt).not.toBeNull();
    expect((await mandateRow(future.user.id))?.revokedAt).not.toBeNull();
    expect((await getUser(stack.db, future.user.id))?.role).toBe('customer');

    const after = await stack.http<ProblemBody>('POST', '/v1/orders', { key: future.key, json: rgsStarOrder({ holderUserId: colleague.user.id }) });
    expect(after.status).toBe(403);
    expect(after.body.type).toBe(problemType('agent-mandate-required'));
    const colleagueOrders = await stack.http<{ items: OrderView[] }>('GET', '/v1/orders?limit=200', { key: colleague.key });
    expect(colleagueOrders.body.items.map((o) => o.id).sort()).toEqual([order.body.id, own.body.id].sort());
    // The colleague's own order is hidden again; the one it placed as agent stays visible to it (it ordered it).
    expect((await stack.http('GET', `/v1/orders/${own.body.id}`, { key: future.key })).status).toBe(404);
    expect((await stack.http('GET', `/v1/orders/${order.body.id}`, { key: future.key })).status).toBe(200);

    const f2fAfter = await stack.http<ProblemBody>('POST', `/v1/orders/${order.body.id}/face-to-face`, {
      key: future.key,
      json: { interventionFormDocumentId: documentId, meetingDate: '2026-11-21' },
    });
    expect(f2fAfter.status).toBe(403);
    expect(f2fAfter.body.type).toBe(problemType('role-not-allowed'));
  });
});
