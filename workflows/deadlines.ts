/**
 * The deadline engine the order and certificate workflows share: each computes the deadlines of its current stage
 * from anchors kept in its state (so they survive continue-as-new); the engine waits for the next change or the
 * soonest deadline not yet fired, fires it once and records it as fired.
 */
import { condition, workflowInfo } from '@temporalio/workflow';
import { durationMs } from '../domain/deadlines.js';
import { deadlineTimerSummary } from './definitions.js';

/** One step on the clock: its id is recorded once fired, so a reminder mail is sent once. */
export interface Deadline {
  readonly id: string;
  readonly kind: string;
  /** Workflow time, in ms since the epoch. */
  readonly at: number;
  fire(): Promise<void>;
}

/** A duration after an anchor (an ISO date), in ms since the epoch. */
export const after = (anchor: string, duration: Parameters<typeof durationMs>[0]): number => Date.parse(anchor) + durationMs(duration);

/** The deadlines not yet acted on, soonest first. */
export const pendingDeadlines = (steps: readonly Deadline[], fired: readonly string[]): Deadline[] =>
  steps.filter((step) => !fired.includes(step.id)).sort((a, b) => a.at - b.at);

export interface DeadlineClock {
  /** The version of the state: any recorded change bumps it. */
  version(): number;
  /** The deadlines now pending, soonest first. */
  pending(): Deadline[];
  /** The ids of the deadlines fired so far (carried over by continue-as-new). */
  readonly fired: string[];
  /** A deadline fired without changing the state (a reminder): record that it is no longer pending. */
  unchanged(): Promise<void>;
}

/**
 * Waits for the next change (or a continue-as-new suggestion) or the next deadline, and fires that deadline; the
 * caller's loop then looks at the state again. The timer's summary names the deadline in the history.
 */
export async function awaitChangeOrDeadline(clock: DeadlineClock): Promise<void> {
  const version = clock.version();
  const changed = (): boolean => clock.version() !== version || workflowInfo().continueAsNewSuggested;
  const next = clock.pending()[0];
  if (next === undefined) {
    await condition(changed);
    return;
  }
  if (await condition(changed, Math.max(1, next.at - Date.now()), { summary: deadlineTimerSummary(next) })) return;
  clock.fired.push(next.id);
  await next.fire();
  if (clock.version() === version) await clock.unchanged();
}
