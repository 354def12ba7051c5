/**
 * The embedded stack owns DATA_DIR while it runs: it records itself in DATA_DIR/stack.json so that a second stack is
 * refused and the admin CLI reaches the running stack's PGlite over its loopback socket instead of opening the files.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StackRecord {
  readonly pid: number;
  readonly pglitePort: number | null;
  readonly apiUrl: string;
  readonly temporalAddress: string;
  /** The dev server runs in its own process group; a stack killed outright (SIGKILL) leaves it behind. */
  readonly devServerPid: number | null;
  readonly startedAt: string;
}

const stackFile = (dataDir: string): string => join(dataDir, 'stack.json');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The stack running on this data folder, if any (a file left by a killed stack is ignored). */
export function runningStack(dataDir: string): StackRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(stackFile(dataDir), 'utf8')) as StackRecord;
    return record.pid !== process.pid && alive(record.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Stops a dev server left running by a stack that was killed outright, so that its ports and files are free. */
export function reapOrphanedDevServer(dataDir: string): number | null {
  try {
    const record = JSON.parse(readFileSync(stackFile(dataDir), 'utf8')) as StackRecord;
    if (alive(record.pid) || record.devServerPid === null || !alive(record.devServerPid)) return null;
    process.kill(record.devServerPid, 'SIGKILL');
    return record.devServerPid;
  } catch {
    return null;
  }
}

export function recordStack(dataDir: string, record: StackRecord): void {
  writeFileSync(stackFile(dataDir), `${JSON.stringify(record, null, 2)}\n`);
}

export function forgetStack(dataDir: string): void {
  rmSync(stackFile(dataDir), { force: true });
}

export const pgliteSocketUrl = (port: number): string => `postgres://postgres@127.0.0.1:${port}/postgres`;
