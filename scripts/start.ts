/**
 * `npm start`: the whole system in one process on its embedded defaults — a Temporal dev server as a child process,
 * PGlite (unless DATABASE_URL), migrations, the worker and the API. Ctrl-C stops all of it, the dev server included;
 * everything lives under DATA_DIR, so a restart finds every order again.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createApp, readinessChecks } from '../api/app.js';
import { ensureAuditAnchor } from '../api/audit-anchor.js';
import { ensureCrlPublisher } from '../api/crl-publisher.js';
import { closeServer, listen } from '../api/server.js';
import { loadConfig, retentionSeconds } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { dataConverterFor, payloadCodecFromSecrets } from '../config/payload-codec.js';
import { createApiServices, createServices } from '../activities/services.js';
import { certificateAuthorities } from '../db/schema.js';
import { ceremony } from './ceremony.js';
import { sdkMetricsAddress, workerMetrics } from '../activities/metrics.js';
import { durationMs } from '../domain/deadlines.js';
import type { Duration } from '@temporalio/common';
import { openDatabase, type DatabaseHandle } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/definitions.js';
import { ensureHistoryArchive } from '../lib/history/archiver.js';
import { bundleWorkflows, createWorker, workerRuntimeOptions } from '../worker/worker.js';
import { startTracing } from '../config/tracing.js';
import { startDevServer, type DevServer } from './dev-server.js';
import { forgetStack, reapOrphanedDevServer, recordStack, runningStack } from './embedded-stack.js';
import { resolveBinary } from './temporal-binaries.js';

const startedAt = Date.now();
const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
mkdirSync(config.DATA_DIR, { recursive: true });

const other = runningStack(config.DATA_DIR);
if (other !== undefined) {
  log.fatal({ pid: other.pid, api: other.apiUrl }, `a CertFlow stack already runs on ${config.DATA_DIR}`);
  process.exit(1);
}

const orphan = reapOrphanedDevServer(config.DATA_DIR);
if (orphan !== null) log.warn({ pid: orphan }, 'stopped a dev server left behind by a stack that was killed');

// This process decides the shutdown order itself (API, worker, database, then the dev server). The SDK's temporal_*
// metrics go to a loopback exporter that the API's /metrics appends.
// The SDK's own lines go to this process's pino stream.
Runtime.install(workerRuntimeOptions(log, config.LOG_LEVEL, config.TEMPORAL_METRICS_PORT));
const tracing = startTracing({ serviceName: 'certflow', endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

const cleanups: (() => Promise<void>)[] = [];
// Run last (the list runs backwards): the spans of everything stopped before are exported.
cleanups.push(() => tracing.shutdown());
let stopping: Promise<void> | undefined;

function stop(reason: string, code: number): Promise<void> {
  stopping ??= (async () => {
    log.info({ reason }, 'stopping CertFlow');
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        log.error({ err }, 'error while stopping');
      }
    }
    forgetStack(config.DATA_DIR);
    log.info('stopped');
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => void stop('SIGINT', 0));
process.on('SIGTERM', () => void stop('SIGTERM', 0));

let devServerPid: number | null = null;

/** The dev server, unless TEMPORAL_ADDRESS names a Temporal to use. */
async function temporalFrontend(): Promise<string> {
  if (config.TEMPORAL_ADDRESS !== undefined) return config.TEMPORAL_ADDRESS;
  const cli = resolveBinary('cli');
  const devServer: DevServer = await startDevServer({
    cliPath: cli.path,
    ip: '127.0.0.1',
    port: config.TEMPORAL_DEV_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: join(config.DATA_DIR, 'temporal', 'temporal.db'),
    namespace: config.TEMPORAL_NAMESPACE,
    searchAttributes: SEARCH_ATTRIBUTE_KEYS,
    logFile: join(config.DATA_DIR, 'temporal', 'server.log'),
    retentionSeconds: retentionSeconds(config.TEMPORAL_RETENTION),
  });
  cleanups.push(() => devServer.stop());
  devServerPid = devServer.pid;
  log.info({ address: devServer.address, ui: `http://127.0.0.1:${config.TEMPORAL_UI_PORT}` }, 'Temporal dev server ready');
  return devServer.address;
}

async function database(): Promise<DatabaseHandle> {
  const handle = await openDatabase(config);
  cleanups.push(() => handle.close());
  await migrateDatabase(handle);
  log.info({ driver: handle.driver }, 'database ready');
  return handle;
}

