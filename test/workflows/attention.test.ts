/**
 * Activities that keep failing (issue 14 item 7), on the time-skipping test server with the real activities, Postgres
 * and the outbox: a step failing for longer than its bound (the default 10 minutes) alerts staff once, is counted,
 * and heals by itself; a refusal no retry fixes leaves the order needs_attention until staff resume or cancel it.
 * The fault is the mail relay's, for one order's confirmation mail: every other mail (the staff alerts) goes through.
 */
// First: the worker's warnings about the mails this file makes fail on purpose are asserted, not printed.
import { entryText, expectRuntimeLines, runtimeLog } from '../runtime-log.js';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { simpleParser, type ParsedMail } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { workerMetrics } from '../../activities/metrics.js';
import type { Notifier } from '../../activities/notify/index.js';
import type { DatabaseHandle } from '../../db/client.js';
import { getOrderRow, upsertOrderView } from '../../db/orders.js';
import { newOrderView, type OrderInput, type OrderView } from '../../domain/order.js';
import type { certificateWorkflow } from '../../workflows/certificate.js';
import { cancelUpdate, certificateWorkflowId, orderWorkflowId, resumeUpdate, stateQuery } from '../../workflows/definitions.js';
import type { orderWorkflow } from '../../workflows/order.js';
import { orderInput, seedCustomer } from '../orders.js';
import { startSkippingStack } from './skipping.js';

/** The SDK's warning for an attempt of the mails this file breaks. */
const FAULT_LINE = /^Activity failed .*"activityType":"send(Order|Certificate)Mail"/;
expectRuntimeLines(FAULT_LINE);
/** Core's notice that the time-skipping test server predates a capability (heartbeat details on failure). */
const TEST_SERVER_LINE = /activity_failure_include_heartbeat/;
expectRuntimeLines(TEST_SERVER_LINE);

let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let dataDir: string;
let taskQueue: string;

/** Orders whose mail of one template fails (by default the confirmation), and how: an outage or a refusal. */
const faults = new Map<string, 'outage' | 'refusal'>();
const faultyTemplate = new Map<string, string>();
/** The test server's time (ms) of each failed attempt, by order. */
const failedAt = new Map<string, number[]>();

beforeAll(async () => {
  const stack = await startSkippingStack({
    name: 'attention',
    activities: (services): { notifier: Notifier } => ({
      notifier: {
        caIdentity: services.notifier.caIdentity,
        sendSms: (req) => services.notifier.sendSms(req),
        close: () => services.notifier.close(),
        async sendEmail(req) {
          const fault = faults.get(req.orderId ?? '');
          if (fault !== undefined && req.message.template === (faultyTemplate.get(req.orderId ?? '') ?? 'order_confirmation')) {
            failedAt.set(req.orderId ?? '', [...(failedAt.get(req.orderId ?? '') ?? []), Context.current().info.currentAttemptScheduledTimestampMs]);
            if (fault === 'outage') throw new Error('421 4.3.2 relay unavailable');
            throw ApplicationFailure.nonRetryable('550 5.1.1 mailbox unavailable', 'MailRefused');
          }
          return services.notifier.sendEmail(req);
        },
      },
    }),
  });
  ({ env, database, dataDir, taskQueue } = stack);
  return stack.close;
});

async function start(): Promise<{ order: OrderInput; handle: Awaited<ReturnType<typeof env.client.workflow.start<typeof orderWorkflow>>> }> {
  const { org, user } = await seedCustomer(database.db, 'attention');
  const order = orderInput(user, org, { payment: { method: 'transfer', purchaseOrderNumber: null }, createdAt: new Date(await env.currentTimeMs()).toISOString() });
  return { order, handle: await env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(order.orderId), args: [order] }) };
}

/** The outbox's mails of one template about one order, as a mail client reads them (headers, text). */
async function mails(template: string, orderId: string): Promise<ParsedMail[]> {
  const dir = join(dataDir, 'outbox', 'mail');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  const parsed = await Promise.all(files.map((f) => simpleParser(readFileSync(join(dir, f)))));
  return parsed.filter((m) => m.headers.get('x-certflow-template') === template && `${m.subject ?? ''} ${m.text ?? ''}`.includes(orderId));
}
const to = (m: ParsedMail | undefined): string => {
  const address = m?.to;
  return Array.isArray(address) ? address.map((a) => a.text).join(', ') : (address?.text ?? '');
};

