/**
 * Histories for auditors: fetch an order's runs, decode their payloads with the client's codec, export them in the
 * format `temporal workflow show --output json` writes, and replay them against the current workflow code.
 *
 * Histories are decoded before they are replayed or written: a file then replays without the key it was encrypted
 * under (the recorded fixtures outlive the test run's random master key), and the replayer needs no codec.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowNotFoundError, type Payload, type PayloadCodec } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import type * as Proto from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { canonicalJson } from '../db/audit-log.js';
import type { Database } from '../db/client.js';
import { archivedRun, archivedRunsOf, archivedRunsOfTypes, sha256Hex, type ArchivedRun } from '../db/history-archive.js';
import { HISTORY_ARCHIVE_ID, type HistoryArchiveOptions, type historyArchiveWorkflow } from '../workflows/archive.js';

/** The workflows' entry module (as in worker.ts, without importing the activities into the API process). */
const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js'), import.meta.url));

/** What an auditor replays by default: every order and every certificate, not the CRL publisher. */
export const DEFAULT_REPLAY_QUERY = "WorkflowType IN ('orderWorkflow', 'certificateWorkflow')";

export interface RunHistory {
  readonly workflowId: string;
  readonly runId: string;
  readonly history: History;
  /** Where it was read: Temporal, or the archive once Temporal no longer has the run. */
  readonly source?: 'temporal' | 'archive';
  /** SHA-256 of the history's JSON as Temporal holds it (payloads encoded): the hash the archive keeps. */
  readonly sha256?: string;
}

/** The archive's reader (db/history-archive.ts): the database it is in. */
export type HistoryArchive = Pick<Database, 'select'>;

/** The codecs of a client (empty without a payload codec), innermost last as the SDK applies them. */
export const codecsOf = (client: Client): readonly PayloadCodec[] => client.options.loadedDataConverter.payloadCodecs;

async function decodePayloads(codecs: readonly PayloadCodec[], payloads: Payload[]): Promise<Payload[]> {
  let decoded = payloads;
  for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
  return decoded;
}

/**
 * A failure whose message and stack trace were encoded (config/failure-converter.ts), its `encodedAttributes` now
 * decrypted, reads as a plain one: the message and stack back in their fields, as the SDK's converters read them.
 */
function restoreFailureText(failure: Record<string, unknown>): void {
  let attrs: unknown;
  try {
    attrs = defaultPayloadConverter.fromPayload(failure.encodedAttributes as Payload);
  } catch {
    return;
  }
  if (typeof attrs !== 'object' || attrs === null) return;
  const { message, stack_trace: stackTrace } = attrs as { message?: unknown; stack_trace?: unknown };
  if (typeof message === 'string') failure.message = message;
  if (typeof stackTrace === 'string') failure.stackTrace = stackTrace;
  failure.encodedAttributes = null;
}

/**
 * Decodes every payload of a history in place: `payloads` lists (inputs, results, update arguments, failure
 * details), the single `encodedAttributes` of failures (message and stack put back), `userMetadata` summaries and
 * details, and header and memo fields. Search attributes are never encoded by a codec and are left alone.
 */
export async function decodeHistory(history: History, codecs: readonly PayloadCodec[]): Promise<History> {
  if (codecs.length === 0) return history;
  const visit = async (node: unknown, key: string): Promise<void> => {
    if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) return;
    if (Array.isArray(node)) {
      for (const item of node) await visit(item, key);
      return;
    }
    const record = node as Record<string, unknown>;
    for (const [k, value] of Object.entries(record)) {
      if (value === null || typeof value !== 'object') continue;
      if (k === 'payloads' && Array.isArray(value)) {
        record[k] = await decodePayloads(codecs, value as Payload[]);
      } else if (k === 'encodedAttributes' && 'data' in value) {
        record[k] = (await decodePayloads(codecs, [value as Payload]))[0];
        restoreFailureText(record);
      } else if (key === 'userMetadata' && (k === 'summary' || k === 'details') && 'data' in value) {
        // A timer's or an activity's summary (the deadline a timer waits for).
        record[k] = (await decodePayloads(codecs, [value as Payload]))[0];
      } else if (k === 'fields' && (key === 'header' || key === 'memo')) {
        const fields = value as Record<string, Payload>;
        const names = Object.keys(fields);
        const decoded = await decodePayloads(codecs, names.map((n) => fields[n] as Payload));
        record[k] = Object.fromEntries(names.map((n, i) => [n, decoded[i]]));
      } else if (k !== 'searchAttributes') {
        await visit(value, k);
      }
    }
  };
  await visit(history, '');
  return history;
}

