/**
 * Anchors the audit log's head outside the table it protects. Each round the activity verifies the hash chain
 * (against the previous anchor too) and returns its head {seq, hash}; the result stays in this workflow's event
 * history, which someone who can edit the `audit_log` table cannot rewrite. GET /v1/audit/verify reads the latest
 * anchor back from here: rows deleted from the end of the chain since then are reported as a truncation.
 *
 * One per namespace (a fixed id), a round every `every` (hourly by default) or at once on the `anchorNow` signal;
 * it continues as new with the last good anchor as input, so the latest run always holds one.
 */
import { condition, continueAsNew, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { AuditAnchorActivities } from '../activities/audit-anchor.js';
import type { AuditHead } from '../domain/audit.js';

const act = proxyActivities<AuditAnchorActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export const AUDIT_ANCHOR_ID = 'audit-anchor';
/** The activity whose results are the anchors (read back by api/audit-anchor.ts). */
export const ANCHOR_ACTIVITY = 'anchorAuditHead';

/** Anchors the head now rather than at the next round (before handing the log to an auditor, in tests). */
export const anchorNowSignal = defineSignal('anchorNow');

/** Rounds before continuing as new: a handful of events each. */
const ROUNDS_PER_RUN = 100;

export async function auditAnchorWorkflow(every: string = '1 hour', previous: AuditHead | null = null): Promise<void> {
  let last = previous;
  let wake = false;
  setHandler(anchorNowSignal, () => {
    wake = true;
  });
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    wake = false;
    const record = await act.anchorAuditHead({ previous: last });
    // A finding is kept in the history; the next rounds go on checking against the last good anchor.
    if (record.ok) last = record.head;
    await condition(() => wake, every);
  }
  await continueAsNew<typeof auditAnchorWorkflow>(every, last);
}