async function stuckCount(activity: string): Promise<number> {
  const metric = (await workerMetrics.getSingleMetric('certflow_activity_stuck_total')?.get())?.values ?? [];
  return metric.find((v) => v.labels.activity === activity)?.value ?? 0;
}

/** Polls (in real time) until `check` holds. */
async function until<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (check(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const ra = { userId: '0193a0c8-0000-7000-8000-00000000aaaa', role: 'ra_operator' };
const view = async (orderId: string): Promise<OrderView | undefined> => (await getOrderRow(database.db, orderId))?.view;

describe('an activity that keeps failing', () => {
  it('alerts staff once after 10 minutes, is counted, keeps retrying and goes on once the relay heals', async () => {
    const before = await stuckCount('sendOrderMail');
    const { order, handle } = await start();
    faults.set(order.orderId, 'outage');
    // Failing for 9 minutes: not yet an alert.
    await env.sleep('9 minutes');
    expect((failedAt.get(order.orderId) ?? []).length).toBeGreaterThan(5);
    expect(await mails('activity_failing_staff', order.orderId)).toHaveLength(0);
    expect(await stuckCount('sendOrderMail')).toBe(before);
    // Past 10 minutes, and two more windows of 10: one episode, one alert.
    await env.sleep('16 minutes');
    const alerts = await until('the staff alert', () => mails('activity_failing_staff', order.orderId), (m) => m.length > 0);
    expect(alerts).toHaveLength(1);
    expect(to(alerts[0])).toBe('ra@certflow.localhost');
    expect(alerts[0]?.text).toContain('421 4.3.2 relay unavailable');
    expect(alerts[0]?.text).toContain('sendOrderMail confirmation');
    expect(await stuckCount('sendOrderMail')).toBe(before + 1);
    // Still retrying after the alert, in the second window and the third; the order never needed attention.
    const attempts = failedAt.get(order.orderId) ?? [];
    const startedAt = Date.parse(order.createdAt);
    expect(attempts.filter((t) => t - startedAt > 10 * 60_000).length).toBeGreaterThanOrEqual(2);
    expect(attempts.filter((t) => t - startedAt > 20 * 60_000).length).toBeGreaterThanOrEqual(1);
    expect((await handle.query(stateQuery)).status).toBe('awaiting_evidence');
    expect(await mails('order_confirmation', order.orderId)).toHaveLength(0);

    faults.delete(order.orderId);
    await env.sleep('10 minutes');
    await until('the confirmation mail', () => mails('order_confirmation', order.orderId), (m) => m.length === 1);
    expect((await view(order.orderId))?.status).toBe('awaiting_evidence');
    expect(await mails('activity_failing_staff', order.orderId)).toHaveLength(1);
    expect(await stuckCount('sendOrderMail')).toBe(before + 1);
  }, 120_000);
});

describe('a refusal no retry fixes', () => {
  it('leaves the order needs_attention with the step and message, and a staff resume runs the step again', async () => {
    const { order, handle } = await start();
    faults.set(order.orderId, 'refusal');
    const waiting = await until('needs_attention', () => view(order.orderId), (v) => v?.status === 'needs_attention');
    expect(waiting).toMatchObject({
      status: 'needs_attention',
      waitingOn: 'ra',
      attention: { step: 'sendOrderMail confirmation', activity: 'sendOrderMail', message: '550 5.1.1 mailbox unavailable', resumeTo: 'awaiting_evidence' },
    });
    await until('the staff alert', () => mails('activity_failing_staff', order.orderId), (m) => m.length === 1);
    const [alert] = await mails('activity_failing_staff', order.orderId);
    expect(to(alert)).toBe('ra@certflow.localhost');
    expect(alert?.text).toContain('550 5.1.1 mailbox unavailable');
    // Retried once only: a refusal is not retried until staff say so.
    expect(failedAt.get(order.orderId)).toHaveLength(1);

    // Resumed while the cause is still there: the step fails again, the order waits again.
    await handle.executeUpdate(resumeUpdate, { args: [{ actor: ra }] });
    await until('the second refusal', () => Promise.resolve(failedAt.get(order.orderId)?.length ?? 0), (n) => n === 2);
    await until('needs_attention again', () => view(order.orderId), (v) => v?.status === 'needs_attention');

    faults.delete(order.orderId);
    const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ actor: ra }] });
    expect(resumed).toMatchObject({ status: 'awaiting_evidence', waitingOn: 'customer', attention: null });
    await until('the confirmation mail', () => mails('order_confirmation', order.orderId), (m) => m.length === 1);
    const after = await until('the deadlines back', () => view(order.orderId), (v) => (v?.deadlines.length ?? 0) > 0);
    expect(after).toMatchObject({ status: 'awaiting_evidence', attention: null });
  }, 60_000);

  it('lets staff cancel the order instead; it closes cancelled', async () => {
    const { order, handle } = await start();
    faults.set(order.orderId, 'refusal');
    await until('needs_attention', () => view(order.orderId), (v) => v?.status === 'needs_attention');
    const cancelled = await handle.executeUpdate(cancelUpdate, { args: [{ actor: ra, reason: 'holder address refused by the relay' }] });
    expect(cancelled).toMatchObject({ status: 'cancelled', closedReason: 'holder address refused by the relay', attention: null });
    faults.delete(order.orderId);
    const final = await handle.result();
    expect(final.status).toBe('cancelled');
    await until('the cancellation mail', () => mails('order_cancelled', order.orderId), (m) => m.length === 1);
    expect(await mails('order_confirmation', order.orderId)).toHaveLength(0);
  }, 60_000);
});

