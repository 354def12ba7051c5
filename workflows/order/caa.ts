/**
 * CAA in the order workflow (BR §3.2.2.8): the check key of each check, the words of a refusal, and the check the
 * customer asks for again once they changed their records.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { OrderActivities } from '../../activities/types.js';
import type { CaaCheck, OrderView } from '../../domain/order.js';

/** The problem type of a refusal (api: urn:certflow:problem:caa-forbids-issuance). */
export const CAA_FORBIDS = 'caa-forbids-issuance';

/** One key per check of the order (the count goes on across continue-as-new with the view). */
export const nextCaaCheckKey = (workflowId: string, view: OrderView): string => `${workflowId}:caa:${(view.caa?.checks ?? 0) + 1}`;

/** Why CAA forbids issuance, name by name: what the customer reads in the 422 and on the order page. */
export const caaRefusal = (check: CaaCheck): string =>
  `CAA forbids issuance by this CA: ${check.names
    .filter((n) => !n.permitted)
    .map((n) => `${n.name}: ${n.reason}`)
    .join('; ')}.`;

/**
 * The check a customer asks for answers within seconds: a lookup that keeps failing (the activity throws rather
 * than take a failure for a permission) is reported to them instead of holding their request.
 */
export const askedCaa = proxyActivities<Pick<OrderActivities, 'checkCaa'>>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});
