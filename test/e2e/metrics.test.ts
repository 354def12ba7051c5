/**
 * /metrics scraped by a real Prometheus (Debian's package, found or installed by scripts/prometheus.ts): a test stack
 * on a loopback port, an order made over HTTP, Prometheus scraping every second, and the value it answers through
 * its query API compared with the read model. promtool checks a scrape and the alert rules.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import express from 'express';
import { countedActivities, workerMetrics } from '../../activities/metrics.js';
import { createMetrics } from '../../api/metrics.js';
import { listen, closeServer } from '../../api/server.js';
import { orders } from '../../db/schema.js';
import { resolvePrometheus, type ResolvedPrometheus } from '../../scripts/prometheus.js';
import { createMigratedDatabase, dropDatabase, freePort } from '../../scripts/scratch.js';
import { startTestStack, type TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';

const ALERTS = fileURLToPath(new URL('../../docker/prometheus/alerts.yml', import.meta.url));

let tools: ResolvedPrometheus;
let stack: TestStack;
let ownDatabase: { adminUrl: string; name: string } | undefined;
let workDir: string;
let prometheus: ChildProcess | undefined;
let prometheusUrl: string;
let orderId: string;
let driver: Driver;
let prometheusLog = '';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<Sample[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { status: string; data: { resultType: string; result: Sample[] } };
  expect(body.status).toBe('success');
  return body.data.result;
}

/** Polls Prometheus until `expr` has samples (its first scrapes land within a few seconds). */
async function samplesOf(expr: string, timeoutMs = 30_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const result = await query(expr);
      if (result.length > 0) return result;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (prometheus?.exitCode !== null) throw new Error(`prometheus exited (${prometheus?.exitCode}): ${prometheusLog}`);
    if (Date.now() > deadline) throw new Error(`Prometheus has no sample of ${expr} after ${timeoutMs} ms: ${prometheusLog}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const scrape = async (): Promise<string> => {
  const res = await fetch(`${stack.baseUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

beforeAll(async () => {
  tools = resolvePrometheus();
  // A database of its own: the run's holds other files' orders, made while this test compares counts.
  const adminUrl = new URL(inject('databaseUrl'));
  adminUrl.pathname = '/postgres';
  ownDatabase = { adminUrl: adminUrl.toString(), name: `certflow_metrics_${randomBytes(6).toString('hex')}` };
  stack = await startTestStack({ databaseUrl: await createMigratedDatabase(ownDatabase.adminUrl, ownDatabase.name) });
  driver = new Driver(stack, { holder: await stack.account('customer'), ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator') });
  orderId = (await driver.create('ID_RGS_STAR')).id;
  await driver.get(orderId);

  workDir = mkdtempSync(join(tmpdir(), 'certflow-prometheus-'));
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  const target = new URL(stack.baseUrl).host;
  writeFileSync(
    join(workDir, 'prometheus.yml'),
    ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: certflow-api', '    static_configs:', `      - targets: ["${target}"]`, ''].join('\n'),
  );
  prometheus = spawn(
    tools.prometheus,
    [
      `--config.file=${join(workDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(workDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Kept to say why, should it exit: it logs to stderr.
  prometheus.stderr?.on('data', (chunk: Buffer) => (prometheusLog = (prometheusLog + chunk.toString()).slice(-4000)));
}, 240_000);

afterAll(async () => {
  if (prometheus !== undefined && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
  }
  await stack?.close();
  if (ownDatabase !== undefined) await dropDatabase(ownDatabase.adminUrl, ownDatabase.name);
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe('/metrics', () => {
  it('answers a scrape promtool accepts, with the order counted and routes by template only', async () => {
    const text = await scrape();
    const check = spawnSync(tools.promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(text).toMatch(/^certflow_orders\{status="awaiting_evidence",product="ID_RGS_STAR"\} 1$/m);
    expect(text).toMatch(/^certflow_http_request_duration_seconds_count\{route="\/v1\/orders",method="POST",status="201"\} 1$/m);
    expect(text).toMatch(/^certflow_http_request_duration_seconds_count\{route="\/v1\/orders\/\{id\}",method="GET",status="200"\} \d+$/m);
    // The raw path (with the order's id) names no series.
    expect(text).not.toContain(orderId);
    for (const name of ['certflow_orders_stuck', 'certflow_order_stage_seconds', 'certflow_certificates_issued_total', 'certflow_crl_age_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('has alert rules promtool accepts', () => {
    const check = spawnSync(tools.promtool, ['check', 'rules', ALERTS], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.status).toBe(0);
  });

  it('is read back through Prometheus: certflow_orders equals the read model', async () => {
    const [row] = await stack.db.select({ n: count() }).from(orders);
    expect(Number(row?.n)).toBe(1);
    const [total] = await samplesOf('sum(certflow_orders)');
    expect(Number(total?.value[1])).toBe(Number(row?.n));
    const [byLabels] = await samplesOf('certflow_orders{status="awaiting_evidence",product="ID_RGS_STAR"}');
    expect(byLabels?.metric).toMatchObject({ job: 'certflow-api', status: 'awaiting_evidence', product: 'ID_RGS_STAR' });
    expect(byLabels?.value[1]).toBe('1');
    const [up] = await samplesOf('up{job="certflow-api"}');
    expect(up?.value[1]).toBe('1');
  }, 60_000);

  it('counts an order waiting on the RA beyond the SLA as stuck, and its submission as a stage', async () => {
    const order = await driver.get(orderId);
    expect((await driver.completeAndSubmit(order)).waitingOn).toBe('ra');
    // The test stack's SLA is the default, two days: nothing is stuck yet.
    expect(await scrape()).toMatch(/^certflow_orders_stuck\{waiting_on="ra"\} 0$/m);
    const text = await scrape();
    expect(text).toMatch(/^certflow_order_stage_seconds_count\{stage="submit"\} 1$/m);
    expect(text).toMatch(/^certflow_order_stage_seconds_bucket\{stage="submit",le="\+Inf"\} 1$/m);

    // The same read model under a one-millisecond SLA, behind METRICS_TOKEN.
    const metrics = createMetrics({ db: stack.db, stuckOrderSlaMs: 1, token: 'scrape-secret' });
    const app = express();
    app.get('/metrics', metrics.handler);
    const server = await listen(app, '127.0.0.1', 0);
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
    try {
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const res = await fetch(url, { headers: { authorization: 'Bearer scrape-secret' } });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toMatch(/^certflow_orders_stuck\{waiting_on="ra"\} 1$/m);
      expect(body).toMatch(/^certflow_orders_stuck\{waiting_on="dra"\} 0$/m);
    } finally {
      await closeServer(server);
    }
  }, 60_000);
});

describe("the worker's counters", () => {
  it('count each failed attempt by activity, and messages sent or failed by channel', async () => {
    let fail = true;
    const acts = countedActivities({
      sendUnlockCode: () => (fail ? Promise.reject(new Error('provider down')) : Promise.resolve({ digest: 'x' })),
      personaliseToken: () => Promise.reject(new Error('token jammed')),
    });
    await expect(acts.sendUnlockCode()).rejects.toThrow('provider down');
    await expect(acts.personaliseToken()).rejects.toThrow('token jammed');
    fail = false;
    await expect(acts.sendUnlockCode()).resolves.toEqual({ digest: 'x' });
    const text = await workerMetrics.metrics();
    expect(text).toMatch(/^certflow_activity_failures_total\{activity="sendUnlockCode"\} 1$/m);
    expect(text).toMatch(/^certflow_activity_failures_total\{activity="personaliseToken"\} 1$/m);
    expect(text).toMatch(/^certflow_messages_total\{channel="sms",result="failed"\} 1$/m);
    expect(text).toMatch(/^certflow_messages_total\{channel="sms",result="sent"\} 1$/m);
  });
});
