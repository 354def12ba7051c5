/** Drives orders over HTTP the way customers and staff do, for the lifecycle tests. */
import type { OrderView } from '../../domain/order.js';
import { minimalPdf } from '../documents/fixtures.js';
import type { FakeDns } from '../fakes/dns.js';
import { rgsStarOrder, type Account, type TestStack } from '../support.js';

export interface ProblemFields {
  type: string;
  state?: string;
  waitingOn?: string;
  attemptsLeft?: number;
  detail?: string;
}
/** A success body or a problem: both shapes read from the same answer (their `status` differ in type). */
export type Answer<T> = Omit<T, 'status'> & ProblemFields & { status: string | number };

export interface Actors {
  readonly holder: Account;
  readonly ra: Account;
  readonly dra: Account;
}

export class Driver {
  constructor(
    readonly stack: TestStack,
    readonly actors: Actors,
  ) {}

  /** A driver for a new customer account (or `holder`) with new RA and DRA operators of the stack. */
  static async withNewActors(stack: TestStack, holder?: Account): Promise<Driver> {
    return new Driver(stack, { holder: holder ?? (await stack.account('customer')), ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator') });
  }

  post<T = OrderView>(key: string, path: string, json: unknown = {}) {
    return this.stack.http<Answer<T>>('POST', path, { key, json });
  }

  async upload(key: string, orderId: string, documentType: string, bytes: Buffer = minimalPdf(), name = `${documentType}.pdf`) {
    const form = new FormData();
    form.append('documentType', documentType);
    form.append('file', new Blob([new Uint8Array(bytes)]), name);
    const res = await fetch(`${this.stack.baseUrl}/v1/orders/${orderId}/evidence`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
    return { status: res.status, body: (await res.json()) as Answer<{ document: { id: string }; order: OrderView }> };
  }

  /** Proves the order's names by DNS: starts validation by TXT record, publishes each record, then asks for the check. */
  async proveByDnsTxt(orderId: string, dns: Pick<FakeDns, 'set'>, key: string = this.actors.holder.key) {
    const started = await this.post(key, `/v1/orders/${orderId}/domain-validation`, { action: 'start', method: 'dns' });
    if (started.status !== 200) throw new Error(`domain validation did not start: ${started.status} ${JSON.stringify(started.body)}`);
    for (const item of (started.body as unknown as OrderView).domains.items) {
      if (item.challenge?.dns) dns.set(item.challenge.dns.recordName, 'TXT', item.challenge.dns.value);
    }
    return this.post(key, `/v1/orders/${orderId}/domain-validation`, { action: 'check' });
  }

  async get(orderId: string): Promise<OrderView> {
    return (await this.stack.http<OrderView>('GET', `/v1/orders/${orderId}`, { key: this.actors.holder.key })).body;
  }

  /** Polls the order until `done` holds (workflow-driven changes land asynchronously). */
  async until(orderId: string, done: (o: OrderView) => boolean, timeoutMs = 30_000): Promise<OrderView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const order = await this.get(orderId);
      if (done(order)) return order;
      if (Date.now() > deadline) throw new Error(`order ${orderId} still ${order.status}: ${JSON.stringify(order.deadlines)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async create(product: string, overrides: Record<string, unknown> = {}): Promise<OrderView> {
    const res = await this.post(this.actors.holder.key, '/v1/orders', rgsStarOrder({ product, ...overrides }));
    if (res.status !== 201) throw new Error(`create ${product}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as unknown as OrderView;
  }

  /** Uploads every missing or rejected document of the checklist and submits the file. */
  async completeAndSubmit(order: OrderView): Promise<OrderView> {
    for (const item of order.checklist.filter((c) => c.status === 'missing' || c.status === 'rejected')) {
      const up = await this.upload(this.actors.holder.key, order.id, item.documentType);
      if (up.status !== 201) throw new Error(`upload ${item.documentType}: ${up.status} ${JSON.stringify(up.body)}`);
    }
    return this.ok(await this.post(this.actors.holder.key, `/v1/orders/${order.id}/submit`));
  }

  async approve(orderId: string): Promise<OrderView> {
    return this.ok(await this.post(this.actors.ra.key, `/v1/orders/${orderId}/review`, { decision: 'approve' }));
  }

  async reject(orderId: string, documentType: string, reason: string): Promise<OrderView> {
    return this.ok(await this.post(this.actors.ra.key, `/v1/orders/${orderId}/review`, { decision: 'reject', reasons: [{ documentType, reason }] }));
  }

  async faceToFace(orderId: string): Promise<OrderView> {
    const form = await this.upload(this.actors.dra.key, orderId, 'intervention_form');
    if (form.status !== 201) throw new Error(`intervention form: ${form.status}`);
    return this.ok(await this.post(this.actors.dra.key, `/v1/orders/${orderId}/face-to-face`, { interventionFormDocumentId: form.body.document.id, meetingDate: '2026-11-20' }));
  }

  async originals(orderId: string): Promise<OrderView> {
    return this.ok(await this.post(this.actors.ra.key, `/v1/orders/${orderId}/originals-received`));
  }

  async pay(orderId: string, reference = `VIR-${orderId.slice(-6)}`): Promise<OrderView> {
    return this.ok(await this.post(this.actors.ra.key, `/v1/orders/${orderId}/payment`, { status: 'received', reference }));
  }

  /** From creation to the certificate waiting for the holder's answer, through every gate the product has. */
  async toAcceptance(product: string, overrides: Record<string, unknown> = {}): Promise<OrderView> {
    let order = await this.completeAndSubmit(await this.create(product, overrides));
    order = await this.approve(order.id);
    if (order.faceToFace.required) order = await this.faceToFace(order.id);
    if (order.originals.required) order = await this.originals(order.id);
    await this.pay(order.id);
    return this.until(order.id, (o) => o.status === 'awaiting_acceptance');
  }

  /**
   * An ID RGS* order that goes round once: submitted incomplete (refused with 422), completed and submitted, rejected
   * for its identity document, completed again, approved, paid and issued; it waits for the holder's answer.
   */
  async throughOneRejection(): Promise<OrderView> {
    const created = await this.create('ID_RGS_STAR');
    const early = await this.post(this.actors.holder.key, `/v1/orders/${created.id}/submit`);
    if (early.status !== 422) throw new Error(`an incomplete submission answered ${early.status}, not 422`);
    const submitted = await this.completeAndSubmit(created);
    await this.reject(submitted.id, 'holder_identity', 'The identity document has expired.');
    const again = await this.completeAndSubmit(await this.get(submitted.id));
    await this.approve(again.id);
    await this.pay(again.id);
    return this.until(again.id, (o) => o.status === 'awaiting_acceptance');
  }

  private ok<T extends OrderView>(res: { status: number; body: Answer<T> }): T {
    if (res.status !== 200) throw new Error(`expected 200, got ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as unknown as T;
  }
}
