/**
 * The clocks of an order: which deadlines each stage has, computed from the anchors the run keeps (its Clock), so
 * they survive continue-as-new. The deadline engine (workflows/deadlines.ts) waits for them and fires them.
 */
import type { OrderMailTemplate } from '../../activities/types.js';
import { after as at, type Deadline } from '../deadlines.js';
import { durationMs, type Deadlines } from '../../domain/deadlines.js';
import type { OrderView } from '../../domain/order.js';
import type { OrderEvent } from '../../domain/order-state.js';
import { DAY_MS } from '../../domain/time.js';
import type { SmsCodeState } from '../sms-codes.js';

/** The anchors of the run (carried over by continue-as-new) and its bookkeeping. */
export interface Clock {
  /** Last customer action: inactivity reminders and abandonment count from it. */
  lastCustomerActionAt: string;
  /** Online validation of a file whose originals go by post: their 7 days count from it. */
  originalsStartAt: string | null;
  /** Issuance: acceptance reminders and the 30 days of silence count from it. */
  acceptanceStartAt: string | null;
  /** Deadline steps already acted on (a reminder mail is sent once). */
  fired: string[];
  /** SMS unlock codes: times sent (daily limit), the active code's digest, expiry and wrong tries. */
  sms: SmsCodeState;
  /** End of the paid term, fixed at the first issuance: a TLS subscription reissues until then. */
  termEndsAt: string | null;
  /** Who cancelled, for the mail: the customer or staff. */
  cancelledBy: 'customer' | 'staff' | null;
}

/** What a deadline does when it fires: a mail, or an event of the order (overdue, abandoned). */
export interface DeadlineEffects {
  readonly mail: (step: string, template: OrderMailTemplate, extra?: Record<string, string | number>) => Promise<void>;
  readonly happen: (event: OrderEvent) => Promise<void>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The customer prepares the file: reminders at 7 and 14 days without action, abandoned after 90. */
function evidenceSteps(clock: Clock, d: Deadlines, { mail, happen }: DeadlineEffects): Deadline[] {
  const since = clock.lastCustomerActionAt;
  const abandonAt = at(since, d.inactivityAbandon);
  return [
    ...d.inactivityReminders.map((r, i) => ({
      id: `inactivity-reminder:${since}:${i}`,
      kind: 'inactivity_reminder',
      at: at(since, r),
      fire: () => mail(`inactivity-reminder:${since}:${i}`, 'evidence_reminder', { days: Math.round(durationMs(r) / DAY_MS), abandonOn: iso(abandonAt) }),
    })),
    { id: `inactivity-abandon:${since}`, kind: 'abandonment', at: abandonAt, fire: () => happen({ type: 'abandoned', reason: 'no_activity' }) },
  ];
}

/** After the online validation, the originals go by post: reminder on day 5, overdue on day 7, abandoned 30 days later. */
function originalsSteps(view: OrderView, clock: Clock, d: Deadlines, { mail, happen }: DeadlineEffects): Deadline[] {
  const start = clock.originalsStartAt;
  if (!view.originals.required || view.originals.received || start === null) return [];
  const dueAt = at(start, d.originalsDue);
  const abandonAt = dueAt + durationMs(d.originalsAbandon);
  return [
    { id: 'originals-reminder', kind: 'originals_reminder', at: at(start, d.originalsReminder), fire: () => mail('originals-reminder', 'originals_reminder', { dueOn: iso(dueAt) }) },
    {
      id: 'originals-due',
      kind: 'originals_due',
      at: dueAt,
      fire: async () => {
        await happen({ type: 'originals_overdue' });
        await mail('originals-overdue-staff', 'originals_overdue_staff', { dueOn: iso(dueAt), abandonOn: iso(abandonAt) });
      },
    },
    { id: 'originals-abandon', kind: 'abandonment', at: abandonAt, fire: () => happen({ type: 'abandoned', reason: 'originals_not_received' }) },
  ];
}

/** The holder checks the certificate: weekly reminders; revoked and abandoned after 30 days of silence. */
function acceptanceSteps(view: OrderView, clock: Clock, d: Deadlines, { mail, happen }: DeadlineEffects): Deadline[] {
  const start = Date.parse(clock.acceptanceStartAt ?? view.updatedAt);
  const every = durationMs(d.acceptanceReminderEvery);
  const timeout = start + durationMs(d.acceptanceTimeout);
  const steps: Deadline[] = [];
  for (let n = 1; start + n * every < timeout; n++) {
    steps.push({ id: `acceptance-reminder:${n}`, kind: 'acceptance_reminder', at: start + n * every, fire: () => mail(`acceptance-reminder:${n}`, 'acceptance_reminder', { revokeOn: iso(timeout) }) });
  }
  steps.push({ id: 'acceptance-timeout', kind: 'acceptance_timeout', at: timeout, fire: () => happen({ type: 'abandoned', reason: 'not_accepted' }) });
  return steps;
}

/** The deadlines of the order's current status, fired or not (the engine leaves out those already fired). */
export function orderDeadlines(view: OrderView, clock: Clock, d: Deadlines, effects: DeadlineEffects): Deadline[] {
  switch (view.status) {
    case 'awaiting_evidence':
    case 'awaiting_domain_validation':
      // The customer's turn: the file, or the names to prove.
      return evidenceSteps(clock, d, effects);
    case 'awaiting_face_to_face':
    case 'awaiting_originals':
    case 'originals_overdue':
    case 'awaiting_payment':
      return originalsSteps(view, clock, d, effects);
    case 'awaiting_acceptance':
      return acceptanceSteps(view, clock, d, effects);
    default:
      // Review, hold, issuance, unlock, closed: nothing is due on a clock.
      return [];
  }
}
