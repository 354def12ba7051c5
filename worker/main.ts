/** Production entry point: only the worker, against TEMPORAL_ADDRESS and DATABASE_URL. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { checkStandaloneConfig } from '../config/standalone.js';
import { startTracing } from '../config/tracing.js';
import { dataConverterFor, payloadCodecFromSecrets } from '../config/payload-codec.js';
import { createServices } from '../activities/services.js';
import { openDatabase } from '../db/client.js';
import { createWorker, workerRuntimeOptions } from './worker.js';
import { sdkMetricsAddress, workerMetrics } from '../activities/metrics.js';

/**
 * The worker's /metrics: what only this process knows (activity failures, messages) and the SDK's metrics. Each
 * worker is scraped on its own, and Prometheus sums them: counters of one process die with it, which rate() and
 * increase() expect. What the database knows (orders, issuance, CRLs) is the API's /metrics.
 */
function serveMetrics(port: number, host: string, token: string | undefined, sdkPort: number): Server {
  const expected = token === undefined ? undefined : createHash('sha256').update(`Bearer ${token}`).digest();
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const given = createHash('sha256').update(req.headers.authorization ?? '').digest();
      if (expected !== undefined && !timingSafeEqual(given, expected)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('a bearer token (METRICS_TOKEN) is required\n');
        return;
      }
      let sdk = '';
      if (sdkPort !== 0) {
        sdk = await fetch(`http://${sdkMetricsAddress(sdkPort)}/metrics`, { signal: AbortSignal.timeout(2000) })
          .then((r) => (r.ok ? r.text() : ''))
          .catch(() => '');
      }
      res.writeHead(200, { 'content-type': workerMetrics.contentType }).end((await workerMetrics.metrics()) + sdk);
    })().catch((err: unknown) => {
      log.error({ err }, 'metrics scrape failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.listen(port, host);
  return server;
}

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, 'certflow-worker');
checkStandaloneConfig(config, log, 'worker');
// Signals are handled here, not by the SDK's one-shot hook: under npm or tsx the same Ctrl-C or SIGTERM can arrive
// twice (once from the terminal's process group, once relayed by the wrapper), and the second must not kill the drain.
// The SDK's temporal_* metrics go to a loopback exporter, served with the worker's own counters on WORKER_METRICS_PORT.
// The SDK's own lines go to the same pino stream as the worker's.
Runtime.install(workerRuntimeOptions(log, config.LOG_LEVEL, config.TEMPORAL_METRICS_PORT));
const tracing = startTracing({ serviceName: 'certflow-worker', endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
const database = await openDatabase(config);
const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
const services = await createServices(config, database.db);
const worker = await createWorker({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  dataConverter: dataConverterFor(payloadCodecFromSecrets(services.secrets)),
  db: database.db,
  ...services,
  tracing,
  // A prebuilt bundle starts the worker in a moment; without one it runs webpack over workflows/ first.
  ...(config.WORKFLOW_BUNDLE_PATH !== undefined ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } : {}),
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // Only the first one counts: the worker finishes the tasks in hand, then run() resolves.
    if (worker.getState() !== 'RUNNING') return;
    log.info({ signal }, 'stopping');
    worker.shutdown();
  });
}
const metricsServer = config.WORKER_METRICS_PORT === 0 ? undefined : serveMetrics(config.WORKER_METRICS_PORT, config.HOST, config.METRICS_TOKEN, config.TEMPORAL_METRICS_PORT);
log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, metricsPort: config.WORKER_METRICS_PORT }, 'worker running');
await worker.run();
metricsServer?.close();
await connection.close();
await services.close();
await database.close();
await tracing.shutdown();
log.info('worker stopped');
