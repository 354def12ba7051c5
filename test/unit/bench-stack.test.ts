/**
 * The pure parts of the stack benchmarks (lifecycle, baseline, parked): percentiles and latency summaries, the
 * baseline plan read from a history, /proc parsing, the lane runner, the ratios and argument parsing. The scenarios
 * themselves run in test/e2e/bench-smoke.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, planActivities, planFromHistory, type PlanEvent } from '../../scripts/bench/baseline-plan.js';
import { inLanes, Latencies, latencyTable, summarize } from '../../scripts/bench/latency.js';
import { lifecycleRatios, parseLifecycleArgs, UPDATE_GROUP, type PhaseResult } from '../../scripts/bench/lifecycle.js';
import { parseParkedArgs, PARKED_DEFAULTS } from '../../scripts/bench/parked.js';
import { parseProcStat, parseProcStatus, readProcess } from '../../scripts/bench/proc.js';
import { SCENARIOS } from '../../scripts/bench.js';

describe('latency summaries', () => {
  it('gives nearest-rank p50/p95/p99, mean and max', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize('x', values)).toEqual({ name: 'x', count: 100, p50Ms: 50, p95Ms: 95, p99Ms: 99, meanMs: 50.5, maxMs: 100 });
    expect(summarize('one', [7])).toMatchObject({ p50Ms: 7, p95Ms: 7, p99Ms: 7 });
    expect(summarize('none', [])).toEqual({ name: 'none', count: 0, p50Ms: null, p95Ms: null, p99Ms: null, meanMs: null, maxMs: null });
  });

  it('groups names in first-seen order and merges a group of them', async () => {
    const lat = new Latencies();
    lat.add('POST submit', 10);
    lat.add('GET poll', 1);
    lat.add('POST review', 30);
    await expect(lat.time('failing', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    const rows = lat.summaries({ updates: (n) => n.startsWith('POST') });
    expect(rows.map((r) => r.name)).toEqual(['POST submit', 'GET poll', 'POST review', 'failing', 'updates']);
    expect(rows.at(-1)).toMatchObject({ count: 2, p50Ms: 10, maxMs: 30 });
    expect(rows[3]?.count).toBe(1);
    expect(latencyTable(rows).split('\n')[0]).toMatch(/^call\s+count\s+p50 ms\s+p95 ms\s+p99 ms/);
  });
});

describe('inLanes', () => {
  it('runs every item once with at most `lanes` at a time', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await inLanes(10, 3, async (i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      seen.push(i);
      inFlight--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(3);
  });

  it('stops taking items after a failure and rethrows it', async () => {
    const seen: number[] = [];
    await expect(
      inLanes(100, 2, async (i) => {
        seen.push(i);
        await Promise.resolve();
        if (i === 3) throw new Error('order 3 failed');
      }),
    ).rejects.toThrow('order 3 failed');
    expect(seen.length).toBeLessThan(10);
  });
});

describe('the baseline plan read from a history', () => {
  const accepted = (id: string, name: string): PlanEvent => ({ workflowExecutionUpdateAcceptedEventAttributes: { acceptedRequest: { meta: { updateId: id }, input: { name } } } });
  const completed = (id: string): PlanEvent => ({ workflowExecutionUpdateCompletedEventAttributes: { meta: { updateId: id } } });
  const activity: PlanEvent = { activityTaskScheduledEventAttributes: {} };

  it('counts activities in a handler, after it, and before the first Update; timers and children', () => {
    const events: PlanEvent[] = [
      {},
      activity,
      accepted('u1', 'registered'),
      activity,
      completed('u1'),
      activity,
      activity,
      { timerStartedEventAttributes: {} },
      accepted('u2', 'submit'),
      activity,
      completed('u2'),
      { timerStartedEventAttributes: {} },
      activity,
      { startChildWorkflowExecutionInitiatedEventAttributes: {} },
    ];
    const plan = planFromHistory(events, [2]);
    expect(plan).toEqual({
      before: 1,
      steps: [
        { update: 'registered', inHandler: 1, after: 2 },
        { update: 'submit', inHandler: 1, after: 1 },
      ],
      timers: 2,
      children: [{ activities: 2 }],
    });
    expect(planActivities(plan)).toBe(1 + 3 + 2 + 2);
  });

  it('has a recorded default plan for the baseline run alone', () => {
    expect(DEFAULT_PLAN.steps[0]?.update).toBe('registered');
    expect(DEFAULT_PLAN.steps.map((s) => s.update)).toContain('verifyUnlockCode');
    expect(planActivities(DEFAULT_PLAN)).toBeGreaterThan(DEFAULT_PLAN.steps.length);
  });
});

describe('/proc parsing', () => {
  it('reads ppid and utime+stime after a command name with spaces and parentheses', () => {
    const line = '4242 (node (worker) x) S 17 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 11 0 123 0 0';
    expect(parseProcStat(line)).toEqual({ pid: 4242, ppid: 17, cpuTicks: 300 });
    expect(() => parseProcStat('garbage')).toThrow();
  });

  it('reads VmRSS and VmHWM in kB', () => {
    expect(parseProcStatus('Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n')).toEqual({ rssKb: 102400, hwmKb: 204800 });
    expect(parseProcStatus('Name:\tzombie\n')).toEqual({ rssKb: 0, hwmKb: 0 });
  });

  it('reads this process', () => {
    const me = readProcess(process.pid, false);
    expect(me?.rssKb).toBeGreaterThan(1000);
    expect(me?.hwmKb).toBeGreaterThanOrEqual(me?.rssKb ?? Infinity);
    expect(me?.cpuSeconds).toBeGreaterThan(0);
    expect(readProcess(2 ** 22 + 12345)).toBeUndefined();
  });
});

describe('ratios and options', () => {
  const phase = (name: 'lifecycle' | 'baseline', perSecond: number, p50: number, worker: string, cpu: number): PhaseResult => ({
    phase: name,
    completed: 10,
    seconds: 10 / perSecond,
    perSecond,
    latencies: [{ name: UPDATE_GROUP, count: 10, p50Ms: p50, p95Ms: p50 * 2, p99Ms: p50 * 3, meanMs: p50, maxMs: p50 * 3 }],
    processes: { [worker]: { cpuSeconds: cpu, peakRssMiB: 200, endRssMiB: 150, lifetimePeakRssMiB: 200, samples: 4 }, temporal: { cpuSeconds: 2, peakRssMiB: 100, endRssMiB: 100, lifetimePeakRssMiB: 100, samples: 4 } },
    cpuMsPerItem: { [worker]: cpu * 100, temporal: 200 },
    plan: DEFAULT_PLAN,
    postgresPerItem: null,
  });

  it('divides lifecycle by baseline', () => {
    const r = lifecycleRatios(phase('lifecycle', 1, 40, 'worker', 8), phase('baseline', 4, 10, 'baseline-worker', 2));
    expect(r).toEqual({ throughput: 0.25, updateP50: 4, updateP95: 4, updateP99: 4, workerCpuPerItem: 4, temporalCpuPerItem: 1, workerPeakRss: 1 });
  });

  it('parses the lifecycle and baseline options', () => {
    expect(parseLifecycleArgs('lifecycle', ['--orders', '2', '--concurrency', '1'])).toMatchObject({ orders: 2, concurrency: 1, phases: ['lifecycle', 'baseline'], profile: false });
    expect(parseLifecycleArgs('lifecycle', ['--no-baseline', '--cpu-prof'])).toMatchObject({ phases: ['lifecycle'], profile: true });
    expect(parseLifecycleArgs('baseline', [])).toMatchObject({ phases: ['baseline'], orders: 20 });
    expect(() => parseLifecycleArgs('lifecycle', ['--orders', '0'])).toThrow(/positive integer/);
    expect(() => parseLifecycleArgs('baseline', ['--no-baseline'])).toThrow();
  });

  it('parses the parked options', () => {
    expect(parseParkedArgs([])).toMatchObject({ orders: PARKED_DEFAULTS.orders, create: 'client', requests: 300, pageSize: 50 });
    expect(parseParkedArgs(['--orders', '20', '--create', 'api', '--requests', '5'])).toMatchObject({ orders: 20, create: 'api', requests: 5 });
    expect(() => parseParkedArgs(['--create', 'carrier-pigeon'])).toThrow(/client or api/);
    expect(() => parseParkedArgs(['--page-size', '500'])).toThrow(/at most 200/);
  });

  it('lists every scenario', () => {
    expect(Object.keys(SCENARIOS)).toEqual(['ca', 'lifecycle', 'baseline', 'parked']);
  });
});
