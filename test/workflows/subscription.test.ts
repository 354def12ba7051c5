/**
 * A three-year TLS subscription on the time-skipping test server, crossing the BR's dates (2027-03-15: 100 days,
 * 2029-03-15: 47 days and 10 days of domain-evidence reuse): each certificate is as long as the schedule allows on
 * its issuance day, the next one comes before the current one expires, domains are re-validated by DNS (a real DNS
 * server on loopback) when their evidence may no longer be reused, and the last certificate ends with the term.
 * Activities run on the test server's clock (the scheduled time of each attempt), so the CA dates what it signs by
 * the skipped time.
 */
import { webcrypto } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPkcs11 } from '../ca/support.js';
import { createCa } from '../../activities/ca/index.js';
import type { Services } from '../../activities/services.js';
import { and, eq } from 'drizzle-orm';
import type { DatabaseHandle } from '../../db/client.js';
import { certificates as certificatesTable, sentMessages } from '../../db/schema.js';
import { upsertOrderView } from '../../db/orders.js';
import type { CertificateLifeView } from '../../domain/certificate-life.js';
import { newOrderView, type OrderInput } from '../../domain/order.js';
import { TLS_VALIDITY_SCHEDULE, validityPeriodAt } from '../../domain/rules/validity.js';
import { certificateLifeQuery, certificateWorkflowId } from '../../workflows/definitions.js';
import type { certificateWorkflow } from '../../workflows/certificate.js';
import { startFakeDns, type FakeDns } from '../fakes/dns.js';
import { orderInput, seedCustomer } from '../orders.js';
import { startSkippingStack } from './skipping.js';

let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let services: Services;
let dataDir: string;
let taskQueue: string;
let dns: FakeDns;
const DAY_MS = 86_400_000;

/** Inside an activity, the test server's time of this attempt; outside (set-up), the real time. */
function serverClock(): Date {
  try {
    return new Date(Context.current().info.currentAttemptScheduledTimestampMs);
  } catch {
    return new Date();
  }
}

beforeAll(async () => {
  dns = await startFakeDns();
  const stack = await startSkippingStack({
    name: 'subscription',
    env: { DCV_DNS_SERVERS: dns.server, DCV_TIMEOUT_MS: '2000' },
    // The CA and the activities date by the test server's clock.
    activities: async ({ secrets }, { config, db }) => {
      const ca = createCa({ db, secrets, pkiBaseUrl: config.pkiBaseUrl, pdsUrl: config.pdsUrl, pkcs11: testPkcs11(), now: serverClock });
      await ca.ensureHierarchy();
      return { ca, now: serverClock };
    },
  });
  ({ env, database, services, dataDir, taskQueue } = stack);
  return stack.close;
}, 60_000);
afterAll(() => dns?.close());

/** The templates of the mails sent about an order, as the notifier recorded them. */
async function mailsOf(orderId: string): Promise<string[]> {
  const rows = await database.db.select().from(sentMessages).where(and(eq(sentMessages.orderId, orderId), eq(sentMessages.status, 'sent')));
  return rows.map((r) => r.template);
}

const days = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / DAY_MS;

