/**
 * The engine baseline's worker, run as its own OS process by the bench (so its CPU and memory are its own): the
 * baseline workflows (scripts/bench/baseline-workflows.ts) and one empty activity, on TEMPORAL_TASK_QUEUE, with the
 * SDK's default data converter. SIGTERM drains and exits.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, DefaultLogger } from '@temporalio/worker';

const address = process.env.TEMPORAL_ADDRESS;
const taskQueue = process.env.TEMPORAL_TASK_QUEUE;
if (address === undefined || taskQueue === undefined) {
  console.error('baseline worker: TEMPORAL_ADDRESS and TEMPORAL_TASK_QUEUE are required');
  process.exit(2);
}
Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  namespace: 'default',
  taskQueue,
  workflowsPath: fileURLToPath(new URL(`./baseline-workflows${ext}`, import.meta.url)),
  activities: { noop: async (): Promise<void> => {} },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
}
await worker.run();
await connection.close();
