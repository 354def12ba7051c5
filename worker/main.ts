/** Production entry point: only the worker, against TEMPORAL_ADDRESS and DATABASE_URL. */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { dataConverterFor, payloadCodecFromSecrets } from '../config/payload-codec.js';
import { createServices } from '../activities/services.js';
import { openDatabase } from '../db/client.js';
import { createWorker } from './worker.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, 'certflow-worker');
if (config.TEMPORAL_ADDRESS === undefined || config.DATABASE_URL === undefined) {
  log.fatal('the standalone worker needs TEMPORAL_ADDRESS and DATABASE_URL (use `npm start` for the embedded stack)');
  process.exit(2);
}
// Signals are handled here, not by the SDK's one-shot hook: under npm or tsx the same Ctrl-C or SIGTERM can arrive
// twice (once from the terminal's process group, once relayed by the wrapper), and the second must not kill the drain.
Runtime.install({ shutdownSignals: [] });
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
log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');
await worker.run();
await connection.close();
await services.close();
await database.close();
log.info('worker stopped');
