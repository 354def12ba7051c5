import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { createUser, issueApiKey } from '../../db/accounts.js';
import { getOrderRow } from '../../db/orders.js';
import { orders, users } from '../../db/schema.js';
import type { OrderView } from '../../domain/order.js';
import { orderWorkflowId } from '../../workflows/definitions.js';
import { rgsStarOrder, SIRETS, type Account, type ProblemBody } from '../support.js';
import { testStackForFile } from '../stack-for-file.js';

const stack = testStackForFile();
let alice: Account;

beforeAll(async () => {
  alice = await stack.account('customer');
});

/** An order on success, a problem otherwise: both shapes are read from the same answer. */
type Answer = Omit<OrderView, 'status'> & Omit<ProblemBody, 'status'> & { status: string | number };

const create = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  stack.http<Answer>('POST', '/v1/orders', { key, json: body, headers });

describe('POST /v1/orders', () => {
  it('starts the order workflow and answers awaiting_evidence with the checklist', async () => {
    const res = await create(alice.key, rgsStarOrder());
    expect(res.status).toBe(201);
    const order = res.body;
    expect(res.headers.get('location')).toBe(`/v1/orders/${order.id}`);
    expect(order).toMatchObject({
      product: 'ID_RGS_STAR',
      durationYears: 3,
      status: 'awaiting_evidence',
      waitingOn: 'customer',
      holderUserId: alice.user.id,
      orderedByUserId: alice.user.id,
      payment: { method: 'transfer', status: 'pending', priceCents: 10500 },
    });
    expect(order.checklist).toEqual([
      { documentType: 'holder_identity', status: 'missing' },
      { documentType: 'organisation_registration', status: 'missing' },
      { documentType: 'signed_order_form', status: 'missing' },
    ]);

    // The read model was written by the workflow's activity before the answer.
    const row = await getOrderRow(stack.db, order.id);
    expect(row?.status).toBe('awaiting_evidence');
    expect(row?.workflowId).toBe(orderWorkflowId(order.id));

    const description = await stack.client.workflow.getHandle(orderWorkflowId(order.id)).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.type).toBe('orderWorkflow');
    expect(description.taskQueue).toBe(stack.taskQueue);

    const read = await stack.http<OrderView>('GET', `/v1/orders/${order.id}`, { key: alice.key });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(order);
  });

  it('returns the same order for a retried Idempotency-Key, and starts one workflow', async () => {
    const key = `retry-${Date.now()}`;
    const attempts = await Promise.all([1, 2, 3].map(() => create(alice.key, rgsStarOrder({ os: 'macos' }), { 'Idempotency-Key': key })));
    for (const a of attempts) expect(a.status).toBe(201);
    const ids = new Set(attempts.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    expect(attempts.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(2);

    const [id] = [...ids];
    const countRuns = async (): Promise<number> => {
      let count = 0;
      for await (const _ of stack.client.workflow.list({ query: `WorkflowId = '${orderWorkflowId(id ?? '')}'` })) count++;
      return count;
    };
    // Visibility is eventually consistent: wait until the run shows, then it must be the only one.
    await expect.poll(countRuns, { timeout: 10_000, interval: 200 }).toBeGreaterThanOrEqual(1);
    expect(await countRuns()).toBe(1);
    const again = await create(alice.key, rgsStarOrder({ os: 'macos' }), { 'Idempotency-Key': key });
    expect(again.body.id).toBe(id);
  });

  it('refuses an Idempotency-Key reused with another body, and keeps the first order', async () => {
    const key = `reuse-${Date.now()}`;
    const first = await create(alice.key, rgsStarOrder(), { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    const second = await create(alice.key, rgsStarOrder({ durationYears: 1 }), { 'Idempotency-Key': key });
    expect(second.status).toBe(422);
    expect(second.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(second.body.type).toBe('urn:certflow:problem:idempotency-key-reused');
    const read = await stack.http<OrderView>('GET', `/v1/orders/${first.body.id}`, { key: alice.key });
    expect(read.body.durationYears).toBe(3);
  });

  it('answers 400 with every invalid field, as problem+json', async () => {
    const res = await create(alice.key, { product: 'NOPE', durationYears: 5, os: 'windows', payment: {}, termsAccepted: 'yes', extra: 1 });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe('urn:certflow:problem:bad-request');
    const paths = (res.body.errors ?? []).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['product', 'durationYears', 'payment.method', 'termsAccepted']));
  });

  it('answers 400 for a body that is not JSON and 415 for another media type', async () => {
    const broken = await stack.http<ProblemBody>('POST', '/v1/orders', { key: alice.key, rawBody: '{"product":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body.detail).toMatch(/not valid JSON/);
    const form = await stack.http<ProblemBody>('POST', '/v1/orders', { key: alice.key, rawBody: 'product=SSL', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
  });

  it('answers 413 for an oversized body', async () => {
    const res = await create(alice.key, rgsStarOrder({ partnerCode: 'x'.repeat(300_000) }));
    expect(res.status).toBe(413);
    expect(res.body.type).toBe('urn:certflow:problem:payload-too-large');
  });

  it.each([
    ['terms not accepted', rgsStarOrder({ termsAccepted: false }), 'terms-not-accepted'],
    ['a server product without its CSR', rgsStarOrder({ product: 'SSL' }), 'csr-required'],
    ['a purchase order without its number', rgsStarOrder({ payment: { method: 'purchase_order' } }), 'purchase-order-number-required'],
    ['a CSR for a token product', rgsStarOrder({ product: 'ID_RGS_3STAR', csr: '-----BEGIN CERTIFICATE REQUEST-----' }), 'csr-not-accepted'],
    ['an unreadable CSR', rgsStarOrder({ csr: '-----BEGIN CERTIFICATE REQUEST-----' }), 'csr-unreadable'],
    ['extra names for a personal product', rgsStarOrder({ extraSans: ['www.example.com'] }), 'extra-sans-not-accepted'],
  ])('answers 422 for %s and creates nothing', async (_name, body, slug) => {
    const before = await stack.http<{ items: OrderView[] }>('GET', '/v1/orders?limit=200', { key: alice.key });
    const res = await create(alice.key, body);
    expect(res.status).toBe(422);
    expect(res.body.type).toBe(`urn:certflow:problem:${slug}`);
    const after = await stack.http<{ items: OrderView[] }>('GET', '/v1/orders?limit=200', { key: alice.key });
    expect(after.body.items.length).toBe(before.body.items.length);
  });

  it('requires a mobile number for an SMS-unlocked product', async () => {
    const noPhone = await stack.account('customer', { phone: null });
    const res = await create(noPhone.key, rgsStarOrder());
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('urn:certflow:problem:mobile-phone-required');
  });

  it('refuses a persons product for a holder without a given name or a surname, naming the field, and starts nothing', async () => {
    const alicesOrg = (await stack.db.select().from(users).where(eq(users.id, alice.user.id)))[0]?.organisationId ?? null;
    const made: string[] = [];
    const nameless = async (givenName: string, surname: string): Promise<string> => {
      const user = await createUser(stack.db, { email: `nameless-${randomUUID().slice(0, 8)}@example.test`, role: 'customer', organisationId: alicesOrg, givenName, surname, phone: '+33612345678' });
      made.push(user.id);
      return issueApiKey(stack.db, user.id);
    };
    const noSurname = await create(await nameless('Camille', ''), rgsStarOrder());
    expect(noSurname.status).toBe(422);
    expect(noSurname.body).toMatchObject({ type: 'urn:certflow:problem:holder-name-required', field: 'holder.surname' });
    const noGivenName = await create(await nameless('  ', 'Durand'), rgsStarOrder({ product: 'ENCRYPTION' }));
    expect(noGivenName.status).toBe(422);
    expect(noGivenName.body).toMatchObject({ type: 'urn:certflow:problem:holder-name-required', field: 'holder.givenName' });
    // Nothing was started for them.
    expect(await stack.db.select().from(orders).where(inArray(orders.holderUserId, made))).toEqual([]);
  });

  it('lets a public administration pay by purchase order only, and asks for the purchase order document', async () => {
    const mayor = await stack.account('customer', { siret: SIRETS.laPoste, orgName: 'Mairie', publicAdministration: true });
    const transfer = await create(mayor.key, rgsStarOrder());
    expect(transfer.status).toBe(422);
    expect(transfer.body.type).toBe('urn:certflow:problem:payment-method-not-allowed');
    const po = await create(mayor.key, rgsStarOrder({ payment: { method: 'purchase_order', purchaseOrderNumber: 'BC-2026-118' } }));
    expect(po.status).toBe(201);
    expect(po.body.payment.purchaseOrderNumber).toBe('BC-2026-118');
    expect(po.body.checklist.map((c) => c.documentType)).toContain('purchase_order');
  });
});

describe('roles and tenants', () => {
  let order: OrderView;
  let colleagueAgent: Account;
  let stranger: Account;

  beforeAll(async () => {
    order = (await create(alice.key, rgsStarOrder())).body as OrderView;
    colleagueAgent = await stack.account('agent');
    stranger = await stack.account('customer', { siret: SIRETS.globex, orgName: 'Globex' });
  });

  it('needs a key: 401 with WWW-Authenticate, for no key and for a wrong one', async () => {
    const none = await stack.http<ProblemBody>('GET', `/v1/orders/${order.id}`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const forged = `${alice.key.slice(0, -4)}AAAA`;
    const wrong = await stack.http<ProblemBody>('GET', `/v1/orders/${order.id}`, { key: forged });
    expect(wrong.status).toBe(401);
  });

  it('hides an order from another customer, even one of the same organisation, with 404', async () => {
    const sameOrg = await stack.account('customer');
    for (const who of [stranger, sameOrg]) {
      const res = await stack.http<ProblemBody>('GET', `/v1/orders/${order.id}`, { key: who.key });
      expect(res.status).toBe(404);
      const list = await stack.http<{ items: OrderView[] }>('GET', '/v1/orders?limit=200', { key: who.key });
      expect(list.body.items.map((o) => o.id)).not.toContain(order.id);
    }
  });

  it("shows the order to its organisation's agent and to CA staff, not to another organisation's agent", async () => {
    const otherAgent = await stack.account('agent', { siret: SIRETS.globex, orgName: 'Globex' });
    expect((await stack.http('GET', `/v1/orders/${order.id}`, { key: colleagueAgent.key })).status).toBe(200);
    expect((await stack.http('GET', `/v1/orders/${order.id}`, { key: otherAgent.key })).status).toBe(404);
    for (const role of ['ra_operator', 'dra_operator', 'auditor', 'admin'] as const) {
      const staff = await stack.account(role);
      expect((await stack.http('GET', `/v1/orders/${order.id}`, { key: staff.key })).status).toBe(200);
    }
  });

  it('lets only customers and agents create orders (403 for the others)', async () => {
    for (const role of ['org_admin', 'ra_operator', 'dra_operator', 'auditor', 'admin'] as const) {
      const caller = await stack.account(role);
      const res = await create(caller.key, rgsStarOrder());
      expect(res.status, role).toBe(403);
      expect(res.body.type).toBe('urn:certflow:problem:role-not-allowed');
    }
  });

  it('lets an agent order for a colleague, with the mandate in the checklist; a customer may not', async () => {
    const colleague = await stack.account('customer');
    const byAgent = await create(colleagueAgent.key, rgsStarOrder({ holderUserId: colleague.user.id }));
    expect(byAgent.status).toBe(201);
    expect(byAgent.body.holderUserId).toBe(colleague.user.id);
    expect(byAgent.body.orderedByUserId).toBe(colleagueAgent.user.id);
    expect(byAgent.body.checklist.map((c) => c.documentType)).toContain('agent_mandate');
    // The holder sees the order made for them.
    expect((await stack.http('GET', `/v1/orders/${byAgent.body.id}`, { key: colleague.key })).status).toBe(200);

    const byCustomer = await create(alice.key, rgsStarOrder({ holderUserId: colleague.user.id }));
    expect(byCustomer.status).toBe(403);
    expect(byCustomer.body.type).toBe('urn:certflow:problem:agent-mandate-required');

    const outsider = await create(colleagueAgent.key, rgsStarOrder({ holderUserId: stranger.user.id }));
    expect(outsider.status).toBe(422);
    expect(outsider.body.type).toBe('urn:certflow:problem:holder-not-in-organisation');
  });

  it('answers 404 for an unknown or malformed order id', async () => {
    expect((await stack.http('GET', '/v1/orders/01a2014a-0000-7000-8000-000000000000', { key: alice.key })).status).toBe(404);
    expect((await stack.http('GET', '/v1/orders/not-an-id', { key: alice.key })).status).toBe(404);
  });
});

describe('GET /v1/orders', () => {
  it('pages newest first with a cursor, and filters', async () => {
    const bob = await stack.account('customer', { siret: SIRETS.globex, orgName: 'Globex' });
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await create(bob.key, rgsStarOrder())).body.id);
    const first = await stack.http<{ items: OrderView[]; nextCursor: string | null }>('GET', '/v1/orders?limit=2', { key: bob.key });
    expect(first.status).toBe(200);
    expect(first.body.items.map((o) => o.id)).toEqual([made[2], made[1]]);
    expect(first.body.nextCursor).not.toBeNull();
    const second = await stack.http<{ items: OrderView[]; nextCursor: string | null }>(
      'GET',
      `/v1/orders?limit=2&cursor=${first.body.nextCursor ?? ''}`,
      { key: bob.key },
    );
    expect(second.body.items.map((o) => o.id)).toEqual([made[0]]);
    expect(second.body.nextCursor).toBeNull();

    const filtered = await stack.http<{ items: OrderView[] }>('GET', '/v1/orders?status=completed', { key: bob.key });
    expect(filtered.body.items).toEqual([]);
    const waiting = await stack.http<{ items: OrderView[] }>('GET', '/v1/orders?waitingOn=customer&product=ID_RGS_STAR', { key: bob.key });
    expect(waiting.body.items).toHaveLength(3);
  });

  it('answers 400 for a bad filter or cursor', async () => {
    expect((await stack.http('GET', '/v1/orders?status=flying', { key: alice.key })).status).toBe(400);
    expect((await stack.http('GET', '/v1/orders?cursor=bm9wZQ', { key: alice.key })).status).toBe(400);
    expect((await stack.http('GET', '/v1/orders?limit=0', { key: alice.key })).status).toBe(400);
  });
});
