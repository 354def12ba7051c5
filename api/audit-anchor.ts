/**
 * The audit log's anchors in Temporal (workflows/audit-anchor.ts): starting the anchoring workflow, and reading the
 * latest anchor back from its event history for GET /v1/audit/verify.
 */
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowNotFoundError, type Payload } from '@temporalio/common';
import { optionalTsToDate } from '@temporalio/common/lib/time.js';
// A CommonJS module whose named exports Node's ESM loader cannot see (npm run start:api): take them from its default export.
import proto from '@temporalio/proto';
import type { AuditAnchorRecord } from '../activities/audit-anchor.js';
import type { AuditAnchor } from '../db/audit-log.js';
import type { AuditHead } from '../domain/audit.js';
import { codecsOf, decodeHistory } from '../lib/history/read.js';
import { ANCHOR_ACTIVITY, AUDIT_ANCHOR_ID, type auditAnchorWorkflow } from '../workflows/audit-anchor.js';

const EventType = proto.temporal.api.enums.v1.EventType;

/** Starts the anchoring workflow if it is not running; every API process may call it, one runs. */
export async function ensureAuditAnchor(client: Client, taskQueue: string, opts: { every?: string; workflowId?: string } = {}): Promise<void> {
  await client.workflow.start<typeof auditAnchorWorkflow>('auditAnchorWorkflow', {
    workflowId: opts.workflowId ?? AUDIT_ANCHOR_ID,
    taskQueue,
    args: [opts.every ?? '1 hour', null],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}

/** An anchor as read from the workflow's history, with where it is written (run and event) for an auditor to look. */
export interface TemporalAnchor extends AuditAnchor {
  readonly workflowId: string;
  readonly runId: string;
  readonly eventId: number;
}

const fromPayload = <T>(payload: Payload | undefined | null): T | undefined =>
  payload === undefined || payload === null ? undefined : defaultPayloadConverter.fromPayload<T>(payload);

/** The rounds of the workflow's latest run, oldest first, as its history records them. */
export interface AnchorRounds {
  readonly workflowId: string;
  readonly runId: string;
  /** Each completed anchoring round: its ActivityTaskCompleted event and the activity's result. */
  readonly rounds: readonly { readonly eventId: number; readonly at?: string; readonly record: AuditAnchorRecord }[];
  /** The anchor the run was continued with (its start event's input), if any. */
  readonly carried?: { readonly eventId: number; readonly at?: string; readonly head: AuditHead };
}

/** Reads the latest run's history (decoded with the client's codec); undefined if the workflow was never started. */
export async function auditAnchorRounds(client: Client, workflowId: string = AUDIT_ANCHOR_ID): Promise<AnchorRounds | undefined> {
  let runId: string;
  let history: Awaited<ReturnType<typeof decodeHistory>>;
  try {
    runId = (await client.workflow.getHandle(workflowId).describe()).runId;
    history = await decodeHistory(await client.workflow.getHandle(workflowId, runId).fetchHistory(), codecsOf(client));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const events = history.events ?? [];
  const anchoring = new Set(
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === ANCHOR_ACTIVITY).map((e) => Number(e.eventId)),
  );
  const at = (e: (typeof events)[number] | undefined) => {
    const date = optionalTsToDate(e?.eventTime);
    return date !== undefined ? { at: date.toISOString() } : {};
  };
  const rounds: AnchorRounds['rounds'][number][] = [];
  for (const e of events) {
    const done = e.activityTaskCompletedEventAttributes;
    if (e.eventType !== EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED || done === undefined || done === null || !anchoring.has(Number(done.scheduledEventId))) continue;
    const record = fromPayload<AuditAnchorRecord>(done.result?.payloads?.[0]);
    if (record !== undefined) rounds.push({ eventId: Number(e.eventId), ...at(e), record });
  }
  const started = events[0];
  const head = fromPayload<AuditHead | null>(started?.workflowExecutionStartedEventAttributes?.input?.payloads?.[1]);
  return { workflowId, runId, rounds, ...(head !== undefined && head !== null ? { carried: { eventId: Number(started?.eventId ?? 1), ...at(started), head } } : {}) };
}

/**
 * The latest good anchor of the workflow's latest run: the last round that verified the chain, else the anchor the
 * run was continued with. Undefined when the workflow was never started or has anchored nothing yet.
 */
export async function latestAuditAnchor(client: Client, workflowId: string = AUDIT_ANCHOR_ID): Promise<TemporalAnchor | undefined> {
  const found = await auditAnchorRounds(client, workflowId);
  if (found === undefined) return undefined;
  const good = [...found.rounds].reverse().find((r) => r.record.ok);
  const latest = good !== undefined ? { eventId: good.eventId, at: good.at, head: good.record.head } : found.carried;
  if (latest === undefined) return undefined;
  return {
    seq: latest.head.seq,
    hash: latest.head.hash,
    source: `temporal workflow ${workflowId} run ${found.runId} event ${latest.eventId}`,
    ...(latest.at !== undefined ? { at: latest.at } : {}),
    workflowId,
    runId: found.runId,
    eventId: latest.eventId,
  };
}
