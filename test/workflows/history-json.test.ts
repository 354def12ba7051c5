/**
 * The readable history (lib/history/json.ts): payloads written as their JSON values exactly as Temporal's own
 * shorthand writes them (the dev server's HTTP API gives a history in that form), read back from either form, and
 * replayed from files in that form as from the recorded fixtures (which are in the base64 form).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { historiesFromDir, historyFileNames, writeHistory } from '../../lib/history/files.js';
import { historyFromJson, historyJsonText, readableHistoryJson } from '../../lib/history/json.js';
import { replayHistories } from '../../lib/history/replay.js';
import { freePort } from '../../scripts/scratch.js';

const TAG = defineSearchAttributeKey('ReadableTag', SearchAttributeType.KEYWORD);
const FIXTURES = fileURLToPath(new URL('../fixtures/histories', import.meta.url));

/** The payloads left in base64 in a history's JSON text, by their metadata (decoded). */
function base64Payloads(text: string): string[] {
  return [...text.matchAll(/"metadata":\s*(\{[^}]*\})/g)].map((m) =>
    Object.entries(JSON.parse(m[1] ?? '{}') as Record<string, string>)
      .map(([k, v]) => `${k}=${Buffer.from(v, 'base64').toString()}`)
      .sort()
      .join(','),
  );
}

describe('the readable history, against the Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let httpPort: number;

  beforeAll(async () => {
    httpPort = await freePort();
    // A dev server of its own: the suite's has no HTTP API.
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: inject('temporalCliPath') },
        ip: '127.0.0.1',
        searchAttributes: [TAG],
        extraArgs: ['--http-port', String(httpPort)],
      },
    });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it("writes each payload as the server's HTTP API does (shorthand), and reads that API's history back", async () => {
    const workflowId = `readable-${Date.now()}`;
    // No worker: the run only needs events with payloads of each kind (JSON values, undefined, bytes, a memo, a
    // summary, a search attribute, a signal), then a close.
    const handle = await env.client.workflow.start('readableHistory', {
      workflowId,
      taskQueue: 'no-worker',
      args: [{ reasons: [{ documentType: 'holder_identity', reason: 'expired ID' }], n: 1.5, none: null }, 'x', undefined, new Uint8Array([1, 2, 3])],
      memo: { note: 'kept as JSON' },
      typedSearchAttributes: [{ key: TAG, value: 'kw' }],
      staticSummary: 'a summary',
    });
    await handle.signal('rejected', { reason: 'expired ID' });
    await handle.terminate('test over');
    const raw = await handle.fetchHistory();

    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/namespaces/${env.namespace ?? 'default'}/workflows/${workflowId}/history`);
    expect(res.status).toBe(200);
    const fromServer = ((await res.json()) as { history: unknown }).history;

    const readable = readableHistoryJson(raw);
    // Key order aside (the server re-sorts a JSON value's keys), the same JSON as Temporal's own shorthand.
    expect(readable).toEqual(fromServer);
    const text = JSON.stringify(readable);
    expect(text).toContain('"reason":"expired ID"');
    expect(text).toContain('"note":"kept as JSON"');
    // Left in base64, as the server leaves them: the bytes, the typed search attribute, undefined (metadata alone).
    expect(base64Payloads(text).sort()).toEqual(['encoding=binary/null', 'encoding=binary/plain', 'encoding=json/plain,type=Keyword']);
    // Read back from either form, it is the history Temporal holds.
    expect(historyJsonText(historyFromJson(readable))).toBe(historyJsonText(raw));
    expect(readableHistoryJson(historyFromJson(fromServer))).toEqual(readable);
    expect(historyJsonText(historyFromJson(JSON.parse(JSON.stringify(readable))))).toBe(historyJsonText(raw));
  });

  it('keeps a JSON null whole, where the server would write it as binary/null (another payload once read back)', async () => {
    const handle = await env.client.workflow.start('readableHistory', { workflowId: `readable-null-${Date.now()}`, taskQueue: 'no-worker', args: [null] });
    await handle.terminate('test over');
    const raw = await handle.fetchHistory();
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/namespaces/${env.namespace ?? 'default'}/workflows/${handle.workflowId}/history`);
    const fromServer = JSON.stringify(((await res.json()) as { history: unknown }).history);
    expect(base64Payloads(fromServer)).toEqual(['encoding=binary/null']);
    const readable = readableHistoryJson(raw);
    expect(base64Payloads(JSON.stringify(readable))).toEqual(['encoding=json/plain']);
    expect(historyJsonText(historyFromJson(readable))).toBe(historyJsonText(raw));
  });
});

describe('readable history files', () => {
  it('replay as the recorded (base64) fixtures do, and read back to the same histories', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certflow-readable-'));
    try {
      const recorded = [...historiesFromDir(FIXTURES)];
      for (const run of recorded) writeHistory(dir, run);
      const names = historyFileNames(dir);
      expect(names).toEqual(historyFileNames(FIXTURES));
      for (const name of names) {
        const text = readFileSync(join(dir, name), 'utf8');
        // No JSON payload left in base64 but the search attributes (their type rides in the metadata).
        expect(base64Payloads(text).filter((m) => m !== 'encoding=binary/null' && !m.includes('type='))).toEqual([]);
      }
      const readable = [...historiesFromDir(dir)];
      expect(readable.map((r) => historyJsonText(r.history))).toEqual(recorded.map((r) => historyJsonText(r.history)));
      const report = await replayHistories(readable, { workflowBundle: { codePath: inject('workflowBundlePath') } });
      expect(report.failures).toEqual([]);
      expect(report.ok).toBe(recorded.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