/**
 * Proto3 JSON, as `temporal workflow show --output json` writes it (int64 as strings, enums as names, bytes in
 * base64, timestamps RFC 3339). The SDK's historyToJSON/historyFromJSON (common/lib/proto-utils) fail here with
 * "type must be a Type": npm installed three copies of protobufjs 8 (proto, common, worker) and protojson checks
 * `instanceof Type` against its own copy. The same functions, taken from the copy @temporalio/proto's types come from.
 */
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}
const requireFromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
// Required, not imported: Node's ESM loader sees no named exports in the generated CommonJS module.
const { temporal } = requireFromProto('@temporalio/proto') as typeof Proto;
const protojson = requireFromProto('protobufjs/ext/protojson') as ProtoJson;
const historyType = (
  requireFromProto('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(root: unknown): { lookupType(name: string): unknown } }
)
  .patchProtobufRoot(requireFromProto('@temporalio/proto'))
  .lookupType('temporal.api.history.v1.History');

/** The history in the JSON of `temporal workflow show --output json`, as an object. */
export const historyAsJson = (history: History): unknown => protojson.toJson(historyType, temporal.api.history.v1.History.fromObject(history));

/** A history read back from that JSON. */
export function historyFromJson(json: unknown): History {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { events?: unknown }).events)) {
    throw new TypeError('Not a history: expected an object with an array of events');
  }
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}

/**
 * The history JSON as `temporal workflow show --output json` writes it, serialised with sorted keys: what the archive
 * keeps and hashes. Sorted, because the server gives map fields (payload metadata, search attributes) in any order.
 */
export const historyJsonText = (history: History): string => canonicalJson(historyAsJson(history));

const isNotFound = (err: unknown): boolean =>
  err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5 || (err as { cause?: { code?: number } }).cause?.code === 5;

/** A run as read from Temporal (not yet decoded), with the hash of its JSON. */
const fromTemporal = (workflowId: string, runId: string, raw: History): RunHistory => ({
  workflowId,
  runId,
  history: raw,
  source: 'temporal',
  sha256: sha256Hex(historyJsonText(raw)),
});

/** Read back through the wire format, so that it is the very object fetchHistory gives (Long seconds, Buffers). */
const asFetched = (history: History): History => {
  const type = temporal.api.history.v1.History;
  return type.decode(type.encode(type.fromObject(history)).finish());
};

const fromArchive = (run: ArchivedRun): RunHistory => ({
  workflowId: run.workflowId,
  runId: run.runId,
  history: asFetched(historyFromJson(JSON.parse(run.json))),
  source: 'archive',
  sha256: run.sha256,
});

const decoded = async (client: Client, run: RunHistory): Promise<RunHistory> => ({ ...run, history: await decodeHistory(run.history, codecsOf(client)) });

/**
 * Every run of a workflow, oldest first, following each run's `continuedExecutionRunId` back from the latest. With
 * the archive, a run Temporal no longer has (deleted, or past retention) is read from there; a workflow Temporal
 * has no run of at all is every run the archive has of it. Either way the histories are the same, decoded alike.
 */
export async function workflowRuns(client: Client, workflowId: string, archive?: HistoryArchive): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  let runId: string | undefined;
  try {
    runId = (await client.workflow.getHandle(workflowId).describe()).runId;
  } catch (err) {
    if (archive === undefined || !isNotFound(err)) throw err;
    const archived = await archivedRunsOf(archive, workflowId);
    if (archived.length === 0) throw err;
    return Promise.all(archived.map((a) => decoded(client, fromArchive(a))));
  }
  while (runId !== undefined && runId !== '') {
    let run: RunHistory;
    try {
      run = fromTemporal(workflowId, runId, await client.workflow.getHandle(workflowId, runId).fetchHistory());
    } catch (err) {
      const kept = archive !== undefined && isNotFound(err) ? await archivedRun(archive, { workflowId, runId }) : undefined;
      if (kept === undefined) throw err;
      run = fromArchive(kept);
    }
    run = await decoded(client, run);
    runs.unshift(run);
    runId = run.history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  }
  return runs;
}

