/**
 * Runs the Temporal dev server (the CLI's `server start-dev`) as a child process: SQLite file in WAL mode, the Web
 * UI, the project's search attributes; resolves once the namespace answers (its retention set, when given), stops it
 * on request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time.js';

export interface DevServerOptions {
  readonly cliPath: string;
  readonly ip: string;
  readonly port: number;
  readonly uiPort: number;
  readonly dbFile: string;
  readonly namespace: string;
  readonly searchAttributes: readonly { readonly name: string; readonly type: SearchAttributeType }[];
  /** The server's own output goes here, not to the terminal. */
  readonly logFile: string;
  /**
   * The namespace's retention of closed runs, in seconds (TEMPORAL_RETENTION); `start-dev` has no flag for it and
   * creates namespaces with 24 hours, so it is set through the API once the server answers, at every start.
   */
  readonly retentionSeconds?: number;
  readonly readyTimeoutMs?: number;
}

export interface DevServer {
  readonly address: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const CLI_TYPES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export function devServerArgs(o: DevServerOptions): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    o.ip,
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--db-filename',
    o.dbFile,
    '--sqlite-pragma',
    'journal_mode=wal',
    '--namespace',
    o.namespace,
    '--log-level',
    'warn',
    ...o.searchAttributes.flatMap((k) => ['--search-attribute', `${k.name}=${CLI_TYPES[k.type]}`]),
  ];
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/**
 * Waits until the namespace can be described, then sets its retention if one is given; the server can take well over
 * 5 s to open on a busy 2-core machine.
 */
async function waitReady(address: string, namespace: string, child: ChildProcess, deadline: number, retentionSeconds?: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('the dev server exited during start-up');
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        if (retentionSeconds !== undefined) {
          await connection.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: msToTs(retentionSeconds * 1000) } });
        }
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the dev server did not answer on ${address} in time: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  mkdirSync(dirname(o.dbFile), { recursive: true });
  mkdirSync(dirname(o.logFile), { recursive: true });
  const log = createWriteStream(o.logFile, { flags: 'a' });
  await new Promise((r) => log.once('open', r));
  // Its own process group: a Ctrl-C in the terminal reaches only CertFlow, which stops the server last, after the
  // worker has drained (a server gone first leaves the worker unable to report what it finished).
  const child = spawn(o.cliPath, devServerArgs(o), { stdio: ['ignore', log, log], detached: true });
  // If this process dies without stopping it, do not leave the server running.
  const reap = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', reap);
  const address = `${o.ip}:${o.port}`;
  try {
    await waitReady(address, o.namespace, child, Date.now() + (o.readyTimeoutMs ?? 60_000), o.retentionSeconds);
  } catch (err) {
    await stopChild(child, 2000);
    process.off('exit', reap);
    log.end();
    throw new Error(`${(err as Error).message}\n--- ${o.logFile} ---\n${tail(o.logFile)}`);
  }
  return {
    address,
    pid: child.pid ?? -1,
    async stop() {
      await stopChild(child);
      process.off('exit', reap);
      log.end();
    },
  };
}
