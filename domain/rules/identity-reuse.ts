/**
 * How long the RA's validation of an organisation's identity may be reused for a TLS certificate (BR §4.2.1, reuse
 * of Subject Identity Information): 825 days, then 398 days for certificates issued from 2026-03-15 (ballot SC-081).
 * ACME orders (api/acme/) issue on the organisation's validated file instead of asking for documents again.
 */
import { DAY_MS } from '../time.js';

const SCHEDULE: readonly { readonly from: string; readonly days: number }[] = [
  { from: '1970-01-01', days: 825 },
  { from: '2026-03-15', days: 398 },
];

export function identityReuseDaysAt(at: Date): number {
  let days = (SCHEDULE[0] as { days: number }).days;
  for (const period of SCHEDULE) if (Date.parse(`${period.from}T00:00:00Z`) <= at.getTime()) days = period.days;
  return days;
}

/** Whether an approval recorded at `approvedAt` still vouches for the organisation at `at`. */
export function identityReusableAt(approvedAt: Date, at: Date): boolean {
  const age = at.getTime() - approvedAt.getTime();
  return age >= 0 && age < identityReuseDaysAt(at) * DAY_MS;
}
