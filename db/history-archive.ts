/**
 * The archive of closed Temporal runs (the history_archive table): each run's history JSON, as Temporal holds it
 * (payloads still encrypted by the codec), gzipped and content-hashed, kept after the namespace's retention has
 * removed the run. Archiving a run appends an audit row naming its hash in the same transaction, so the archive and
 * the chain agree whatever crashes in between; the (workflow_id, run_id) key makes a second archiving a no-op.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { and, asc, desc, eq, inArray, max, or } from 'drizzle-orm';
import { appendAudit, type AuditKind } from './audit-log.js';
import type { Database } from './client.js';
import { historyArchive } from './schema.js';

export interface RunKey {
  readonly workflowId: string;
  readonly runId: string;
}

export interface RunToArchive extends RunKey {
  readonly workflowType: string;
  /** As visibility names it: COMPLETED, FAILED, CANCELED, TERMINATED, CONTINUED_AS_NEW, TIMED_OUT. */
  readonly status: string;
  readonly startedAt: Date | null;
  readonly closedAt: Date;
  readonly eventCount: number;
  /** The history as `temporal workflow show --output json` writes it, serialised (what the hash covers). */
  readonly json: string;
}

export interface ArchivedRun extends RunKey {
  readonly workflowType: string;
  readonly status: string;
  readonly closedAt: Date;
  readonly sha256: string;
  readonly auditSeq: number;
  /** The history JSON, as it was archived (checked against its hash on reading). */
  readonly json: string;
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The audit log's kind for an archived history. */
const ARCHIVE_KIND: AuditKind = 'archive';

class AlreadyArchived extends Error {}

/**
 * Archives one run: the row and its audit entry, or nothing when the run is archived already (by this call's
 * earlier attempt, or by another archiver racing it: the loser's transaction, audit row included, rolls back).
 */
export async function archiveRun(db: Database, run: RunToArchive): Promise<{ readonly created: boolean; readonly sha256: string }> {
  const sha256 = sha256Hex(run.json);
  const historyGzip = gzipSync(Buffer.from(run.json, 'utf8')).toString('base64');
  const orderId = /^(?:order|certificate)-([0-9a-f-]{36})$/.exec(run.workflowId)?.[1] ?? null;
  try {
    await db.transaction(async (tx) => {
      const [found] = await tx
        .select({ sha256: historyArchive.sha256 })
        .from(historyArchive)
        .where(and(eq(historyArchive.workflowId, run.workflowId), eq(historyArchive.runId, run.runId)));
      if (found !== undefined) throw new AlreadyArchived();
      const audit = await appendAudit(tx, {
        kind: ARCHIVE_KIND,
        orderId,
        actorRole: 'system',
        action: 'history_archived',
        detail: { workflowId: run.workflowId, runId: run.runId, workflowType: run.workflowType, status: run.status, events: run.eventCount, sha256 },
      });
      const inserted = await tx
        .insert(historyArchive)
        .values({
          workflowId: run.workflowId,
          runId: run.runId,
          workflowType: run.workflowType,
          status: run.status,
          startedAt: run.startedAt,
          closedAt: run.closedAt,
          eventCount: run.eventCount,
          historyGzip,
          sha256,
          auditSeq: audit.seq,
        })
        .onConflictDoNothing()
        .returning({ runId: historyArchive.runId });
      if (inserted.length === 0) throw new AlreadyArchived();
    });
  } catch (err) {
    if (err instanceof AlreadyArchived) return { created: false, sha256 };
    throw err;
  }
  return { created: true, sha256 };
}

/** Which of these runs are archived already, as `workflowId/runId`. */
export async function archivedKeys(db: Pick<Database, 'select'>, runs: readonly RunKey[]): Promise<Set<string>> {
  if (runs.length === 0) return new Set();
  const rows = await db
    .select({ workflowId: historyArchive.workflowId, runId: historyArchive.runId })
    .from(historyArchive)
    .where(or(...runs.map((r) => and(eq(historyArchive.workflowId, r.workflowId), eq(historyArchive.runId, r.runId)))));
  return new Set(rows.map((r) => `${r.workflowId}/${r.runId}`));
}

/** The latest close time archived (where the next listing of closed runs can start, less a margin). */
export async function latestArchivedClose(db: Pick<Database, 'select'>): Promise<Date | undefined> {
  const [row] = await db.select({ at: max(historyArchive.closedAt) }).from(historyArchive);
  return row?.at ?? undefined;
}

type Row = typeof historyArchive.$inferSelect;

function unpack(row: Row): ArchivedRun {
  const json = gunzipSync(Buffer.from(row.historyGzip, 'base64')).toString('utf8');
  if (sha256Hex(json) !== row.sha256) {
    throw new Error(`the archived history of ${row.workflowId} run ${row.runId} does not match its hash: it was changed`);
  }
  return { workflowId: row.workflowId, runId: row.runId, workflowType: row.workflowType, status: row.status, closedAt: row.closedAt, sha256: row.sha256, auditSeq: row.auditSeq, json };
}

export async function archivedRun(db: Pick<Database, 'select'>, key: RunKey): Promise<ArchivedRun | undefined> {
  const [row] = await db
    .select()
    .from(historyArchive)
    .where(and(eq(historyArchive.workflowId, key.workflowId), eq(historyArchive.runId, key.runId)));
  return row !== undefined ? unpack(row) : undefined;
}

/** Every archived run of a workflow, oldest first (continue-as-new runs follow each other in time). */
export async function archivedRunsOf(db: Pick<Database, 'select'>, workflowId: string): Promise<ArchivedRun[]> {
  const rows = await db
    .select()
    .from(historyArchive)
    .where(eq(historyArchive.workflowId, workflowId))
    .orderBy(asc(historyArchive.startedAt), asc(historyArchive.closedAt));
  return rows.map(unpack);
}

/** Archived runs of these workflow types, most recently closed first, at most `limit`. */
export async function archivedRunsOfTypes(db: Pick<Database, 'select'>, types: readonly string[], limit: number): Promise<ArchivedRun[]> {
  const rows = await db
    .select()
    .from(historyArchive)
    .where(inArray(historyArchive.workflowType, [...types]))
    .orderBy(desc(historyArchive.closedAt))
    .limit(limit);
  return rows.map(unpack);
}
