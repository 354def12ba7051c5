/**
 * `npm start` as a user runs it, for the end-to-end tests: its own process group (so Ctrl-C reaches every process of
 * it), a fresh data folder, free loopback ports, its output kept for the assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { reapOrphanedDevServer } from '../../scripts/embedded-stack.js';
import { freePort } from '../../scripts/scratch.js';
import type { OrderView } from '../../domain/order.js';
import { httpClient, rgsStarOrder } from '../support.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * SIGINT to the whole process group; resolves once every process of the group has closed its output. A group still
 * alive after 30 s is killed, so a hung stack fails its test instead of hanging the run.
 */
export async function interruptGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const closed = new Promise<void>((resolve) => (child.stdout?.readableEnded === true ? resolve() : child.once('close', () => resolve())));
  try {
    process.kill(-child.pid, 'SIGINT');
  } catch {
    // the group is already gone
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone in the meantime
    }
  }, 30_000);
  await closed;
  clearTimeout(timer);
}

export interface EmbeddedStack {
  /** The environment `npm start` and `npm run cli` run with (embedded defaults: no DATABASE_URL, no TEMPORAL_ADDRESS). */
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  readonly base: string;
  /** Everything the stack printed since its last start. */
  output(): string;
  /** Starts `npm start` and waits until /healthz answers (90 s at most). */
  start(): Promise<{ readyMs: number }>;
  /** Ctrl-C, as a terminal sends it; nothing if it is not running. */
  stop(): Promise<void>;
  /** Stops it, stops a dev server left behind if the stack had to be killed, removes the data folder. */
  dispose(): Promise<void>;
}

/**
 * `bundle: 'sources'` makes the stack bundle the workflows itself, as the Quick start does; by default it is given the
 * run's prebuilt bundle (WORKFLOW_BUNDLE_PATH), as a production worker is, which spares webpack at every start.
 */
export async function embeddedStack(opts: { logLevel: string; withoutMasterKey?: boolean; env?: Record<string, string>; bundle?: 'prebuilt' | 'sources' }): Promise<EmbeddedStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'certflow-e2e-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: opts.logLevel, TEMPORAL_CLI_PATH: inject('temporalCliPath') };
  if (opts.bundle !== 'sources') env.WORKFLOW_BUNDLE_PATH = inject('workflowBundlePath');
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  // The embedded stack's own tokens under its DATA_DIR (its ceremony makes them at first start), not the run's.
  delete env.SOFTHSM2_CONF;
  if (opts.withoutMasterKey === true) delete env.MASTER_KEY;
  Object.assign(env, opts.env);
  // Every listening port free, the metrics exporters' too: test files run side by side.
  for (const name of ['PORT', 'TEMPORAL_DEV_PORT', 'TEMPORAL_UI_PORT', 'PGLITE_PORT', 'TEMPORAL_METRICS_PORT', 'WORKER_METRICS_PORT']) env[name] = String(await freePort());
  let child: ChildProcess | undefined;
  let output = '';

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running !== undefined) await interruptGroup(running);
  };

  return {
    env,
    dataDir,
    base: `http://127.0.0.1:${env.PORT}`,
    output: () => output,
    async start() {
      const started = Date.now();
      output = '';
      const stack = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      child = stack;
      stack.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      stack.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        if (stack.exitCode !== null) throw new Error(`npm start exited with ${stack.exitCode}:\n${output}`);
        if (await fetch(`http://127.0.0.1:${env.PORT}/healthz`).then((r) => r.ok, () => false)) return { readyMs: Date.now() - started };
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`npm start was not healthy within 90 s:\n${output}`);
    },
    stop,
    async dispose() {
      await stop();
      reapOrphanedDevServer(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A production entry point (`npm run start:api`, `start:worker`) in a process group of its own, its output kept. */
export interface ScriptProcess {
  readonly child: ChildProcess;
  /** What it wrote to stdout (its JSON log lines). */
  stdout(): string;
  /** stdout and stderr together, for a failure message. */
  output(): string;
  /** SIGTERM to its group; resolves once it has closed its output. */
  stop(): Promise<void>;
}

export function runScript(script: string, env: NodeJS.ProcessEnv): ScriptProcess {
  let stdout = '';
  let stderr = '';
  const child = spawn('npm', ['run', '--silent', script], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    stdout: () => stdout,
    output: () => stdout + stderr,
    async stop() {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await closed;
    },
  };
}

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The JSON object of its last line (the commands' `--json` answer). */
  json<T = Record<string, unknown>>(): T;
}

/**
 * `npm run cli -- …args` with `env`, without blocking the test's event loop: a blocking spawn kept the test from
 * seeing the API close an idle kept-alive connection, so the next fetch went out on a dead socket ("other side
 * closed") whenever the command took longer than the server's keep-alive timeout.
 */
export function adminCli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'cli', '--', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (status) =>
      resolve({ status, stdout, stderr, json: <T>() => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T }),
    );
  });
}

/** A customer of the organisation `siret` (Camille Durand unless named), made by the admin CLI: the API key. */
export async function cliCustomerKey(env: NodeJS.ProcessEnv, email: string, siret: string, opts: { phone?: string; givenName?: string; surname?: string } = {}): Promise<string> {
  const args = ['users', 'create', '--role', 'customer', '--email', email, '--org-siret', siret, '--org-name', 'ACME'];
  args.push('--phone', opts.phone ?? '+33612345678', '--given-name', opts.givenName ?? 'Camille', '--surname', opts.surname ?? 'Durand', '--json');
  const run = await adminCli(env, ...args);
  if (run.status !== 0) throw new Error(`cli users create failed (${run.status}):\n${run.stderr}`);
  return run.json<{ apiKey: string }>().apiKey;
}

/** An RGS* order (test/support.ts rgsStarOrder) created over HTTP on the API at `base` with the customer's key. */
export async function createRgsStarOrder(base: string, apiKey: string): Promise<OrderView> {
  const created = await httpClient(base)<OrderView>('POST', '/v1/orders', { key: apiKey, json: rgsStarOrder() });
  if (created.status !== 201) throw new Error(`POST /v1/orders answered ${created.status}: ${JSON.stringify(created.body)}`);
  return created.body;
}

/** What the separate API and worker processes of a test share: this run's database, server and key, a free port. */
export async function separateProcessesEnv(taskQueuePrefix: string, extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  return {
    ...process.env,
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `${taskQueuePrefix}-${randomUUID()}`,
    MASTER_KEY: inject('masterKey'),
    // The run's tokens, where the global set-up's ceremony made the run database's CA keys.
    SOFTHSM2_CONF: inject('softHsmConf'),
    PKCS11_MODULE: inject('pkcs11ModulePath'),
    // The run's prebuilt bundle, as a production worker is given it: no webpack at each worker start.
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    PORT: String(await freePort()),
    // The metrics exporters on free ports too: test files run side by side.
    TEMPORAL_METRICS_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** The base URL of an API process started with `env`, once its /readyz answers 200 (60 s at most). */
export async function apiReady(env: NodeJS.ProcessEnv, api: ScriptProcess): Promise<string> {
  const base = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${base}/readyz`).catch(() => undefined);
    if (ready?.status === 200) return base;
    if (Date.now() > deadline) throw new Error(`API not ready:\n${api.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
