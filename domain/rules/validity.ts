/**
 * The CA/Browser Forum validity schedule of TLS certificates (BR §6.3.2 and §4.2.1, ballot SC-081), as dated data:
 * the longest a certificate may live and how long domain-validation evidence may be reused, by issuance date. The
 * one place for these facts; the workflow, the CA's pre-issuance lint and the tests read them from here.
 */
import { DAY_MS } from '../time.js';

export interface ValidityPeriod {
  /** First day (UTC) the limits apply to a certificate issued on or after it. */
  readonly from: string;
  /** The longest validity allowed, in days. */
  readonly maxValidityDays: number;
  /** How many days domain-validation evidence may be reused. */
  readonly dcvReuseDays: number;
}

/** Before the first entry, the limits of BR §6.3.2 before SC-081 (398 days for both). */
export const TLS_VALIDITY_SCHEDULE: readonly ValidityPeriod[] = [
  { from: '1970-01-01', maxValidityDays: 398, dcvReuseDays: 398 },
  { from: '2026-03-15', maxValidityDays: 200, dcvReuseDays: 200 },
  { from: '2027-03-15', maxValidityDays: 100, dcvReuseDays: 100 },
  { from: '2029-03-15', maxValidityDays: 47, dcvReuseDays: 10 },
];

/** The CA issues one day under the maximum, so rounding of seconds and leap seconds never takes it over. */
export const TLS_MARGIN_DAYS = 1;

/** The period in force at an instant. */
type Instant = Date | string | number;
const msOf = (at: Instant): number => (typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : at.getTime());

export function validityPeriodAt(at: Instant): ValidityPeriod {
  const time = msOf(at);
  let current = TLS_VALIDITY_SCHEDULE[0] as ValidityPeriod;
  for (const period of TLS_VALIDITY_SCHEDULE) if (Date.parse(`${period.from}T00:00:00Z`) <= time) current = period;
  return current;
}

/** The days a TLS certificate issued at `at` is given: the maximum in force, less the margin. */
export const tlsValidityDaysAt = (at: Instant): number => validityPeriodAt(at).maxValidityDays - TLS_MARGIN_DAYS;

/** Whether domain-validation evidence obtained at `validatedAt` may still be reused for an issuance at `at`. */
export function dcvReusableAt(validatedAt: Instant, at: Instant): boolean {
  const validated = msOf(validatedAt);
  const now = msOf(at);
  return now >= validated && now - validated < validityPeriodAt(now).dcvReuseDays * DAY_MS;
}

/** The next date the schedule changes after `at`, or null after the last change. */
export function nextScheduleChangeAfter(at: Instant): string | null {
  const time = msOf(at);
  const next = TLS_VALIDITY_SCHEDULE.find((period) => Date.parse(`${period.from}T00:00:00Z`) > time);
  return next === undefined ? null : `${next.from}T00:00:00.000Z`;
}
