/**
 * npm run replay -- [--query '<visibility query>'] [--from <dir>] [--export <dir>]
 * npm run replay -- --api <base url> --order <id> [--order <id>…] [--export <dir>]   (CERTFLOW_API_KEY: an auditor's key)
 *
 * Replays histories against the current workflow code: those the query matches on the Temporal server (default:
 * every order and certificate workflow), or the JSON files of a folder. On a terminal, a progress bar on stderr
 * (failures printed above it as they come); otherwise (CI logs, pipes, --no-progress) a line per history. Then a
 * summary on stdout: how many were replayed, ok, non-deterministic (each with its order and first divergent event)
 * and failed; the exit code is 1 when any history fails. `--export` also writes each fetched history as `<workflowId>_<runId>.json`.
 * With `--api`, the histories come from GET /v1/orders/{id}/history: an auditor needs only an API key, no access to
 * Temporal or to the keys of the payload codec; runs Temporal no longer has come from the history archive there.
 * `--archive` (the default query only) adds the runs of the history archive (the database of DATABASE_URL, or the
 * running stack's) that Temporal no longer lists.
 */
import { Client, Connection, type DataConverter } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { MultiBar } from 'cli-progress';
import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { loadSecrets, type Secrets } from '../config/secrets.js';
import { openDatabase, openPostgres, type DatabaseHandle } from '../db/client.js';
import { historiesFromDir, historyFileNames, writeHistory } from '../lib/history/files.js';
import { historyFromJson } from '../lib/history/json.js';
import { archivedHistories, DEFAULT_REPLAY_QUERY, historiesMatching, type RunHistory } from '../lib/history/read.js';
import { replayHistories, type ReplayOutcome } from '../lib/history/replay.js';
import { pgliteSocketUrl, runningStack } from './embedded-stack.js';

const program = new Command('replay')
  .description('Replay workflow histories against the current workflow code')
  .option('--query <query>', 'visibility query of the workflows to fetch', DEFAULT_REPLAY_QUERY)
  .option('--from <dir>', 'read histories from the JSON files of a folder instead of the server')
  .option('--export <dir>', 'write each fetched history to <dir>/<workflowId>_<runId>.json')
  .option('--api <url>', "fetch the orders' histories from the CertFlow API (key in CERTFLOW_API_KEY) instead of Temporal")
  .option('--order <id>', 'an order whose histories --api fetches (repeatable)', (id: string, ids: string[]) => [...ids, id], [] as string[])
  .option('--archive', "with the default query, also the history archive's runs that Temporal no longer has")
  .option('--no-progress', 'a line per history even on a terminal, no progress bar')
  .parse();
const opts = program.opts<{ query: string; from?: string; export?: string; api?: string; order: string[]; archive?: boolean; progress: boolean }>();

/** Archived runs replayed at most, as POST /v1/audit/replay. */
const MAX_ARCHIVED = 10_000;

/** The history archive's database: the running stack's shared PGlite, else DATABASE_URL or the embedded files. */
async function archiveDatabase(config: ReturnType<typeof loadConfig>): Promise<DatabaseHandle> {
  const stack = config.DATABASE_URL === undefined ? runningStack(config.DATA_DIR) : undefined;
  return stack?.pglitePort != null ? openPostgres(pgliteSocketUrl(stack.pglitePort), 1) : openDatabase(config);
}

/** The query's runs in Temporal, then the archived runs of orders and certificates Temporal did not list. */
async function* withArchive(client: Client, archive: DatabaseHandle, query: string): AsyncIterable<RunHistory> {
  const listed = new Set<string>();
  for await (const run of historiesMatching(client, query)) {
    listed.add(`${run.workflowId}/${run.runId}`);
    yield run;
  }
  yield* await archivedHistories(client, archive.db, ['orderWorkflow', 'certificateWorkflow'], listed, MAX_ARCHIVED);
}

