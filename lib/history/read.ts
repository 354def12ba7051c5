/**
 * Histories for auditors: fetch a workflow's runs from Temporal (or from the history archive once Temporal no
 * longer has them) and decode their payloads with the client's codec.
 *
 * Histories are decoded as they are read: a file written from them then replays without the key it was encrypted
 * under (the recorded fixtures outlive the test run's random master key), and the replayer needs no codec. What the
 * archive hashes is the history before decoding, as Temporal holds it.
 *
 * Loads no worker runtime: the API reads histories with it (lib/history/replay.ts replays them).
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowNotFoundError, type Payload, type PayloadCodec } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import type { Database } from '../../db/client.js';
import { archivedRun, archivedRunsOf, archivedRunsOfTypes, sha256Hex, type ArchivedRun } from '../../db/history-archive.js';
import { historyFromJson, historyJsonText, temporal } from './json.js';

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

/** Each run of each workflow a visibility query matches (continued-as-new runs are executions of their own). */
export async function* historiesMatching(client: Client, query: string): AsyncIterable<RunHistory> {
  for await (const execution of client.workflow.list({ query })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    yield await decoded(client, fromTemporal(execution.workflowId, execution.runId, history));
  }
}
