/**
 * The `lifecycle` scenario: N complete ID_RGS_STAR orders driven over HTTP by C concurrent clients, against a stack
 * the bench starts itself (scripts/bench/stack.ts), then, in the same run and on the same Temporal server, the
 * `baseline`: as many workflows doing the same number of empty activities and Updates (the plan read from a real
 * order's history, scripts/bench/baseline-plan.ts) driven by the Temporal client, so that lifecycle / baseline shows
 * what the product itself costs. `npm run bench -- baseline` runs the baseline alone with the recorded plan.
 *
 * One order, as a customer and staff do it (test/workflows/drive.ts): POST /v1/orders (which waits for the workflow's
 * `registered` Update), each missing document uploaded (multipart), submit, the RA approves, face-to-face and
 * originals when the product needs them (ID_RGS_STAR does not), the RA records the transfer, GET polled until the
 * certificate is issued, the holder accepts, asks for the unlock code, reads it from the SMS the Twilio server
 * received and verifies it; GET polled until completed, then the workflow's end awaited (completion mail, the
 * certificate's own workflow started). Every holder has their own mobile number, so each SMS is told apart.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { sql } from 'drizzle-orm';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { OrderView } from '../../domain/order.js';
import { orderWorkflowId } from '../../workflows/definitions.js';
import { minimalPdf } from '../../test/documents/fixtures.js';
import { DEFAULT_PLAN, planActivities, planFromHistory, type BaselinePlan } from './baseline-plan.js';
import { inLanes, Latencies, latencyTable, type LatencySummary } from './latency.js';
import { ProcessSampler, type ProcessUsage } from './proc.js';
import { BENCH_RESULTS_DIR, formatTable, machineInfo, machineLine, positiveInt, positiveNumber, writeReport, type BenchReport, type CaseResult } from './report.js';
import { phoneOf, sleep, startBenchStack, type Account, type BenchStack, type StackOptions } from './stack.js';

export const LIFECYCLE_DEFAULTS = { orders: 20, concurrency: 4, pollMs: 100, orderTimeoutSeconds: 300 } as const;

export interface LifecycleOptions {
  readonly orders: number;
  readonly concurrency: number;
  /** Interval of the GET polls while the workflow works on its own (issuance, completion). */
  readonly pollMs: number;
  /** An order not completed after this fails the run. */
  readonly orderTimeoutSeconds: number;
  /** Which phases run: `lifecycle` then `baseline`, or one of them. */
  readonly phases: readonly ('lifecycle' | 'baseline')[];
  /** Node flags of the worker and API processes (`--cpu-prof`…). */
  readonly nodeArgs?: readonly string[];
  readonly reportDir?: string | null;
  readonly log?: (line: string) => void;
  /** A running Temporal, a migrated database, a workflow bundle and their master key (the e2e smoke test's). */
  readonly external?: StackOptions['external'];
}

/** What one phase measured. */
export interface PhaseResult {
  readonly phase: 'lifecycle' | 'baseline';
  /** Orders (lifecycle) or workflows (baseline) completed in the window. */
  readonly completed: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly latencies: readonly LatencySummary[];
  /** CPU seconds and RSS of each process over the phase (worker, api, temporal, bench). */
  readonly processes: Readonly<Record<string, ProcessUsage>>;
  /** Per completed order/workflow: CPU ms of each process. */
  readonly cpuMsPerItem: Readonly<Record<string, number>>;
  /** What the engine did: activities, Updates, timers, children per order/workflow. */
  readonly plan: BaselinePlan;
  /** Postgres transactions (each statement outside a transaction is one) and rows, per item, from pg_stat_database. */
  readonly postgresPerItem: PgActivity | null;
}

export interface LifecycleReport extends BenchReport {
  readonly scenario: 'lifecycle' | 'baseline';
  readonly unit: 'order';
  readonly phases: readonly PhaseResult[];
  /** lifecycle ÷ baseline, when both ran. */
  readonly ratios: Readonly<Record<string, number | null>> | null;
  readonly stack: { readonly setupMs: Readonly<Record<string, number>>; readonly notes: readonly string[] };
  readonly mails: number;
  readonly sms: number;
}