// The replayer's worker would log its state changes on stderr, and its core each failing workflow task (what a
// non-deterministic history is, found again at each step of the bisection) on stdout, through the bar and the lines:
// the report says it all. Core's errors still reach stderr, through the SDK's logger.
Runtime.install({
  logger: new DefaultLogger('WARN'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
});

interface HistoryAnswer {
  workflowId: string;
  runs: { runId: string; history: unknown }[];
}

/** Every run of each order's workflow and of its certificate's, as the history route gives them (decoded). */
async function* historiesFromApi(baseUrl: string, key: string, orderIds: readonly string[]): AsyncIterable<RunHistory> {
  for (const id of orderIds) {
    for (const workflow of ['order', 'certificate']) {
      const res = await fetch(new URL(`/v1/orders/${encodeURIComponent(id)}/history?workflow=${workflow}`, baseUrl), { headers: { authorization: `Bearer ${key}` } });
      // An order whose certificate was never issued has no certificate workflow.
      if (res.status === 404 && workflow === 'certificate') continue;
      if (!res.ok) throw new Error(`GET history of ${id} (${workflow}): ${res.status} ${await res.text()}`);
      const body = (await res.json()) as HistoryAnswer;
      for (const run of body.runs) yield { workflowId: body.workflowId, runId: run.runId, history: historyFromJson(run.history) };
    }
  }
}

const exporting = (dir: string | undefined, source: AsyncIterable<RunHistory>): AsyncIterable<RunHistory> =>
  dir === undefined
    ? source
    : (async function* () {
        for await (const run of source) {
          writeHistory(dir, run);
          yield run;
        }
      })();

/**
 * The payload codec of config/payload-codec.ts when that module is present (it is built alongside); without it
 * payloads are plain JSON and need no decoding. Imported by a computed name so that the tool compiles either way.
 */
async function dataConverter(secrets: Secrets): Promise<DataConverter | undefined> {
  const specifier = '../config/payload-codec.js';
  try {
    const mod = (await import(specifier)) as { payloadCodecFromSecrets(s: Secrets): unknown; dataConverterFor(codec: unknown): DataConverter };
    return mod.dataConverterFor(mod.payloadCodecFromSecrets(secrets));
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

function line(o: ReplayOutcome, done: number): string {
  const where = o.event !== undefined ? ` at event ${o.event.id} ${o.event.type}${o.event.name !== undefined ? ` ${o.event.name}` : ''}` : '';
  const what = o.result === 'ok' ? 'ok' : o.result === 'non_deterministic' ? `NON-DETERMINISTIC${where}` : 'FAILED';
  return `[${done}] ${o.workflowId} ${o.runId} ${what}${o.result === 'ok' ? '' : `\n      ${(o.message ?? '').split('\n')[0]}`}`;
}

/** The order a workflow id belongs to: `order-<id>` and `certificate-<id>` (workflows/definitions.ts). */
const orderOf = (workflowId: string): string | undefined => /^(?:order|certificate)-([0-9a-f-]{36})$/.exec(workflowId)?.[1];

/** The summary's line for a history that did not replay: its order, workflow, run and first divergent event. */
function failureLine(f: ReplayOutcome): string {
  const order = orderOf(f.workflowId);
  const event = f.event !== undefined ? `, first divergent event ${f.event.id} ${f.event.type}${f.event.name !== undefined ? ` (${f.event.name})` : ''}` : '';
  return `  ${order !== undefined ? `order ${order}: ` : ''}${f.workflowId} (run ${f.runId}): ${f.result}${event}`;
}

/**
 * How the histories' progress shows: on a terminal (stdout and stderr both), a bar on stderr redrawn in place, with
 * each failure printed above it; elsewhere a line per history on stdout, as CI logs keep them.
 */
interface Progress {
  start(total: number | undefined): void;
  result(o: ReplayOutcome, done: number): void;
  stop(): void;
}

function progressBar(): Progress {
  const bars = new MultiBar({
    stream: process.stderr,
    format: ' replaying {bar} {value}/{total} | {ok} ok, {bad} failing | {eta_formatted} left | {current}',
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 20,
  });
  let bar: ReturnType<MultiBar['create']> | undefined;
  let total = 0;
  let ok = 0;
  let bad = 0;
  return {
    start(known) {
      total = known ?? 0;
      bar = bars.create(total, 0, { ok, bad, current: '' });
    },
    result(o, done) {
      if (o.result === 'ok') ok++;
      else {
        bad++;
        bars.log(line(o, done) + '\n');
      }
      // An unknown total (histories fetched through the API) grows with what has come.
      if (done > total) bar?.setTotal((total = done));
      bar?.update(done, { ok, bad, current: o.workflowId });
    },
    stop() {
      if (bar === undefined) return;
      bar = undefined;
      // A last redraw writes the lines logged since the previous one (stop alone would drop them).
      bars.update();
      bars.stop();
    },
  };
}

const plainLines: Progress = {
  start() {},
  result: (o, done) => console.log(line(o, done)),
  stop() {},
};

let connection: Connection | undefined;
let archive: DatabaseHandle | undefined;
let progress: Progress = plainLines;
try {
  let histories: Iterable<RunHistory> | AsyncIterable<RunHistory>;
  let total: number | undefined;
  if (opts.from !== undefined) {
    histories = historiesFromDir(opts.from);
    total = historyFileNames(opts.from).length;
  } else if (opts.api !== undefined) {
    const key = process.env.CERTFLOW_API_KEY;
    if (key === undefined || key === '') throw new Error('--api needs the API key in CERTFLOW_API_KEY');
    if (opts.order.length === 0) throw new Error('--api needs at least one --order <id>');
    histories = exporting(opts.export, historiesFromApi(opts.api, key, opts.order));
  } else {
    const config = loadConfig();
    connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}` });
    const converter = await dataConverter(loadSecrets(config));
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, ...(converter !== undefined ? { dataConverter: converter } : {}) });
    if (opts.archive === true && opts.query !== DEFAULT_REPLAY_QUERY) throw new Error('--archive replays the archive with the default query only');
    if (opts.archive === true) archive = await archiveDatabase(config);
    histories = exporting(opts.export, archive !== undefined ? withArchive(client, archive, opts.query) : historiesMatching(client, opts.query));
    // Each run is an execution of its own: the count is the number of histories the list gives.
    if (opts.progress && process.stdout.isTTY && process.stderr.isTTY) total = (await client.workflow.count(opts.query)).count;
  }
  if (opts.progress && process.stdout.isTTY && process.stderr.isTTY) progress = progressBar();
  progress.start(total);
  // The bundle a production worker runs (WORKFLOW_BUNDLE_PATH, `npm run build:workflows`) when given: the code deployed
  // is the code to replay against, and webpack does not run again; otherwise the sources are bundled here.
  const bundlePath = process.env.WORKFLOW_BUNDLE_PATH?.trim();
  const workflowBundle = bundlePath !== undefined && bundlePath !== '' ? { workflowBundle: { codePath: bundlePath } } : {};
  const report = await replayHistories(histories, { ...workflowBundle, onResult: (o, done) => progress.result(o, done) });
  progress.stop();
  console.log(
    `\nreplayed ${report.replayed}: ${report.ok} ok, ${report.nonDeterministic} non-deterministic, ${report.failed} failed` +
      (opts.export !== undefined ? `; exported to ${opts.export}` : ''),
  );
  for (const f of report.failures) console.log(failureLine(f));
  process.exitCode = report.failures.length > 0 ? 1 : 0;
} catch (err) {
  progress.stop();
  console.error(`replay: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await connection?.close();
  await archive?.close();
}
