/**
 * The README's first command, for real: `npm start` on a fresh data folder brings up the dev server, PGlite, the
 * worker and the API; the admin CLI provisions a key while it runs; an order survives Ctrl-C and a restart.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { OrderView } from '../../domain/order.js';
import { reapOrphanedDevServer } from '../../scripts/embedded-stack.js';
import { rgsStarOrder, SIRETS } from '../support.js';
import { interruptGroup } from './process-group.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

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

const dataDir = mkdtempSync(join(tmpdir(), 'certflow-e2e-'));
const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'info', TEMPORAL_CLI_PATH: inject('temporalCliPath') };
delete env.DATABASE_URL;
delete env.TEMPORAL_ADDRESS;
let stack: ChildProcess | undefined;
let output = '';

/** `npm start` in its own process group, as a terminal runs it, so that Ctrl-C reaches every process of it. */
async function startStack(): Promise<{ readyMs: number }> {
  const started = Date.now();
  output = '';
  stack = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  stack.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  stack.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (stack.exitCode !== null) throw new Error(`npm start exited with ${stack.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${base()}/healthz`)).ok) return { readyMs: Date.now() - started };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`npm start was not healthy within 90 s:\n${output}`);
}

/**
 * Ctrl-C as a terminal sends it: SIGINT to the whole process group. npm itself dies of the signal, as it does in a
 * shell; what matters is that the stack under it stops cleanly, so this waits until every process of the group has
 * closed its output, and returns that output's last word.
 */
async function ctrlC(): Promise<{ stoppedCleanly: boolean }> {
  const child = stack;
  if (child?.pid === undefined) return { stoppedCleanly: false };
  await interruptGroup(child);
  stack = undefined;
  return { stoppedCleanly: /"msg":"stopped"/.test(output) && !/"level":[56]0/.test(output) };
}

const base = (): string => `http://127.0.0.1:${env.PORT}`;

afterAll(async () => {
  await ctrlC();
  // If the stack had to be killed outright, its dev server (own process group) is still running: stop it too.
  reapOrphanedDevServer(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start (embedded defaults)', () => {
  it('comes up, takes an order from a CLI-made key, stops cleanly on Ctrl-C and keeps the order across a restart', async () => {
    env.PORT = String(await freePort());
    env.TEMPORAL_DEV_PORT = String(await freePort());
    env.TEMPORAL_UI_PORT = String(await freePort());
    env.PGLITE_PORT = String(await freePort());

    const cold = await startStack();
    expect((await fetch(`${base()}/readyz`)).status).toBe(200);
    expect(await accepts(Number(env.TEMPORAL_UI_PORT))).toBe(true);
    expect(existsSync(join(dataDir, 'temporal', 'temporal.db'))).toBe(true);
    expect(existsSync(join(dataDir, 'pglite'))).toBe(true);

    // The admin command, while the stack runs (it reaches PGlite through the stack).
    const cli = spawnSync(
      'npm',
      ['run', '--silent', 'cli', '--', 'users', 'create', '--role', 'customer', '--email', 'holder@example.test', '--org-siret', SIRETS.acme, '--org-name', 'ACME', '--phone', '+33612345678', '--json'],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const { apiKey } = JSON.parse(cli.stdout.trim().split('\n').at(-1) ?? '{}') as { apiKey: string };
    expect(apiKey).toMatch(/^cfk_/);

    const created = await fetch(`${base()}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(rgsStarOrder()),
    });
    expect(created.status).toBe(201);
    const order = (await created.json()) as OrderView;
    expect(order.status).toBe('awaiting_evidence');

    expect(await ctrlC(), output).toEqual({ stoppedCleanly: true });
    // The dev server went with it, and the stack record is gone.
    expect(await accepts(Number(env.TEMPORAL_DEV_PORT))).toBe(false);
    expect(await accepts(Number(env.PORT))).toBe(false);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);

    const warm = await startStack();
    const read = await fetch(`${base()}/v1/orders/${order.id}`, { headers: { authorization: `Bearer ${apiKey}` } });
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
    expect(await ctrlC(), output).toEqual({ stoppedCleanly: true });
  }, 240_000);
});