/**
 * Archived runs of these workflow types that Temporal no longer has (not among `inTemporal`, as
 * `workflowId/runId`), decoded, most recently closed first, at most `limit`.
 */
export async function archivedHistories(client: Client, archive: HistoryArchive, types: readonly string[], inTemporal: ReadonlySet<string>, limit: number): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  for (const a of await archivedRunsOfTypes(archive, types, limit + inTemporal.size)) {
    if (inTemporal.has(`${a.workflowId}/${a.runId}`)) continue;
    if (runs.length === limit) break;
    runs.push(await decoded(client, fromArchive(a)));
  }
  return runs;
}

/** Starts the archiving workflow (workflows/archive.ts) if it is not running; every API process may call it, one runs. */
export async function ensureHistoryArchive(client: Client, taskQueue: string, opts: HistoryArchiveOptions & { workflowId?: string } = {}): Promise<void> {
  const { workflowId, ...args } = opts;
  await client.workflow.start<typeof historyArchiveWorkflow>('historyArchiveWorkflow', {
    workflowId: workflowId ?? HISTORY_ARCHIVE_ID,
    taskQueue,
    args: [args],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}

/** Each run of each workflow a visibility query matches (continued-as-new runs are executions of their own). */
export async function* historiesMatching(client: Client, query: string): AsyncIterable<RunHistory> {
  for await (const execution of client.workflow.list({ query })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    yield await decoded(client, fromTemporal(execution.workflowId, execution.runId, history));
  }
}

/** The file name of an exported run: `<workflowId>_<runId>.json`. */
export const historyFileName = (run: { workflowId: string; runId: string }): string => `${run.workflowId}_${run.runId}.json`;

export function writeHistory(dir: string, run: RunHistory): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, historyFileName(run));
  writeFileSync(path, JSON.stringify(historyAsJson(run.history), null, 2) + '\n');
  return path;
}

/** The history files of a folder, sorted (what historiesFromDir reads, for a count before reading them). */
export const historyFileNames = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.json') && !n.startsWith('_'))
    .sort();

/**
 * The histories of a folder of exported files; the ids come from the names, else from the start event. Files whose
 * name starts with `_` are notes about the others (the fixtures' scenario list), not histories.
 */
