/**
 * The README's first command, for real: `npm start` on a fresh data folder brings up the dev server, PGlite, the
 * worker and the API; the admin CLI provisions a key while it runs; an order survives Ctrl-C and a restart.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { OrderView } from '../../domain/order.js';
import { SIRETS } from '../support.js';
import { cliCustomerKey, createRgsStarOrder, embeddedStack, type EmbeddedStack } from './process-group.js';

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });

let stack: EmbeddedStack;

/** Ctrl-C, then whether the stack under npm stopped cleanly (npm itself dies of the signal, as in a shell). */
async function ctrlC(): Promise<{ stoppedCleanly: boolean }> {
  await stack.stop();
  const output = stack.output();
  return { stoppedCleanly: /"msg":"stopped"/.test(output) && !/"level":[56]0/.test(output) };
}

beforeAll(async () => {
  stack = await embeddedStack({ logLevel: 'info', bundle: 'sources' });
});
afterAll(async () => {
  await stack?.dispose();
});

describe('npm start (embedded defaults)', () => {
  it('comes up, takes an order from a CLI-made key, stops cleanly on Ctrl-C and keeps the order across a restart', async () => {
    const { env, dataDir, base } = stack;
    const cold = await stack.start();
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(await accepts(Number(env.TEMPORAL_UI_PORT))).toBe(true);
    expect(existsSync(join(dataDir, 'temporal', 'temporal.db'))).toBe(true);
    expect(existsSync(join(dataDir, 'pglite'))).toBe(true);

    // The admin command, while the stack runs (it reaches PGlite through the stack).
    const apiKey = await cliCustomerKey(env, 'holder@example.test', SIRETS.acme);
    expect(apiKey).toMatch(/^cfk_/);

    const order = await createRgsStarOrder(base, apiKey);
    expect(order.status).toBe('awaiting_evidence');

    expect(await ctrlC(), stack.output()).toEqual({ stoppedCleanly: true });
    // The dev server went with it, and the stack record is gone.
    expect(await accepts(Number(env.TEMPORAL_DEV_PORT))).toBe(false);
    expect(await accepts(Number(env.PORT))).toBe(false);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);

    const warm = await stack.start();
    const read = await fetch(`${base}/v1/orders/${order.id}`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as OrderView).status).toBe('awaiting_evidence');
    // The workflow itself survived too: the order is still running in the dev server's SQLite file.
    const stackRecord = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { temporalAddress: string };
    expect(stackRecord.temporalAddress).toBe(`127.0.0.1:${env.TEMPORAL_DEV_PORT}`);
    const describe = spawnSync(inject('temporalCliPath'), ['workflow', 'describe', '--address', stackRecord.temporalAddress, '-w', `order-${order.id}`, '-o', 'json'], {
      encoding: 'utf8',
    });
    expect(describe.status, describe.stderr).toBe(0);
    const described = JSON.parse(describe.stdout) as { workflowExecutionInfo: { status: string } };
    expect(described.workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');

    console.log(`npm start: cold start to healthy ${cold.readyMs} ms, warm restart ${warm.readyMs} ms`);
    expect(await ctrlC(), stack.output()).toEqual({ stoppedCleanly: true });
  }, 240_000);
});
