/**
 * Fault: the worker process is killed with SIGKILL at random points while a batch of orders is driven concurrently
 * through the whole lifecycle, and restarted each time. Afterwards every order is completed with one certificate,
 * every mail and SMS arrived once, no document is lost. The seed and the delays are printed (FAULT_SEED replays them).
 */
import { describe, expect, it } from 'vitest';
import { checkBatch, STEPS_PER_ORDER, PatientClient, seededRandom, sleep, faultStackForFile } from './support.js';

const ORDERS = 5;
const KILLS = 3;
/** A kill in the middle of an activity is noticed at its start-to-close timeout (20 s), then the call is retried. */
const WAIT_MS = 150_000;

const faultStack = faultStackForFile({ name: 'fault-kill' });

describe('the worker SIGKILLed at random points during a batch of orders, restarted each time', () => {
  it(`completes ${ORDERS} orders with one certificate, mail and SMS each`, async () => {
    const stack = faultStack();
    const rnd = seededRandom('fault-kill');
    // Kills are timed on the batch's progress (steps of all orders together, before its last steps), then a random
    // few hundred ms more, so that they land inside activities whether the machine is quick or loaded.
    const total = ORDERS * STEPS_PER_ORDER;
    const points = Array.from({ length: KILLS }, () => ({ step: rnd.int(2, Math.floor(total * 0.8)), extraMs: rnd.int(0, 800) })).sort((x, y) => x.step - y.step);
    stack.log(`kills after these steps of ${total} (+ms): ${JSON.stringify(points)}`);
    const client = new PatientClient(stack);
    let worker = await stack.startWorker();
    const started = Date.now();
    let finished = false;
    const batch = client.driveBatch(ORDERS, WAIT_MS);
    batch.then(() => (finished = true), () => (finished = true));
    let kills = 0;
    for (const [i, point] of points.entries()) {
      await client.afterSteps(point.step, () => finished);
      await sleep(point.extraMs);
      if (finished) break;
      await stack.kill(worker, `kill ${i + 1} of ${KILLS}, after step ${client.steps} (+${point.extraMs} ms)`);
      kills++;
      worker = await stack.startWorker();
    }
    expect(kills, 'every kill fell inside the batch').toBe(KILLS);
    const driven = await batch;
    stack.log(`batch of ${ORDERS} completed in ${Date.now() - started} ms`);
    await checkBatch(stack, client, driven, { allowSameMessageCopies: true });
  }, 300_000);
});
