/**
 * Traces (config/tracing.ts) on the real stack: an order made over HTTP is one trace, from the API's SERVER span of
 * `POST /v1/orders` through the Temporal client's start, the workflow's run and the activity that mails the order
 * confirmation. The spans go to an in-memory exporter; the chain is checked span by span through the parent ids.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing } from '../../config/tracing.js';
import { rgsStarOrder, startTestStack, type Account, type TestStack } from '../support.js';

const exporter = new InMemorySpanExporter();
let stack: TestStack;
let holder: Account;

beforeAll(async () => {
  stack = await startTestStack({ tracing: startTracing({ serviceName: 'certflow-test', exporter }) });
  holder = await stack.account('customer');
});

afterAll(async () => {
  await stack?.close();
});

/** Waits for a span the workflow or a worker exports once it has ended. */
async function spanNamed(name: string, traceId: string, timeoutMs = 30_000): Promise<ReadableSpan> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const span = exporter.getFinishedSpans().find((s) => s.name === name && s.spanContext().traceId === traceId);
    if (span !== undefined) return span;
    if (Date.now() > deadline) {
      const seen = exporter
        .getFinishedSpans()
        .filter((s) => s.spanContext().traceId === traceId)
        .map((s) => s.name);
      throw new Error(`no span ${name} in trace ${traceId} after ${timeoutMs} ms; it has: ${seen.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The names from `span` up to the root of its trace, through the parent span ids. */
function ancestry(span: ReadableSpan): string[] {
  const byId = new Map(exporter.getFinishedSpans().map((s) => [s.spanContext().spanId, s]));
  const names = [span.name];
  for (let parent = span.parentSpanId; parent !== undefined; ) {
    const next = byId.get(parent);
    if (next === undefined) {
      names.push(`<${parent} not exported>`);
      break;
    }
    names.push(next.name);
    parent = next.parentSpanId;
  }
  return names;
}

describe('an order over HTTP', () => {
  it('is one trace from POST /v1/orders to the confirmation mail activity', async () => {
    // A caller that traces sends its context: the API's span is its child.
    const callerTrace = 'a'.repeat(8) + (Date.now() % 1e8).toString(16).padStart(24, '0');
    const callerSpan = 'b'.repeat(16);
    const created = await stack.http<{ id: string }>('POST', '/v1/orders', {
      key: holder.key,
      json: rgsStarOrder(),
      headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` },
    });
    expect(created.status).toBe(201);
    const orderId = created.body.id;

    const server = await spanNamed('POST /v1/orders', callerTrace);
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.parentSpanId).toBe(callerSpan);
    expect(server.attributes['http.response.status_code']).toBe(201);
    expect(server.resource.attributes['service.name']).toBe('certflow-test');

    // The confirmation is the first mail of an order: its activity, the workflow's scheduling of it, the run.
    const mail = await spanNamed('RunActivity:sendOrderMail', callerTrace);
    expect(mail.attributes.temporalWorkflowId).toBe(`order-${orderId}`);
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'RunActivity:sendOrderMail' && s.spanContext().traceId === callerTrace)).toHaveLength(1);
    const outbox = join(stack.dataDir, 'outbox', 'mail');
    expect(existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith('.eml')) : []).toHaveLength(1);

    // The run's span ends with the workflow: the order is cancelled so that it does.
    const cancelled = await stack.http('POST', `/v1/orders/${orderId}/cancel`, { key: holder.key, json: { reason: 'Ordered by mistake.' } });
    expect(cancelled.status).toBe(200);
    await spanNamed('RunWorkflow:orderWorkflow', callerTrace);

    expect(ancestry(mail)).toEqual(['RunActivity:sendOrderMail', 'StartActivity:sendOrderMail', 'RunWorkflow:orderWorkflow', 'StartWorkflow:orderWorkflow', 'POST /v1/orders', `<${callerSpan} not exported>`]);
    // The API's wait for the order's registration (an Update) is in the same trace.
    expect(ancestry(await spanNamed('HandleUpdate:registered', callerTrace)).slice(1)).toEqual(['StartWorkflowUpdate:registered', 'POST /v1/orders', `<${callerSpan} not exported>`]);
  });
});
