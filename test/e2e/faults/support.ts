/**
 * What the fault tests share: a stack whose workers are separate OS processes (worker/main.ts under tsx, as in
 * production) and whose API runs in the test process, a client that drives a batch of RGS* orders through their
 * whole lifecycle over HTTP the way a patient user does (a 503 is retried, a 500 is a failure), and the checks run
 * after each fault: every order completed, one certificate, every mail and SMS once, every document with its blob.
 *
 * Mails go to a real SMTP server (test/fakes/smtp.ts) and SMS to a server speaking Twilio's API
 * (test/fakes/twilio.ts): what is counted is what left the system.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { createServices, type Services } from '../../../activities/services.js';
import { createApp, readinessChecks } from '../../../api/app.js';
import { closeServer, listen } from '../../../api/server.js';
import { testPkcs11Env } from '../../ca/support.js';
import { runTestCeremony } from '../../ceremony-setup.js';
import { loadConfig } from '../../../config/index.js';
import { createLogger } from '../../../config/logger.js';
import { dataConverterFor, payloadCodecFromSecrets } from '../../../config/payload-codec.js';
import { createUser, issueApiKey, upsertOrganisation } from '../../../db/accounts.js';
import { openPostgres, type DatabaseHandle } from '../../../db/client.js';
import { certificates, documents, orders, sentMessages, tokens } from '../../../db/schema.js';
import type { OrderView } from '../../../domain/order.js';
import type { Role } from '../../../domain/roles.js';
import { minimalPdf, pdfOfSize } from '../../documents/fixtures.js';
import { startFakeSmtp, type FakeSmtp, type ReceivedMail } from '../../fakes/smtp.js';
import { startFakeTwilio, type FakeTwilio } from '../../fakes/twilio.js';
import { rgsStarOrder, SIRETS } from '../../support.js';
import { ROOT } from '../process-group.js';

/** temporal.api.enums.v1.TaskQueueType (the proto package is not a direct dependency). */
const TASK_QUEUE_TYPE_ACTIVITY = 2;
const TWILIO_FROM = '+33700000000';
/** One HTTP call; an Update that waits on a provider being retried takes tens of seconds at most. */
const REQUEST_TIMEOUT_MS = 90_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A small seeded PRNG (mulberry32): the same FAULT_SEED gives the same delays, so a failing run can be replayed. */
export function seededRandom(name: string): { seed: number; int(min: number, max: number): number } {
  const fromEnv = process.env.FAULT_SEED;
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  let a = seed;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  console.log(`[${name}] FAULT_SEED=${seed} (set it to replay these delays)`);
  return { seed, int: (min, max) => min + Math.floor(next() * (max - min + 1)) };
}

export function logger(name: string): (message: string) => void {
  const t0 = Date.now();
  return (message) => console.log(`[${name} +${((Date.now() - t0) / 1000).toFixed(1)}s] ${message}`);
}

// ---- worker processes -------------------------------------------------------------------------------------------

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<void>;
  output(): string;
}

export interface StackOptions {
  /** Names the task queue, the data folder and the log lines. */
  readonly name: string;
  /** Where the API and the workers reach Postgres (a proxy in the database test); the run's database by default. */
  readonly databaseUrl?: string;
  /** Where they reach Temporal (the test's own dev server in the restart test); the run's dev server by default. */
  readonly temporalAddress?: string;
}

