/**
 * The stack the `lifecycle`, `baseline` and `parked` scenarios start for themselves, on loopback only, as production
 * runs it: the pinned Temporal dev server (its SQLite file in WAL mode, as `npm start` runs it), a fresh Postgres
 * database (migrated, dropped at the end), the worker and the API each in its own OS process (worker/main.ts and
 * api/main.ts under tsx, with a prebuilt workflow bundle), a real SMTP server and a server speaking Twilio's API (the
 * test fakes) in the bench process. Accounts are rows made directly in the database, before anything is timed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { loadSecrets } from '../../config/secrets.js';
import { dataConverterFor, payloadCodecFromSecrets } from '../../config/payload-codec.js';
import { createUser, issueApiKey, upsertOrganisation } from '../../db/accounts.js';
import { openPostgres, type DatabaseHandle } from '../../db/client.js';
import type { Role } from '../../domain/roles.js';
import { startFakeSmtp, type FakeSmtp } from '../../test/fakes/smtp.js';
import { startFakeTwilio, type FakeTwilio } from '../../test/fakes/twilio.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions.js';
import { bundleWorkflows } from '../../worker/worker.js';
import { startDevServer, type DevServer } from '../dev-server.js';
import { createMigratedDatabase, dropDatabase, freePort } from '../scratch.js';
import { resolveBinary } from '../temporal-binaries.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where the fresh database is created (and dropped); trust auth on loopback. */
export const ADMIN_DATABASE_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SIRET = '73282932000074';
const TWILIO_FROM = '+33700000000';
/** temporal.api.enums.v1.TaskQueueType */
const TASK_QUEUE_TYPE = { workflow: 1, activity: 2 } as const;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ChildHandle {
  readonly name: string;
  /** The task queue of a worker. */
  readonly queue?: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
  output(): string;
}

function spawnNode(name: string, script: string, env: NodeJS.ProcessEnv, nodeArgs: readonly string[]): ChildHandle {
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000);
  };
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (child.pid === undefined) throw new Error(`${name}: the process did not start`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, child, pid: child.pid, exited, output: () => output };
}

const running = (h: ChildHandle): boolean => h.child.exitCode === null && h.child.signalCode === null;

/** SIGTERM (the process drains and exits, writing a --cpu-prof profile), SIGKILL after `graceMs`. */
export async function stopChild(h: ChildHandle, graceMs = 20_000): Promise<void> {
  if (!running(h)) return;
  h.child.kill('SIGTERM');
  const timer = setTimeout(() => h.child.kill('SIGKILL'), graceMs);
  await h.exited;
  clearTimeout(timer);
}

export interface Account {
  readonly userId: string;
  readonly key: string;
  readonly phone: string | null;
}

export interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export interface StackOptions {
  /** Start the API process (the baseline alone needs none). */
  readonly api: boolean;
  /** Node flags of the worker and API processes, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  readonly nodeArgs?: readonly string[];
  /** LOG_LEVEL of the worker and API (default warn: per-request logs would measure the log pipe). */
  readonly logLevel?: string;
  /** Also start the engine baseline's worker (scripts/bench/baseline-worker.ts) on this task queue, during the setup. */
  readonly baselineQueue?: string;
  /**
   * Use these instead of starting a dev server, creating a database and bundling the workflows (the e2e smoke test
   * passes its run's): nothing of them is stopped or dropped at the end, and the server's CPU is not measured.
   */
  /** The caller's server, database (its CA made by the key ceremony) and the SoftHSM2 configuration of its tokens. */
  readonly external?: { readonly temporalAddress: string; readonly databaseUrl: string; readonly bundlePath: string; readonly masterKey: string; readonly softHsmConf: string };
  readonly log: (line: string) => void;
}

export interface BenchStack {
  readonly temporalAddress: string;
  readonly databaseUrl: string;
  readonly databaseName: string;
  readonly taskQueue: string;
  readonly baseUrl: string;
  readonly db: DatabaseHandle;
  readonly client: Client;
  readonly connection: Connection;
  readonly smtp: FakeSmtp;
  readonly twilio: FakeTwilio;
  /** null when the bench uses a server it did not start. */
  readonly temporalPid: number | null;
  /** How long each part took to be ready, ms (not part of any figure). */
  readonly setupMs: Record<string, number>;
  worker(): ChildHandle;
  api(): ChildHandle | undefined;
  /** The baseline's worker, when StackOptions.baselineQueue was given. */
  baselineWorker(): ChildHandle | undefined;
  /** Starts the product's worker process and waits until it polls both task queue types. */
  startWorker(): Promise<ChildHandle>;
  stopWorker(): Promise<void>;
  /** Any worker entry (the baseline's) on its own task queue, same Temporal and codec environment. */
  startCustomWorker(name: string, script: string, taskQueue: string, env?: Record<string, string>): Promise<ChildHandle>;
  account(role: Role, opts?: { phone?: string | null }): Promise<Account>;
  http<T = unknown>(method: string, path: string, opts?: { key?: string; json?: unknown }): Promise<HttpAnswer<T>>;
  close(): Promise<void>;
}

