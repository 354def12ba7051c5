/**
 * Histories that outlive Temporal: an order rejected once then cancelled is archived by the archiving workflow
 * (workflows/archive.ts) once its run closes; its run deleted from Temporal, the history, the timeline and the replay
 * read the archive and answer as before, and the archive's hash is in the audit chain.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/common';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archivedRun, archiveRun, sha256Hex } from '../../db/history-archive.js';
import { auditLog, historyArchive } from '../../db/schema.js';
import { archiveNowSignal } from '../../workflows/archive.js';
import { orderWorkflowId } from '../../workflows/definitions.js';
import { ensureHistoryArchive } from '../../lib/history/archiver.js';
import type { Account } from '../support.js';
import { Driver } from '../workflows/drive.js';
import { testStackForFile } from '../stack-for-file.js';
import { pollUntil } from '../poll-until.js';

interface HistoryAnswer {
  workflowId: string;
  runs: { runId: string; source: string; sha256: string; history: { events: { eventId: string; eventType: string }[] } }[];
}

const stack = testStackForFile();
let drive: Driver;
let auditor: Account;
let archiverId: string;

/** Polls until `probe` gives a value (the archiver runs every second here, a minute by default). */
const eventually = <T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> => pollUntil(probe, what, timeoutMs, 250);

beforeAll(async () => {
  drive = await Driver.withNewActors(stack);
  auditor = await stack.account('auditor');
  archiverId = `history-archive-${stack.taskQueue}`;
  // Only this file's runs (its own task queue), a round a second: the default is the namespace, every minute.
  await ensureHistoryArchive(stack.client, stack.taskQueue, { workflowId: archiverId, every: '1 second', query: `TaskQueue = '${stack.taskQueue}'` });
});
afterAll(async () => {
  await stack?.client.workflow
    .getHandle(archiverId)
    .terminate('test over')
    .catch(() => undefined);
});

