/**
 * The replay of histories against the current workflow code, with the first event a divergent history disagrees on.
 *
 * @temporalio/worker (its native runtime, webpack) is imported when a replay runs, not when this module loads: the
 * API serves histories without it and loads it the first time an auditor asks for a replay.
 */
import { fileURLToPath } from 'node:url';
import type * as Proto from '@temporalio/proto';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../../config/payload-codec.js';
import { TRACING_OFF, WORKFLOW_TRACING_MODULE } from '../../config/tracing.js';
import { temporal } from './json.js';
import type { RunHistory } from './read.js';

/** The workflow code a replay runs: a prebuilt bundle (its code or its path), as the SDK's replayer takes it. */
export type WorkflowBundle = WorkflowBundleOption;

/** The workflows' entry module (as in worker.ts, without importing the activities into the API process). */
const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js'), import.meta.url));

const workerModule = () => import('@temporalio/worker');

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
export async function firstDivergentEvent(run: RunHistory, workflowBundle: WorkflowBundle, message: string): Promise<DivergentEvent | undefined> {
  const { Worker } = await workerModule();
  const events = run.history.events ?? [];
  const named = /HistoryEvent\(\s*id:\s*(\d+)/.exec(message);
  if (named) {
    const e = events.find((x) => Number(x.eventId) === Number(named[1]));
    if (e !== undefined) return describeEvent(e);
  }
  const cuts = events.flatMap((e, i) => (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED ? [i] : []));
  const fails = async (cut: number): Promise<boolean> => {
    try {
      await Worker.runReplayHistory({ workflowBundle, sinks: REPLAY_SINKS }, { events: events.slice(0, cut + 1) }, run.workflowId);
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
  readonly workflowBundle?: WorkflowBundle;
  /** Called after each history, for a progress line. */
  readonly onResult?: (outcome: ReplayOutcome, done: number) => void;
}

/** The bundled tracing interceptors call the `exporter` sink; on replay it is registered and never called. */
const REPLAY_SINKS = TRACING_OFF.workflowSinks;

let sourcesBundle: Promise<WorkflowBundle> | undefined;

/** The workflow sources bundled once per process (webpack takes seconds); the bundler's chatter is dropped. */
export function currentWorkflowBundle(): Promise<WorkflowBundle> {
  const ignore = (): void => {};
  sourcesBundle ??= (async () => {
    const { bundleWorkflowCode } = await workerModule();
    const bundle = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      // The bundle the worker runs (worker/worker.ts bundleWorkflows): the same failure converter and interceptors.
      failureConverterPath: FAILURE_CONVERTER_PATH,
      workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
      logger: { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: ignore, error: (m) => console.error(m) },
    });
    return { code: bundle.code };
  })();
  return sourcesBundle;
}

export async function replayHistories(histories: Iterable<RunHistory> | AsyncIterable<RunHistory>, opts: ReplayOptions = {}): Promise<ReplayReport> {
  const workflowBundle = opts.workflowBundle ?? (await currentWorkflowBundle());
  const { Worker } = await workerModule();
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
  for await (const result of Worker.runReplayHistories({ workflowBundle, sinks: REPLAY_SINKS }, feed())) {
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
