/**
 * Fault: the worker process is killed with SIGKILL at random points while a batch of orders is driven concurrently
 * through the whole lifecycle, and restarted each time. Afterwards every order is completed with one certificate,
 * every mail and SMS arrived once, no document is lost. The seed and the delays are printed (FAULT_SEED replays them).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { checkBatch, PatientClient, seededRandom, sleep, startFaultStack, type FaultStack } from './support.js';

const ORDERS = 5;
const KILLS = 3;
/** A kill in the middle of an activity is noticed at its start-to-close timeout (20 s), then the call is retried. */
const WAIT_MS = 150_000;

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack({ name: 'fault-kill' });
});
afterAll(async () => {
  await stack?.close();
});

describe('the worker SIGKILLed at random points during a batch of orders, restarted each time', () => {
  it(`completes ${ORDERS} orders with one certificate, mail and SMS each`, async () => {
    const rnd = seededRandom('fault-kill');
    // The first kill falls in the first steps of the batch, the others after each restart polls.
    const delays = Array.from({ length: KILLS }, (_, i) => rnd.int(i === 0 ? 1_000 : 500, i === 0 ? 6_000 : 9_000));
    stack.log(`kill delays (ms after the batch starts, then after each restart): ${JSON.stringify(delays)}`);
    const client = new PatientClient(stack);
    let worker = await stack.startWorker();
    const started = Date.now();
    let finished = false;
    const batch = client.driveBatch(ORDERS, WAIT_MS);
    batch.then(() => (finished = true), () => (finished = true));
    for (const [i, delay] of delays.entries()) {
      await sleep(delay);
      if (finished) break;
      await stack.kill(worker, `kill ${i + 1} of ${KILLS}, +${delay} ms`);
      worker = await stack.startWorker();
    }
    const driven = await batch;
    stack.log(`batch of ${ORDERS} completed in ${Date.now() - started} ms`);
    await checkBatch(stack, client, driven, { allowSameMessageCopies: true });
  }, 300_000);
});
