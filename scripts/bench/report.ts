/**
 * What every benchmark scenario shares: the measure of one case (count, wall time, rate, per-item latency), the
 * machine it ran on, the aligned table printed at the end and the JSON report kept under bench-results/ (git-ignored).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';

/** bench-results/ at the repository root, wherever the command is run from. */
export const BENCH_RESULTS_DIR = fileURLToPath(new URL('../../bench-results/', import.meta.url));

export interface CaseResult {
  /** Unique in its report, e.g. `tls/rsa2048 ca-activity`. */
  readonly name: string;
  /** Items done in the timed window (certificates for the `ca` scenario). */
  readonly count: number;
  /** Wall time of the timed window, from the first start to the last end. */
  readonly seconds: number;
  /** count / seconds. */
  readonly perSecond: number;
  /** Latency of one item; null where a batch does not let one item be timed on its own. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  /** seconds / count × concurrency: the time one lane spent per item, whether or not items can be timed one by one. */
  readonly meanMs: number;
  readonly note?: string;
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly loadAverage: readonly number[];
  readonly platform: string;
  readonly arch: string;
  readonly node: string;
  /** `openssl version`, null when there is no openssl on PATH. */
  readonly openssl: string | null;
  /** HEAD of the working tree, null outside a git checkout. */
  readonly commit: string | null;
}

export interface BenchReport {
  readonly scenario: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** What a count is: `cert` for the ca scenario. */
  readonly unit: string;
  readonly machine: MachineInfo;
  readonly options: Readonly<Record<string, unknown>>;
  readonly cases: readonly CaseResult[];
}

const firstLine = (command: string, args: string[]): string | null => {
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 5_000 });
  return run.status === 0 ? (run.stdout.split('\n')[0]?.trim() ?? null) : null;
};

export function machineInfo(): MachineInfo {
  const cpuList = cpus();
  return {
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    platform: `${platform()} ${release()}`,
    arch: arch(),
    node: process.version,
    openssl: firstLine('openssl', ['version']),
    commit: firstLine('git', ['-C', fileURLToPath(new URL('../..', import.meta.url)), 'rev-parse', '--short', 'HEAD']),
  };
}

/** Nearest-rank percentile of an unsorted list; null for an empty one. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** A case from what was measured: latencies in ms (empty when the items could not be timed one by one). */
export function caseResult(name: string, m: { count: number; seconds: number; latenciesMs: readonly number[]; lanes: number; note?: string }): CaseResult {
  const p50 = percentile(m.latenciesMs, 50);
  const p95 = percentile(m.latenciesMs, 95);
  return {
    name,
    count: m.count,
    seconds: round(m.seconds, 3),
    perSecond: round(m.count / m.seconds, 2),
    p50Ms: p50 === null ? null : round(p50, 2),
    p95Ms: p95 === null ? null : round(p95, 2),
    meanMs: round(((m.seconds * 1000) / m.count) * m.lanes, 2),
    ...(m.note === undefined ? {} : { note: m.note }),
  };
}

/** A plain aligned table: text columns left, numbers right. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const cells = rows.map((row) => row.map((cell) => (cell === null ? '—' : String(cell))));
  const numeric = header.map((_, i) => rows.every((row) => row[i] === null || typeof row[i] === 'number'));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** The cases as a table: case, count, seconds, rate, p50/p95 and mean per item. */
export function casesTable(cases: readonly CaseResult[], unit: string): string {
  return formatTable(
    ['case', `${unit}s`, 'seconds', `${unit}s/s`, `p50 ms/${unit}`, `p95 ms/${unit}`, `mean ms/${unit}`],
    cases.map((c) => [c.name, c.count, c.seconds, c.perSecond, c.p50Ms, c.p95Ms, c.meanMs]),
  );
}

export function machineLine(m: MachineInfo): string {
  return `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.platform} ${m.arch}, load ${m.loadAverage.join(' ')}; node ${m.node}; ${m.openssl ?? 'no openssl'}${m.commit === null ? '' : `; commit ${m.commit}`}`;
}

/** Writes `<dir>/<scenario>-<UTC timestamp>.json` and returns its path. */
export function writeReport(report: BenchReport, dir: string = BENCH_RESULTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const path = join(dir, `${report.scenario}-${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

/** commander argument parsers shared by the scenarios. */
export const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};
export const nonNegativeInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('an integer, 0 or more');
  return n;
};
export const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number');
  return n;
};
