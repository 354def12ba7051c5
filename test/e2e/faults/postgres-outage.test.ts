/**
 * Fault: Postgres unreachable for a while. The API and the worker (a separate OS process) reach the database through
 * a TCP proxy the test controls; mid-batch the proxy stops listening and cuts every open connection for 10–20 s,
 * then comes back on the same port. Meanwhile the API answers 503 problem+json (readiness and the routes that read
 * or write the database) and the activities retry; afterwards every order is completed with one certificate, every
 * mail and SMS once, no document lost. The seed and the delays are printed (FAULT_SEED replays them).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkBatch, STEPS_PER_ORDER, PatientClient, seededRandom, sleep, startFaultStack, startTcpProxy, type FaultStack, type TcpProxy } from './support.js';

const ORDERS = 4;
/** After the outage an activity waits out its retry backoff (1 s doubling) before it tries again. */
const WAIT_MS = 150_000;

let proxy: TcpProxy;
let stack: FaultStack;
beforeAll(async () => {
  const real = new URL(inject('databaseUrl'));
  proxy = await startTcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
  const viaProxy = new URL(real.href);
  viaProxy.port = String(proxy.port);
  stack = await startFaultStack({ name: 'fault-postgres', databaseUrl: viaProxy.href });
});
afterAll(async () => {
  await stack?.close();
  await proxy?.close();
});

interface Seen {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: { type?: string; detail?: string; checks?: Record<string, string> };
}
async function probe(url: string, init: RequestInit = {}): Promise<Seen> {
  const res = await fetch(url, init);
  return { status: res.status, contentType: res.headers.get('content-type'), body: (await res.json()) as Seen['body'] };
}

describe('Postgres unreachable for a while in the middle of a batch', () => {
  it(`the API answers 503, the activities retry, and ${ORDERS} orders complete with nothing lost or twice`, async () => {
    const rnd = seededRandom('fault-postgres');
    const cutAfterSteps = rnd.int(ORDERS, ORDERS * 6);
    const downFor = rnd.int(10_000, 20_000);
    stack.log(`cutting Postgres after ${cutAfterSteps} of ${ORDERS * STEPS_PER_ORDER} steps of the batch for ${downFor} ms`);
    const worker = await stack.startWorker();
    const client = new PatientClient(stack);
    const probeKey = (await client.account('customer')).key;
    const started = Date.now();
    let finished = false;
    const batch = client.driveBatch(ORDERS, WAIT_MS);
    batch.then(() => (finished = true), () => (finished = true));
    await client.afterSteps(cutAfterSteps, () => finished);
    expect(finished, 'the batch ended before the outage: it would test nothing').toBe(false);
    await proxy.cut();
    const cutAt = Date.now();
    stack.log(`Postgres cut (${proxy.stats.cut} open connections destroyed, new ones refused)`);

    // What a caller sees meanwhile: never a 500, a problem document that says the dependency is down.
    const readyz = await probe(`${stack.baseUrl}/readyz`);
    const someOrder = await probe(`${stack.baseUrl}/v1/orders/01a20290-d64b-7736-a402-c844d1de7cd3`, { headers: { authorization: `Bearer ${probeKey}` } });
    const list = await probe(`${stack.baseUrl}/v1/orders`, { headers: { authorization: `Bearer ${probeKey}` } });
    stack.log(`during the outage: /readyz ${readyz.status}, GET order ${someOrder.status} (${someOrder.body.type}), GET orders ${list.status}`);
    expect(readyz).toMatchObject({ status: 503, contentType: expect.stringContaining('application/problem+json') as unknown, body: { checks: { database: 'down', temporal: 'ok' } } });
    for (const seen of [someOrder, list]) {
      expect(seen).toMatchObject({ status: 503, contentType: expect.stringContaining('application/problem+json') as unknown, body: { type: 'urn:certflow:problem:unavailable' } });
    }

    await sleep(Math.max(0, downFor - (Date.now() - cutAt)));
    await proxy.restore();
    stack.log(`Postgres back after ${Date.now() - cutAt} ms`);
    const driven = await batch;
    stack.log(`batch of ${ORDERS} completed in ${Date.now() - started} ms; the client met ${client.record.unavailable.length} 503s`);
    expect(worker.child.exitCode, `the worker rode out the outage without exiting:\n${worker.output()}`).toBeNull();
    expect((await fetch(`${stack.baseUrl}/readyz`)).status).toBe(200);
    // A mail the relay accepted just as the database went away cannot be marked sent: the retry sends it again, as
    // the same message (same Message-ID), the window activities/notify/ledger.ts documents. One per event still holds.
    await checkBatch(stack, client, driven, { allowSameMessageCopies: true });
  }, 240_000);
});
