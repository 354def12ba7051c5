/**
 * CAA before TLS issuance, over HTTP against a real DNS server on loopback (BR §3.2.2.8): an SSL order whose name's
 * CAA names another CA is refused right before signing (no certificate, the order waits on the customer with the
 * reason, the refusal in its audit trail, the customer mailed); the customer's check answers 422
 * `caa-forbids-issuance` while the record stays; once it names this CA, the same check lets the order issue.
 */
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificates, orderEvents, sentMessages } from '../../db/schema.js';
import type { OrderView } from '../../domain/order.js';
import { openssl } from '../ca/support.js';
import { startFakeDns } from '../fakes/dns.js';
import { sslOrder, type Account } from '../support.js';
import { Driver } from './drive.js';
import { startedForFile, testStackForFile } from '../stack-for-file.js';

const OURS = 'pki.caa-stack.example';
const dns = startedForFile(() => startFakeDns(), 'the DNS server');
const stack = testStackForFile(() => ({ env: { DCV_DNS_SERVERS: dns.server, DCV_TIMEOUT_MS: '3000', CAA_IDENTIFIERS: OURS } }));
let holder: Account;
let driver: Driver;

beforeAll(async () => {
  holder = await stack.account('customer', { locality: 'Lyon' });
  driver = await Driver.withNewActors(stack, holder);
});

function newCsr(names: string[]): string {
  const san = ['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`];
  const run = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{key.pem}', '-subj', `/CN=${names[0]}`, ...san], {});
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

/** An SSL order whose names are proved by TXT records, its file approved and its payment received. */
async function paidOrder(names: string[]): Promise<OrderView> {
  const created = await driver.post<OrderView>(holder.key, '/v1/orders', sslOrder(newCsr(names)));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const order = created.body as unknown as OrderView;
  const checked = await driver.proveByDnsTxt(order.id, dns, holder.key);
  expect((checked.body as unknown as OrderView).domains.items.every((d) => d.status === 'validated'), JSON.stringify(checked.body)).toBe(true);
  for (const item of order.checklist) expect((await driver.upload(holder.key, order.id, item.documentType)).status).toBe(201);
  expect((await driver.post(holder.key, `/v1/orders/${order.id}/submit`)).status).toBe(200);
  expect((await driver.post(driver.actors.ra.key, `/v1/orders/${order.id}/review`, { decision: 'approve' })).status).toBe(200);
  expect((await driver.post(driver.actors.ra.key, `/v1/orders/${order.id}/payment`, { status: 'received', reference: `VIR-${order.id.slice(0, 8)}` })).status).toBe(200);
  return order;
}

describe('CAA before TLS issuance', () => {
  it('refuses before signing while the CAA names another CA, and issues once it names this CA', async () => {
    dns.set('caa-shop.fr', 'CAA', '0 issue "other-ca.example"', '0 iodef "mailto:security@caa-shop.fr"');
    const order = await paidOrder(['www.caa-shop.fr']);

    // Refused right before signing: back to its domains, waiting on the customer, with the reason.
    const refused = await driver.until(order.id, (o) => o.caa?.last.permitted === false);
    expect([refused.status, refused.waitingOn, refused.certificateSerial]).toEqual(['awaiting_domain_validation', 'customer', null]);
    expect(refused.caa?.last.names).toEqual([
      expect.objectContaining({ name: 'www.caa-shop.fr', relevantDomain: 'caa-shop.fr', permitted: false, records: ['0 issue "other-ca.example"', '0 iodef "mailto:security@caa-shop.fr"'] }),
    ]);
    expect(refused.caa?.last.names[0]?.reason).toContain(`add 0 issue "${OURS}"`);
    // Nothing was signed, nothing reserved.
    expect(await stack.db.select().from(certificates).where(eq(certificates.orderId, order.id))).toEqual([]);
    const none = await stack.http('GET', `/v1/orders/${order.id}/certificate`, { key: holder.key });
    expect(none.status).not.toBe(200);

    // The decision is in the audit trail and on the timeline; the customer was told.
    const [event] = await stack.db.select().from(orderEvents).where(and(eq(orderEvents.orderId, order.id), eq(orderEvents.action, 'caa_check')));
    expect([event?.outcome, event?.actorRole, event?.detail.code]).toEqual(['refused', 'system', 'caa-forbids-issuance']);
    const timeline = await stack.http<{ items: { text: string }[] }>('GET', `/v1/orders/${order.id}/timeline`, { key: driver.actors.ra.key });
    expect(timeline.body.items.map((i) => i.text)).toContain('system: caa check refused (caa-forbids-issuance)');
    await expect.poll(async () => (await stack.db.select().from(sentMessages).where(and(eq(sentMessages.orderId, order.id), eq(sentMessages.template, 'caa_forbids_issuance')))).length).toBe(1);

    // Checking again while the record stays: 422 with the reason, the order still waits.
    const again = await driver.post(holder.key, `/v1/orders/${order.id}/domain-validation`, { action: 'check' });
    expect(again.status).toBe(422);
    expect(again.body.type).toBe('urn:certflow:problem:caa-forbids-issuance');
    expect(String(again.body.detail)).toContain('other-ca.example');

    // The customer names this CA: the check lets the order go on, and it issues after a new check.
    dns.set('caa-shop.fr', 'CAA', `0 issue "${OURS}; accounturi=https://ca.example/acct/1"`);
    const allowed = await driver.post(holder.key, `/v1/orders/${order.id}/domain-validation`, { action: 'check' });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
    const issued = await driver.until(order.id, (o) => o.status === 'awaiting_acceptance');
    expect(issued.certificateSerial).not.toBeNull();
    expect(issued.caa?.last).toMatchObject({ permitted: true });
    // Three checks: refused before signing, refused at the customer's request, permitted; then the one before signing.
    expect(issued.caa?.checks).toBe(4);
    const rows = await stack.db.select().from(certificates).where(eq(certificates.orderId, order.id));
    expect(rows.map((r) => r.status)).toEqual(['valid']);
  });

  it('issues at once when the CAA of a parent domain names this CA', async () => {
    dns.set('caa-ok.fr', 'CAA', `0 issue "${OURS}"`);
    const order = await paidOrder(['shop.eu.caa-ok.fr']);
    const issued = await driver.until(order.id, (o) => o.status === 'awaiting_acceptance');
    expect(issued.caa?.last.names[0]).toMatchObject({ relevantDomain: 'caa-ok.fr', permitted: true });
    expect(issued.caa?.checks).toBe(1);
  });
});
