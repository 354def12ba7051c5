/** Latencies by kind of call (`POST /v1/orders`, `update submit`…) and their p50/p95/p99, for the stack scenarios. */
import { formatTable, percentile } from './report.js';

export interface LatencySummary {
  readonly name: string;
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
  readonly meanMs: number | null;
  readonly maxMs: number | null;
}

const round2 = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);

export function summarize(name: string, values: readonly number[]): LatencySummary {
  return {
    name,
    count: values.length,
    p50Ms: round2(percentile(values, 50)),
    p95Ms: round2(percentile(values, 95)),
    p99Ms: round2(percentile(values, 99)),
    meanMs: values.length === 0 ? null : round2(values.reduce((a, b) => a + b, 0) / values.length),
    maxMs: values.length === 0 ? null : round2(Math.max(...values)),
  };
}

export class Latencies {
  private readonly byName = new Map<string, number[]>();

  add(name: string, ms: number): void {
    const list = this.byName.get(name);
    if (list === undefined) this.byName.set(name, [ms]);
    else list.push(ms);
  }

  /** Times `run` under `name` (whether it resolves or throws). */
  async time<T>(name: string, run: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      this.add(name, performance.now() - t0);
    }
  }

  values(name: string): readonly number[] {
    return this.byName.get(name) ?? [];
  }

  /** Every name in first-seen order, then the merged groups asked for (e.g. every Update behind the API). */
  summaries(groups: Readonly<Record<string, (name: string) => boolean>> = {}): LatencySummary[] {
    const names = [...this.byName.keys()];
    return [
      ...names.map((n) => summarize(n, this.values(n))),
      ...Object.entries(groups).map(([group, member]) => summarize(group, names.filter(member).flatMap((n) => [...this.values(n)]))),
    ];
  }
}

export function latencyTable(rows: readonly LatencySummary[]): string {
  return formatTable(
    ['call', 'count', 'p50 ms', 'p95 ms', 'p99 ms', 'mean ms', 'max ms'],
    rows.map((r) => [r.name, r.count, r.p50Ms, r.p95Ms, r.p99Ms, r.meanMs, r.maxMs]),
  );
}

/** Runs `one(i)` for i in [0, n) on `lanes` concurrent lanes; the first failure stops every lane and is rethrown. */
export async function inLanes(n: number, lanes: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: Error | undefined;
  const lane = async (): Promise<void> => {
    while (failed === undefined && next < n) {
      const i = next++;
      try {
        await one(i);
      } catch (err) {
        failed ??= err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, n)) }, lane));
  if (failed !== undefined) throw failed;
}
