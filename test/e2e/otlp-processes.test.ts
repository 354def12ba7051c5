/**
 * Traces and logs of the production entry points (api/main.ts, worker/main.ts) as separate processes: with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointing at a collector (here an HTTP server of this test reading OTLP/HTTP JSON), an
 * order's spans from both processes share one trace id, certflow-api's `POST /v1/orders` down to certflow-worker's
 * confirmation mail activity; and every line both processes write on stdout is JSON (pino), the Temporal SDK's too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { freshSiret, rgsStarOrder } from '../support.js';
import { apiReady, cliCustomerKey, runScript, separateProcessesEnv, type ScriptProcess } from './process-group.js';

interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: { spans?: { name: string; traceId: string; spanId: string; parentSpanId?: string }[] }[];
  }[];
}

const spans: ExportedSpan[] = [];
const requests: string[] = [];
let collector: Server | undefined;
const procs: ScriptProcess[] = [];

function run(script: string, env: NodeJS.ProcessEnv): ScriptProcess {
  const proc = runScript(script, env);
  procs.push(proc);
  return proc;
}

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  collector?.close();
});

/** A collector's OTLP/HTTP receiver: JSON bodies (the exporter's default) on /v1/traces. */
async function startCollector(): Promise<string> {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const parsed = JSON.parse(body) as OtlpJson;
      for (const rs of parsed.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ service, ...s });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
}

async function waitFor<T>(what: string, find: () => T | undefined, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what} not exported after ${timeoutMs} ms; spans: ${spans.map((s) => `${s.service}/${s.name}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('API and worker processes with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('export one trace across both for an order, and write JSON lines only', async () => {
    const env = await separateProcessesEnv('otlp', {
      WORKER_METRICS_PORT: '0',
      TEMPORAL_METRICS_PORT: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: await startCollector(),
    });
    const worker = run('start:worker', env);
    const api = run('start:api', env);

    const apiKey = await cliCustomerKey(env, `otlp-${randomUUID().slice(0, 8)}@example.test`, freshSiret());
    const base = await apiReady(env, api);
    const res = await fetch(`${base}/v1/orders`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(rgsStarOrder()) });
    expect(res.status, worker.output()).toBe(201);
    const orderId = ((await res.json()) as { id: string }).id;

    // Batched: each process exports every few seconds.
    const server = await waitFor('the API span', () => spans.find((s) => s.service === 'certflow-api' && s.name === 'POST /v1/orders'));
    const inTrace = (service: string, name: string) => () => spans.find((s) => s.traceId === server.traceId && s.service === service && s.name === name);
    const start = await waitFor('StartWorkflow', inTrace('certflow-api', 'StartWorkflow:orderWorkflow'));
    expect(start.parentSpanId).toBe(server.spanId);
    const scheduled = await waitFor('StartActivity', inTrace('certflow-worker', 'StartActivity:sendOrderMail'));
    const mail = await waitFor('RunActivity', inTrace('certflow-worker', 'RunActivity:sendOrderMail'));
    expect(mail.parentSpanId).toBe(scheduled.spanId);
    expect(requests.every((r) => r.startsWith('POST /v1/traces application/json'))).toBe(true);

    await Promise.all([api.stop(), worker.stop()]);
    for (const [name, proc] of [['api', api], ['worker', worker]] as const) {
      const lines = proc.stdout().split('\n').filter((l) => l.trim() !== '');
      expect(lines.length, name).toBeGreaterThan(2);
      for (const line of lines) expect(() => JSON.parse(line) as unknown, `${name}: ${line}`).not.toThrow();
    }
    // The worker's SDK lines name their component, and the order's carry its id.
    const workerLines = worker.stdout().split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(workerLines.some((l) => l.sdkComponent === 'worker')).toBe(true);
    expect(workerLines.some((l) => l.sdkComponent === 'core')).toBe(true);
    expect(api.stdout()).toContain(`"orderId":"${orderId}"`);
  }, 150_000);
});
