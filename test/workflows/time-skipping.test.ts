/**
 * The real deadlines (7, 14 and 90 days; 5, 7 and 30 days for the originals) crossed on the time-skipping test
 * server, with the real activities against Postgres and the outbox.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../db/client.js';
import { getOrderRow } from '../../db/orders.js';
import type { OrderInput } from '../../domain/order.js';
import { orderWorkflowId, registeredUpdate, reviewUpdate, submitUpdate, uploadEvidenceUpdate } from '../../workflows/definitions.js';
import type { orderWorkflow } from '../../workflows/order.js';
import { orderInput, seedCustomer } from '../orders.js';
import { startSkippingStack } from './skipping.js';

let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let dataDir: string;
let taskQueue: string;

beforeAll(async () => {
  const stack = await startSkippingStack();
  ({ env, database, dataDir, taskQueue } = stack);
  return stack.close;
});

async function input(product: OrderInput['product']): Promise<OrderInput> {
  const { org, user } = await seedCustomer(database.db, 'skip');
  return orderInput(user, org, { product, payment: { method: 'transfer', purchaseOrderNumber: null }, createdAt: new Date(await env.currentTimeMs()).toISOString() });
}

const headerText = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The mails of one order in the outbox, in the order they were written: template and recipients. */
async function outboxMailsOf(orderId: string): Promise<{ template: string; to: string }[]> {
  const dir = join(dataDir, 'outbox', 'mail');
  // Each file name starts with its (real) time of writing, so the names sort in sending order.
  const files = readdirSync(dir).filter((f) => f.endsWith('.eml')).sort();
  const mails = await Promise.all(files.map((f) => simpleParser(readFileSync(join(dir, f)))));
  return mails
    .filter((m) => `${m.subject ?? ''} ${m.text ?? ''}`.includes(orderId))
    .map((m) => ({ template: headerText(m.headers.get('x-certflow-template')), to: [m.to ?? []].flat().map((a) => a.text).join(', ') }));
}

const DAY_MS = 86_400_000;

describe('real deadlines on the time-skipping server', () => {
  it('abandons an order after 90 days without customer action, with reminders on days 7 and 14', async () => {
    const order = await input('ID_RGS_STAR');
    const handle = await env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(order.orderId), args: [order] });
    const final = await handle.result();
    // Counted from the order's creation, the last customer action (the server skips on once the workflow is done).
    const elapsedDays = (Date.parse(final.updatedAt) - Date.parse(order.createdAt)) / DAY_MS;
    expect(final).toMatchObject({ status: 'abandoned', closedReason: 'no_activity' });
    expect(elapsedDays).toBeGreaterThanOrEqual(90);
    expect(elapsedDays).toBeLessThan(91);
    expect((await getOrderRow(database.db, order.orderId))?.status).toBe('abandoned');
    // Confirmation, two reminders, the abandonment notice, each to the holder, and nothing else.
    expect(await outboxMailsOf(order.orderId)).toEqual(
      ['order_confirmation', 'evidence_reminder', 'evidence_reminder', 'order_abandoned'].map((template) => ({ template, to: order.holder.email })),
    );
    // When, on the server's (skipped) clock: the mail activity of each, in hours after the order started.
    const history = await handle.fetchHistory();
    const started = tsToMs(history.events?.[0]?.eventTime);
    const mailHours = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendOrderMail')
      .map((e) => Math.round((tsToMs(e.eventTime) - started) / (DAY_MS / 24)));
    expect(mailHours).toEqual([0, 7 * 24, 14 * 24, 90 * 24]);
  }, 120_000);

  it('flags the originals overdue on day 7 and abandons the order 30 days later', async () => {
    const order = await input('ID_RGS_2STAR');
    const handle = await env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(order.orderId), args: [order] });
    await handle.executeUpdate(registeredUpdate);
    const customer = { userId: order.holder.userId, role: 'customer' };
    for (const documentType of ['holder_identity', 'organisation_registration', 'signed_order_form'] as const) {
      await handle.executeUpdate(uploadEvidenceUpdate, { args: [{ actor: customer, documentType, documentId: randomUUID() }] });
    }
    await handle.executeUpdate(submitUpdate, { args: [{ actor: customer }] });
    const approved = await handle.executeUpdate(reviewUpdate, { args: [{ actor: { userId: randomUUID(), role: 'ra_operator' }, decision: 'approve' }] });
    const dueAt = approved.deadlines.find((x) => x.kind === 'originals_due')?.at ?? '';
    expect(Date.parse(dueAt) - Date.parse(approved.updatedAt)).toBe(7 * 86_400_000);
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'abandoned', closedReason: 'originals_not_received', originals: { overdue: true } });
    const days = (Date.parse(final.updatedAt) - Date.parse(approved.updatedAt)) / 86_400_000;
    expect(days).toBeGreaterThanOrEqual(37);
    expect(days).toBeLessThan(38);
  }, 120_000);
});
