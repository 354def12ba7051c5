/**
 * OpenTelemetry traces: one trace from the HTTP request through the Temporal client's start or Update, the workflow
 * run and each activity (@temporalio/interceptors-opentelemetry carries the context in Temporal headers).
 *
 * `startTracing` registers the process's tracer provider once, exporting over OTLP/HTTP when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (or to the exporter a test gives). Without either nothing is registered: the
 * interceptors and the HTTP middleware then meet OpenTelemetry's no-op tracer and record nothing.
 */
import { createRequire } from 'node:module';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import type { RequestHandler } from 'express';

/**
 * The workflow side of the interceptors, bundled into the workflow code (worker/worker.ts bundleWorkflows). It only
 * reads and writes Temporal headers and hands finished spans to the `exporter` sink, which is not called on replay:
 * the commands a workflow emits are the same with it or without it.
 */
export const WORKFLOW_TRACING_MODULE = createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export interface TracingOptions {
  /** `service.name` of every span this process records: certflow-api, certflow-worker (or certflow for `npm start`). */
  readonly serviceName: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces`. */
  readonly endpoint?: string | undefined;
  /** Tests: spans go to this exporter (an InMemorySpanExporter), each as soon as it ends. */
  readonly exporter?: SpanExporter;
}

export interface Tracing {
  /** True when spans are recorded and exported. */
  readonly enabled: boolean;
  /** For the Temporal Client: its starts, Updates, signals and queries carry the caller's trace. */
  readonly clientInterceptors: ClientInterceptors;
  /** For Worker.create: each activity's span, a child of the workflow's span that scheduled it. */
  readonly workerInterceptors: Pick<WorkerInterceptors, 'activity'>;
  /** The `exporter` sink the bundled workflow interceptors call with their finished spans. */
  readonly workflowSinks: InjectedSinks<OpenTelemetrySinks>;
  /** Exports what is still buffered; call before the process exits. */
  shutdown(): Promise<void>;
}

function tracingWith(processor: SpanProcessor, resource: Resource, enabled: boolean, shutdown: () => Promise<void>): Tracing {
  return {
    enabled,
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    workerInterceptors: {
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    // The workflow bundle always holds the interceptors, so the sink is always registered (unregistered, the worker
    // logs an error per span); without tracing it drops what it is given.
    workflowSinks: { exporter: makeWorkflowExporter(processor, resource) },
    shutdown,
  };
}

/** No export: the interceptors meet the no-op tracer, the workflows' spans are dropped by the sink. */
export const TRACING_OFF: Tracing = tracingWith(new NoopSpanProcessor(), new Resource({}), false, () => Promise.resolve());

let started: Tracing | undefined;

/**
 * The process's tracing, registered once (OpenTelemetry's provider, context manager and propagator are global).
 * A second call answers the first one's tracing.
 */
export function startTracing(opts: TracingOptions): Tracing {
  if (started !== undefined) return started;
  if (opts.exporter === undefined && opts.endpoint === undefined) return TRACING_OFF;
  const resource = new Resource({ [ATTR_SERVICE_NAME]: opts.serviceName });
  const processor =
    opts.exporter !== undefined
      ? new SimpleSpanProcessor(opts.exporter)
      : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${(opts.endpoint ?? '').replace(/\/+$/, '')}/v1/traces` }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  // AsyncLocalStorage carries the active span across awaits; W3C trace context goes into the Temporal headers.
  provider.register();
  started = tracingWith(processor, resource, true, () => provider.shutdown());
  return started;
}

/** The route template Express matched (`/v1/orders/:id`), never the raw path (ids, tokens). */
function routeOf(req: { baseUrl: string; route?: unknown }): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? req.baseUrl + path : undefined;
}

/**
 * Express middleware: one SERVER span per request, a child of the caller's `traceparent` if it sent one, named by
 * method and route template once the route is known. Mount it first, so that every later handler runs inside it.
 */
export function traceRequests(tracer: Tracer = trace.getTracer('certflow-http')): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span: Span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method } }, parent);
    if (!span.isRecording()) {
      next();
      return;
    }
    const active = trace.setSpan(parent, span);
    res.on('finish', () => {
      const route = routeOf(req);
      if (route !== undefined) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    res.on('close', () => {
      if (!res.writableFinished) span.end();
    });
    // AsyncLocalStorage carries `active` through the body parsers' stream events and the handlers' awaits, down to
    // the Temporal client's interceptor (test/e2e/tracing.test.ts checks the chain).
    context.with(active, next);
  };
}
