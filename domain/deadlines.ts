/**
 * Every deadline of an order, in one place, as Temporal durations ("7 days"). Each is configurable (ORDER_DEADLINES)
 * and travels in the workflow's input, so a running order keeps the deadlines it started with.
 */
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';

export interface Deadlines {
  /** Reminders while the order waits on the customer's documents, counted from the last customer action. */
  readonly inactivityReminders: readonly Duration[];
  /** No customer action for this long: the order is abandoned. */
  readonly inactivityAbandon: Duration;
  /** Originals by post, counted from the online validation: reminder, then due. */
  readonly originalsReminder: Duration;
  readonly originalsDue: Duration;
  /** After the originals are overdue, the order is abandoned this much later. */
  readonly originalsAbandon: Duration;
  /** Reminders to accept the issued certificate, and the silence after which it is revoked. */
  readonly acceptanceReminderEvery: Duration;
  readonly acceptanceTimeout: Duration;
  /** An SMS unlock code's life. */
  readonly unlockCodeValidity: Duration;
  /** Before a certificate's final expiry: reminders with a prefilled renewal order. */
  readonly expiryReminders: readonly Duration[];
  /** A TLS subscription reissues this long before the current certificate expires (at most a third of its life). */
  readonly renewalLead: Duration;
  /** While domains are re-validated for a reissue, how often the CA checks the customer's file or DNS record. */
  readonly revalidationCheckEvery: Duration;
  /**
   * An activity that has kept failing this long raises a staff alert (and certflow_activity_stuck_total), then keeps
   * retrying. Optional: the inputs of orders started before it existed lack it (workflows/attention.ts defaults it).
   */
  readonly activityAlertAfter?: Duration;
}

/** Every deadline's default, the optional ones too: the one place a missing value is read from. */
export const DEFAULT_DEADLINES: Required<Deadlines> = {
  inactivityReminders: ['7 days', '14 days'],
  inactivityAbandon: '90 days',
  originalsReminder: '5 days',
  originalsDue: '7 days',
  originalsAbandon: '30 days',
  acceptanceReminderEvery: '7 days',
  acceptanceTimeout: '30 days',
  unlockCodeValidity: '10 minutes',
  expiryReminders: ['90 days', '30 days', '7 days'],
  renewalLead: '30 days',
  revalidationCheckEvery: '6 hours',
  activityAlertAfter: '10 minutes',
};

export const DEADLINE_NAMES = Object.keys(DEFAULT_DEADLINES) as (keyof Deadlines)[];

export const durationMs = (d: Duration): number => msToNumber(d);

function isPositiveDuration(v: unknown): boolean {
  if (typeof v !== 'string' && typeof v !== 'number') return false;
  try {
    return durationMs(v as Duration) > 0;
  } catch {
    return false;
  }
}

/** The defaults with some replaced; every value must parse as a positive duration. */
export function withOverrides(overrides: Partial<Record<keyof Deadlines, unknown>>): Deadlines {
  const out: Record<string, unknown> = { ...DEFAULT_DEADLINES };
  for (const [name, value] of Object.entries(overrides)) {
    if (!(DEADLINE_NAMES as string[]).includes(name)) throw new Error(`unknown deadline ${name}; known: ${DEADLINE_NAMES.join(', ')}`);
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (!isPositiveDuration(v)) {
        throw new Error(`deadline ${name}: ${JSON.stringify(v)} is not a positive duration`);
      }
    }
    out[name] = value;
  }
  return out as unknown as Deadlines;
}
