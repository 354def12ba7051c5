/**
 * The real deadlines (7, 14 and 90 days; 5, 7 and 30 days for the originals) crossed on the time-skipping test
 * server, with the real activities against Postgres and the outbox.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
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

const outboxMails = (): string[] => {
  try {
    return readdirSync(join(dataDir, 'outbox', 'mail'));
  } catch {
    return [];
  }
};

describe('real deadlines on the time-skipping server', () => {
  it('abandons an order after 90 days without customer action, with reminders on days 7 and 14', async () => {
    const order = await input('ID_RGS_STAR');
    const handle = await env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: orderWorkflowId(order.orderId), args: [order] });
    const final = await handle.result();
    // Counted from the order's creation, the last customer action (the server skips on once the workflow is done).
    const elapsedDays = (Date.parse(final.updatedAt) - Date.parse(order.createdAt)) / 86_400_000;
    expect(final).toMatchObject({ status: 'abandoned', closedReason: 'no_activity' });
    expect(elapsedDays).toBeGreaterThanOrEqual(90);
    expect(elapsedDays).toBeLessThan(91);
    expect((await getOrderRow(database.db, order.orderId))?.status).toBe('abandoned');
    // Confirmation, two reminders, the abandonment notice.
    expect(outboxMails().length).toBeGreaterThanOrEqual(4);
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
