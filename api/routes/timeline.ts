/**
 * An order's timeline for staff and auditors: who did what and when (every attempt, accepted or refused, from
 * order_events), which message went out (sent_messages), which certificate was issued or revoked, and, read from
 * the decoded Temporal histories of the order and its certificate (every run), which deadline fired.
 *
 * A deadline is a timer the workflow names in its TimerStarted event (workflows/definitions.ts deadlineTimerSummary):
 * a fired deadline on the timeline is a TimerFired of the history, matched with its TimerStarted, not a row anyone
 * could write. Each action the API recorded is matched with the Update the workflow accepted (same actor, same
 * outcome, in order) and cites that history event; an Update in the history that the API never recorded (sent to
 * Temporal directly, or the API stopped before writing its row) is on the timeline on its own.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowNotFoundError, type Payload } from '@temporalio/common';
import { optionalTsToDate, optionalTsToMs } from '@temporalio/common/lib/time.js';
import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { listOrderEvents } from '../../db/order-events.js';
import { certificates, sentMessages } from '../../db/schema.js';
import { STAFF_ROLES } from '../../domain/roles.js';
import { certificateWorkflowId, orderWorkflowId, parseDeadlineTimerSummary } from '../../workflows/definitions.js';
import { workflowRuns, type RunHistory } from '../../lib/history/read.js';
import { visibleOrder } from '../order-updates.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

/** The Temporal history event an entry comes from, or that confirms it. */
export interface HistorySource {
  readonly workflowId: string;
  readonly runId: string;
  readonly eventId: string;
}

export interface TimelineEntry {
  readonly at: string;
  readonly kind: 'created' | 'action' | 'refused' | 'message' | 'certificate' | 'deadline';
  readonly text: string;
  readonly actor?: { readonly userId: string | null; readonly role: string };
  readonly detail?: Record<string, unknown>;
  readonly source?: HistorySource;
}

const words = (name: string): string => name.replace(/_/g, ' ');
const camelWords = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

/** A decoded payload's value, or undefined if it is not one this process reads (no codec, unknown encoding). */
function valueOf(payload: Payload | null | undefined): unknown {
  if (payload == null) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
}

/** An Update the workflow accepted, as its history tells it. */
export interface HistoryUpdate {
  readonly name: string;
  readonly actor: { readonly userId: string | null; readonly role: string };
  readonly acceptedAt: number;
  readonly completedAt: number | undefined;
  readonly outcome: 'accepted' | 'refused';
  readonly failure: string | undefined;
  readonly args: Record<string, unknown>;
  readonly source: HistorySource;
}

const actorOfArgs = (args: unknown): HistoryUpdate['actor'] | undefined => {
  const actor = (args as { actor?: { userId?: unknown; role?: unknown } } | null)?.actor;
  if (actor === undefined || actor === null || typeof actor.role !== 'string') return undefined;
  return { userId: typeof actor.userId === 'string' ? actor.userId : null, role: actor.role };
};

/**
 * What a decoded history tells the timeline: each fired timer with the deadline its TimerStarted names, and each
 * Update accepted with an actor (the internal `registered` Update has none).
 */
export function readHistory(run: RunHistory): { deadlines: TimelineEntry[]; updates: HistoryUpdate[] } {
  const events = run.history.events ?? [];
  const source = (eventId: unknown): HistorySource => ({ workflowId: run.workflowId, runId: run.runId, eventId: String(eventId) });
  const started = new Map<string, (typeof events)[number]>();
  const completed = new Map<string, (typeof events)[number]>();
  for (const e of events) {
    if (e.timerStartedEventAttributes) started.set(String(e.eventId), e);
    const done = e.workflowExecutionUpdateCompletedEventAttributes;
    if (done) completed.set(String(done.acceptedEventId), e);
  }
  const deadlines: TimelineEntry[] = [];
  const updates: HistoryUpdate[] = [];
  for (const e of events) {
    const at = optionalTsToDate(e.eventTime)?.toISOString();
    const fired = e.timerFiredEventAttributes;
    if (fired && at !== undefined) {
      const start = started.get(String(fired.startedEventId));
      const summary = valueOf(start?.userMetadata?.summary);
      const named = typeof summary === 'string' ? parseDeadlineTimerSummary(summary) : undefined;
      const setFor = optionalTsToMs(start?.timerStartedEventAttributes?.startToFireTimeout);
      deadlines.push(
        named !== undefined
          ? {
              at,
              kind: 'deadline',
              text: `deadline reached: ${words(named.kind)}`,
              detail: { deadline: named.kind, step: named.stepId, dueAt: named.dueAt, timerId: fired.timerId },
              source: source(e.eventId),
            }
          : {
              // A history recorded before the workflows named their timers: the timer is all it tells.
              at,
              kind: 'deadline',
              text: 'timer fired (unnamed)',
              detail: { timerId: fired.timerId, ...(setFor !== undefined ? { setForMs: setFor } : {}) },
              source: source(e.eventId),
            },
      );
    }
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    const input = accepted?.acceptedRequest?.input;
    if (accepted && input && at !== undefined) {
      const args = valueOf(input.args?.payloads?.[0]);
      const actor = actorOfArgs(args);
      if (actor === undefined) continue;
      const done = completed.get(String(e.eventId));
      const failure = done?.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure;
      updates.push({
        name: input.name ?? '',
        actor,
        acceptedAt: Date.parse(at),
        completedAt: optionalTsToMs(done?.eventTime),
        outcome: failure ? 'refused' : 'accepted',
        failure: failure ? (failure.message ?? '') : undefined,
        args: args as Record<string, unknown>,
        source: source(e.eventId),
      });
    }
  }
  return { deadlines, updates };
}

