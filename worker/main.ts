/** Production entry point: only the worker, against TEMPORAL_ADDRESS and DATABASE_URL. */
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../config/logger.js';
import { openDatabase } from '../db/client.js';
import { createWorker } from './worker.js';

const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, 'certflow-worker');
if (config.TEMPORAL_ADDRESS === undefined || config.DATABASE_URL === undefined) {
  log.fatal('the standalone worker needs TEMPORAL_ADDRESS and DATABASE_URL (use `npm start` for the embedded stack)');
  process.exit(2);
}
const database = await openDatabase(config);
const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
const worker = await createWorker({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  db: database.db,
});
// The SDK installs SIGINT/SIGTERM handlers that drain the worker; run() resolves once it has stopped.
log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');
await worker.run();
await connection.close();
await database.close();
log.info('worker stopped');
