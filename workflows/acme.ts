/**
 * One ACME challenge's validation (RFC 8555 §8, api/acme/): the API has no domain-validation code of its own, so it
 * starts this workflow, which runs the CA's check as an activity (activities/dcv/, the same as an order's) and
 * answers what it saw. One workflow per attempt; its id names the challenge, so a retried request finds the same run.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { DomainCheckResult, OrderActivities } from '../activities/types.js';
import type { DomainChallenge } from '../domain/order.js';

// A check is bounded by DCV_TIMEOUT_MS; a worker lost mid-check is noticed after this and the check runs again.
const dcv = proxyActivities<Pick<OrderActivities, 'checkDomainChallenges'>>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

export async function acmeChallengeWorkflow(input: { challenge: DomainChallenge }): Promise<DomainCheckResult> {
  const [checked] = await dcv.checkDomainChallenges({ challenges: [input.challenge] });
  if (checked === undefined) throw new Error('the check answered nothing');
  return checked.result;
}