try {
  // Independent and each a few seconds on a small machine: the dev server, the database, the workflow bundle.
  // A prebuilt bundle (WORKFLOW_BUNDLE_PATH, as a production worker takes it) spares webpack's few seconds.
  const prebuilt = config.WORKFLOW_BUNDLE_PATH;
  const bundle = async () => (prebuilt !== undefined ? { codePath: prebuilt } : { code: await bundleWorkflows(log) });
  const [temporalAddress, db, workflowBundle] = await Promise.all([temporalFrontend(), database(), bundle()]);

  let pglitePort: number | null = null;
  if (db.pglite !== undefined) {
    // Lets `npm run cli` work while the stack runs: PGlite allows one process on its files, this one.
    const share = new PGLiteSocketServer({ db: db.pglite, host: '127.0.0.1', port: config.PGLITE_PORT, maxConnections: 4 });
    await share.start();
    cleanups.push(() => share.stop());
    pglitePort = config.PGLITE_PORT;
  }

  // First start: no CA yet. The key ceremony makes the hierarchy on the embedded SoftHSM2 tokens before the worker and
  // the API start (scripts/ceremony.ts; it closes the roots' token when it ends). Later starts find the CAs and skip it.
  if ((await db.db.select({ id: certificateAuthorities.id }).from(certificateAuthorities).limit(1)).length === 0) {
    for (const line of await ceremony(config, db.db)) log.info(`ceremony: ${line}`);
  }
  const services = await createServices(config, db.db);
  // The API's half reads the CA through its read-only view: OCSP signed on certflow-ocsp, never a CA key.
  const apiServices = createApiServices(config, db.db);
  cleanups.push(() => apiServices.close());
  cleanups.push(() => services.close());
  // One codec for the worker and the API's client: payloads reach the dev server's SQLite file encrypted.
  const dataConverter = dataConverterFor(payloadCodecFromSecrets(services.secrets));

  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  cleanups.push(() => workerConnection.close());
  const worker = await createWorker({
    connection: workerConnection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    dataConverter,
    db: db.db,
    ...services,
    workflowBundle,
    tracing,
  });
  const workerDone = worker.run();
  cleanups.push(async () => {
    worker.shutdown();
    await workerDone;
  });
  workerDone.catch((err: unknown) => {
    log.fatal({ err }, 'worker failed');
    void stop('worker failed', 1);
  });

  const connection = await Connection.connect({ address: temporalAddress });
  cleanups.push(() => connection.close());
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter, interceptors: tracing.clientInterceptors });
  await ensureCrlPublisher(temporal, config.TEMPORAL_TASK_QUEUE);
  await ensureAuditAnchor(temporal, config.TEMPORAL_TASK_QUEUE);
  await ensureHistoryArchive(temporal, config.TEMPORAL_TASK_QUEUE);
  const app = createApp({
    db: db.db,
    services: apiServices,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    log,
    publicBaseUrl: config.publicBaseUrl,
    deadlines: config.orderDeadlines,
    readinessChecks: readinessChecks(db, connection),
    codecCorsOrigin: config.CODEC_CORS_ORIGIN,
    metrics: {
      stuckOrderSlaMs: durationMs(config.STUCK_ORDER_SLA as Duration),
      ...(config.METRICS_TOKEN !== undefined ? { token: config.METRICS_TOKEN } : {}),
      // The worker runs in this process: its counters and the SDK's metrics are this /metrics' too.
      registries: [workerMetrics],
      ...(config.TEMPORAL_METRICS_PORT !== 0 ? { sdkMetricsUrl: `http://${sdkMetricsAddress(config.TEMPORAL_METRICS_PORT)}/metrics` } : {}),
    },
    trustProxy: config.TRUST_PROXY,
  });
  const server = await listen(app, config.HOST, config.PORT);
  cleanups.push(() => closeServer(server));

  recordStack(config.DATA_DIR, {
    pid: process.pid,
    pglitePort,
    apiUrl: config.publicBaseUrl,
    temporalAddress,
    devServerPid,
    startedAt: new Date(startedAt).toISOString(),
  });
  log.info(
    { api: config.publicBaseUrl, dataDir: config.DATA_DIR, readyInMs: Date.now() - startedAt },
    `CertFlow is up: API ${config.publicBaseUrl}` +
      (config.TEMPORAL_ADDRESS === undefined ? `, Temporal UI http://127.0.0.1:${config.TEMPORAL_UI_PORT}` : '') +
      ' (Ctrl-C stops everything)',
  );
} catch (err) {
  log.fatal({ err }, 'CertFlow could not start');
  await stop('start-up failed', 1);
}
