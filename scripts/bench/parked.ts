/**
 * The `parked` scenario: many open orders at once, each waiting on its deadline timers and on its customer's next
 * Update (created and left awaiting evidence), against a stack the bench starts itself (scripts/bench/stack.ts).
 *
 * - Creation (--create): `client` (default) starts the real order workflow with the real input directly through the
 *   Temporal client, as POST /v1/orders builds it (holder and organisation rows from the database, the catalogue
 *   price, the default deadlines, a UUIDv7 id, the same search attributes), without waiting for each registration;
 *   `api` creates them through POST /v1/orders (which waits for the workflow's `registered` Update). Either way the
 *   worker records each order in the read model and sends its confirmation mail; creation ends when every order is
 *   in the read model awaiting evidence.
 * - Then: the worker's RSS with them all parked (its sticky cache holds what it has run); the latency of
 *   GET /v1/orders (a staff operator's first page, the pages after it through the cursor, a customer's first page)
 *   and GET /v1/orders/{id} over --requests requests each; the worker restarted (RSS with an empty cache), then
 *   every order queried (each replayed into the new worker's cache, bounded by --requery-seconds) and its RSS again.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { and, count, eq, inArray } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { orderWorkflowStartOptions } from '../../api/routes/orders.js';
import { holderOf, orderOrganisationOf } from '../../db/accounts.js';
import { orders } from '../../db/schema.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import type { OrderInput, OrderView } from '../../domain/order.js';
import { partnerPriceOf } from '../../domain/partner.js';
import { orderWorkflowId, stateQuery } from '../../workflows/definitions.js';
import type { orderWorkflow } from '../../workflows/order.js';
import { inLanes, Latencies, latencyTable, type LatencySummary } from './latency.js';
import { ownCpuSeconds, ProcessSampler, readProcess, type ProcessUsage } from './proc.js';
import { BENCH_RESULTS_DIR, formatTable, machineInfo, machineLine, positiveInt, positiveNumber, writeReport, type BenchReport, type CaseResult } from './report.js';
import { phoneOf, SIRET, sleep, startBenchStack, type Account, type BenchStack, type StackOptions } from './stack.js';

export const PARKED_DEFAULTS = { orders: 10_000, holders: 50, concurrency: 16, requests: 300, pageSize: 50, requerySeconds: 240, createSeconds: 900 } as const;

export interface ParkedOptions {
  readonly orders: number;
  /** Customers the orders are spread over (a customer's list shows theirs). */
  readonly holders: number;
  /** Creations in flight at once. */
  readonly concurrency: number;
  readonly create: 'client' | 'api';
  /** Requests per measured call kind. */
  readonly requests: number;
  readonly pageSize: number;
  /** Time bound of the re-query after the restart. */
  readonly requerySeconds: number;
  /** Creation not finished after this fails the run. */
  readonly createSeconds: number;
  readonly reportDir?: string | null;
  readonly log?: (line: string) => void;
  /** A running Temporal, a migrated database, a workflow bundle and their master key (the e2e smoke test's). */
  readonly external?: StackOptions['external'];
}

export interface MemoryPoint {
  readonly when: string;
  readonly workerRssMiB: number | null;
  readonly temporalRssMiB: number | null;
  readonly apiRssMiB: number | null;
}

export interface ParkedReport extends BenchReport {
  readonly scenario: 'parked';
  readonly unit: 'order';
  readonly creation: {
    readonly how: 'client' | 'api';
    readonly orders: number;
    readonly seconds: number;
    readonly perSecond: number;
    readonly processes: Readonly<Record<string, ProcessUsage>>;
  };
  readonly memory: readonly MemoryPoint[];
  readonly latencies: readonly LatencySummary[];
  readonly restart: {
    readonly workerReadyMs: number;
    /** Orders queried (each replayed into the new worker's cache) within the time bound. */
    readonly requeried: number;
    readonly requerySeconds: number;
    readonly processes: Readonly<Record<string, ProcessUsage>>;
  };
  readonly totalSeconds: number;
  readonly notes: readonly string[];
}

const round = (v: number, d = 2): number => Number(v.toFixed(d));
const mib = (kb: number | undefined): number | null => (kb === undefined ? null : round(kb / 1024, 1));

function memoryPoint(stack: BenchStack, when: string): MemoryPoint {
  const api = stack.api();
  return {
    when,
    workerRssMiB: mib(readProcess(stack.worker().pid)?.rssKb),
    temporalRssMiB: stack.temporalPid === null ? null : mib(readProcess(stack.temporalPid)?.rssKb),
    apiRssMiB: api === undefined ? null : mib(readProcess(api.pid)?.rssKb),
  };
}