/** Names under which the lifecycle's Update-backed calls are merged into one "Update round trip over HTTP". */
const UPDATE_CALLS = new Set([
  'POST evidence',
  'POST submit',
  'POST review',
  'POST face-to-face',
  'POST originals-received',
  'POST payment',
  'POST acceptance',
  'POST unlock-code',
  'POST unlock-code/verify',
]);
export const UPDATE_GROUP = 'Update round trip (every Update call)';

const round = (v: number, d = 2): number => Number(v.toFixed(d));
const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || b === 0 ? null : round(a / b, 2);

function cpuPer(processes: Readonly<Record<string, ProcessUsage>>, items: number): Record<string, number> {
  return Object.fromEntries(Object.entries(processes).map(([name, u]) => [name, round((u.cpuSeconds * 1000) / Math.max(1, items), 1)]));
}

interface Actors {
  readonly ra: Account;
  readonly dra: Account;
  readonly holders: readonly Account[];
}

async function upload(stack: BenchStack, key: string, orderId: string, documentType: string): Promise<{ status: number; body: { document: { id: string }; order: OrderView } }> {
  const form = new FormData();
  form.append('documentType', documentType);
  form.append('file', new Blob([new Uint8Array(minimalPdf())]), `${documentType}.pdf`);
  const res = await fetch(`${stack.baseUrl}/v1/orders/${orderId}/evidence`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
  return { status: res.status, body: (await res.json()) as { document: { id: string }; order: OrderView } };
}

/** Drives one order to completed; every call timed under its kind. */
async function driveOrder(stack: BenchStack, actors: Actors, holder: Account, lat: Latencies, o: LifecycleOptions): Promise<string> {
  const started = performance.now();
  const deadline = Date.now() + o.orderTimeoutSeconds * 1000;
  const expect = <T>(what: string, res: { status: number; body: T }, status = 200): T => {
    if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const post = async (name: string, key: string, path: string, json: unknown = {}): Promise<OrderView> =>
    expect(name, await lat.time(name, () => stack.http<OrderView>('POST', path, { key, json })));
  const poll = async (id: string, done: (v: OrderView) => boolean): Promise<OrderView> => {
    for (;;) {
      const view = expect('GET order', await lat.time('GET /v1/orders/{id} (poll)', () => stack.http<OrderView>('GET', `/v1/orders/${id}`, { key: holder.key })));
      if (done(view)) return view;
      if (Date.now() > deadline) throw new Error(`order ${id} still ${view.status} (waiting on ${view.waitingOn})`);
      await sleep(o.pollMs);
    }
  };

  const created = expect(
    'POST /v1/orders',
    await lat.time('POST /v1/orders', () =>
      stack.http<OrderView>('POST', '/v1/orders', {
        key: holder.key,
        json: { product: 'ID_RGS_STAR', durationYears: 3, os: 'windows', payment: { method: 'transfer' }, termsAccepted: true },
      }),
    ),
    201,
  );
  const id = created.id;
  for (const item of created.checklist.filter((c) => c.status === 'missing' || c.status === 'rejected')) {
    expect(`upload ${item.documentType}`, await lat.time('POST evidence', () => upload(stack, holder.key, id, item.documentType)), 201);
  }
  await post('POST submit', holder.key, `/v1/orders/${id}/submit`);
  let order = await post('POST review', actors.ra.key, `/v1/orders/${id}/review`, { decision: 'approve' });
  if (order.faceToFace.required) {
    const form = expect('intervention form', await lat.time('POST evidence', () => upload(stack, actors.dra.key, id, 'intervention_form')), 201);
    order = await post('POST face-to-face', actors.dra.key, `/v1/orders/${id}/face-to-face`, { interventionFormDocumentId: form.document.id, meetingDate: '2026-11-20' });
  }
  if (order.originals.required) order = await post('POST originals-received', actors.ra.key, `/v1/orders/${id}/originals-received`);
  const paid = performance.now();
  await post('POST payment', actors.ra.key, `/v1/orders/${id}/payment`, { status: 'received', reference: `VIR-${id.slice(-6)}` });
  await poll(id, (v) => v.status === 'awaiting_acceptance');
  lat.add('issuance: payment sent → awaiting_acceptance seen', performance.now() - paid);
  await post('POST acceptance', holder.key, `/v1/orders/${id}/acceptance`, { decision: 'accept' });
  const asked = performance.now();
  await lat.time('POST unlock-code', () => stack.http('POST', `/v1/orders/${id}/unlock-code`, { key: holder.key, json: {} })).then((r) => expect('unlock-code', r));
  const sms = await stack.twilio.waitFor((m) => m.to === holder.phone, o.orderTimeoutSeconds * 1000);
  lat.add('SMS: unlock-code asked → SMS at the Twilio server', performance.now() - asked);
  const code = /\b(\d{6})\b/.exec(sms.body)?.[1];
  if (code === undefined) throw new Error(`no code in the SMS: ${sms.body}`);
  const verified = expect(
    'verify',
    await lat.time('POST unlock-code/verify', () => stack.http<{ unlockPin?: string }>('POST', `/v1/orders/${id}/unlock-code/verify`, { key: holder.key, json: { code } })),
  );
  if (typeof verified.unlockPin !== 'string') throw new Error(`verify gave no PIN: ${JSON.stringify(verified)}`);
  await poll(id, (v) => v.status === 'completed');
  // The workflow's last steps (completion mail, the certificate's own workflow) are part of the order's cost.
  await stack.client.workflow.getHandle(orderWorkflowId(id)).result();
  lat.add('order: created → workflow closed', performance.now() - started);
  return id;
}

export interface PgActivity {
  readonly transactions: number;
  readonly rowsFetched: number;
  readonly rowsReturned: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
}

/** The database's counters (the statistics collector flushes about once a second: wait before reading). */
async function pgActivity(stack: BenchStack): Promise<PgActivity> {
  await sleep(1500);
  // postgres.js answers a list of rows.
  const result: unknown = await stack.db.db.execute(
    sql`select xact_commit + xact_rollback as x, tup_fetched as f, tup_returned as r, tup_inserted as i, tup_updated as u from pg_stat_database where datname = current_database()`,
  );
  const row = (result as { x: string; f: string; r: string; i: string; u: string }[])[0];
  return { transactions: Number(row?.x ?? 0), rowsFetched: Number(row?.f ?? 0), rowsReturned: Number(row?.r ?? 0), rowsInserted: Number(row?.i ?? 0), rowsUpdated: Number(row?.u ?? 0) };
}

/** Per item between two readings; null when the database is shared (other work counts too). */
function pgPerItem(before: PgActivity, after: PgActivity, items: number, shared: boolean): PgActivity | null {
  if (shared) return null;
  const per = (k: keyof PgActivity): number => round((after[k] - before[k]) / Math.max(1, items), 1);
  return { transactions: per('transactions'), rowsFetched: per('rowsFetched'), rowsReturned: per('rowsReturned'), rowsInserted: per('rowsInserted'), rowsUpdated: per('rowsUpdated') };
}

async function readPlan(stack: BenchStack, orderId: string): Promise<BaselinePlan> {
  const history = await stack.client.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
  const childActivities: number[] = [];
  try {
    const child = await stack.client.workflow.getHandle(`certificate-${orderId}`).fetchHistory();
    childActivities.push((child.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes != null).length);
  } catch {
    // no certificate workflow: the plan says so
  }
  return planFromHistory(history.events ?? [], childActivities);
}

async function lifecyclePhase(stack: BenchStack, o: LifecycleOptions, log: (l: string) => void): Promise<{ result: PhaseResult; orderIds: string[] }> {
  const holders: Account[] = [];
  for (let i = 0; i < o.orders; i++) holders.push(await stack.account('customer', { phone: phoneOf(i) }));
  const actors: Actors = { ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator'), holders };
  // One untimed order warms the processes (JIT, connection pools, the CA hierarchy's first use) before the clock.
  log('warm-up order (untimed)');
  const warmHolder = await stack.account('customer', { phone: phoneOf(o.orders + 1) });
  const warmId = await driveOrder(stack, actors, warmHolder, new Latencies(), o);
  const plan = await readPlan(stack, warmId);

  const lat = new Latencies();
  const orderIds: string[] = [];
  const pids: Record<string, number | null> = { worker: stack.worker().pid, api: stack.api()?.pid ?? null, temporal: stack.temporalPid, bench: process.pid };
  log(`lifecycle: ${o.orders} orders, ${o.concurrency} concurrent clients`);
  const pgBefore = await pgActivity(stack);
  const sampler = new ProcessSampler(pids);
  const t0 = performance.now();
  let done = 0;
  await inLanes(o.orders, o.concurrency, async (i) => {
    orderIds.push(await driveOrder(stack, actors, holders[i]!, lat, o));
    done++;
    if (done % Math.max(1, Math.round(o.orders / 10)) === 0) log(`  ${done}/${o.orders} orders completed`);
  });
  const seconds = (performance.now() - t0) / 1000;
  const processes = sampler.stop();
  const postgresPerItem = pgPerItem(pgBefore, await pgActivity(stack), orderIds.length, o.external !== undefined);
  const latencies = lat.summaries({ [UPDATE_GROUP]: (n) => UPDATE_CALLS.has(n) });
  return {
    result: {
      phase: 'lifecycle',
      completed: orderIds.length,
      seconds: round(seconds, 3),
      perSecond: round(orderIds.length / seconds, 3),
      latencies,
      processes,
      cpuMsPerItem: cpuPer(processes, orderIds.length),
      plan,
      postgresPerItem,
    },
    orderIds,
  };
}

async function baselinePhase(stack: BenchStack, o: LifecycleOptions, plan: BaselinePlan, log: (l: string) => void): Promise<PhaseResult> {
  const { stepUpdate, baselineWorkflow } = await import('./baseline-workflows.js');
  const worker = stack.baselineWorker();
  if (worker === undefined) throw new Error('the stack has no baseline worker');
  const queue = worker.queue ?? '';
  // The baseline's client: the SDK's default data converter, as its worker has.
  const { Client } = await import('@temporalio/client');
  const client = new Client({ connection: stack.connection, namespace: 'default' });
  const runOne = async (lat: Latencies): Promise<void> => {
    const started = performance.now();
    const handle = await lat.time('start workflow', () =>
      client.workflow.start(baselineWorkflow, {
        taskQueue: queue,
        workflowId: `baseline-${randomUUID()}`,
        args: [plan],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      }),
    );
    for (const [k, step] of plan.steps.entries()) {
      await lat.time(`update ${step.update}`, () => handle.executeUpdate(stepUpdate, { args: [k] }));
    }
    await handle.result();
    lat.add('workflow: started → closed', performance.now() - started);
  };
  log('warm-up workflow (untimed)');
  await runOne(new Latencies());
  const lat = new Latencies();
  const sampler = new ProcessSampler({ 'baseline-worker': worker.pid, temporal: stack.temporalPid, bench: process.pid });
  const t0 = performance.now();
  let completed = 0;
  log(`baseline: ${o.orders} workflows (${planActivities(plan)} empty activities and ${plan.steps.length} Updates each), ${o.concurrency} concurrent clients`);
  await inLanes(o.orders, o.concurrency, async () => {
    await runOne(lat);
    completed++;
  });
  const seconds = (performance.now() - t0) / 1000;
  const processes = sampler.stop();
  const updateNames = new Set(plan.steps.map((s) => `update ${s.update}`));
  const latencies = lat.summaries({ [UPDATE_GROUP]: (n) => updateNames.has(n) });
  return {
    phase: 'baseline',
    completed,
    seconds: round(seconds, 3),
    perSecond: round(completed / seconds, 3),
    latencies,
    processes,
    cpuMsPerItem: cpuPer(processes, completed),
    plan,
    postgresPerItem: null,
  };
}

const p = (phase: PhaseResult | undefined, name: string, key: 'p50Ms' | 'p95Ms' | 'p99Ms'): number | null =>
  phase?.latencies.find((l) => l.name === name)?.[key] ?? null;

export function lifecycleRatios(life: PhaseResult, base: PhaseResult): Record<string, number | null> {
  return {
    throughput: ratio(life.perSecond, base.perSecond),
    updateP50: ratio(p(life, UPDATE_GROUP, 'p50Ms'), p(base, UPDATE_GROUP, 'p50Ms')),
    updateP95: ratio(p(life, UPDATE_GROUP, 'p95Ms'), p(base, UPDATE_GROUP, 'p95Ms')),
    updateP99: ratio(p(life, UPDATE_GROUP, 'p99Ms'), p(base, UPDATE_GROUP, 'p99Ms')),
    workerCpuPerItem: ratio(life.cpuMsPerItem.worker, base.cpuMsPerItem['baseline-worker']),
    temporalCpuPerItem: ratio(life.cpuMsPerItem.temporal, base.cpuMsPerItem.temporal),
    workerPeakRss: ratio(life.processes.worker?.peakRssMiB, base.processes['baseline-worker']?.peakRssMiB),
  };
}

export async function runLifecycleBench(o: LifecycleOptions): Promise<{ report: LifecycleReport; reportPath: string | null }> {
  const log = o.log ?? ((l: string) => console.log(l));
  const startedAt = new Date().toISOString();
  const machineAtStart = machineInfo();
  const stack = await startBenchStack({
    api: o.phases.includes('lifecycle'),
    log,
    ...(o.phases.includes('baseline') ? { baselineQueue: `baseline-${randomUUID()}` } : {}),
    ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}),
    ...(o.external ? { external: o.external } : {}),
  });
  const phases: PhaseResult[] = [];
  try {
    let plan = DEFAULT_PLAN;
    if (o.phases.includes('lifecycle')) {
      const { result } = await lifecyclePhase(stack, o, log);
      phases.push(result);
      plan = result.plan;
    }
    if (o.phases.includes('baseline')) phases.push(await baselinePhase(stack, o, plan, log));
  } finally {
    await stack.close();
  }
  const life = phases.find((ph) => ph.phase === 'lifecycle');
  const base = phases.find((ph) => ph.phase === 'baseline');
  const cases: CaseResult[] = phases.map((ph) => {
    const e2e = ph.latencies.find((l) => l.name.includes('→ workflow closed') || l.name.includes('→ closed'));
    return {
      name: ph.phase,
      count: ph.completed,
      seconds: ph.seconds,
      perSecond: ph.perSecond,
      p50Ms: e2e?.p50Ms ?? null,
      p95Ms: e2e?.p95Ms ?? null,
      meanMs: round(((ph.seconds * 1000) / Math.max(1, ph.completed)) * o.concurrency, 2),
    };
  });
  const report: LifecycleReport = {
    scenario: o.phases.includes('lifecycle') ? 'lifecycle' : 'baseline',
    startedAt,
    finishedAt: new Date().toISOString(),
    unit: 'order',
    machine: { ...machineAtStart, loadAverage: machineInfo().loadAverage },
    options: { orders: o.orders, concurrency: o.concurrency, pollMs: o.pollMs, phases: o.phases, nodeArgs: o.nodeArgs ?? [] },
    cases,
    phases,
    ratios: life !== undefined && base !== undefined ? lifecycleRatios(life, base) : null,
    stack: {
      setupMs: stack.setupMs,
      notes: [
        'Temporal dev server (pinned CLI, SQLite file in WAL mode), fresh Postgres database on 127.0.0.1:5432, worker and API each in its own process (LOG_LEVEL=warn), SMTP and Twilio servers in the bench process.',
        'Lifecycle: payment by transfer recorded by an RA operator (POST /payment); one untimed warm-up order first. Baseline: the Temporal client drives the workflows directly (no HTTP, no codec, empty activities).',
        'CPU and RSS from /proc every 250 ms per phase; "bench" is this process: the HTTP clients, the SMTP and Twilio servers.',
        `Machine load at start ${machineAtStart.loadAverage.join(' ')} (1, 5, 15 min): other work on the machine shares its cores.`,
      ],
    },
    mails: stack.smtp.messages.length,
    sms: stack.twilio.messages.length,
  };
  const reportPath = o.reportDir === null ? null : writeReport(report, o.reportDir ?? BENCH_RESULTS_DIR);
  return { report, reportPath };
}

export function printLifecycleReport(report: LifecycleReport, reportPath: string | null, log: (l: string) => void = console.log): void {
  log('');
  log(`machine: ${machineLine(report.machine)}`);
  for (const ph of report.phases) {
    log('');
    log(`${ph.phase}: ${ph.completed} ${ph.phase === 'lifecycle' ? 'orders' : 'workflows'} in ${ph.seconds} s = ${ph.perSecond}/s`);
    log(`  per ${ph.phase === 'lifecycle' ? 'order' : 'workflow'}: ${planActivities(ph.plan)} activities, ${ph.plan.steps.length} Updates, ${ph.plan.timers} timers, ${ph.plan.children.length} child workflow(s)`);
    if (ph.postgresPerItem !== null) {
      const pg = ph.postgresPerItem;
      log(`  Postgres per order: ${pg.transactions} transactions/statements, rows fetched ${pg.rowsFetched}, returned ${pg.rowsReturned}, inserted ${pg.rowsInserted}, updated ${pg.rowsUpdated}`);
    }
    log(latencyTable(ph.latencies).replace(/^/gm, '  '));
    log(
      formatTable(
        ['process', 'CPU s', 'CPU ms/item', 'peak RSS MiB', 'end RSS MiB', 'VmHWM MiB'],
        Object.entries(ph.processes).map(([name, u]) => [name, u.cpuSeconds, ph.cpuMsPerItem[name] ?? null, u.peakRssMiB, u.endRssMiB, u.lifetimePeakRssMiB]),
      ).replace(/^/gm, '  '),
    );
  }
  if (report.ratios !== null) {
    log('');
    log(`lifecycle / baseline: ${Object.entries(report.ratios).map(([k, v]) => `${k} ${v ?? '—'}`).join(', ')}`);
  }
  log(`mails ${report.mails}, SMS ${report.sms}; setup (untimed) ${JSON.stringify(report.stack.setupMs)}`);
  if (reportPath !== null) log(`report: ${reportPath}`);
}

/** Parses the options shared by `lifecycle` and `baseline`. */
export function parseLifecycleArgs(name: 'lifecycle' | 'baseline', argv: readonly string[]): LifecycleOptions & { profile: boolean } {
  const program = new Command(`bench ${name}`)
    .description(
      name === 'lifecycle'
        ? 'N complete ID_RGS_STAR orders over HTTP with C concurrent clients, then the engine baseline on the same Temporal server'
        : 'the engine baseline alone: workflows with as many empty activities and Updates as an order',
    )
    .option('--orders <n>', 'orders (and baseline workflows)', positiveInt, LIFECYCLE_DEFAULTS.orders)
    .option('--concurrency <n>', 'concurrent clients', positiveInt, LIFECYCLE_DEFAULTS.concurrency)
    .option('--poll-ms <ms>', 'interval of the GET polls while the workflow works', positiveInt, LIFECYCLE_DEFAULTS.pollMs)
    .option('--order-timeout <s>', 'an order not completed after this fails the run', positiveNumber, LIFECYCLE_DEFAULTS.orderTimeoutSeconds)
    .option('--cpu-prof', 'run the worker and API with --cpu-prof (profiles in a temporary folder, printed at the end)')
    .addOption(new Option('--out <dir>', 'folder of the JSON report').default(BENCH_RESULTS_DIR, 'bench-results/'))
    .exitOverride();
  if (name === 'lifecycle') program.option('--no-baseline', 'skip the engine baseline');
  program.parse([...argv], { from: 'user' });
  const f = program.opts<{ orders: number; concurrency: number; pollMs: number; orderTimeout: number; cpuProf?: boolean; out: string; baseline?: boolean }>();
  const phases: ('lifecycle' | 'baseline')[] = name === 'baseline' ? ['baseline'] : f.baseline === false ? ['lifecycle'] : ['lifecycle', 'baseline'];
  return { orders: f.orders, concurrency: f.concurrency, pollMs: f.pollMs, orderTimeoutSeconds: f.orderTimeout, phases, reportDir: f.out, profile: f.cpuProf === true };
}

async function mainFor(name: 'lifecycle' | 'baseline', argv: readonly string[]): Promise<void> {
  const { profile, ...opts } = parseLifecycleArgs(name, argv);
  let nodeArgs: string[] = [];
  if (profile) {
    const dir = mkdtempSync(join(tmpdir(), 'certflow-bench-prof-'));
    nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    console.log(`CPU profiles of the worker and API go to ${dir}`);
  }
  const { report, reportPath } = await runLifecycleBench({ ...opts, nodeArgs });
  printLifecycleReport(report, reportPath);
}

/** `npm run bench -- lifecycle [options]`. */
export const main = (argv: readonly string[]): Promise<void> => mainFor('lifecycle', argv);
/** `npm run bench -- baseline [options]`. */
export const baselineMain = (argv: readonly string[]): Promise<void> => mainFor('baseline', argv);
