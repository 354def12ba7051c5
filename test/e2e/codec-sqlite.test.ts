/**
 * What the "done when" asks of the embedded stack: after an order, the dev server's SQLite file (and its
 * write-ahead log) holds no email or phone of the holder in clear, while the order's id, which is not encrypted, is
 * found there: the search really reads the store.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { OrderView } from '../../domain/order.js';
import { reapOrphanedDevServer } from '../../scripts/embedded-stack.js';
import { rgsStarOrder, SIRETS } from '../support.js';
import { interruptGroup } from './process-group.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EMAIL = 'codec.holder@example.test';
const PHONE = '+33687654321';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const dataDir = mkdtempSync(join(tmpdir(), 'certflow-codec-'));
const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', TEMPORAL_CLI_PATH: inject('temporalCliPath') };
delete env.DATABASE_URL;
delete env.TEMPORAL_ADDRESS;
delete env.MASTER_KEY;
let stack: ChildProcess | undefined;
let output = '';
const base = (): string => `http://127.0.0.1:${env.PORT}`;

/** Ctrl-C to the whole process group, as a terminal sends it. */
async function stop(): Promise<void> {
  const child = stack;
  stack = undefined;
  if (child !== undefined) await interruptGroup(child);
}

afterAll(async () => {
  await stop();
  reapOrphanedDevServer(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the embedded dev server store', () => {
  it('keeps no holder email or phone in clear after an order', async () => {
    env.PORT = String(await freePort());
    env.TEMPORAL_DEV_PORT = String(await freePort());
    env.TEMPORAL_UI_PORT = String(await freePort());
    env.PGLITE_PORT = String(await freePort());
    stack = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    stack.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    stack.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (stack.exitCode !== null) throw new Error(`npm start exited with ${stack.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start was not healthy within 90 s:\n${output}`);
      if (await fetch(`${base()}/healthz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 250));
    }

    const cli = spawnSync(
      'npm',
      ['run', '--silent', 'cli', '--', 'users', 'create', '--role', 'customer', '--email', EMAIL, '--org-siret', SIRETS.acme, '--org-name', 'ACME', '--phone', PHONE, '--json'],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const { apiKey } = JSON.parse(cli.stdout.trim().split('\n').at(-1) ?? '{}') as { apiKey: string };
    const created = await fetch(`${base()}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(rgsStarOrder()),
    });
    expect(created.status).toBe(201);
    const order = (await created.json()) as OrderView;
    // Stopping checkpoints the write-ahead log into the file; the log is read too in case it was not.
    await stop();

    const dir = join(dataDir, 'temporal');
    expect(existsSync(join(dir, 'temporal.db'))).toBe(true);
    const store = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('temporal.db')).map((f) => readFileSync(join(dir, f))));
    expect(store.includes(order.id)).toBe(true);
    for (const clear of [EMAIL, PHONE, PHONE.slice(3)]) {
      expect(store.includes(clear), clear).toBe(false);
      expect(store.includes(Buffer.from(clear, 'utf16le')), `${clear} (UTF-16)`).toBe(false);
    }
  }, 180_000);
});
