/**
 * GET /metrics in Prometheus's text format. Three sources, each where its truth lives:
 * - this process: HTTP latency by route template (never the raw path, so ids make no series);
 * - the read model, queried at scrape time: orders by status and product, stuck orders, stage durations,
 *   certificates issued, CRL age. Every API replica answers the same numbers, and a restart loses nothing;
 * - registries of other parts of the process (`npm start` runs the worker here) and the Temporal SDK's own
 *   exporter, appended as they are.
 * With METRICS_TOKEN set, a scrape must carry it as a bearer token (Prometheus: `authorization.credentials`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { and, count, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Request, RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/client.js';
import { crls, certificates, orderEvents, orders } from '../db/schema.js';

export interface MetricsOptions {
  readonly db: Database;
  /** An order waiting on staff (ra, dra) or the CA longer than this, since its last change, is stuck. */
  readonly stuckOrderSlaMs: number;
  /** Unset: /metrics answers anyone who reaches the port. */
  readonly token?: string;
  /** Registries of the same process (the embedded worker's counters). */
  readonly registries?: readonly Registry[];
  /** The Temporal SDK's Prometheus exporter of this process, e.g. http://127.0.0.1:9465/metrics. */
  readonly sdkMetricsUrl?: string;
}

export interface Metrics {
  /** Times every answer; mount before the routes. */
  readonly measure: RequestHandler;
  /** GET /metrics. */
  readonly handler: RequestHandler;
  readonly registry: Registry;
}

/** Who the order waits on when staff or the CA must act: the stuck-order gauge counts these only. */
export const STAFF_OR_CA = ['ra', 'dra', 'ca'] as const;

/** Seconds from ordering to each stage: a minute to a quarter. */
export const STAGE_BUCKETS = [60, 600, 3600, 6 * 3600, 86_400, 3 * 86_400, 7 * 86_400, 30 * 86_400, 90 * 86_400] as const;

/** The route template Express matched (`/v1/orders/{id}`), or `unmatched`: raw paths would make a series per id. */
function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return 'unmatched';
  return (req.baseUrl + path).replace(/:(\w+)/g, '{$1}');
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/**
 * certflow_order_stage_seconds: for every order and every action accepted on it (submit, review, payment,
 * acceptance…), the time from ordering to the first time that action was accepted, bucketed in SQL. Cumulative
 * over all orders ever made, as a Prometheus histogram must be; `stage` is the action's name.
 */
async function stageHistogram(db: Database): Promise<string> {
  const firsts = db
    .select({
      stage: orderEvents.action,
      seconds: sql<number>`extract(epoch from min(${orderEvents.createdAt}) - ${orders.createdAt})::float8`.as('seconds'),
    })
    .from(orderEvents)
    .innerJoin(orders, eq(orders.id, orderEvents.orderId))
    .where(eq(orderEvents.outcome, 'accepted'))
    .groupBy(orderEvents.orderId, orders.createdAt, orderEvents.action)
    .as('firsts');
  const buckets = Object.fromEntries(
    STAGE_BUCKETS.map((le, i) => [`b${i}`, sql<number>`(count(*) filter (where ${firsts.seconds} <= ${sql.raw(String(le))}))::int`]),
  );
  const rows = await db
    .select({ stage: firsts.stage, count: sql<number>`count(*)::int`, sum: sql<number>`coalesce(sum(${firsts.seconds}), 0)::float8`, ...buckets })
    .from(firsts)
    .groupBy(firsts.stage)
    .orderBy(firsts.stage);
  const name = 'certflow_order_stage_seconds';
  const lines = [`# HELP ${name} Seconds from ordering to the first accepted action of each stage (submit, review, payment, ...)`, `# TYPE ${name} histogram`];
  for (const row of rows) {
    const stage = escapeLabel(row.stage);
    STAGE_BUCKETS.forEach((le, i) => lines.push(`${name}_bucket{stage="${stage}",le="${le}"} ${Number((row as Record<string, unknown>)[`b${i}`])}`));
    lines.push(`${name}_bucket{stage="${stage}",le="+Inf"} ${Number(row.count)}`);
    lines.push(`${name}_sum{stage="${stage}"} ${Number(row.sum)}`);
    lines.push(`${name}_count{stage="${stage}"} ${Number(row.count)}`);
  }
  return lines.join('\n') + '\n';
}