/** The API writes its row after the workflow answers: allow for clocks apart, and for a slow answer. */
const CLOCK_SKEW_MS = 5_000;
const ROW_WRITTEN_WITHIN_MS = 60_000;

/** An Update's arguments as the timeline shows them: the decision or status it carried, never a digest or a code. */
function updateText(u: HistoryUpdate): string {
  const choice = ['decision', 'status', 'action'].map((k) => u.args[k]).find((v): v is string => typeof v === 'string');
  const what = `${camelWords(u.name)}${choice !== undefined ? ` (${choice})` : ''}`;
  const outcome = u.outcome === 'refused' ? ` refused: ${u.failure ?? ''}` : '';
  return `${words(u.actor.role)}: ${what}${outcome}, in the workflow history only`;
}

/**
 * The histories of the order's workflow and, once it lives, of its certificate's: every run, oldest first; a run
 * Temporal no longer has is read from the history archive.
 */
async function orderHistories(temporal: Client, orderId: string, archive: Database): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  for (const workflowId of [orderWorkflowId(orderId), certificateWorkflowId(orderId)]) {
    try {
      runs.push(...(await workflowRuns(temporal, workflowId, archive)));
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return runs;
}

export async function orderTimeline(db: Database, order: { id: string; createdAt: string }, temporal?: Client): Promise<TimelineEntry[]> {
  const entries: TimelineEntry[] = [{ at: order.createdAt, kind: 'created', text: 'order created' }];
  const history = { deadlines: [] as TimelineEntry[], updates: [] as HistoryUpdate[] };
  if (temporal !== undefined) {
    for (const run of await orderHistories(temporal, order.id, db)) {
      const read = readHistory(run);
      history.deadlines.push(...read.deadlines);
      history.updates.push(...read.updates);
    }
  }
  const unmatched = history.updates.sort((a, b) => a.acceptedAt - b.acceptedAt);
  for (const e of await listOrderEvents(db, order.id)) {
    const refused = e.outcome === 'refused';
    const code = typeof e.detail.code === 'string' ? ` (${e.detail.code})` : '';
    const at = e.createdAt.getTime();
    // The first Update of the same actor and outcome accepted before this row was written (a refusal by a validator
    // never enters the history, so most refused rows match nothing).
    const i = unmatched.findIndex(
      (u) =>
        u.actor.userId === e.actorUserId &&
        u.actor.role === e.actorRole &&
        u.outcome === e.outcome &&
        at >= u.acceptedAt - CLOCK_SKEW_MS &&
        at <= (u.completedAt ?? u.acceptedAt) + ROW_WRITTEN_WITHIN_MS,
    );
    const match = i >= 0 ? unmatched.splice(i, 1)[0] : undefined;
    entries.push({
      at: e.createdAt.toISOString(),
      kind: refused ? 'refused' : 'action',
      text: `${words(e.actorRole)}: ${words(e.action)}${refused ? ` refused${code}` : ''}`,
      actor: { userId: e.actorUserId, role: e.actorRole },
      detail: e.detail,
      ...(match !== undefined ? { source: match.source } : {}),
    });
  }
  for (const u of unmatched) {
    entries.push({
      at: new Date(u.acceptedAt).toISOString(),
      kind: u.outcome === 'refused' ? 'refused' : 'action',
      text: updateText(u),
      actor: u.actor,
      detail: { update: u.name },
      source: u.source,
    });
  }
  entries.push(...history.deadlines);
  const messages = await db
    .select()
    .from(sentMessages)
    .where(and(eq(sentMessages.orderId, order.id), eq(sentMessages.status, 'sent')))
    .orderBy(asc(sentMessages.sentAt));
  for (const m of messages) {
    entries.push({ at: (m.sentAt ?? m.createdAt).toISOString(), kind: 'message', text: `${m.channel} sent: ${words(m.template)}`, detail: { template: m.template, channel: m.channel } });
  }
  const issued = await db.select().from(certificates).where(eq(certificates.orderId, order.id));
  for (const c of issued.filter((row) => row.pem !== null)) {
    entries.push({ at: c.createdAt.toISOString(), kind: 'certificate', text: `certificate ${c.serial} issued by ${c.issuingCa}`, detail: { serial: c.serial } });
    if (c.revokedAt !== null) {
      entries.push({ at: c.revokedAt.toISOString(), kind: 'certificate', text: `certificate ${c.serial} ${c.status === 'held' ? 'put on hold' : `revoked (${c.revocationReason ?? 'unspecified'})`}`, detail: { serial: c.serial } });
    }
  }
  // Stable: entries of the same instant keep the order they were added in.
  return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

export function timelineRoutes(deps: { readonly db: Database; readonly temporal?: Client }): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orders/{id}/timeline',
      summary: 'The order as a human timeline: who did what and when, refused attempts, deadlines fired, messages sent, certificates',
      tags: ['audit'],
      access: [...STAFF_ROLES],
      params: z.object({ id: z.uuid() }),
      responses: {
        200: { description: '{ items: TimelineEntry[] }, oldest first; entries read from or matched in the Temporal history cite it in `source`' },
        404: problemResponse('No such order'),
      },
      async handle({ res, params, principal }) {
        const order = await visibleOrder(deps.db, principal, params.id);
        res.json({ items: await orderTimeline(deps.db, { id: order.id, createdAt: order.view.createdAt }, deps.temporal) });
      },
    }),
  ];
}