export interface FaultStack {
  readonly name: string;
  readonly taskQueue: string;
  readonly dataDir: string;
  readonly smtp: FakeSmtp;
  readonly twilio: FakeTwilio;
  /** The API's own connection (through the proxy, if any). */
  readonly database: DatabaseHandle;
  /** A direct connection to the run's database, for the checks. */
  readonly direct: DatabaseHandle;
  readonly services: Services;
  readonly connection: Connection;
  readonly baseUrl: string;
  readonly workers: WorkerProcess[];
  readonly log: (message: string) => void;
  startWorker(): Promise<WorkerProcess>;
  kill(worker: WorkerProcess, why: string): Promise<void>;
  /** Resolves once a poller of this worker process is seen on the activity task queue. */
  whenPolling(worker: WorkerProcess, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The test file's fault stack: started before its tests, closed after them (also when a test failed). The tests
 * read it through the function returned, which throws if the stack did not start.
 */
export function faultStackForFile(opts: StackOptions): () => FaultStack {
  let stack: FaultStack | undefined;
  beforeAll(async () => {
    stack = await startFaultStack(opts);
  });
  afterAll(async () => {
    await stack?.close();
  });
  return () => {
    if (stack === undefined) throw new Error(`the fault stack ${opts.name} did not start`);
    return stack;
  };
}

export async function startFaultStack(opts: StackOptions): Promise<FaultStack> {
  const log = logger(opts.name);
  const taskQueue = `${opts.name}-${randomUUID()}`;
  const dataDir = mkdtempSync(join(tmpdir(), `certflow-${opts.name}-`));
  const databaseUrl = opts.databaseUrl ?? inject('databaseUrl');
  const temporalAddress = opts.temporalAddress ?? inject('temporalAddress');
  const smtp = await startFakeSmtp();
  const twilio = await startFakeTwilio();
  const workers: WorkerProcess[] = [];

  const workerEnv: NodeJS.ProcessEnv = {
    ...process.env,
    // Several workers run on this one machine: none binds a metrics port (0 turns both off), or the second fails.
    WORKER_METRICS_PORT: '0',
    // The run's tokens (test/global-setup.ts; a database of the test's own gets its ceremony below).
    ...testPkcs11Env(),
    TEMPORAL_METRICS_PORT: '0',
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    MASTER_KEY: inject('masterKey'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: smtp.url,
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM,
    TWILIO_API_URL: twilio.url,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    DATABASE_POOL_SIZE: '5',
    // The run's prebuilt bundle, as a production worker is given: each restart is up in a moment.
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
  };
  // A database of the test's own needs its CA; the run's database reached another way (a proxy) has it already.
  if (opts.databaseUrl !== undefined && new URL(opts.databaseUrl).pathname !== new URL(inject('databaseUrl')).pathname) {
    runTestCeremony({ databaseUrl, masterKey: inject('masterKey'), modulePath: inject('pkcs11ModulePath'), softHsmConf: inject('softHsmConf') });
  }
  const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: databaseUrl, MASTER_KEY: inject('masterKey'), SMTP_URL: smtp.url, ...testPkcs11Env() });
  const database = openPostgres(databaseUrl, 5);
  const direct = openPostgres(inject('databaseUrl'), 2);
  const services = await createServices(config, database.db);
  const connection = await Connection.connect({ address: temporalAddress });
  // The spawned workers derive the same payload codec from the same MASTER_KEY.
  const client = new Client({ connection, namespace: 'default', dataConverter: dataConverterFor(payloadCodecFromSecrets(services.secrets)) });
  const app = createApp({
    db: database.db,
    services,
    deadlines: config.orderDeadlines,
    temporal: client,
    taskQueue,
    log: createLogger(process.env.FAULT_API_LOG ?? 'error'),
    publicBaseUrl: 'http://127.0.0.1',
    readinessChecks: readinessChecks(database, connection),
  });
  const server: Server = await listen(app, '127.0.0.1', 0);
  const baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  log(`task queue ${taskQueue}, API on ${baseUrl}, database ${new URL(databaseUrl).host}, Temporal ${temporalAddress}`);

  function spawnWorker(): WorkerProcess {
    let output = '';
    const keep = (d: Buffer): void => {
      // The tail is enough to tell why a worker did not start.
      output = (output + d.toString()).slice(-20_000);
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { cwd: ROOT, env: workerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.pid === undefined) throw new Error('the worker process did not start');
    const worker: WorkerProcess = { child, pid: child.pid, exited, output: () => output };
    workers.push(worker);
    return worker;
  }

  async function whenPolling(worker: WorkerProcess, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let dead = false;
    void worker.exited.then(() => (dead = true));
    for (;;) {
      if (dead) throw new Error(`worker ${worker.pid} exited before polling:\n${worker.output()}`);
      const pollers = await connection.workflowService
        .describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: TASK_QUEUE_TYPE_ACTIVITY })
        .then((r) => r.pollers, () => []);
      if (pollers.some((p) => p.identity?.startsWith(`${worker.pid}@`) === true)) return;
      if (Date.now() > deadline) throw new Error(`worker ${worker.pid} not polling after ${timeoutMs} ms:\n${worker.output()}`);
      await sleep(100);
    }
  }

