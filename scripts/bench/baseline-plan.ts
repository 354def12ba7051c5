/**
 * What one lifecycle order asks of the engine, read from its history, so that the `baseline` scenario makes the same
 * number of activities, Updates, timers and child workflows with empty bodies. Pure (no I/O): imported by the
 * baseline workflow bundle and by the bench alike.
 */

/** One Update of the order and the activities around it. */
export interface PlanStep {
  /** The Update's name in the real workflow (registered, uploadEvidence, submit…). */
  readonly update: string;
  /** Activities the Update's handler ran before it answered (recording the view…). */
  readonly inHandler: number;
  /** Activities the workflow ran after the answer and before the next Update (mails, issuance…). */
  readonly after: number;
}

export interface BaselinePlan {
  /** Activities before the first Update was accepted. */
  readonly before: number;
  readonly steps: readonly PlanStep[];
  /** Timers the order started (deadlines waited on with a timeout); the baseline waits with a timeout as often. */
  readonly timers: number;
  /** Child workflows started at the end (the certificate's own life), with the activities each ran before parking. */
  readonly children: readonly { readonly activities: number }[];
}

/** The parts of a history event the plan reads (temporal.api.history.v1.HistoryEvent, as the client returns it). */
export interface PlanEvent {
  readonly activityTaskScheduledEventAttributes?: unknown;
  readonly timerStartedEventAttributes?: unknown;
  readonly startChildWorkflowExecutionInitiatedEventAttributes?: unknown;
  readonly workflowExecutionUpdateAcceptedEventAttributes?: {
    readonly acceptedRequest?: { readonly meta?: { readonly updateId?: string | null } | null; readonly input?: { readonly name?: string | null } | null } | null;
    readonly protocolInstanceId?: string | null;
  } | null;
  readonly workflowExecutionUpdateCompletedEventAttributes?: { readonly meta?: { readonly updateId?: string | null } | null } | null;
}

/**
 * Reads the plan from an order's history: each activity counts for the Update whose handler was running (accepted,
 * not yet completed), else for the "after" of the last completed Update, else for "before".
 */
export function planFromHistory(events: readonly PlanEvent[], childActivities: readonly number[] = []): BaselinePlan {
  let before = 0;
  let timers = 0;
  let children = 0;
  const steps: { update: string; id: string; inHandler: number; after: number; open: boolean }[] = [];
  for (const e of events) {
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes;
    const completed = e.workflowExecutionUpdateCompletedEventAttributes;
    if (accepted != null) {
      const id = accepted.acceptedRequest?.meta?.updateId ?? accepted.protocolInstanceId ?? `#${steps.length}`;
      steps.push({ update: accepted.acceptedRequest?.input?.name ?? 'update', id, inHandler: 0, after: 0, open: true });
    } else if (completed != null) {
      const step = steps.find((s) => s.id === completed.meta?.updateId && s.open);
      if (step !== undefined) step.open = false;
    } else if (e.activityTaskScheduledEventAttributes != null) {
      const open = steps.findLast((s) => s.open);
      const last = steps.at(-1);
      if (open !== undefined) open.inHandler++;
      else if (last !== undefined) last.after++;
      else before++;
    } else if (e.timerStartedEventAttributes != null) {
      timers++;
    } else if (e.startChildWorkflowExecutionInitiatedEventAttributes != null) {
      children++;
    }
  }
  return {
    before,
    steps: steps.map(({ update, inHandler, after }) => ({ update, inHandler, after })),
    timers,
    children: Array.from({ length: children }, (_, i) => ({ activities: childActivities[i] ?? 0 })),
  };
}

export const planActivities = (p: BaselinePlan): number =>
  p.before + p.steps.reduce((n, s) => n + s.inHandler + s.after, 0) + p.children.reduce((n, c) => n + c.activities, 0);

/**
 * The plan of one ID_RGS_STAR order driven by the lifecycle scenario (create, three documents, submit, approve,
 * payment, issuance, acceptance, unlock code, verification), as `lifecycle` read it from a warm-up order's history on
 * 2026-11-22 (17 activities, 10 Updates, 2 timers, 1 child): `baseline` run alone uses it, `lifecycle` reads its own.
 */
export const DEFAULT_PLAN: BaselinePlan = {
  before: 1,
  steps: [
    { update: 'registered', inHandler: 1, after: 0 },
    { update: 'uploadEvidence', inHandler: 1, after: 0 },
    { update: 'uploadEvidence', inHandler: 1, after: 0 },
    { update: 'uploadEvidence', inHandler: 1, after: 0 },
    { update: 'submit', inHandler: 1, after: 0 },
    { update: 'review', inHandler: 2, after: 0 },
    { update: 'recordPayment', inHandler: 2, after: 3 },
    { update: 'respondToCertificate', inHandler: 1, after: 0 },
    { update: 'requestUnlockCode', inHandler: 1, after: 0 },
    { update: 'verifyUnlockCode', inHandler: 1, after: 1 },
  ],
  timers: 2,
  children: [{ activities: 0 }],
};
