/** How the workflows call their activities: one set of options, one test of a refusal no retry can fix. */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { OrderActivities } from '../activities/types.js';

// Side effects wait out outages (database, SMTP, SMS, CA): the order pauses rather than fails.
export const patient = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' } as const;
// Each call takes milliseconds to seconds; a worker that dies mid-call is noticed after this timeout and the call retried.
export const act = proxyActivities<OrderActivities>({ startToCloseTimeout: '20 seconds', retry: patient });

/** The message of an activity's non-retryable failure (the CA refusing to sign…), or undefined for anything else. */
export function refusalMessage(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable ? err.cause.message : undefined;
}
