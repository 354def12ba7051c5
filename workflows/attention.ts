/**
 * Activities that keep failing, and refusals no retry can fix (issue 14 item 7), for the order workflow.
 *
 * Each call runs in windows of `activityAlertAfter` (10 minutes by default; ORDER_DEADLINES, in the order's input):
 * the same patient retries as before, bounded by a scheduleToCloseTimeout. When a window closes still failing, staff
 * are alerted once for that episode (a metric and a mail) and the call starts a new window: an outage of SMTP or the
 * CA still heals by itself, no order is lost. A refusal (a non-retryable failure) puts the order in `needs_attention`
 * with the step and message until staff resume it (the step runs again) or cancel it.
 *
 * Why the workflow and not a worker interceptor: the alert is then a step of the order's own history (an auditor sees
 * when staff were told; a replay reproduces it), exactly once per episode whatever worker ran which attempt, with no
 * state shared between worker processes; and the bound travels in the order's input, as every other deadline.
 */
import { RetryState } from '@temporalio/common';
import { ActivityFailure, condition, log, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { OrderActivities } from '../activities/types.js';
import { DEFAULT_DEADLINES, durationMs } from '../domain/deadlines.js';
import type { OrderInput, OrderView } from '../domain/order.js';
import type { OrderEvent } from '../domain/order-state.js';
import { act, patient, refusalMessage } from './activities.js';

/** A step that failed: which activity, what it was doing (its key), the last error, since when (ISO). */
export interface FailingStep {
  readonly step: string;
  readonly activity: string;
  readonly message: string;
  readonly since: string;
}

/** Thrown out of a step whose order staff cancelled while it needed attention: the caller finds the order closed. */
export class StepAbandoned extends Error {
  constructor(readonly step: string) {
    super(`step ${step} abandoned: the order was cancelled`);
    this.name = 'StepAbandoned';
  }
}

export interface GuardedActivities {
  /** Calls of the order's procedure: alerted when stuck, and a refusal waits as needs_attention for staff. */
  readonly steps: OrderActivities;
  /** Calls inside Update handlers and the read-model write: alerted when stuck, a refusal goes to the caller. */
  readonly quick: OrderActivities;
  /** Resolves once every alert raised so far has been sent (the order awaits it before it returns). */
  readonly alertsSent: () => Promise<void>;
}

/** The keys the activities' requests carry (workflow id + step): the step shown to staff and in the alert's key. */
const STEP_KEYS = ['idempotencyKey', 'issuanceKey', 'personalisationKey', 'resetKey'] as const;

function stepOf(workflowId: string, activity: string, arg: unknown): string {
  if (typeof arg === 'object' && arg !== null) {
    for (const k of STEP_KEYS) {
      const v = (arg as Record<string, unknown>)[k];
      if (typeof v === 'string') return `${activity} ${v.startsWith(`${workflowId}:`) ? v.slice(workflowId.length + 1) : v}`;
    }
  }
  return activity;
}

/** The window closed with the activity still failing: on a timeout, or when the next retry would fall past it. */
function windowClosed(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  return err.retryState === RetryState.TIMEOUT || (err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_CLOSE');
}

/** The innermost message: the last attempt's error under the timeout, when the server gives it. */
function lastMessage(err: unknown): string {
  let e: unknown = err;
  let message = err instanceof Error ? err.message : String(err);
  while (e instanceof Error) {
    if (e.message !== '') message = e.message;
    e = e.cause;
  }
  return message;
}

export interface OrderAttention {
  readonly workflowId: string;
  readonly input: OrderInput;
  readonly view: () => OrderView;
  /** Records an event the workflow decides (the order's `happen`). */
  readonly happen: (event: OrderEvent) => Promise<void>;
}

/** What a workflow plugs into the guard: how its staff alert is sent, and how it waits for staff on a refusal. */
interface GuardHooks {
  readonly workflowId: string;
  readonly input: OrderInput;
  /** The alert mail (a staff template, to STAFF_EMAIL) under `idempotencyKey`; `extra` is the template's data. */
  readonly sendAlert: (idempotencyKey: string, extra: Record<string, string>) => Promise<void>;
  /** Records the refusal and waits for staff: true to run the step again, false when they cancelled. */
  readonly waitForStaff?: (s: FailingStep) => Promise<boolean>;
}

function guard(hooks: GuardHooks): GuardedActivities {
  const { workflowId, input } = hooks;
  const alertAfterMs = durationMs(input.deadlines.activityAlertAfter ?? DEFAULT_DEADLINES.activityAlertAfter);
  /**
   * The activities bounded to `ms`, one proxy per bound, built once. The server closes a window early when the next
   * retry would fall past it, so until the alert each window is what is left of the bound (the retries restart at
   * 1 s: a few more attempts near the bound, an alert within a second or so of it); after the alert, whole windows of
   * the bound. A first try is bounded by the whole bound (workflow time does not move within a task): few bounds.
   */
  const proxies = new Map<number, Record<string, (...a: unknown[]) => Promise<unknown>>>();
  const within = (ms: number, activity: string): ((...a: unknown[]) => Promise<unknown>) => {
    let bounded = proxies.get(ms);
    if (bounded === undefined) {
      bounded = proxyActivities<OrderActivities>({ startToCloseTimeout: '20 seconds', scheduleToCloseTimeout: ms, retry: patient }) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      proxies.set(ms, bounded);
    }
    return bounded[activity] as (...a: unknown[]) => Promise<unknown>;
  };
  const pending: Promise<void>[] = [];

  /** The staff mail (and, for a stuck step, the metric); not awaited by the retries, so a stuck SMTP cannot hold them. */
  function alert(kind: 'stuck' | 'refused', s: FailingStep): void {
    const send = async (): Promise<void> => {
      // Workflow id + step + the episode's start: once per episode, whatever the retries. The worker counts
      // certflow_activity_stuck_total from this mail (activities/metrics.ts).
      await hooks.sendAlert(`${workflowId}:${kind}:${s.step}:${s.since}`, { kind, step: s.step, activity: s.activity, message: s.message, since: s.since });
    };
    pending.push(send().catch((err: unknown) => log.error('staff alert not sent', { step: s.step, error: lastMessage(err) })));
  }

  async function run(activity: string, args: unknown[], waitOnRefusal: boolean): Promise<unknown> {
    const step = stepOf(workflowId, activity, args[0]);
    let began = Date.now();
    let alerted = false;
    for (;;) {
      try {
        const left = alerted ? alertAfterMs : began + alertAfterMs - Date.now();
        return await within(Math.max(left, 1000), activity)(...args);
      } catch (err) {
        const refusal = refusalMessage(err);
        if (refusal !== undefined && waitOnRefusal && hooks.waitForStaff !== undefined) {
          const failed = { step, activity, message: refusal, since: new Date().toISOString() };
          const wait = hooks.waitForStaff(failed);
          alert('refused', failed);
          if (!(await wait)) throw new StepAbandoned(step);
          began = Date.now();
          alerted = false;
          continue;
        }
        if (refusal !== undefined || !windowClosed(err)) throw err;
        if (!alerted && Date.now() - began >= alertAfterMs - 1000) {
          alerted = true;
          alert('stuck', { step, activity, message: lastMessage(err), since: new Date(began).toISOString() });
        }
      }
    }
  }

  const proxy = (waitOnRefusal: boolean): OrderActivities =>
    new Proxy({} as OrderActivities, {
      get: (_, activity) => (typeof activity === 'string' ? (...args: unknown[]) => run(activity, args, waitOnRefusal) : undefined),
    });

  return {
    steps: proxy(true),
    quick: proxy(false),
    alertsSent: async () => {
      await Promise.all(pending);
    },
  };
}

/** The order's activities wrapped as above; its staff alerts go through the order mails to STAFF_EMAIL. */
export function guardedActivities(order: OrderAttention): GuardedActivities {
  return guard({
    workflowId: order.workflowId,
    input: order.input,
    sendAlert: (idempotencyKey, extra) => act.sendOrderMail({ idempotencyKey, template: 'activity_failing_staff', input: order.input, view: order.view(), extra }),
    async waitForStaff(s) {
      await order.happen({ type: 'attention_needed', step: s.step, activity: s.activity, message: s.message, at: s.since });
      await condition(() => order.view().status !== 'needs_attention');
      return order.view().status !== 'cancelled';
    },
  });
}

/**
 * A certificate's own workflow: the same bound and staff alert (through the certificate mails, with its serial);
 * a refusal goes to the caller as before (the workflow shows it as its `problem`).
 */
export function guardedCertificateActivities(life: { readonly workflowId: string; readonly order: OrderInput; readonly serial: () => string }): GuardedActivities {
  return guard({
    workflowId: life.workflowId,
    input: life.order,
    sendAlert: (idempotencyKey, extra) => act.sendCertificateMail({ idempotencyKey, template: 'activity_failing_staff', input: life.order, serial: life.serial(), extra }),
  });
}
