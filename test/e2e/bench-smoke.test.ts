/**
 * The stack benchmarks run from a fresh clone: `lifecycle` (with its engine baseline) and `parked` at a tiny size,
 * on the run's Temporal dev server and database (instead of their own), with the worker, the API and the baseline's
 * worker in their own processes as in a real run. Shape only, no speed thresholds: figures belong to the benchmark.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runLifecycleBench, UPDATE_GROUP } from '../../scripts/bench/lifecycle.js';
import { runParkedBench } from '../../scripts/bench/parked.js';

const reportDir = mkdtempSync(join(tmpdir(), 'certflow-bench-smoke-'));
afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

const external = () => ({
  temporalAddress: inject('temporalAddress'),
  databaseUrl: inject('databaseUrl'),
  bundlePath: inject('workflowBundlePath'),
  masterKey: inject('masterKey'),
  softHsmConf: inject('softHsmConf'),
});
const lines: string[] = [];
const log = (l: string): void => {
  lines.push(l);
};

describe('bench smoke', () => {
  it('lifecycle --orders 2 --concurrency 1: two orders completed over HTTP, then the baseline, and the report', async () => {
    const { report, reportPath } = await runLifecycleBench({
      orders: 2,
      concurrency: 1,
      pollMs: 100,
      orderTimeoutSeconds: 120,
      phases: ['lifecycle', 'baseline'],
      reportDir,
      log,
      external: external(),
    });
    const [life, base] = report.phases;
    expect(life?.phase).toBe('lifecycle');
    expect(life?.completed).toBe(2);
    expect(base?.phase).toBe('baseline');
    expect(base?.completed).toBe(2);
    // The plan was read from a real order: Updates and activities of every step, a child (the certificate's life).
    expect(life?.plan.steps.map((s) => s.update)).toEqual(expect.arrayContaining(['registered', 'uploadEvidence', 'submit', 'review', 'recordPayment', 'verifyUnlockCode']));
    expect(life?.plan.children).toHaveLength(1);
    expect(base?.plan).toEqual(life?.plan);
    const calls = new Map(life?.latencies.map((l) => [l.name, l]));
    for (const name of ['POST /v1/orders', 'POST evidence', 'POST submit', 'POST review', 'POST payment', 'POST acceptance', 'POST unlock-code', 'POST unlock-code/verify', UPDATE_GROUP]) {
      expect(calls.get(name)?.count, name).toBeGreaterThan(0);
      expect(calls.get(name)?.p99Ms, name).toBeGreaterThan(0);
    }
    expect(calls.get('POST evidence')?.count).toBe(2 * 3);
    expect(base?.latencies.find((l) => l.name === UPDATE_GROUP)?.count).toBe(2 * (life?.plan.steps.length ?? 0));
    expect(life?.processes.worker?.cpuSeconds).toBeGreaterThan(0);
    expect(life?.processes.api?.peakRssMiB).toBeGreaterThan(10);
    expect(base?.processes['baseline-worker']?.cpuSeconds).toBeGreaterThan(0);
    expect(report.ratios?.throughput).toBeGreaterThan(0);
    // Three orders (the warm-up too), each with its unlock SMS and its mails through the SMTP server.
    expect(report.sms).toBe(3);
    expect(report.mails).toBeGreaterThanOrEqual(3 * 4);
    expect(reportPath).not.toBeNull();
    expect(JSON.parse(readFileSync(reportPath ?? '', 'utf8'))).toEqual(report);
  }, 240_000);

  it('parked --orders 20: parked, listed, read, the worker restarted and the orders replayed', async () => {
    const { report } = await runParkedBench({
      orders: 20,
      holders: 4,
      concurrency: 4,
      create: 'client',
      requests: 5,
      pageSize: 10,
      requerySeconds: 60,
      createSeconds: 120,
      reportDir,
      log,
      external: external(),
    });
    expect(report.creation.orders).toBe(20);
    expect(report.restart.requeried).toBe(20);
    expect(report.memory).toHaveLength(4);
    for (const m of report.memory) expect(m.workerRssMiB, m.when).toBeGreaterThan(10);
    const names = report.latencies.map((l) => l.name);
    expect(names).toEqual(expect.arrayContaining(['GET /v1/orders/{id} (staff, random order)', 'query state after the restart (replay into the cache)']));
    for (const l of report.latencies.filter((x) => x.name.startsWith('GET'))) expect(l.count, l.name).toBe(5);
  }, 240_000);
});
