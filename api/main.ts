/** Production entry point: only the HTTP API, against TEMPORAL_ADDRESS and DATABASE_URL. */
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { checkStandaloneConfig } from '../config/standalone.js';
import { startTracing } from '../config/tracing.js';
import { dataConverterFor, payloadCodecFromSecrets } from '../config/payload-codec.js';
import { createApiServices } from '../activities/services.js';
import { openDatabase } from '../db/client.js';
import { createApp, readinessChecks } from './app.js';
import { ensureHistoryArchive } from '../lib/history/archiver.js';
import { ensureAuditAnchor } from './audit-anchor.js';
import { ensureCrlPublisher } from './crl-publisher.js';
import { closeServer, listen } from './server.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, 'certflow-api');
checkStandaloneConfig(config, log, 'api');
const tracing = startTracing({ serviceName: 'certflow-api', endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
const database = await openDatabase(config);
const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
// The read-only CA view, never the issuer: no CA key (OCSP is signed by the delegated responders on certflow-ocsp).
const services = createApiServices(config, database.db);
const temporal = new Client({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  dataConverter: dataConverterFor(payloadCodecFromSecrets(services.secrets)),
  // Starts and Updates carry the HTTP request's trace into the workflow.
  interceptors: tracing.clientInterceptors,
});
const app = createApp({
  db: database.db,
  services,
  temporal,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  log,
  publicBaseUrl: config.publicBaseUrl,
  deadlines: config.orderDeadlines,
  readinessChecks: readinessChecks(database, connection),
  codecCorsOrigin: config.CODEC_CORS_ORIGIN,
  trustProxy: config.TRUST_PROXY,
});
const server = await listen(app, config.HOST, config.PORT);
await ensureCrlPublisher(temporal, config.TEMPORAL_TASK_QUEUE);
await ensureAuditAnchor(temporal, config.TEMPORAL_TASK_QUEUE);
await ensureHistoryArchive(temporal, config.TEMPORAL_TASK_QUEUE);
log.info({ url: config.publicBaseUrl }, 'API listening');

let stopping = false;
const stop = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping');
  await closeServer(server);
  await connection.close();
  await services.close();
  await database.close();
  await tracing.shutdown();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