/** Waits until the `n` orders of these holders are in the read model awaiting evidence; logs progress. */
async function untilParked(stack: BenchStack, holderIds: string[], n: number, deadline: number, log: (l: string) => void): Promise<void> {
  let last = -1;
  let lastLog = 0;
  for (;;) {
    const [row] = await stack.db.db
      .select({ n: count() })
      .from(orders)
      .where(and(eq(orders.status, 'awaiting_evidence'), inArray(orders.holderUserId, holderIds)));
    const parked = row?.n ?? 0;
    if (parked >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${parked}/${n} orders parked in time`);
    if (parked !== last && Date.now() - lastLog > 10_000) {
      log(`  ${parked}/${n} orders recorded awaiting evidence`);
      lastLog = Date.now();
    }
    last = parked;
    await sleep(500);
  }
}

export async function runParkedBench(o: ParkedOptions): Promise<{ report: ParkedReport; reportPath: string | null }> {
  const log = o.log ?? ((l: string) => console.log(l));
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machineAtStart = machineInfo();
  const stack = await startBenchStack({ api: true, log, ...(o.external ? { external: o.external } : {}) });
  try {
    const holders: (Account & { user: OrderInput['holder'] })[] = [];
    for (let i = 0; i < Math.min(o.holders, o.orders); i++) {
      const a = await stack.account('customer', { phone: phoneOf(i) });
      holders.push({ ...a, user: { userId: a.userId, email: '', givenName: 'Camille', surname: 'Durand', phone: a.phone, language: 'fr' } });
    }
    const ra = await stack.account('ra_operator');
    // The holder's and organisation's fields as POST /v1/orders reads them from the database.
    const holderIds = holders.map((h) => h.userId);
    const holderRows = await stack.db.db.query.users.findMany({ where: (t, { inArray: within }) => within(t.id, holderIds) });
    const org = await stack.db.db.query.organisations.findFirst({ where: (t, { eq: is }) => is(t.siret, SIRET) });
    if (org === undefined) throw new Error('no organisation');
    const inputFor = (i: number): OrderInput => {
      const holder = holders[i % holders.length] as (typeof holders)[number];
      const row = holderRows.find((u) => u.id === holder.userId);
      if (row === undefined) throw new Error('holder row missing');
      return {
        orderId: uuidv7(),
        product: 'ID_RGS_STAR',
        durationYears: 3,
        os: 'windows',
        partnerCode: null,
        holder: holderOf(row),
        orderedByUserId: row.id,
        organisation: orderOrganisationOf(org),
        certificateRequest: null,
        domainOwner: null,
        payment: { method: 'transfer', purchaseOrderNumber: null },
        priceCents: partnerPriceOf('ID_RGS_STAR', 3, null),
        createdAt: new Date().toISOString(),
        deadlines: DEFAULT_DEADLINES,
      };
    };

    // ---- creation --------------------------------------------------------------------------------------------------
    log(`creating ${o.orders} orders (${o.create === 'client' ? 'Temporal client, real workflow and input' : 'POST /v1/orders'}), ${o.concurrency} in flight`);
    const orderIds: string[] = [];
    const createLat = new Latencies();
    const pids: Record<string, number | null> = { worker: stack.worker().pid, temporal: stack.temporalPid, bench: process.pid };
    const api = stack.api();
    if (api !== undefined) pids.api = api.pid;
    const createSampler = new ProcessSampler(pids, 1000);
    const t0 = performance.now();
    const deadline = Date.now() + o.createSeconds * 1000;
    await inLanes(o.orders, o.concurrency, async (i) => {
      if (Date.now() > deadline) throw new Error(`creation not finished after ${o.createSeconds} s`);
      if (o.create === 'client') {
        const input = inputFor(i);
        await createLat.time('create: workflow start (client)', () =>
          stack.client.workflow.start<typeof orderWorkflow>('orderWorkflow', orderWorkflowStartOptions(stack.taskQueue, input)),
        );
        orderIds.push(input.orderId);
      } else {
        const holder = holders[i % holders.length] as Account;
        const res = await createLat.time('create: POST /v1/orders', () =>
          stack.http<OrderView>('POST', '/v1/orders', {
            key: holder.key,
            json: { product: 'ID_RGS_STAR', durationYears: 3, os: 'windows', payment: { method: 'transfer' }, termsAccepted: true },
          }),
        );
        if (res.status !== 201 && res.status !== 202) throw new Error(`POST /v1/orders: ${res.status} ${JSON.stringify(res.body)}`);
        orderIds.push(res.body.id);
      }
      if (orderIds.length % Math.max(1, Math.round(o.orders / 10)) === 0) log(`  ${orderIds.length}/${o.orders} started`);
    });
    await untilParked(stack, holders.map((h) => h.userId), o.orders, deadline, log);
    const createSeconds = (performance.now() - t0) / 1000;
    const createProcesses = createSampler.stop();
    log(`  ${o.orders} orders parked in ${round(createSeconds, 1)} s`);

    // ---- parked: memory, then list and detail latency ----------------------------------------------------------------
    const memory: MemoryPoint[] = [];
    await sleep(3000);
    memory.push(memoryPoint(stack, `${o.orders} parked, worker that created them`));
    const lat = new Latencies();
    const get = async (name: string, key: string, path: string): Promise<unknown> => {
      const res = await lat.time(name, () => stack.http('GET', path, { key }));
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    log(`latency: ${o.requests} requests per kind, one at a time`);
    for (let r = 0; r < o.requests; r++) await get(`GET /v1/orders?limit=${o.pageSize} (staff, first page)`, ra.key, `/v1/orders?limit=${o.pageSize}`);
    let cursor: string | null = null;
    for (let r = 0; r < o.requests; r++) {
      const page = (await get(
        `GET /v1/orders?limit=${o.pageSize}&cursor= (staff, next pages)`,
        ra.key,
        `/v1/orders?limit=${o.pageSize}${cursor === null ? '' : `&cursor=${cursor}`}`,
      )) as { nextCursor: string | null };
      cursor = page.nextCursor;
    }
    for (let r = 0; r < o.requests; r++) {
      const holder = holders[r % holders.length] as Account;
      await get(`GET /v1/orders?limit=${o.pageSize} (customer, first page)`, holder.key, `/v1/orders?limit=${o.pageSize}`);
    }
    for (let r = 0; r < o.requests; r++) {
      await get(`GET /v1/orders?status=awaiting_evidence&limit=${o.pageSize} (staff, filtered)`, ra.key, `/v1/orders?status=awaiting_evidence&limit=${o.pageSize}`);
    }
    for (let r = 0; r < o.requests; r++) {
      const id = orderIds[Math.floor(Math.random() * orderIds.length)] as string;
      await get('GET /v1/orders/{id} (staff, random order)', ra.key, `/v1/orders/${id}`);
    }
    memory.push(memoryPoint(stack, 'after the list and detail requests'));

    // ---- the worker restarted, then every order replayed into its cache ------------------------------------------------
    log('restarting the worker');
    await stack.stopWorker();
    const restartT0 = performance.now();
    await stack.startWorker();
    const workerReadyMs = Math.round(performance.now() - restartT0);
    await sleep(3000);
    memory.push(memoryPoint(stack, 'worker restarted, idle (empty cache)'));
    const requeryPids: Record<string, number | null> = { worker: stack.worker().pid, temporal: stack.temporalPid };
    const requerySampler = new ProcessSampler(requeryPids, 500);
    const rq0 = performance.now();
    const requeryDeadline = Date.now() + o.requerySeconds * 1000;
    let requeried = 0;
    await inLanes(orderIds.length, o.concurrency, async (i) => {
      if (Date.now() > requeryDeadline) return;
      await lat.time('query state after the restart (replay into the cache)', () =>
        stack.client.workflow.getHandle(orderWorkflowId(orderIds[i] as string)).query(stateQuery),
      );
      requeried++;
    });
    const requerySeconds = (performance.now() - rq0) / 1000;
    const requeryProcesses = requerySampler.stop();
    memory.push(memoryPoint(stack, `worker restarted, ${requeried} orders queried (replayed into its sticky cache)`));
    log(`  ${requeried} orders queried in ${round(requerySeconds, 1)} s`);

    const latencies = [...createLat.summaries(), ...lat.summaries()];
    const cases: CaseResult[] = [
      {
        name: `create ${o.orders} parked orders (${o.create})`,
        count: o.orders,
        seconds: round(createSeconds, 3),
        perSecond: round(o.orders / createSeconds, 2),
        p50Ms: null,
        p95Ms: null,
        meanMs: round(((createSeconds * 1000) / o.orders) * o.concurrency, 2),
      },
    ];
    const report: ParkedReport = {
      scenario: 'parked',
      startedAt,
      finishedAt: new Date().toISOString(),
      unit: 'order',
      machine: { ...machineAtStart, loadAverage: machineInfo().loadAverage },
      options: { ...o, log: undefined, external: o.external === undefined ? undefined : 'the caller\'s Temporal and database' },
      cases,
      creation: { how: o.create, orders: o.orders, seconds: round(createSeconds, 3), perSecond: round(o.orders / createSeconds, 2), processes: createProcesses },
      memory,
      latencies,
      restart: { workerReadyMs, requeried, requerySeconds: round(requerySeconds, 3), processes: requeryProcesses },
      totalSeconds: round((performance.now() - started) / 1000, 1),
      notes: [
        'Orders are ID_RGS_STAR, paid by transfer, left awaiting evidence: each waits on its inactivity reminder timer and on the Updates of its customer.',
        `Spread over ${holders.length} customers of one organisation; latencies measured one request at a time from this process over loopback, worker and API in their own processes (LOG_LEVEL=warn).`,
        `Machine load at start ${machineAtStart.loadAverage.join(' ')} (1, 5, 15 min).`,
        `Bench process CPU ${round(ownCpuSeconds(), 1)} s (clients, SMTP and Twilio servers).`,
      ],
    };
    const reportPath = o.reportDir === null ? null : writeReport(report, o.reportDir ?? BENCH_RESULTS_DIR);
    return { report, reportPath };
  } finally {
    await stack.close();
  }
}

export function printParkedReport(r: ParkedReport, reportPath: string | null, log: (l: string) => void = console.log): void {
  log('');
  log(`machine: ${machineLine(r.machine)}`);
  log(`creation (${r.creation.how}): ${r.creation.orders} orders parked in ${r.creation.seconds} s = ${r.creation.perSecond}/s`);
  log(
    formatTable(
      ['process', 'CPU s', 'peak RSS MiB', 'end RSS MiB'],
      Object.entries(r.creation.processes).map(([name, u]) => [name, u.cpuSeconds, u.peakRssMiB, u.endRssMiB]),
    ).replace(/^/gm, '  '),
  );
  log('memory (RSS, MiB):');
  log(formatTable(['when', 'worker', 'temporal', 'api'], r.memory.map((m) => [m.when, m.workerRssMiB, m.temporalRssMiB, m.apiRssMiB])).replace(/^/gm, '  '));
  log(`worker restart: polling after ${r.restart.workerReadyMs} ms; ${r.restart.requeried} orders queried in ${r.restart.requerySeconds} s (worker CPU ${r.restart.processes.worker?.cpuSeconds ?? '—'} s)`);
  log(latencyTable(r.latencies).replace(/^/gm, '  '));
  log(`total ${r.totalSeconds} s`);
  if (reportPath !== null) log(`report: ${reportPath}`);
}

const createMode = (value: string): 'client' | 'api' => {
  if (value !== 'client' && value !== 'api') throw new InvalidArgumentError('client or api');
  return value;
};

export function parseParkedArgs(argv: readonly string[]): ParkedOptions {
  const program = new Command('bench parked')
    .description('open orders parked on timers and Updates: worker memory (and after a restart), list and detail latency')
    .option('--orders <n>', 'open orders', positiveInt, PARKED_DEFAULTS.orders)
    .option('--holders <n>', 'customers the orders are spread over', positiveInt, PARKED_DEFAULTS.holders)
    .option('--concurrency <n>', 'creations (and re-queries) in flight', positiveInt, PARKED_DEFAULTS.concurrency)
    .addOption(new Option('--create <how>', 'client: real workflow and input through the Temporal client; api: POST /v1/orders').argParser(createMode).default('client'))
    .option('--requests <n>', 'requests per measured call kind', positiveInt, PARKED_DEFAULTS.requests)
    .option('--page-size <n>', 'limit of the list requests', positiveInt, PARKED_DEFAULTS.pageSize)
    .option('--requery-seconds <s>', 'time bound of the re-query after the restart', positiveNumber, PARKED_DEFAULTS.requerySeconds)
    .option('--create-seconds <s>', 'creation not finished after this fails the run', positiveNumber, PARKED_DEFAULTS.createSeconds)
    .addOption(new Option('--out <dir>', 'folder of the JSON report').default(BENCH_RESULTS_DIR, 'bench-results/'))
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const f = program.opts<{ orders: number; holders: number; concurrency: number; create: 'client' | 'api'; requests: number; pageSize: number; requerySeconds: number; createSeconds: number; out: string }>();
  if (f.pageSize > 200) throw new InvalidArgumentError('--page-size: at most 200 (the API refuses more)');
  return { ...f, reportDir: f.out };
}

/** `npm run bench -- parked [options]`. */
export async function main(argv: readonly string[]): Promise<void> {
  const opts = parseParkedArgs(argv);
  const { report, reportPath } = await runParkedBench(opts);
  printParkedReport(report, reportPath);
}