describe('a three-year TLS subscription', () => {
  it('reissues under each period of the BR schedule, re-validating domains when their evidence runs out', async () => {
    const start = new Date(await env.currentTimeMs());
    const { org, user } = await seedCustomer(database.db, 'subscription');
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey)).toString('base64');
    const names = ['www.subscription-test.fr', 'subscription-test.fr'];
    const order: OrderInput = orderInput(user, org, {
      product: 'SSL',
      durationYears: 3,
      certificateRequest: { csrPem: '', publicKeySpki: spki, keyDescription: 'ECDSA P-256', dnsNames: names },
      createdAt: start.toISOString(),
    });
    await upsertOrderView(database.db, `order-${order.orderId}`, newOrderView(order));
    const termEndsAt = new Date(start.getTime() + 3 * 365 * DAY_MS).toISOString();
    const first = await services.ca.issueCertificate({
      issuanceKey: `test:${order.orderId}:first`,
      orderId: order.orderId,
      product: 'SSL',
      holder: order.holder,
      organisation: order.organisation,
      publicKeySpki: spki,
      dnsNames: names,
      validityDays: validityPeriodAt(start).maxValidityDays - 1,
    });
    const validatedAt = start.toISOString();
    const handle = await env.client.workflow.start<typeof certificateWorkflow>('certificateWorkflow', {
      taskQueue,
      workflowId: certificateWorkflowId(order.orderId),
      args: [
        {
          order,
          termEndsAt,
          first: { serial: first.serial, notBefore: first.notBefore, notAfter: first.notAfter },
          domains: names.map((name) => ({ name, status: 'validated', method: 'dns', validatedAt, evidence: 'TXT seen at order time', challenge: null, lastCheck: null })),
        },
      ],
    });

    // Move the clock from one deadline to the next; publish the TXT records whenever the CA asks for them again.
    let revalidations = 0;
    let view: CertificateLifeView = await handle.query(certificateLifeQuery);
    for (let step = 0; step < 400 && view.status !== 'expired'; step++) {
      if (view.status === 'awaiting_revalidation') {
        const pending = view.domains.filter((d) => d.status === 'pending' && d.challenge?.dns !== undefined);
        if (pending.length > 0 && pending.some((d) => d.lastCheck === null)) revalidations++;
        for (const d of pending) dns.set(d.challenge?.dns?.recordName as string, 'TXT', d.challenge?.dns?.value as string);
      }
      const now = await env.currentTimeMs();
      const next = view.deadlines.map((d) => Date.parse(d.at)).filter((at) => at > now)[0] ?? now + DAY_MS;
      await env.sleep(Math.max(1000, next - now + 60_000));
      view = await handle.query(certificateLifeQuery);
    }
    expect(view.status).toBe('expired');

    const certificates = view.certificates;
    expect(certificates.length).toBeGreaterThan(10);
    for (const [i, c] of certificates.entries()) {
      const period = validityPeriodAt(c.notBefore);
      const life = days(c.notBefore, c.notAfter);
      // As long as the schedule allows on the issuance day (one day under the maximum), or to the end of the term.
      expect(life).toBeLessThanOrEqual(period.maxValidityDays);
      if (c.notAfter !== certificates.at(-1)?.notAfter) expect(Math.round(life)).toBe(period.maxValidityDays - 1);
      // The next certificate is there before the current one expires.
      if (i > 0) expect(Date.parse(c.notBefore)).toBeLessThan(Date.parse(certificates[i - 1]?.notAfter as string));
    }
    // Every period of the schedule the term crosses, whatever today is (the time-skipping server starts now): from
    // 2026-12 that is the 200-, 100- and 47-day periods; from 2029-03-15 on, only the last one.
    const crossed = TLS_VALIDITY_SCHEDULE.filter((p, i) => {
      const from = Date.parse(`${p.from}T00:00:00Z`);
      const next = TLS_VALIDITY_SCHEDULE[i + 1];
      const until = next === undefined ? Infinity : Date.parse(`${next.from}T00:00:00Z`);
      return from < Date.parse(termEndsAt) && until > start.getTime();
    }).map((p) => p.from);
    const periods = new Set(certificates.map((c) => validityPeriodAt(c.notBefore).from));
    expect(periods).toEqual(new Set(crossed));
    expect(Date.parse(certificates.at(-1)?.notAfter as string)).toBeLessThanOrEqual(Date.parse(termEndsAt));
    expect(days(certificates.at(-1)?.notAfter as string, termEndsAt)).toBeLessThan(1);
    // In the last period (2029-03-15) evidence lasts 10 days: every reissue of that period needed the domains proved again.
    const last = TLS_VALIDITY_SCHEDULE.at(-1);
    expect(last?.dcvReuseDays).toBeLessThan(last?.maxValidityDays ?? 0);
    const lastPeriod = certificates.slice(1).filter((c) => validityPeriodAt(c.notBefore).from === last?.from).length;
    expect(revalidations).toBeGreaterThanOrEqual(lastPeriod);
    // One mail per new certificate and per request to prove the domains again, each sent once; a reminder before the end.
    const mails = await mailsOf(order.orderId);
    expect(mails.filter((t) => t === 'certificate_renewed').length).toBe(certificates.length - 1);
    expect(mails.filter((t) => t === 'domain_revalidation').length).toBe(revalidations);
    expect(mails.filter((t) => t === 'expiry_reminder').length).toBeGreaterThanOrEqual(1);
    // The CA holds each of them, signed once, as the workflow saw it.
    const rows = await database.db.select().from(certificatesTable).where(eq(certificatesTable.orderId, order.orderId));
    expect(rows.map((r) => r.serial).sort()).toEqual(certificates.map((c) => c.serial).sort());
    expect(rows.every((r) => r.status === 'valid' && r.pem !== null)).toBe(true);
  }, 300_000);

  it("mails a personal certificate's holder 90, 30 and 7 days before the end, with the renewal order, then ends", async () => {
    const start = new Date(await env.currentTimeMs());
    const { org, user } = await seedCustomer(database.db, 'expiry');
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey)).toString('base64');
    const order: OrderInput = orderInput(user, org, { product: 'ID_RGS_STAR', durationYears: 1, createdAt: start.toISOString() });
    await upsertOrderView(database.db, `order-${order.orderId}`, newOrderView(order));
    const first = await services.ca.issueCertificate({
      issuanceKey: `test:${order.orderId}:first`,
      orderId: order.orderId,
      product: 'ID_RGS_STAR',
      holder: order.holder,
      organisation: order.organisation,
      publicKeySpki: spki,
      validityDays: 365,
    });
    const handle = await env.client.workflow.start<typeof certificateWorkflow>('certificateWorkflow', {
      taskQueue,
      workflowId: certificateWorkflowId(order.orderId),
      args: [{ order, termEndsAt: first.notAfter, first: { serial: first.serial, notBefore: first.notBefore, notAfter: first.notAfter }, domains: [] }],
    });
    const pending = await handle.query(certificateLifeQuery);
    expect(pending.subscription).toBe(false);
    expect(pending.deadlines.map((d) => [d.kind, Math.round(days(d.at, first.notAfter))])).toEqual([
      ['expiry_reminder', 90],
      ['expiry_reminder', 30],
      ['expiry_reminder', 7],
      ['expiry', 0],
    ]);
    const end = await handle.result();
    expect(end.status).toBe('expired');
    expect(end.certificates).toHaveLength(1);
    expect((await mailsOf(order.orderId)).filter((t) => t === 'expiry_reminder')).toHaveLength(3);
    // The mail carries the prefilled renewal order, ready to post.
    const outbox = join(dataDir, 'outbox', 'mail');
    const reminders = readdirSync(outbox)
      // Quoted-printable soft line breaks undone, so the body reads as sent.
      .map((f) => readFileSync(join(outbox, f), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '='))
      .filter((eml) => /X-CertFlow-Template: expiry_reminder/i.test(eml) && eml.includes(order.orderId));
    expect(reminders).toHaveLength(3);
    expect(reminders[0]).toMatch(/"product":\s*"ID_RGS_STAR"/);
  }, 120_000);
});
