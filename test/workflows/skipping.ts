/**
 * A stack on the time-skipping test server, for tests that cross days or years of deadlines: the run's pinned test
 * server (with the workflows' search attributes declared), Postgres, a data dir of the test file's own, the real
 * services, and a worker on the run's workflow bundle and a task queue of its own.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { ActivityDeps } from '../../activities/index.js';
import { createServices, type Services } from '../../activities/services.js';
import { testPkcs11Env } from '../ca/support.js';
import { loadConfig, type Config } from '../../config/index.js';
import { dataConverterFor, payloadCodecFromSecrets } from '../../config/payload-codec.js';
import { loadSecrets } from '../../config/secrets.js';
import { openPostgres, type Database, type DatabaseHandle } from '../../db/client.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions.js';
import { createWorker } from '../../worker/worker.js';

export interface SkippingStack {
  readonly env: TestWorkflowEnvironment;
  readonly database: DatabaseHandle;
  readonly services: Services;
  readonly taskQueue: string;
  readonly dataDir: string;
  /** Stops the worker, closes the services, the database and the test server, and removes the data dir. */
  readonly close: () => Promise<void>;
}

export interface SkippingStackOptions {
  /** Names the task queue and the data dir (`<name>-<uuid>`, `certflow-<name>-…`). */
  readonly name?: string;
  /** Extra environment for loadConfig (DCV_DNS_SERVERS…). */
  readonly env?: Record<string, string>;
  /** Activity dependencies replacing the services' own in the worker (a CA on the test server's clock, a `now`…). */
  readonly activities?: (services: Services, setup: { readonly config: Config; readonly db: Database }) => Partial<ActivityDeps> | Promise<Partial<ActivityDeps>>;
}

export async function startSkippingStack(opts: SkippingStackOptions = {}): Promise<SkippingStack> {
  const name = opts.name ?? 'skip';
  const taskQueue = `${name}-${randomUUID()}`;
  const dataDir = mkdtempSync(join(tmpdir(), `certflow-${name}-`));
  const config = loadConfig({ DATA_DIR: dataDir, DATABASE_URL: inject('databaseUrl'), MASTER_KEY: inject('masterKey'), ...testPkcs11Env(), ...opts.env });
  // env.client (which the tests start workflows with) and the worker share the codec.
  const dataConverter = dataConverterFor(payloadCodecFromSecrets(loadSecrets(config)));
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
    client: { dataConverter },
  });
  const namespace = env.namespace ?? 'default';
  let database: DatabaseHandle | undefined;
  let services: Services | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    worker?.shutdown();
    await running;
    await services?.close();
    await database?.close();
    await env.teardown();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // The workflows index their status and what they wait on: the test server needs the attributes declared too.
    await env.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    database = openPostgres(inject('databaseUrl'), 4);
    services = await createServices(config, database.db);
    const overrides = (await opts.activities?.(services, { config, db: database.db })) ?? {};
    worker = await createWorker({
      connection: env.nativeConnection,
      namespace,
      taskQueue,
      dataConverter,
      db: database.db,
      ...services,
      ...overrides,
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    running = worker.run();
  } catch (err) {
    await close();
    throw err;
  }
  return { env, database, services, taskQueue, dataDir, close };
}
