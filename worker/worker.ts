/** Builds the Temporal worker that runs the order workflows and their activities. */
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, Worker, type NativeConnection, type RuntimeOptions, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { sdkTelemetryOptions } from '../activities/metrics.js';
import { coreLogging, temporalLogger, type Logger } from '../config/logger.js';
import { FAILURE_CONVERTER_PATH } from '../config/payload-codec.js';
import { TRACING_OFF, WORKFLOW_TRACING_MODULE, type Tracing } from '../config/tracing.js';

/** The workflows' entry module, resolved from here so that it works from the sources and from dist/. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index' + extensionOfThisModule(), import.meta.url));

function extensionOfThisModule(): string {
  return import.meta.url.endsWith('.ts') ? '.ts' : '.js';
}

/**
 * Runtime.install's options for a process that runs a worker: the SDK's lines (the worker's, the workflows' and
 * activities' `log`, Rust core's, forwarded at LOG_LEVEL) go to the process's pino stream; the SDK's temporal_*
 * metrics to their loopback exporter (activities/metrics.ts). Signals are the process's own business.
 */
export function workerRuntimeOptions(log: Logger, level: string, metricsPort: number): RuntimeOptions {
  const metrics = sdkTelemetryOptions(metricsPort);
  return {
    shutdownSignals: [],
    logger: temporalLogger(log),
    telemetryOptions: { ...('telemetryOptions' in metrics ? metrics.telemetryOptions : {}), logging: coreLogging(level) },
  };
}

export interface WorkerOptions extends ActivityDeps {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  /** The payload codec (config/payload-codec.ts dataConverterFor): the same as every client's, or nothing decodes. */
  readonly dataConverter: DataConverter;
  /** A prebuilt bundle (tests build it once for the whole run); without it the worker bundles the sources itself. */
  readonly workflowBundle?: WorkflowBundleOption;
  /** The process's tracing (config/tracing.ts startTracing); off by default. */
  readonly tracing?: Tracing;
}

export function createWorker(opts: WorkerOptions): Promise<Worker> {
  const tracing = opts.tracing ?? TRACING_OFF;
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    // Codecs run in the worker's main thread, outside the sandbox; the failure converter (by path) runs in both.
    dataConverter: opts.dataConverter,
    activities: createActivities(opts),
    // A prebuilt bundle holds the workflow interceptors already (bundleWorkflows); sources are bundled with them.
    interceptors: { ...tracing.workerInterceptors, ...(opts.workflowBundle === undefined ? { workflowModules: [WORKFLOW_TRACING_MODULE] } : {}) },
    sinks: tracing.workflowSinks,
    ...(opts.workflowBundle !== undefined ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}

/** Bundles the workflows once (webpack; seconds), reporting only the bundler's warnings and errors. */
export async function bundleWorkflows(report: { warn(message: string): void; error(message: string): void }): Promise<string> {
  const ignore = (): void => {};
  const bundle = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    // Workflow and update failures encode their message and stack (encrypted by the codec), as the worker's own do.
    failureConverterPath: FAILURE_CONVERTER_PATH,
    // Trace context in and out of every workflow (headers and a sink only: replay is unchanged).
    workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
    logger: { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: (m) => report.warn(m), error: (m) => report.error(m) },
  });
  return bundle.code;
}