async function timed<T>(setupMs: Record<string, number>, name: string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await run();
  setupMs[name] = Math.round(performance.now() - t0);
  return out;
}

export async function startBenchStack(opts: StackOptions): Promise<BenchStack> {
  const { log } = opts;
  const setupMs: Record<string, number> = {};
  const cleanups: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        log(`cleanup: ${(err as Error).message}`);
      }
    }
  };
  try {
    const workDir = mkdtempSync(join(tmpdir(), 'certflow-bench-'));
    cleanups.push(() => Promise.resolve(rmSync(workDir, { recursive: true, force: true })));
    const ext = opts.external;
    const masterKey = ext?.masterKey ?? randomBytes(32).toString('base64');
    const databaseName = ext === undefined ? `certflow_bench_${randomBytes(6).toString('hex')}` : new URL(ext.databaseUrl).pathname.slice(1);
    const taskQueue = `bench-${randomUUID()}`;
    const [temporalPort, uiPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);

    const cli = resolveBinary('cli');
    const startTemporal = (): Promise<DevServer> =>
      startDevServer({
        cliPath: cli.path,
        ip: '127.0.0.1',
        port: temporalPort,
        uiPort,
        dbFile: join(workDir, 'temporal', 'temporal.db'),
        namespace: 'default',
        searchAttributes: SEARCH_ATTRIBUTE_KEYS,
        logFile: join(workDir, 'temporal', 'server.log'),
        readyTimeoutMs: 120_000,
      });
    const startDb = async (): Promise<string> => {
      const url = await createMigratedDatabase(ADMIN_DATABASE_URL, databaseName);
      cleanups.push(() => dropDatabase(ADMIN_DATABASE_URL, databaseName));
      return url;
    };
    const bundleTo = async (path: string): Promise<string> => {
      writeFileSync(path, await bundleWorkflows({ warn: (m) => log(`bundle: ${m}`), error: (m) => log(`bundle: ${m}`) }));
      return path;
    };
    const [devServer, databaseUrl, bundlePath, smtp, twilio] = await Promise.all([
      ext === undefined ? timed(setupMs, 'temporal', startTemporal) : Promise.resolve(null),
      ext === undefined ? timed(setupMs, 'database', startDb) : Promise.resolve(ext.databaseUrl),
      ext === undefined ? timed(setupMs, 'bundle', () => bundleTo(join(workDir, 'workflows.js'))) : Promise.resolve(ext.bundlePath),
      startFakeSmtp(),
      startFakeTwilio(),
    ]);
    if (devServer !== null) cleanups.push(() => devServer.stop());
    cleanups.push(() => smtp.close());
    cleanups.push(() => twilio.close());
    const temporalAddress = devServer?.address ?? (ext as NonNullable<typeof ext>).temporalAddress;
    log(`Temporal ${devServer === null ? 'server' : 'dev server'} ${temporalAddress}${devServer === null ? '' : ` (pid ${devServer.pid})`}, database ${databaseName}, task queue ${taskQueue}`);

    const db = openPostgres(databaseUrl, 4);
    cleanups.push(() => db.close());
    const secrets = loadSecrets({ MASTER_KEY: masterKey, DATA_DIR: workDir, embeddedDatabase: false, PAYMENT_WEBHOOK_SECRET: undefined });
    const connection = await Connection.connect({ address: temporalAddress });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default', dataConverter: dataConverterFor(payloadCodecFromSecrets(secrets)) });

    const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      MASTER_KEY: masterKey,
      SMTP_URL: smtp.url,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM,
      TWILIO_API_URL: twilio.url,
      DATA_DIR: join(workDir, 'data'),
      LOG_LEVEL: opts.logLevel ?? 'warn',
      WORKFLOW_BUNDLE_PATH: bundlePath,
      // The CA's tokens: the caller's, or the ones the ceremony below made under DATA_DIR (the embedded default).
      ...(ext !== undefined ? { SOFTHSM2_CONF: ext.softHsmConf } : {}),
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      ...extra,
    });
    const nodeArgs = opts.nodeArgs ?? [];
    if (ext === undefined) {
      // A database of the bench's own: its CA comes from the key ceremony, as an operator runs it before the first start.
      const made = await timed(setupMs, 'ceremony', () =>
        Promise.resolve(spawnSync(process.execPath, ['--import', 'tsx', 'scripts/ceremony.ts', 'init'], { cwd: ROOT, env: env(), encoding: 'utf8' })),
      );
      if (made.status !== 0) throw new Error(`the key ceremony failed (exit ${made.status ?? made.signal}):\n${made.stderr}${made.stdout}`);
    }

    const whenPolling = async (h: ChildHandle, queue: string, timeoutMs = 120_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!running(h)) throw new Error(`${h.name} ${h.pid} exited before polling:\n${h.output()}`);
        const types = await Promise.all(
          Object.values(TASK_QUEUE_TYPE).map((taskQueueType) =>
            connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: queue }, taskQueueType }),
          ),
        );
        if (types.every((t) => t.pollers.some((p) => p.identity?.startsWith(`${h.pid}@`) === true))) return;
        if (Date.now() > deadline) throw new Error(`${h.name} ${h.pid} not polling after ${timeoutMs} ms:\n${h.output()}`);
        await sleep(100);
      }
    };

    const children: ChildHandle[] = [];
    cleanups.push(async () => {
      await Promise.all(children.map((c) => stopChild(c)));
    });
    let worker: ChildHandle | undefined;
    const startWorker = async (): Promise<ChildHandle> => {
      const h = spawnNode('worker', 'worker/main.ts', env(), nodeArgs);
      children.push(h);
      await whenPolling(h, taskQueue);
      worker = h;
      return h;
    };
    let api: ChildHandle | undefined;
    let baselineWorker: ChildHandle | undefined;
    const baseUrl = `http://127.0.0.1:${apiPort}`;
    const startCustomWorker = async (name: string, script: string, queue: string, extra: Record<string, string> = {}): Promise<ChildHandle> => {
      const h = { ...spawnNode(name, script, env({ TEMPORAL_TASK_QUEUE: queue, ...extra }), nodeArgs), queue };
      children.push(h);
      await whenPolling(h, queue);
      return h;
    };
    // The processes start side by side: each is seconds of module loading on a small machine.
    await Promise.all([
      timed(setupMs, 'worker', startWorker),
      opts.baselineQueue === undefined
        ? undefined
        : timed(setupMs, 'baseline-worker', async () => {
            baselineWorker = await startCustomWorker('baseline-worker', 'scripts/bench/baseline-worker.ts', opts.baselineQueue as string);
          }),
      !opts.api
        ? undefined
        : timed(setupMs, 'api', async () => {
        const h = spawnNode('api', 'api/main.ts', env(), nodeArgs);
        children.push(h);
        const deadline = Date.now() + 120_000;
        for (;;) {
          if (!running(h)) throw new Error(`api exited during start-up:\n${h.output()}`);
          const ok = await fetch(`${baseUrl}/healthz`).then((r) => r.ok, () => false);
          if (ok) break;
          if (Date.now() > deadline) throw new Error(`api not answering on ${baseUrl}:\n${h.output()}`);
          await sleep(100);
        }
        api = h;
      }),
    ]);

    const org = await upsertOrganisation(db.db, { siret: SIRET, name: 'ACME', publicAdministration: false, locality: 'Paris' });
    let accounts = 0;
    return {
      temporalAddress,
      databaseUrl,
      databaseName,
      taskQueue,
      baseUrl,
      db,
      client,
      connection,
      smtp,
      twilio,
      temporalPid: devServer?.pid ?? null,
      setupMs,
      worker: () => {
        if (worker === undefined) throw new Error('no worker');
        return worker;
      },
      api: () => api,
      baselineWorker: () => baselineWorker,
      startWorker,
      async stopWorker() {
        if (worker !== undefined) await stopChild(worker);
      },
      startCustomWorker,
      async account(role, o = {}) {
        const inOrganisation = role === 'customer' || role === 'agent' || role === 'org_admin';
        const user = await createUser(db.db, {
          email: `bench-${role}-${++accounts}-${randomUUID().slice(0, 8)}@example.test`,
          role,
          organisationId: inOrganisation ? org.id : null,
          givenName: 'Camille',
          surname: 'Durand',
          phone: o.phone ?? null,
          // The bench drives staff actions with keys, as an admin would allow them.
          staffApiAccess: !inOrganisation,
        });
        return { userId: user.id, key: await issueApiKey(db.db, user.id), phone: user.phone };
      },
      async http(method, path, o = {}) {
        const headers: Record<string, string> = {};
        if (o.key !== undefined) headers.authorization = `Bearer ${o.key}`;
        let body: string | undefined;
        if (o.json !== undefined) {
          headers['content-type'] = 'application/json';
          body = JSON.stringify(o.json);
        }
        const res = await fetch(baseUrl + path, { method, headers, body });
        const text = await res.text();
        const parsed: unknown = /json/.test(res.headers.get('content-type') ?? '') && text !== '' ? JSON.parse(text) : text;
        return { status: res.status, body: parsed as never };
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** A distinct French mobile number per holder, so each SMS is told apart by its recipient. */
export const phoneOf = (i: number): string => `+336${String(10_000_000 + i).padStart(8, '0')}`;
