/**
 * The engine baseline's workflow bundle: the same shape of work as an order (scripts/bench/baseline-plan.ts) with
 * empty bodies: activities that do nothing, Updates that answer at once, no codec, no database, no read model.
 */
import { condition, defineUpdate, ParentClosePolicy, proxyActivities, setHandler, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import type { BaselinePlan } from './baseline-plan.js';

export interface BaselineActivities {
  noop(): Promise<void>;
}

/** Step k of the plan; answers k once its handler's activities have run. */
export const stepUpdate = defineUpdate<number, [number]>('step');

// Same options as the product's activities (workflows/activities.ts).
const act = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

const run = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await act.noop();
};

/** Parks like the certificate's own workflow: its activities, then a long wait. */
export async function baselineChild(activities: number): Promise<void> {
  await run(activities);
  await sleep('365 days');
}

export async function baselineWorkflow(plan: BaselinePlan): Promise<void> {
  /** Index of the next step whose Update may run (its previous step's "after" activities are done). */
  let ready = -1;
  let handled = 0;
  setHandler(stepUpdate, async (k: number) => {
    await condition(() => ready >= k);
    await run(plan.steps[k]?.inHandler ?? 0);
    handled = Math.max(handled, k + 1);
    return k;
  });
  await run(plan.before);
  ready = 0;
  for (const [k, step] of plan.steps.entries()) {
    // The order waits on its next action with a deadline as often as it started timers.
    if (k < plan.timers) await condition(() => handled > k, '30 days');
    else await condition(() => handled > k);
    await run(step.after);
    ready = k + 1;
  }
  for (const [i, child] of plan.children.entries()) {
    await startChild(baselineChild, {
      workflowId: `${workflowInfo().workflowId}-child-${i}`,
      args: [child.activities],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  }
}