export function* historiesFromDir(dir: string): Iterable<RunHistory> {
  for (const name of historyFileNames(dir)) {
    const history = historyFromJson(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    const match = /^(.+)_([0-9a-f-]{36})\.json$/.exec(name);
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    yield {
      workflowId: match?.[1] ?? name.replace(/\.json$/, ''),
      runId: match?.[2] ?? started?.originalExecutionRunId ?? '',
      history,
    };
  }
}

export interface ReplayOutcome {
  readonly workflowId: string;
  readonly runId: string;
  readonly result: 'ok' | 'non_deterministic' | 'failed';
  readonly message?: string;
  /** The first event the current code disagrees with, as the SDK's error names it. */
  readonly event?: DivergentEvent;
}

export interface ReplayReport {
  readonly replayed: number;
  readonly ok: number;
  readonly nonDeterministic: number;
  readonly failed: number;
  readonly failures: ReplayOutcome[];
}

/** The first event the current code disagrees with. */
export interface DivergentEvent {
  readonly id: number;
  /** As the JSON names it: EVENT_TYPE_ACTIVITY_TASK_SCHEDULED. */
  readonly type: string;
  /** The activity type, timer id or marker name of that event. */
  readonly name?: string;
}

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = Proto.temporal.api.history.v1.IHistoryEvent;

function describeEvent(e: HistoryEvent): DivergentEvent {
  const name =
    e.activityTaskScheduledEventAttributes?.activityType?.name ??
    e.timerStartedEventAttributes?.timerId ??
    e.markerRecordedEventAttributes?.markerName ??
    e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ??
    undefined;
  return { id: Number(e.eventId ?? 0), type: EventType[e.eventType ?? 0] ?? String(e.eventType), ...(name !== undefined && name !== null ? { name } : {}) };
}

/** Events the workflow's own commands produce: where a changed workflow disagrees with its history. */
const COMMAND_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_TIMER_CANCELED,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/**
 * The first divergent event of a history the code fails to replay. Core's message names the mismatch (say, the
 * activity type of the scheduled event against the command's) but seldom the event id, so the history is cut after
 * each workflow task start and the shortest failing prefix is found by bisection: the divergence lies in the
 * commands of the task before that cut. Within them, the event the message names, else the first command event.
 */
export async function firstDivergentEvent(run: RunHistory, workflowBundle: WorkflowBundleOption, message: string): Promise<DivergentEvent | undefined> {
  const events = run.history.events ?? [];
  const named = /HistoryEvent\(\s*id:\s*(\d+)/.exec(message);
  if (named) {
    const e = events.find((x) => Number(x.eventId) === Number(named[1]));
    if (e !== undefined) return describeEvent(e);
  }
  const cuts = events.flatMap((e, i) => (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED ? [i] : []));
  const fails = async (cut: number): Promise<boolean> => {
    try {
      await Worker.runReplayHistory({ workflowBundle }, { events: events.slice(0, cut + 1) }, run.workflowId);
      return false;
    } catch (err) {
      return (err as Error).name === 'DeterminismViolationError';
    }
  };
  // The whole history fails; find the first cut that does too (cuts.length stands for the whole history).
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (await fails(cuts[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  const from = lo === 0 ? 0 : (cuts[lo - 1] as number);
  const to = lo < cuts.length ? (cuts[lo] as number) : events.length;
  const window = events.slice(from + 1, to).filter((e) => COMMAND_EVENTS.has(e.eventType ?? 0));
  const names = [...message.matchAll(/'([^']+)'/g)].map((m) => m[1]);
  const chosen = window.find((e) => names.includes(describeEvent(e).name ?? '\u0000')) ?? window[0];
  return chosen !== undefined ? describeEvent(chosen) : undefined;
}

export interface ReplayOptions {
  /** The current workflow code: a prebuilt bundle (tests) or, by default, the sources bundled once per process. */
  readonly workflowBundle?: WorkflowBundleOption;
  /** Called after each history, for a progress line. */
  readonly onResult?: (outcome: ReplayOutcome, done: number) => void;
}

let sourcesBundle: Promise<WorkflowBundleOption> | undefined;

/** The workflow sources bundled once per process (webpack takes seconds); the bundler's chatter is dropped. */
export function currentWorkflowBundle(): Promise<WorkflowBundleOption> {
  const ignore = (): void => {};
  sourcesBundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: ignore, error: (m) => console.error(m) },
  }).then((b) => ({ code: b.code }));
  return sourcesBundle;
}

export async function replayHistories(histories: Iterable<RunHistory> | AsyncIterable<RunHistory>, opts: ReplayOptions = {}): Promise<ReplayReport> {
  const workflowBundle = opts.workflowBundle ?? (await currentWorkflowBundle());
  // The replayer reports by workflow id; run ids are kept beside, in the order the histories are given.
  const given: RunHistory[] = [];
  async function* feed() {
    for await (const run of histories) {
      given.push(run);
      yield { workflowId: run.workflowId, history: run.history };
    }
  }
  let replayed = 0;
  let ok = 0;
  let nonDeterministic = 0;
  let failed = 0;
  const failures: ReplayOutcome[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle }, feed())) {
    const run = given[replayed];
    const runId = run?.runId ?? result.runId;
    replayed++;
    let outcome: ReplayOutcome;
    if (result.error === undefined) {
      ok++;
      outcome = { workflowId: result.workflowId, runId, result: 'ok' };
    } else {
      const deterministic = result.error.name !== 'DeterminismViolationError';
      if (deterministic) failed++;
      else nonDeterministic++;
      const event = !deterministic && run !== undefined ? await firstDivergentEvent(run, workflowBundle, result.error.message) : undefined;
      outcome = {
        workflowId: result.workflowId,
        runId,
        result: deterministic ? 'failed' : 'non_deterministic',
        message: result.error.message,
        ...(event !== undefined ? { event } : {}),
      };
      failures.push(outcome);
    }
    opts.onResult?.(outcome, replayed);
  }
  return { replayed, ok, nonDeterministic, failed, failures };
}
