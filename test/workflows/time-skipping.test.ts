/**
 * The real deadlines (7, 14 and 90 days; 5, 7 and 30 days for the originals) crossed on the time-skipping test
 * server, with the real activities against Postgres and the outbox.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServices, type Services } from '../../activities/services.js';
import { loadConfig } from '../../config/index.js';
import { openPostgres, type DatabaseHandle } from '../../db/client.js';
import { getOrderRow } from '../../db/orders.js';
import type { OrderInput } from '../../domain/order.js';
import { orderWorkflowId, registeredUpdate, SEARCH_ATTRIBUTE_KEYS, reviewUpdate, submitUpdate, uploadEvidenceUpdate } from '../../workflows/definitions.js';
import type { orderWorkflow } from '../../workflows/order.js';
import { createWorker } from '../../worker/worker.js';
import { orderInput, seedCustomer } from '../orders.js';

let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let services: Services;
let worker: Worker;
let running: Promise<void>;
let dataDir: string;
const taskQueue = `skip-${randomUUID()}`;

beforeAll(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
  });
  // The workflow indexes its status and what it waits on: the test server needs the attributes declared too.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  dataDir = mkdtempSync(join(tmpdir(), 'certflow-skip-'));
  database = openPostgres(inject('databaseUrl'), 4);
  services = await createServices(loadConfig({ DATA_DIR: dataDir, DATABASE_URL: inject('databaseUrl'), MASTER_KEY: inject('masterKey') }), database.db);
  worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    db: database.db,
    ...services,
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await services?.close();
  await database?.close();
  await env?.teardown();
  rmSync(dataDir, { recursive: true, force: true });
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
