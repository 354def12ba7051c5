/**
 * Keeps every CA's CRL fresh: republished on a fixed rhythm, well before each CRL's nextUpdate (7 days; BR §4.9.7
 * asks for a new CRL at least every 7 days). Revocations publish at once on their own; this covers quiet weeks.
 * One per namespace (a fixed id); it continues as new so its history stays small.
 */
import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { OrderActivities } from '../activities/types.js';

const act = proxyActivities<Pick<OrderActivities, 'publishCrls'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

export const CRL_PUBLISHER_ID = 'ca-crl-publisher';

/** Rounds before continuing as new: a few events each. */
const ROUNDS_PER_RUN = 50;

export async function crlPublisherWorkflow(every: string = '1 day'): Promise<void> {
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    await act.publishCrls();
    await sleep(every);
  }
  await continueAsNew<typeof crlPublisherWorkflow>(every);
}
