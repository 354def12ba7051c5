/**
 * Fault: the Temporal server restarts in the middle of a batch. The test runs its OWN dev server (the pinned CLI,
 * `temporal server start-dev` with a SQLite file and the project's search attributes), kills it with SIGKILL while
 * orders are in flight, keeps it down a few seconds, then starts it again on the same port and file. The worker (a
 * separate OS process) and the API reconnect by themselves; meanwhile the API answers 503 problem+json. Afterwards
 * every order is completed with one certificate, every mail and SMS once, no document lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { devServerArgs } from '../../../scripts/dev-server.js';
import { freePort } from '../../../scripts/scratch.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../../../workflows/definitions.js';
import { checkBatch, STEPS_PER_ORDER, logger, PatientClient, seededRandom, sleep, startFaultStack, type FaultStack } from './support.js';

const ORDERS = 4;
const WAIT_MS = 150_000;
const log = logger('fault-temporal');

interface OwnServer {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  output(): string;
}

const dir = mkdtempSync(join(tmpdir(), 'certflow-fault-temporal-'));
const dbFile = join(dir, 'temporal.sqlite');
let port: number;
let uiPort: number;
let server: OwnServer | undefined;
let stack: FaultStack | undefined;

/** `temporal server start-dev` on the same port and SQLite file each time; resolves once the namespace answers. */
async function startServer(): Promise<OwnServer> {
  const started = Date.now();
  const args = [
    ...devServerArgs({ cliPath: '', ip: '127.0.0.1', port, uiPort, dbFile, namespace: 'default', searchAttributes: SEARCH_ATTRIBUTE_KEYS, logFile: '' }),
    '--headless',
  ];
  let output = '';
  const child = spawn(inject('temporalCliPath'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the dev server exited with ${child.exitCode}:\n${output}`);
    const ready = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1000 }).then(
      async (c) => {
        try {
          await c.workflowService.describeNamespace({ namespace: 'default' });
          return true;
        } catch {
          return false;
        } finally {
          await c.close();
        }
      },
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`the dev server did not answer within 60 s:\n${output}`);
    await sleep(250);
  }
  log(`dev server ${child.pid} answering on 127.0.0.1:${port} after ${Date.now() - started} ms (SQLite ${dbFile})`);
  return { child, exited, output: () => output };
}

beforeAll(async () => {
  port = await freePort();
  uiPort = await freePort();
  server = await startServer();
  stack = await startFaultStack({ name: 'fault-temporal', temporalAddress: `127.0.0.1:${port}` });
});

afterAll(async () => {
  await stack?.close();
  if (server !== undefined) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('the Temporal dev server killed and restarted on the same port and SQLite file mid-batch', () => {
  it(`the worker and the API reconnect and ${ORDERS} orders complete`, async () => {
    const s = stack!;
    const rnd = seededRandom('fault-temporal');
    const killAt = rnd.int(ORDERS, ORDERS * 6);
    const downFor = rnd.int(3_000, 8_000);
    s.log(`killing the dev server after ${killAt} of ${ORDERS * STEPS_PER_ORDER} steps of the batch, restarting it ${downFor} ms later`);
    const worker = await s.startWorker();
    const client = new PatientClient(s);
    const started = Date.now();
    let finished = false;
    const batch = client.driveBatch(ORDERS, WAIT_MS);
    batch.then(() => (finished = true), () => (finished = true));
    await client.afterSteps(killAt, () => finished);
    expect(finished, 'the batch ended before the restart: the restart would test nothing').toBe(false);
    const old = server!;
    old.child.kill('SIGKILL');
    await old.exited;
    server = undefined;
    s.log(`dev server ${old.child.pid} killed with SIGKILL`);
    // While it is down the API says so: readiness and order routes answer 503 problem+json.
    const readyz = await fetch(`${s.baseUrl}/readyz`);
    const readyBody = (await readyz.json()) as { type?: string; checks?: Record<string, string> };
    expect({ status: readyz.status, type: readyz.headers.get('content-type'), checks: readyBody.checks }).toEqual({
      status: 503,
      type: expect.stringContaining('application/problem+json') as unknown,
      checks: { database: 'ok', temporal: 'down' },
    });
    await sleep(downFor);
    server = await startServer();
    const driven = await batch;
    s.log(`batch of ${ORDERS} completed in ${Date.now() - started} ms; the client met ${client.record.unavailable.length} 503s`);
    expect(worker.child.exitCode, 'the worker rode out the restart without exiting').toBeNull();
    expect((await fetch(`${s.baseUrl}/readyz`)).status).toBe(200);
    await checkBatch(s, client, driven, { allowSameMessageCopies: false });
  }, 240_000);
});