describe('the history archive', () => {
  it('keeps a closed order: after its run is deleted, history, timeline and replay answer the same from the archive', async () => {
    const created = await drive.create('ID_RGS_STAR');
    const submitted = await drive.completeAndSubmit(created);
    await drive.reject(submitted.id, 'holder_identity', 'The identity document has expired.');
    const cancelled = await drive.post(drive.actors.holder.key, `/v1/orders/${created.id}/cancel`, { reason: 'ordered the wrong product' });
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });

    const workflowId = orderWorkflowId(created.id);
    const handle = stack.client.workflow.getHandle(workflowId);
    await eventually(async () => ((await handle.describe()).status.name !== 'RUNNING' ? true : undefined), 'the order workflow to close');
    const { runId } = await handle.describe();

    const before = await stack.http<HistoryAnswer>('GET', `/v1/orders/${created.id}/history`, { key: auditor.key });
    expect(before.status).toBe(200);
    expect(before.body.runs.map((r) => r.source)).toEqual(['temporal']);
    // The rejection's reason in the RA's words (payloads read as their JSON values), from the archive as well below.
    expect(JSON.stringify(before.body)).toContain('"reason":"The identity document has expired."');
    const timelineBefore = await stack.http<{ items: unknown[] }>('GET', `/v1/orders/${created.id}/timeline`, { key: auditor.key });
    expect(timelineBefore.status).toBe(200);
    expect(JSON.stringify(timelineBefore.body.items)).toContain('reject');

    // Archived by the workflow, with its hash in the audit chain.
    const archived = await eventually(() => archivedRun(stack.db, { workflowId, runId }), 'the archive row');
    expect(archived.sha256).toBe(before.body.runs[0]?.sha256);
    expect(sha256Hex(archived.json)).toBe(archived.sha256);
    const [audit] = await stack.db.select().from(auditLog).where(eq(auditLog.seq, archived.auditSeq));
    expect(audit).toMatchObject({ action: 'history_archived', orderId: created.id, detail: { workflowId, runId, sha256: archived.sha256 } });
    const verify = await stack.http<{ ok: boolean }>('GET', '/v1/audit/verify', { key: auditor.key });
    expect(verify.body.ok).toBe(true);

    await stack.client.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId, runId } });
    await eventually(async () => {
      try {
        await handle.describe();
        return undefined;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return true;
        throw err;
      }
    }, 'Temporal to delete the run',
      90_000,
    );

    const after = await stack.http<HistoryAnswer>('GET', `/v1/orders/${created.id}/history`, { key: auditor.key });
    expect(after.status).toBe(200);
    expect(after.body.runs.map((r) => r.source)).toEqual(['archive']);
    expect(after.body.runs.map((r) => ({ runId: r.runId, sha256: r.sha256, history: r.history }))).toEqual(
      before.body.runs.map((r) => ({ runId: r.runId, sha256: r.sha256, history: r.history })),
    );
    expect(after.body.runs[0]?.history.events.length).toBeGreaterThan(10);
    expect(JSON.stringify(after.body)).toContain('"reason":"The identity document has expired."');

    const timelineAfter = await stack.http<{ items: unknown[] }>('GET', `/v1/orders/${created.id}/timeline`, { key: auditor.key });
    expect(timelineAfter.status, JSON.stringify(timelineAfter.body)).toBe(200);
    expect(timelineAfter.body.items).toEqual(timelineBefore.body.items);

    const replay = await stack.http<{ replayed: number; ok: number; fromArchive: number; failures: unknown[] }>('POST', '/v1/audit/replay', {
      key: auditor.key,
      json: { orders: [created.id] },
    });
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ replayed: 1, ok: 1, fromArchive: 1, failures: [] });
  }, 120_000);

  it('archives a run once, however often it is archived', async () => {
    const order = await drive.create('ID_RGS_STAR');
    await drive.post(drive.actors.holder.key, `/v1/orders/${order.id}/cancel`, { reason: 'changed my mind' });
    const workflowId = orderWorkflowId(order.id);
    const handle = stack.client.workflow.getHandle(workflowId);
    await eventually(async () => ((await handle.describe()).status.name !== 'RUNNING' ? true : undefined), 'the order workflow to close');
    const { runId } = await handle.describe();
    const first = await eventually(() => archivedRun(stack.db, { workflowId, runId }), 'the archive row');
    // More rounds of the archiver, and archiving the same run by hand, twice at once.
    await stack.client.workflow.getHandle(archiverId).signal(archiveNowSignal);
    const again = await Promise.all(
      [0, 1].map(() =>
        archiveRun(stack.db, { workflowId, runId, workflowType: 'orderWorkflow', status: 'COMPLETED', startedAt: null, closedAt: new Date(), eventCount: 1, json: first.json }),
      ),
    );
    expect(again.map((r) => r.created)).toEqual([false, false]);
    await stack.client.workflow.getHandle(archiverId).signal(archiveNowSignal);
    await new Promise((r) => setTimeout(r, 2000));
    const rows = await stack.db
      .select({ n: sql<number>`count(*)::int` })
      .from(historyArchive)
      .where(and(eq(historyArchive.workflowId, workflowId), eq(historyArchive.runId, runId)));
    expect(rows[0]?.n).toBe(1);
    const audits = await stack.db
      .select({ n: sql<number>`count(*)::int` })
      .from(auditLog)
      .where(and(eq(auditLog.action, 'history_archived'), sql`${auditLog.detail}->>'runId' = ${runId}`));
    expect(audits[0]?.n).toBe(1);

    // Archivers racing on a run not archived yet: one wins, the others' transactions (audit row included) roll back.
    const race = { workflowId: `race-${randomUUID()}`, runId: randomUUID() };
    const raced = await Promise.all(
      [0, 1, 2].map(() => archiveRun(stack.db, { ...race, workflowType: 'orderWorkflow', status: 'COMPLETED', startedAt: null, closedAt: new Date(), eventCount: 1, json: first.json })),
    );
    expect(raced.filter((r) => r.created)).toHaveLength(1);
    const raceAudits = await stack.db
      .select({ n: sql<number>`count(*)::int` })
      .from(auditLog)
      .where(and(eq(auditLog.action, 'history_archived'), sql`${auditLog.detail}->>'runId' = ${race.runId}`));
    expect(raceAudits[0]?.n).toBe(1);
  }, 60_000);
});