describe("a step of a certificate's own workflow that keeps failing", () => {
  it('alerts staff once with the serial, is counted, and the expiry reminder goes once the relay heals', async () => {
    const before = await stuckCount('sendCertificateMail');
    const { org, user } = await seedCustomer(database.db, 'attention-life');
    const now = await env.currentTimeMs();
    const order = orderInput(user, org, { createdAt: new Date(now).toISOString() });
    // Its order exists (the messages' ledger refers to it), as when the order's workflow starts this one.
    await upsertOrderView(database.db, orderWorkflowId(order.orderId), newOrderView(order));
    const serial = `5f3a${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    // The 90-day reminder is due in an hour.
    const notAfter = new Date(now + 90 * 86_400_000 + 3_600_000).toISOString();
    faults.set(order.orderId, 'outage');
    faultyTemplate.set(order.orderId, 'expiry_reminder');
    const handle = await env.client.workflow.start<typeof certificateWorkflow>('certificateWorkflow', {
      taskQueue,
      workflowId: certificateWorkflowId(order.orderId),
      args: [{ order, termEndsAt: notAfter, first: { serial, notBefore: new Date(now - 86_400_000).toISOString(), notAfter }, domains: [] }],
    });
    try {
      await env.sleep('69 minutes');
      expect((failedAt.get(order.orderId) ?? []).length).toBeGreaterThan(5);
      expect(await mails('activity_failing_staff', order.orderId)).toHaveLength(0);
      await env.sleep('16 minutes');
      const [alert, ...more] = await until('the staff alert', () => mails('activity_failing_staff', order.orderId), (m) => m.length > 0);
      expect(more).toHaveLength(0);
      expect(to(alert)).toBe('ra@certflow.localhost');
      expect(alert?.text).toContain(serial);
      expect(alert?.text).toContain(`sendCertificateMail expiry-reminder:${serial}:0`);
      expect(await stuckCount('sendCertificateMail')).toBe(before + 1);

      faults.delete(order.orderId);
      await env.sleep('10 minutes');
      await until('the reminder', () => mails('expiry_reminder', order.orderId), (m) => m.length === 1);
      expect(await mails('activity_failing_staff', order.orderId)).toHaveLength(1);
    } finally {
      await handle.terminate('test over');
    }
  }, 120_000);
});

describe('the worker log of those failures', () => {
  it('warns of each failed attempt of the faulty mails, and nothing else', () => {
    const warned = runtimeLog.map(entryText).filter((text) => FAULT_LINE.test(text));
    // The SDK logs the attempts as it reports them, some after the test that caused them: not one for one.
    expect(warned.length, 'warnings of the failed attempts').toBeGreaterThan(10);
    expect(runtimeLog.map(entryText).filter((text) => !FAULT_LINE.test(text) && !TEST_SERVER_LINE.test(text))).toEqual([]);
  });
});