  return {
    name: opts.name,
    taskQueue,
    dataDir,
    smtp,
    twilio,
    database,
    direct,
    services,
    connection,
    baseUrl,
    workers,
    log,
    whenPolling,
    async startWorker() {
      const started = Date.now();
      const worker = spawnWorker();
      await whenPolling(worker);
      log(`worker ${worker.pid} polling after ${Date.now() - started} ms`);
      return worker;
    },
    async kill(worker, why) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await worker.exited;
      log(`worker ${worker.pid} killed with SIGKILL (${why})`);
    },
    async close() {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await closeServer(server);
      await connection.close();
      await services.close();
      await database.close();
      await direct.close();
      await smtp.close();
      await twilio.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---- a patient HTTP client ----------------------------------------------------------------------------------------

export interface Answer<T> {
  readonly status: number;
  readonly body: T;
  readonly contentType: string;
}

/** Every answer a dependency outage gave (503s), and anything the API must never answer (5xx other than 503). */
export interface ClientRecord {
  readonly unavailable: { method: string; path: string; status: number; type: string; contentType: string }[];
  readonly broken: { method: string; path: string; status: number; body: string }[];
  /** Requests that failed at the socket (the API itself never goes down in these tests, so this stays empty). */
  readonly networkErrors: string[];
}

export interface Account {
  readonly key: string;
  readonly email: string;
}

export interface Actors {
  readonly holder: Account;
  readonly ra: Account;
  readonly dra: Account;
  readonly phone: string;
}

export interface DrivenOrder {
  readonly index: number;
  readonly id: string;
  readonly phone: string;
  readonly holderKey: string;
  /** SHA-256 of every file the API confirmed (201), by document id. */
  readonly uploaded: Map<string, string>;
  serial: string;
  /** How long each phase took, for the log. */
  readonly timings: Record<string, number>;
}

/** The client: a 503 or a reset is retried after a pause (a user clicks again), anything else is the answer. */
/** What driveOrder counts as steps for one order: creation, 4 uploads and 6 actions. */
export const STEPS_PER_ORDER = 11;

export class PatientClient {
  readonly record: ClientRecord = { unavailable: [], broken: [], networkErrors: [] };
  /** How many orders got past each step of driveOrder, for tests that time a fault on the batch's progress. */
  readonly progress: Record<string, number> = {};
  /** Steps done by the whole batch (creations, uploads, actions): faults are timed on them, not on the clock, so that
   * a fault falls in the middle of the batch whether the machine is quick or loaded. */
  steps = 0;
  private accounts = 0;
  private fileSeq = 0;

  constructor(
    readonly stack: FaultStack,
    /** How long one call keeps retrying before the test gives up on it. */
    readonly patienceMs = 150_000,
  ) {}

  private async once<T>(method: string, path: string, key: string, body?: unknown, form?: () => FormData, headers: Record<string, string> = {}): Promise<Answer<T> | undefined> {
    let res: Response;
    try {
      res = await fetch(this.stack.baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: form !== undefined ? form() : body !== undefined ? JSON.stringify(body) : undefined,
        // A hung API (a database driver waiting for ever) fails the test with its request, not at the test's timeout.
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`);
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      this.record.networkErrors.push(`${method} ${path}: ${(err as Error).message} (${cause?.code ?? ''} ${cause?.message ?? ''})`);
      this.stack.log(`network error: ${this.record.networkErrors.at(-1) ?? ''}`);
      return undefined;
    }
    const text = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    if (res.status >= 500) {
      if (res.status === 503) {
        const type = (() => {
          try {
            return String((JSON.parse(text) as { type?: unknown }).type);
          } catch {
            return '(not JSON)';
          }
        })();
        this.record.unavailable.push({ method, path, status: res.status, type, contentType });
        return undefined;
      }
      this.record.broken.push({ method, path, status: res.status, body: text.slice(0, 500) });
      throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
    }
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T, contentType };
  }

  /** Retries while the answer is a 503 or a socket error; `first` says whether an earlier attempt may have acted. */
  async call<T>(method: string, path: string, key: string, opts: { json?: unknown; form?: () => FormData; headers?: Record<string, string> } = {}): Promise<Answer<T> & { retried: boolean }> {
    const deadline = Date.now() + this.patienceMs;
    let retried = false;
    for (let pause = 250; ; pause = Math.min(pause * 2, 2000)) {
      const answer = await this.once<T>(method, path, key, opts.json, opts.form, opts.headers);
      if (answer !== undefined) return { ...answer, retried };
      if (Date.now() > deadline) throw new Error(`${method} ${path}: still unavailable after ${this.patienceMs} ms`);
      retried = true;
      await sleep(pause);
    }
  }

  async account(role: Role, phone: string | null = null): Promise<Account> {
    const db = this.stack.direct.db;
    const inOrganisation = role === 'customer' || role === 'agent' || role === 'org_admin';
    const org = inOrganisation ? await upsertOrganisation(db, { siret: SIRETS.acme, name: 'ACME', publicAdministration: false }) : undefined;
    const user = await createUser(db, {
      email: `${this.stack.name}-${role}-${++this.accounts}-${randomUUID().slice(0, 8)}@example.test`,
      role,
      organisationId: org?.id ?? null,
      givenName: 'Camille',
      surname: 'Durand',
      phone,
      // Staff keys allowed, as an admin would.
      staffApiAccess: !inOrganisation,
    });
    return { key: await issueApiKey(db, user.id), email: user.email };
  }

  async actors(index: number): Promise<Actors> {
    // Distinct per order and per stack: the SMS of an order are told apart by their recipient.
    const phone = `+336${String(10_000_000 + ((index * 7_919 + Number.parseInt(this.stack.taskQueue.slice(-6), 16)) % 89_999_999))}`;
    return { holder: await this.account('customer', phone), ra: await this.account('ra_operator'), dra: await this.account('dra_operator'), phone };
  }

  async getOrder(key: string, id: string): Promise<OrderView> {
    const answer = await this.call<OrderView>('GET', `/v1/orders/${id}`, key);
    if (answer.status !== 200) throw new Error(`GET order ${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  async until(key: string, id: string, done: (o: OrderView) => boolean, timeoutMs: number): Promise<OrderView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const order = await this.getOrder(key, id);
      if (done(order)) return order;
      if (Date.now() > deadline) throw new Error(`order ${id} stuck in ${order.status} (waiting on ${order.waitingOn}) after ${timeoutMs} ms`);
      await sleep(300);
    }
  }

  /**
   * One action on the order. After a retried 503 the earlier attempt may have gone through: a 409 then is checked
   * against the order, which must already be where the action leads.
   */
  async act(key: string, id: string, path: string, json: unknown, reached: (o: OrderView) => boolean, viewerKey: string): Promise<OrderView> {
    const answer = await this.call<OrderView>('POST', `/v1/orders/${id}${path}`, key, { json });
    if (answer.status === 200) {
      this.steps++;
      return answer.body;
    }
    if (answer.status === 409 && answer.retried) {
      const now = await this.getOrder(viewerKey, id);
      if (reached(now)) {
        this.steps++;
        return now;
      }
    }
    throw new Error(`POST ${path} on ${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }

  /** A PDF of its own (a distinct size, hence a distinct SHA-256), so that every stored blob is told apart. */
  private nextPdf(): Buffer {
    return pdfOfSize(minimalPdf().length + 1 + this.fileSeq++);
  }

  async upload(key: string, id: string, documentType: string, uploaded: Map<string, string>): Promise<{ document: { id: string }; order: OrderView }> {
    const bytes = this.nextPdf();
    const form = (): FormData => {
      const f = new FormData();
      f.append('documentType', documentType);
      f.append('file', new Blob([new Uint8Array(bytes)]), `${documentType}.pdf`);
      return f;
    };
    const answer = await this.call<{ document: { id: string }; order: OrderView }>('POST', `/v1/orders/${id}/evidence`, key, { form });
    if (answer.status !== 201) throw new Error(`upload ${documentType} on ${id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    uploaded.set(answer.body.document.id, createHash('sha256').update(bytes).digest('hex'));
    this.steps++;
    return answer.body;
  }

  /**
   * One RGS* order from creation to `completed`: evidence, review, face to face, originals, payment, issuance,
   * acceptance, SMS unlock code, unlock. `timeoutMs` bounds each wait on the workflow.
   */
  async driveOrder(index: number, timeoutMs: number): Promise<DrivenOrder> {
    const log = (m: string): void => this.stack.log(`order ${index}: ${m}`);
    const a = await this.actors(index);
    const timings: Record<string, number> = {};
    let mark = Date.now();
    const lap = (phase: string): void => {
      timings[phase] = Date.now() - mark;
      mark = Date.now();
    };
    const created = await this.call<OrderView>('POST', '/v1/orders', a.holder.key, {
      json: rgsStarOrder({ product: 'ID_RGS_3STAR' }),
      // A retried creation after a 503 must not make a second order.
      headers: { 'Idempotency-Key': `${this.stack.name}-${index}-${randomUUID()}` },
    });
    if (created.status !== 201 && created.status !== 202) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
    const id = created.body.id;
    const order: DrivenOrder = { index, id, phone: a.phone, holderKey: a.holder.key, uploaded: new Map(), serial: '', timings };
    log(`created ${id} (${created.status}), holder phone ${a.phone}`);
    if (created.status === 202) {
      // Started, not yet recorded by the workflow (no worker took its first task in time): the order appears later.
      const deadline = Date.now() + timeoutMs;
      while ((await this.call('GET', `/v1/orders/${id}`, a.holder.key)).status === 404) {
        if (Date.now() > deadline) throw new Error(`order ${id} answered 202 and never appeared`);
        await sleep(300);
      }
    }
    lap('create');
    this.steps++;

    for (const doc of ['holder_identity', 'organisation_registration', 'signed_order_form']) await this.upload(a.holder.key, id, doc, order.uploaded);
    lap('evidence');
    const isPast = (...states: string[]) => (o: OrderView) => !states.includes(o.status);
    await this.act(a.holder.key, id, '/submit', {}, isPast('awaiting_documents', 'draft'), a.holder.key);
    await this.act(a.ra.key, id, '/review', { decision: 'approve' }, isPast('awaiting_documents', 'under_review'), a.holder.key);
    const form = await this.upload(a.dra.key, id, 'intervention_form', order.uploaded);
    await this.act(a.dra.key, id, '/face-to-face', { interventionFormDocumentId: form.document.id, meetingDate: '2026-11-20' }, isPast('awaiting_face_to_face'), a.holder.key);
    await this.act(a.ra.key, id, '/originals-received', {}, isPast('awaiting_face_to_face', 'awaiting_originals'), a.holder.key);
    lap('review');
    this.progress.reviewed = (this.progress.reviewed ?? 0) + 1;
    const paid = await this.act(a.ra.key, id, '/payment', { status: 'received', reference: `VIR-${this.stack.name}-${index}` }, (o) => o.payment.status === 'received', a.holder.key);
    expect(paid.payment.status).toBe('received');
    const issued = await this.until(a.holder.key, id, (o) => o.status === 'awaiting_acceptance', timeoutMs);
    order.serial = issued.certificateSerial ?? '';
    expect(order.serial).toMatch(/^[0-9a-f]{16,}$/);
    lap('payment-to-issued');
    log(`issued, serial ${order.serial}`);

    await this.act(a.holder.key, id, '/acceptance', { decision: 'accept' }, (o) => o.acceptance === 'accepted', a.holder.key);
    // The Update returns once the SMS is with the provider. A user who got an error (503) looks at the phone before
    // asking for another code; the client does the same, so that one request is one SMS.
    let sms = this.stack.twilio.messages.find((m) => m.to === a.phone);
    while (sms === undefined) {
      const asked = await this.once<{ expiresAt: string }>('POST', `/v1/orders/${id}/unlock-code`, a.holder.key, {});
      if (asked !== undefined && asked.status !== 200) throw new Error(`unlock-code answered ${asked.status}: ${JSON.stringify(asked.body)}`);
      sms = await this.stack.twilio.waitFor((m) => m.to === a.phone, asked === undefined ? 15_000 : timeoutMs).catch(() => undefined);
      if (sms === undefined && asked !== undefined) throw new Error(`unlock-code answered 200 but no SMS reached ${a.phone}`);
    }
    const code = /\b(\d{6})\b/.exec(sms.body)?.[1];
    expect(code).toBeDefined();
    const verified = await this.call<{ unlockPin: string }>('POST', `/v1/orders/${id}/unlock-code/verify`, a.holder.key, { json: { code } });
    if (verified.status !== 200) {
      // The PIN is shown once: after a 503 that did go through, the order is already unlocked.
      const now = verified.retried && verified.status === 409 ? await this.getOrder(a.holder.key, id) : undefined;
      if (now === undefined || (now.status !== 'completed' && now.status !== 'awaiting_unlock')) {
        throw new Error(`verify answered ${verified.status}: ${JSON.stringify(verified.body)}`);
      }
    } else {
      expect(verified.body.unlockPin).toMatch(/^\d{8}$/);
    }
    const done = await this.until(a.holder.key, id, (o) => o.status === 'completed', timeoutMs);
    expect(done.certificateSerial).toBe(order.serial);
    lap('accept-to-completed');
    log(`completed (${JSON.stringify(timings)})`);
    return order;
  }

  /** Drives `count` orders at once; each starts `staggerMs` after the previous one. */
  /** Resolves once the batch has done `n` steps, or has ended (`ended()`): the caller checks which. */
  async afterSteps(n: number, ended: () => boolean): Promise<void> {
    while (this.steps < n && !ended()) await sleep(25);
  }

  async driveBatch(count: number, timeoutMs: number, staggerMs = 300): Promise<DrivenOrder[]> {
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        await sleep(i * staggerMs);
        return this.driveOrder(i + 1, timeoutMs);
      }),
    );
  }
}

// ---- the checks after a fault ------------------------------------------------------------------------------------

/** The mails of one RGS* order driven straight through (no rejection, no deadline reached). */
export const LIFECYCLE_MAILS = ['order_confirmation', 'review_approved', 'certificate_issued', 'order_completed'] as const;

const template = (m: ReceivedMail): string => {
  const value = m.parsed.headers.get('x-certflow-template');
  return typeof value === 'string' ? value : '';
};

export interface CheckOptions {
  /**
   * A worker killed in the milliseconds between the SMTP server's answer and the ledger's `sent` sends the mail again
   * with the same Message-ID (an SMTP relay cannot be asked what it received; activities/notify/ledger.ts). Only the
   * kill tests allow such copies; they are counted and printed. Two different Message-IDs for one event never pass.
   */
  readonly allowSameMessageCopies: boolean;
}

/**
 * Every order completed with one valid certificate and one token; every ledger row sent and each of its messages
 * received (mails by Message-ID, one SMS per order); every document the API confirmed is in the table and its blob
 * reads back with the same SHA-256.
 */
export async function checkBatch(stack: FaultStack, client: PatientClient, driven: readonly DrivenOrder[], opts: CheckOptions): Promise<void> {
  const db = stack.direct.db;
  const ids = driven.map((o) => o.id);
  // The completion mail is the workflow's last step: wait for it, then for the ledger to say `sent` everywhere.
  for (const o of driven) {
    await stack.smtp.waitFor((m) => template(m) === 'order_completed' && (m.parsed.subject ?? '').includes(o.id), 90_000);
  }
  const ledgerDeadline = Date.now() + 15_000;
  let ledger = await db.select().from(sentMessages).where(inArray(sentMessages.orderId, ids));
  while (ledger.some((r) => r.status !== 'sent') && Date.now() < ledgerDeadline) {
    await sleep(200);
    ledger = await db.select().from(sentMessages).where(inArray(sentMessages.orderId, ids));
  }
  let copies = 0;
  const problems: string[] = [];
  for (const o of driven) {
    const [row] = await db.select().from(orders).where(eq(orders.id, o.id));
    const certs = await db.select().from(certificates).where(eq(certificates.orderId, o.id));
    const tokenRows = await db.select().from(tokens).where(eq(tokens.orderId, o.id));
    const docs = await db.select().from(documents).where(eq(documents.orderId, o.id));
    const rows = ledger.filter((r) => r.orderId === o.id);
    const mails = stack.smtp.messages.filter((m) => (m.parsed.subject ?? '').includes(o.id));
    const ids = mails.map((m) => m.parsed.messageId ?? '?');
    const distinctIds = new Set(ids);
    copies += ids.length - distinctIds.size;
    const texts = stack.twilio.messages.filter((m) => m.to === o.phone);
    const byTemplate = new Map<string, Set<string>>();
    for (const m of mails) byTemplate.set(template(m), (byTemplate.get(template(m)) ?? new Set()).add(m.parsed.messageId ?? '?'));
    const ledgerMailKeys = rows.filter((r) => r.channel === 'email');

    const blobs: string[] = [];
    for (const d of docs) {
      const file = await fetch(`${stack.baseUrl}/v1/orders/${o.id}/evidence/${d.id}`, { headers: { authorization: `Bearer ${o.holderKey}` } });
      const sha = file.ok ? createHash('sha256').update(Buffer.from(await file.arrayBuffer())).digest('hex') : `HTTP ${file.status}`;
      if (sha !== d.sha256 || !(await stack.services.blobs.has(d.sha256))) blobs.push(`${d.id}: ${sha}`);
    }
    const docIds = new Set(docs.map((d) => d.id));
    const lost = [...o.uploaded].filter(([id, sha]) => !docIds.has(id) || docs.find((d) => d.id === id)?.sha256 !== sha).map(([id]) => id);

    const got = {
      status: row?.status,
      certificates: certs.length,
      validCertificateWithTheSerial: certs.filter((c) => c.status === 'valid' && c.pem !== null && c.serial === o.serial).length,
      tokens: tokenRows.length,
      // Every event of the lifecycle mailed, nothing else (a mail never sent has no ledger row either).
      templates: [...byTemplate.keys()].sort(),
      templatesWithTwoMessages: [...byTemplate].filter(([, s]) => s.size > 1).map(([t]) => t),
      certificateIssuedMails: byTemplate.get('certificate_issued')?.size ?? 0,
      orderConfirmationMails: byTemplate.get('order_confirmation')?.size ?? 0,
      orderCompletedMails: byTemplate.get('order_completed')?.size ?? 0,
      sameMessageCopies: opts.allowSameMessageCopies ? 0 : ids.length - distinctIds.size,
      ledgerKeysTwice: rows.length - new Set(rows.map((r) => r.idempotencyKey)).size,
      ledgerRowsNotSent: rows.filter((r) => r.status !== 'sent').map((r) => `${r.template}:${r.status}`),
      ledgerMailRowsVsDistinctMailsReceived: ledgerMailKeys.length - distinctIds.size,
      ledgerSmsRows: rows.filter((r) => r.channel === 'sms').length,
      sms: texts.length,
      documentsLost: lost,
      blobsMissingOrDifferent: blobs,
    };
    const want = {
      status: 'completed',
      certificates: 1,
      validCertificateWithTheSerial: 1,
      tokens: 1,
      templates: [...LIFECYCLE_MAILS].sort(),
      templatesWithTwoMessages: [],
      certificateIssuedMails: 1,
      orderConfirmationMails: 1,
      orderCompletedMails: 1,
      sameMessageCopies: 0,
      ledgerKeysTwice: 0,
      ledgerRowsNotSent: [],
      ledgerMailRowsVsDistinctMailsReceived: 0,
      ledgerSmsRows: 1,
      sms: 1,
      documentsLost: [],
      blobsMissingOrDifferent: [],
    };
    const summary = `order ${o.index} ${o.id}: ${mails.length} mails (${distinctIds.size} distinct: ${[...byTemplate.keys()].join(', ')}), ${texts.length} SMS, ${docs.length} documents, ${certs.length} certificate(s)`;
    stack.log(summary);
    const wrong = Object.keys(want).filter((k) => JSON.stringify(got[k as keyof typeof got]) !== JSON.stringify(want[k as keyof typeof want]));
    if (wrong.length > 0) {
      problems.push(`${summary}:\n${wrong.map((k) => `  ${k}: ${JSON.stringify(got[k as keyof typeof got])}, expected ${JSON.stringify(want[k as keyof typeof want])}`).join('\n')}`);
    }
  }
  stack.log(`checks: ${driven.length} orders, ${copies} same-Message-ID mail copies, client saw ${client.record.unavailable.length} 503s, ${client.record.broken.length} other 5xx`);
  expect(problems, problems.join('\n\n')).toEqual([]);
  expect(client.record.broken, 'the API answered a 5xx other than 503').toEqual([]);
  expect(client.record.networkErrors, 'a request to the API failed at the socket').toEqual([]);
  // Every 503 is a problem document.
  expect(client.record.unavailable.filter((u) => !u.contentType.startsWith('application/problem+json') || !u.type.startsWith('urn:certflow:problem:'))).toEqual([]);
}

// ---- a TCP proxy the test can cut ---------------------------------------------------------------------------------

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far, and those refused or cut by an outage. */
  readonly stats: { accepted: number; cut: number };
  /** Stops listening (new connections are refused) and destroys every open connection, both ways. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `target` (node:net): what the stack believes is Postgres. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const stats = { accepted: 0, cut: 0 };
  const server: NetServer = createNetServer((client) => {
    stats.accepted++;
    const upstream = connect(target.port, target.host);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  const stop = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    stats.cut += open.size / 2;
    for (const s of open) s.destroy();
    await closed;
  };
  return {
    port,
    stats,
    cut: stop,
    restore: () => listen(port),
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
