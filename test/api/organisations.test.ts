/**
 * Organisations and agents over HTTP on the real stack: an organisation admin creates pending accounts (the
 * activation mail reaches a real SMTP server), lists its people; an admin grants and revokes the agent mandate on
 * the signed contract, and the agent's powers (ordering for a colleague, face-to-face) follow the mandate.
 */
import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentMandates, users } from '../../db/schema.js';
import { getUser } from '../../db/accounts.js';
import type { OrderView } from '../../domain/order.js';
import { startFakeSmtp, type FakeSmtp } from '../fakes/smtp.js';
import { rgsStarOrder, SIRETS, startTestStack, type Account, type TestStack } from '../support.js';

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

let smtp: FakeSmtp;
let stack: TestStack;
let orgAdmin: Account;
let otherOrgAdmin: Account;
let admin: Account;
let contractPdf: Buffer;

beforeAll(async () => {
  smtp = await startFakeSmtp();
  stack = await startTestStack({ env: { SMTP_URL: smtp.url } });
  orgAdmin = await stack.account('org_admin');
  otherOrgAdmin = await stack.account('org_admin', { siret: SIRETS.globex, orgName: 'Globex' });
  admin = await stack.account('admin');
  const doc = await PDFDocument.create();
  doc.addPage();
  doc.setTitle('Mandat de mandataire de certification');
  contractPdf = Buffer.from(await doc.save());
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
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
