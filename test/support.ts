/**
 * A real stack for API tests: the run's Temporal dev server and Postgres database, a worker on a task queue of the
 * test file's own, and the API listening on a free loopback port, spoken to over HTTP.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createApp, readinessChecks, type AppDeps } from '../api/app.js';
import { closeServer, listen } from '../api/server.js';
import { testPkcs11Env } from './ca/support.js';
import { runTestCeremony } from './ceremony-setup.js';
import { createServices, type Services } from '../activities/services.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import type { Tracing } from '../config/tracing.js';
import { dataConverterFor, payloadCodecFromSecrets } from '../config/payload-codec.js';
import { createUser, issueApiKey, upsertOrganisation, type User } from '../db/accounts.js';
import { openPostgres, type Database, type DatabaseHandle } from '../db/client.js';
import { STAFF_ROLES, type Role } from '../domain/roles.js';
import { checkSiret } from '../domain/rules/siret.js';
import { createWorker } from '../worker/worker.js';

// Workers of the tests log warnings and errors only (a process installs its runtime once).
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed in this process
}

export interface Account {
  readonly user: User;
  readonly key: string;
}

/** A problem+json answer (RFC 9457) as the API writes it (api/problem.ts). */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { path: string; message: string; code?: string }[];
}

export interface HttpResult<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface TestStack {
  readonly db: Database;
  readonly services: Services;
  readonly dataDir: string;
  readonly client: Client;
  readonly taskQueue: string;
  readonly baseUrl: string;
  /**
   * A new account with an API key. Staff accounts are made with their keys allowed (`staffApiAccess`, as an admin
   * would allow them): `apiAccess: false` makes one whose keys are refused until an admin allows them.
   */
  account(role: Role, opts?: { siret?: string; orgName?: string; phone?: string | null; publicAdministration?: boolean; locality?: string; apiAccess?: boolean }): Promise<Account>;
  http<T = unknown>(method: string, path: string, opts?: { key?: string; json?: unknown; headers?: Record<string, string>; rawBody?: string }): Promise<HttpResult<T>>;
  close(): Promise<void>;
}

/** `TestStack.http` for an API listening at `baseUrl`: the key as a bearer token, a JSON answer parsed. */
export function httpClient(baseUrl: string): TestStack['http'] {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.key !== undefined) headers.authorization = `Bearer ${opts.key}`;
    let body: string | undefined = opts.rawBody;
    if (opts.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.json);
    }
    const res = await fetch(baseUrl + path, { method, headers, body }).catch((err: unknown) => {
      // A kept-alive connection the server closed as idle just as it was reused (more likely on a loaded machine):
      // the request never reached the server, so it is sent again, once, on a new connection.
      if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err;
      return fetch(baseUrl + path, { method, headers, body });
    });
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as never };
  };
}

/** Valid SIRETs (Luhn) for test organisations. */
export const SIRETS = { acme: '73282932000074', globex: '44306184100047', laPoste: '35600000000001' } as const;

/** A valid SIRET (Luhn) no other test uses: 13 random digits and the check digit that makes them valid. */
export function freshSiret(): string {
  const head = Array.from({ length: 13 }, () => randomInt(10)).join('');
  for (let d = 0; d < 10; d++) if (checkSiret(`${head}${d}`).ok) return `${head}${d}`;
  throw new Error('no check digit');
}

export interface TestStackOptions extends Partial<Pick<AppDeps, 'readinessChecks' | 'registrationTimeoutMs' | 'deadlines'>> {
  /** Extra environment (SMTP_URL, TWILIO_*, ORDER_DEADLINES…); without providers, messages go to the outbox. */
  readonly env?: Record<string, string>;
  /** A database of the test's own instead of the run's (whose orders belong to other files' stacks). */
  readonly databaseUrl?: string;
  /** Tracing for the worker and the client (config/tracing.ts startTracing); off by default. */
  readonly tracing?: Tracing;
}

