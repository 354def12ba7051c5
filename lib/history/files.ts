/**
 * Histories as files: one run per `<workflowId>_<runId>.json`, written in the readable form (shorthand payloads,
 * lib/history/json.ts) and read in either form, so that folders exported before keep replaying.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJson, readableHistoryJson } from './json.js';
import type { RunHistory } from './read.js';

/** The file name of an exported run: `<workflowId>_<runId>.json`. */
export const historyFileName = (run: { workflowId: string; runId: string }): string => `${run.workflowId}_${run.runId}.json`;

/** Writes a (decoded) run to a folder, made if need be; gives the file's path. */
export function writeHistory(dir: string, run: RunHistory): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, historyFileName(run));
  writeFileSync(path, JSON.stringify(readableHistoryJson(run.history), null, 2) + '\n');
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