async function sdkMetrics(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : '';
  } catch {
    return ''; // The SDK's exporter not up (yet): the scrape still answers with what this process knows.
  }
}

function sameToken(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export function createMetrics(opts: MetricsOptions): Metrics {
  const { db } = opts;
  const registry = new Registry();

  const httpDuration = new Histogram({
    name: 'certflow_http_request_duration_seconds',
    help: 'HTTP answers by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  new Gauge({
    name: 'certflow_orders',
    help: 'Orders in the read model by status and product',
    labelNames: ['status', 'product'] as const,
    registers: [registry],
    async collect() {
      const rows = await db.select({ status: orders.status, product: orders.product, n: count() }).from(orders).groupBy(orders.status, orders.product);
      this.reset();
      for (const r of rows) this.set({ status: r.status, product: r.product }, Number(r.n));
    },
  });

  new Gauge({
    name: 'certflow_orders_stuck',
    help: 'Orders waiting on staff (ra, dra) or the CA for longer than STUCK_ORDER_SLA since their last change, by whom they wait on',
    labelNames: ['waiting_on'] as const,
    registers: [registry],
    async collect() {
      const since = new Date(Date.now() - opts.stuckOrderSlaMs);
      const rows = await db
        .select({ waitingOn: orders.waitingOn, n: count() })
        .from(orders)
        .where(and(inArray(orders.waitingOn, [...STAFF_OR_CA]), lt(orders.updatedAt, since)))
        .groupBy(orders.waitingOn);
      this.reset();
      for (const w of STAFF_OR_CA) this.set({ waiting_on: w }, Number(rows.find((r) => r.waitingOn === w)?.n ?? 0));
    },
  });

  new Counter({
    name: 'certflow_certificates_issued_total',
    help: 'Certificates signed (every certificate row past its reservation), by issuing CA',
    labelNames: ['ca'] as const,
    registers: [registry],
    async collect() {
      const rows = await db.select({ ca: certificates.issuingCa, n: count() }).from(certificates).where(ne(certificates.status, 'reserved')).groupBy(certificates.issuingCa);
      this.reset();
      for (const r of rows) this.inc({ ca: r.ca }, Number(r.n));
    },
  });

  const latestCrls = () =>
    db.selectDistinctOn([crls.caId], { caId: crls.caId, thisUpdate: crls.thisUpdate, nextUpdate: crls.nextUpdate }).from(crls).orderBy(crls.caId, desc(crls.crlNumber));
  new Gauge({
    name: 'certflow_crl_age_seconds',
    help: "Seconds since the thisUpdate of each CA's latest CRL",
    labelNames: ['ca'] as const,
    registers: [registry],
    async collect() {
      const rows = await latestCrls();
      this.reset();
      for (const r of rows) this.set({ ca: r.caId }, (Date.now() - r.thisUpdate.getTime()) / 1000);
    },
  });
  new Gauge({
    name: 'certflow_crl_validity_seconds',
    help: "nextUpdate minus thisUpdate of each CA's latest CRL (the alert fires past half of it)",
    labelNames: ['ca'] as const,
    registers: [registry],
    async collect() {
      const rows = await latestCrls();
      this.reset();
      for (const r of rows) this.set({ ca: r.caId }, (r.nextUpdate.getTime() - r.thisUpdate.getTime()) / 1000);
    },
  });

  const measure: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => end({ route: routeOf(req), method: req.method, status: String(res.statusCode) }));
    next();
  };

  const handler: RequestHandler = async (req, res, next) => {
    try {
      if (opts.token !== undefined) {
        const given = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
        if (given === undefined || !sameToken(given, opts.token)) {
          res.status(401).set('WWW-Authenticate', 'Bearer realm="metrics"').type('text/plain').send('a bearer token (METRICS_TOKEN) is required\n');
          return;
        }
      }
      const parts = [await registry.metrics(), await stageHistogram(db)];
      for (const other of opts.registries ?? []) parts.push(await other.metrics());
      if (opts.sdkMetricsUrl !== undefined) parts.push(await sdkMetrics(opts.sdkMetricsUrl));
      res.type(registry.contentType).send(parts.map((p) => (p.endsWith('\n') || p === '' ? p : p + '\n')).join(''));
    } catch (err) {
      next(err);
    }
  };

  return { measure, handler, registry };
}