export async function startTestStack(overrides: TestStackOptions = {}): Promise<TestStack> {
  const address = inject('temporalAddress');
  const taskQueue = `test-${randomUUID()}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'certflow-stack-'));
  const databaseUrl = overrides.databaseUrl ?? inject('databaseUrl');
  const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: databaseUrl, MASTER_KEY: inject('masterKey'), ...testPkcs11Env(), ...overrides.env });
  // A database of the test's own gets the CA keys of its own on the run's tokens, as the run's database did.
  if (overrides.databaseUrl !== undefined) runTestCeremony({ databaseUrl, masterKey: inject('masterKey'), modulePath: inject('pkcs11ModulePath'), softHsmConf: inject('softHsmConf') });
  const database: DatabaseHandle = openPostgres(databaseUrl, 5);
  const services = await createServices(config, database.db);
  // The worker and the client share the codec: payloads reach the dev server encrypted.
  const dataConverter = dataConverterFor(payloadCodecFromSecrets(services.secrets));
  const nativeConnection = await NativeConnection.connect({ address });
  const worker: Worker = await createWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    dataConverter,
    db: database.db,
    ...services,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    ...(overrides.tracing !== undefined ? { tracing: overrides.tracing } : {}),
  });
  const workerDone = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default', dataConverter, ...(overrides.tracing !== undefined ? { interceptors: overrides.tracing.clientInterceptors } : {}) });
  const app = createApp({
    db: database.db,
    services,
    deadlines: overrides.deadlines ?? config.orderDeadlines,
    temporal: client,
    taskQueue,
    log: createLogger('silent'),
    publicBaseUrl: 'http://127.0.0.1',
    readinessChecks: overrides.readinessChecks ?? readinessChecks(database, connection),
    // Rate-limit counters of this stack's own: the run's database is shared by every test file, all from 127.0.0.1.
    rateLimits: { keyPrefix: taskQueue, sweepExpired: false },
    ...(overrides.registrationTimeoutMs !== undefined ? { registrationTimeoutMs: overrides.registrationTimeoutMs } : {}),
  });
  const server: Server = await listen(app, '127.0.0.1', 0);
  const port = (server.address() as { port: number }).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  let emails = 0;

  return {
    db: database.db,
    services,
    dataDir,
    client,
    taskQueue,
    baseUrl,
    async account(role, opts = {}) {
      const inOrganisation = role === 'customer' || role === 'agent' || role === 'org_admin';
      const org = inOrganisation
        ? await upsertOrganisation(database.db, {
            siret: opts.siret ?? SIRETS.acme,
            name: opts.orgName ?? 'ACME',
            publicAdministration: opts.publicAdministration ?? false,
            locality: opts.locality ?? 'Paris',
          })
        : undefined;
      const user = await createUser(database.db, {
        email: `${role}-${++emails}-${randomUUID().slice(0, 8)}@example.test`,
        role,
        organisationId: org?.id ?? null,
        givenName: 'Camille',
        surname: 'Durand',
        phone: opts.phone === undefined ? '+33612345678' : opts.phone,
        staffApiAccess: STAFF_ROLES.has(role) && opts.apiAccess !== false,
      });
      return { user, key: await issueApiKey(database.db, user.id) };
    },
    http: httpClient(baseUrl),
    async close() {
      await closeServer(server);
      worker.shutdown();
      await workerDone;
      await connection.close();
      await nativeConnection.close();
      await services.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A valid creation body for the walking-skeleton product. */
export const rgsStarOrder = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  product: 'ID_RGS_STAR',
  durationYears: 3,
  os: 'windows',
  payment: { method: 'transfer' },
  termsAccepted: true,
  ...overrides,
});

/** A valid creation body for a one-year SSL order of `csr` (its names are the CSR's and the extra SANs given). */
export const sslOrder = (csr: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  product: 'SSL',
  durationYears: 1,
  os: 'other',
  payment: { method: 'transfer' },
  termsAccepted: true,
  csr,
  ...extra,
});
