/**
 * Fault: two workers (separate OS processes) share the task queue; one is killed with SIGKILL in the middle of a
 * batch of orders and not restarted. The other finishes everything: every order completed, one certificate, every
 * mail and SMS once, no document lost. The seed and the delay are printed (FAULT_SEED replays them).
 */
import { describe, expect, it } from 'vitest';
import { checkBatch, STEPS_PER_ORDER, PatientClient, seededRandom, faultStackForFile } from './support.js';

const ORDERS = 5;
/** Work the dead worker held is retried on the other at its timeout (activities: 20 s start-to-close). */
const WAIT_MS = 150_000;

const faultStack = faultStackForFile({ name: 'fault-two-workers' });

describe('two workers on one task queue, one killed mid-batch and not restarted', () => {
  it(`the other completes all ${ORDERS} orders`, async () => {
    const stack = faultStack();
    const rnd = seededRandom('fault-two-workers');
    const killAt = rnd.int(ORDERS, ORDERS * 6);
    const [a, b] = await Promise.all([stack.startWorker(), stack.startWorker()]);
    const client = new PatientClient(stack);
    const started = Date.now();
    let finished = false;
    const batch = client.driveBatch(ORDERS, WAIT_MS);
    batch.then(() => (finished = true), () => (finished = true));
    stack.log(`workers ${a.pid} and ${b.pid} polling; killing ${a.pid} after ${killAt} of ${ORDERS * STEPS_PER_ORDER} steps of the batch`);
    await client.afterSteps(killAt, () => finished);
    expect(finished, 'the batch ended before the kill: the kill would test nothing').toBe(false);
    await stack.kill(a, `after ${client.steps} steps of the batch, not restarted`);
    const driven = await batch;
    stack.log(`batch of ${ORDERS} completed in ${Date.now() - started} ms by worker ${b.pid} alone after the kill`);
    expect(b.child.exitCode, 'the surviving worker is still running').toBeNull();
    expect(b.child.signalCode).toBeNull();
    await checkBatch(stack, client, driven, { allowSameMessageCopies: true });
  }, 240_000);
});
