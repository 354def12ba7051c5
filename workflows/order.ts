/**
 * One certificate order, from creation to its end. Each stage of the seeds' procedure is one function here; this
 * first cut records the order and waits for the customer's supporting documents (the evidence, review, proofing,
 * payment, issuance and acceptance stages follow in the lifecycle work).
 */
import { condition, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { newOrderView, type OrderInput, type OrderView } from '../domain/order.js';
import { registeredUpdate, SEARCH_ATTRIBUTES, stateQuery } from './definitions.js';

const db = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  // The database may be away for a while: keep trying, the order waits rather than fails.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function orderWorkflow(input: OrderInput): Promise<OrderView> {
  let view = newOrderView(input);
  let registered = false;

  setHandler(stateQuery, () => view);
  setHandler(registeredUpdate, async () => {
    await condition(() => registered);
    return view;
  });

  await record(view);
  registered = true;

  // The evidence stage starts here: nothing moves until the customer acts (lifecycle work).
  await condition(() => false);
  return view;

  async function record(next: OrderView): Promise<void> {
    view = next;
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.status, value: view.status },
      { key: SEARCH_ATTRIBUTES.waitingOn, value: view.waitingOn },
    ]);
    await db.recordOrderView(workflowInfo().workflowId, view);
  }
}
