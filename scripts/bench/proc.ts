/**
 * CPU time and memory of the processes a benchmark starts (the worker, the API, the Temporal dev server), read from
 * Linux's /proc: utime + stime of /proc/<pid>/stat (clock ticks), VmRSS and VmHWM of /proc/<pid>/status (kB). A
 * process's figures include its descendants alive at the time of reading (the dev server may start helpers).
 *
 * A sampler reads them every `intervalMs` so that a phase has its own peak RSS (VmHWM is the peak of the process's
 * whole life, which for a server shared by two phases says nothing about the second one).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime; 100 on every Linux architecture Node runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
}

/** Parses /proc/<pid>/stat; the command name (field 2) may contain spaces and parentheses, so fields count from its last `)`. */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  if (close < 0 || !Number.isInteger(pid)) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // After ") ": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9) minflt(10) cminflt(11) majflt(12)
  // cmajflt(13) utime(14) stime(15).
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (![ppid, utime, stime].every(Number.isFinite)) throw new Error(`unexpected /proc/<pid>/stat fields: ${text.slice(0, 120)}`);
  return { pid, ppid, cpuTicks: utime + stime };
}

/** VmRSS and VmHWM of /proc/<pid>/status, in kB (0 when absent: a zombie has no memory). */
export function parseProcStatus(text: string): { rssKb: number; hwmKb: number } {
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m === null ? 0 : Number(m[1]);
  };
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

const readOr = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** The pid and every descendant alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = readOr(`/proc/${entry}/stat`);
    if (text === undefined) continue;
    try {
      const { pid, ppid } = parseProcStat(text);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // a process that ended while being read
    }
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export interface ProcessReading {
  /** CPU seconds (user + system) since the process started, descendants included. */
  readonly cpuSeconds: number;
  readonly rssKb: number;
  /** Peak RSS of the process's life (the root process only: descendants' peaks do not add up). */
  readonly hwmKb: number;
}

/** One reading of a process and (unless `descendants` is false) its descendants; undefined when it is gone. */
export function readProcess(pid: number, descendants = true): ProcessReading | undefined {
  const root = readOr(`/proc/${pid}/stat`);
  if (root === undefined) return undefined;
  let ticks = 0;
  let rssKb = 0;
  let hwmKb = 0;
  for (const p of descendants ? processTree(pid) : [pid]) {
    const stat = readOr(`/proc/${p}/stat`);
    const status = readOr(`/proc/${p}/status`);
    if (stat === undefined || status === undefined) continue;
    ticks += parseProcStat(stat).cpuTicks;
    const mem = parseProcStatus(status);
    rssKb += mem.rssKb;
    if (p === pid) hwmKb = mem.hwmKb;
  }
  return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssKb, hwmKb };
}

/** What a process cost over a phase: CPU seconds spent in it, peak and last RSS sampled in it. */
export interface ProcessUsage {
  readonly cpuSeconds: number;
  /** Highest RSS sampled during the phase, MiB. */
  readonly peakRssMiB: number;
  /** RSS at the end of the phase, MiB. */
  readonly endRssMiB: number;
  /** VmHWM at the end of the phase (the peak of the process's whole life), MiB. */
  readonly lifetimePeakRssMiB: number;
  readonly samples: number;
}

const mib = (kb: number): number => Math.round((kb / 1024) * 10) / 10;

/**
 * Samples named processes every `intervalMs` until stopped; `stop()` gives each one's usage over the window. The
 * process running the bench is read alone (its descendants are the processes measured under their own names).
 */
export class ProcessSampler {
  private readonly start = new Map<string, ProcessReading>();
  private readonly last = new Map<string, ProcessReading>();
  private readonly peak = new Map<string, number>();
  private readonly count = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: Readonly<Record<string, number | null | undefined>>,
    intervalMs = 250,
  ) {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), intervalMs);
    this.timer.unref();
  }

  private sample(first: boolean): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      if (pid == null) continue;
      const r = readProcess(pid, pid !== process.pid);
      if (r === undefined) continue;
      if (first) this.start.set(name, r);
      this.last.set(name, r);
      this.peak.set(name, Math.max(this.peak.get(name) ?? 0, r.rssKb));
      this.count.set(name, (this.count.get(name) ?? 0) + 1);
    }
  }

  stop(): Record<string, ProcessUsage> {
    clearInterval(this.timer);
    this.sample(false);
    const out: Record<string, ProcessUsage> = {};
    for (const name of Object.keys(this.pids)) {
      const s = this.start.get(name);
      const l = this.last.get(name);
      if (s === undefined || l === undefined) continue;
      out[name] = {
        cpuSeconds: Math.round((l.cpuSeconds - s.cpuSeconds) * 100) / 100,
        peakRssMiB: mib(this.peak.get(name) ?? 0),
        endRssMiB: mib(l.rssKb),
        lifetimePeakRssMiB: mib(l.hwmKb),
        samples: this.count.get(name) ?? 0,
      };
    }
    return out;
  }
}

/** This process's own CPU seconds (the bench's clients and the SMTP and Twilio servers run here). */
export const ownCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
