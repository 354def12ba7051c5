/**
 * The recorded histories of test/fixtures/histories replay against the current workflow code; an incompatible
 * change to the order workflow is reported with its workflow and event, and the same change behind patched() is not.
 *
 * The fixtures are recorded outside the test run by `npm run record:histories` (scripts/record-histories/): every
 * product, a rejection loop, a deadline, a refusal, an unlock lockout.
 */
// First: the runtime that keeps the non-determinism this file provokes out of the output (asserted instead).
import { entryText, expectRuntimeLines, runtimeLog } from '../runtime-log.js';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { orderWorkflowId } from '../../workflows/definitions.js';
import { historiesFromDir } from '../../lib/history/files.js';
import { historyFromJson, historyJsonText } from '../../lib/history/json.js';
import { codecsOf } from '../../lib/history/read.js';
import { replayHistories } from '../../lib/history/replay.js';
import { Driver } from './drive.js';
import { testStackForFile } from '../stack-for-file.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/histories');
/** Which scenario each recorded order is: the changed-code tests pick their fixture from it. */
const SCENARIOS = join(FIXTURES, '_scenarios.json');

/**
 * The order workflow with one more activity call before the token is personalised: the change a developer might
 * make without thinking of the orders already running. `guard` wraps it (a patch) or not.
 */
async function changedWorkflowBundle(guard: boolean): Promise<{ code: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'certflow-changed-workflows-'));
  try {
    const absolute = (source: string): string => source.replace(/from '\.\.\//g, `from '${ROOT}`).replace(/from '\.\//g, `from '${ROOT}workflows/`);
    let order = absolute(readFileSync(join(ROOT, 'workflows/order.ts'), 'utf8'));
    const anchor = '    const publicKeySpki =\n';
    expect(order).toContain(anchor);
    const call = "await act.certificateInfo({ serial: 'pre-issuance-check' });";
    order = order.replace(anchor, `    ${guard ? `if (patched('pre-issuance-check')) ${call}` : call}\n${anchor}`);
    if (guard) order = order.replace('  continueAsNew,\n', '  continueAsNew,\n  patched,\n');
    writeFileSync(join(dir, 'order.ts'), order);
    writeFileSync(
      join(dir, 'index.ts'),
      `export { orderWorkflow } from './order.js';\nexport { certificateWorkflow } from '${ROOT}workflows/certificate.js';\nexport { crlPublisherWorkflow } from '${ROOT}workflows/crl-publisher.js';\n`,
    );
    const ignore = (): void => {};
    const bundle = await bundleWorkflowCode({
      workflowsPath: join(dir, 'index.ts'),
      logger: { log: ignore, trace: ignore, debug: ignore, info: ignore, warn: ignore, error: (m) => console.error(m) },
      // The copy lives outside the project: its packages resolve from the project's node_modules.
      webpackConfigHook: (config) => ({ ...config, resolve: { ...config.resolve, modules: [...(config.resolve?.modules ?? ['node_modules']), join(ROOT, 'node_modules')] } }),
    });
    return { code: bundle.code };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('replaying the recorded histories', () => {
  const current = () => ({ codePath: inject('workflowBundlePath') });

  it('replays every fixture with the current workflow code', async () => {
    const report = await replayHistories(historiesFromDir(FIXTURES), { workflowBundle: current() });
    expect(report.failures).toEqual([]);
    expect(report.replayed).toBeGreaterThanOrEqual(15);
    expect(report.ok).toBe(report.replayed);
    // The rejection loop continued as new: its runs replay one by one.
    const loop = orderWorkflowId((JSON.parse(readFileSync(SCENARIOS, 'utf8')) as Record<string, string>)['rejection-loop'] as string);
    expect([...historiesFromDir(FIXTURES)].filter((h) => h.workflowId === loop).length).toBeGreaterThan(1);
  });

  describe('an incompatible change', () => {
    const scenarios = () => JSON.parse(readFileSync(SCENARIOS, 'utf8')) as Record<string, string>;
    const fixture = () => {
      const workflowId = orderWorkflowId(scenarios()['product:ID_RGS_STAR'] as string);
      return [...historiesFromDir(FIXTURES)].filter((h) => h.workflowId === workflowId);
    };

    it('is reported with its workflow and first divergent event', async () => {
      const runs = fixture();
      expect(runs.length).toBeGreaterThan(0);
      // Core warns of each workflow task the replay fails: expected here, so asserted below rather than printed.
      expectRuntimeLines(/Nondeterminism error/);
      const before = runtimeLog.length;
      const report = await replayHistories(runs, { workflowBundle: await changedWorkflowBundle(false) });
      expect(report).toMatchObject({ replayed: runs.length, nonDeterministic: 1 });
      const [failure] = report.failures;
      expect(failure).toMatchObject({ workflowId: runs[0]?.workflowId, result: 'non_deterministic' });
      // The history has the token's personalisation where the changed code schedules another activity.
      const personalised = runs
        .flatMap((r) => r.history.events ?? [])
        .find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'personaliseToken');
      expect(failure?.event).toEqual({ id: Number(personalised?.eventId), type: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', name: 'personaliseToken' });
      expect(failure?.message).toContain('certificateInfo');
      const warned = runtimeLog.slice(before).map(entryText).filter((text) => /Nondeterminism error/.test(text));
      expect(warned.length).toBeGreaterThan(0);
      expect(warned.every((text) => text.includes("'personaliseToken'") && text.includes("'certificateInfo'"))).toBe(true);
    }, 120_000);

    it('replays clean behind patched()', async () => {
      const runs = fixture();
      const report = await replayHistories(runs, { workflowBundle: await changedWorkflowBundle(true) });
      expect(report.failures).toEqual([]);
      expect(report.ok).toBe(runs.length);
    }, 120_000);
  });
});

describe('the history API, the replay endpoint and the command', () => {
  const stack = testStackForFile();
  let drive: Driver;

  beforeAll(async () => {
    drive = await Driver.withNewActors(stack);
  });

  it('gives staff and auditors the decoded history of every run, in the JSON of temporal workflow show, its payloads in plain words', async () => {
    const order = await drive.completeAndSubmit(await drive.create('ID_RGS_STAR'));
    await drive.reject(order.id, 'holder_identity', 'expired ID');
    const auditor = await stack.account('auditor');
    type Event = { eventId: string; eventType: string; [k: string]: unknown };
    type Runs = { workflowId: string; runs: { runId: string; history: { events: Event[] } }[] };
    const res = await stack.http<Runs>('GET', `/v1/orders/${order.id}/history`, { key: auditor.key });
    expect(res.status).toBe(200);
    expect(res.body.workflowId).toBe(orderWorkflowId(order.id));
    expect(res.body.runs).toHaveLength(1);
    const events = res.body.runs[0]?.history.events ?? [];
    expect(events[0]).toMatchObject({ eventId: '1', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED' });
    // Each payload is its decoded JSON value (Temporal's shorthand): the order's input, and the rejection's reason
    // in the words the RA typed, in the Update the workflow accepted.
    const started = events[0]?.workflowExecutionStartedEventAttributes as { input: unknown[] };
    expect(JSON.stringify(started.input[0])).toContain(order.id);
    const text = JSON.stringify(res.body);
    expect(text).toContain('"reason":"expired ID"');
    const review = events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED' && JSON.stringify(e).includes('expired ID'));
    expect(review).toBeDefined();
    // Nothing an auditor reads is left in base64 but the search attributes (their payloads carry a type).
    const base64 = [...text.matchAll(/"metadata":\{([^}]*)\},"data"/g)].map((m) => m[1] ?? '');
    expect(base64.every((m) => m.includes('"type":'))).toBe(true);
    // What the server stores is the codec's (encrypted, when one is configured); the route gave it decoded.
    const raw = await stack.client.workflow.getHandle(orderWorkflowId(order.id)).fetchHistory();
    const rawEncoding = Buffer.from(raw.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.metadata?.encoding ?? []).toString();
    if (codecsOf(stack.client).length > 0) expect(rawEncoding).toBe('binary/encrypted');
    // payloads=base64: the byte-exact form of `temporal workflow show --output json`, decoded, the same history.
    const exact = await stack.http<Runs>('GET', `/v1/orders/${order.id}/history?payloads=base64`, { key: auditor.key });
    expect(exact.status).toBe(200);
    const exactInput = (exact.body.runs[0]?.history.events[0]?.workflowExecutionStartedEventAttributes as { input: { payloads: { metadata: { encoding: string }; data: string }[] } }).input.payloads[0];
    expect(Buffer.from(exactInput?.metadata.encoding ?? '', 'base64').toString()).toBe('json/plain');
    expect(Buffer.from(exactInput?.data ?? '', 'base64').toString()).toContain(order.id);
    // The order may still be moving (the rejection's mail): the later read starts with the earlier one's events.
    const earlier = historyFromJson(res.body.runs[0]?.history);
    const later = historyFromJson(exact.body.runs[0]?.history);
    expect(later.events?.length).toBeGreaterThanOrEqual(earlier.events?.length ?? 0);
    expect(historyJsonText({ ...later, events: later.events?.slice(0, earlier.events?.length) })).toBe(historyJsonText(earlier));
    expect((await stack.http('GET', `/v1/orders/${order.id}/history`, { key: drive.actors.holder.key })).status).toBe(403);
    expect((await stack.http('GET', `/v1/orders/${order.id}/history?workflow=certificate`, { key: auditor.key })).status).toBe(404);
  });

  // Four runs of the command, each bundling the workflow code: minutes on a loaded two-core machine.
  it('replays what a query matches for an auditor, and the command does from files and from the server', async () => {
    const order = await drive.completeAndSubmit(await drive.create('ENCRYPTION'));
    const auditor = await stack.account('auditor');
    const query = `WorkflowId = '${orderWorkflowId(order.id)}'`;
    // Visibility is eventually consistent: the new workflow may take a moment to be listed.
    let report: { replayed: number; ok: number; failures: unknown[] } = { replayed: 0, ok: 0, failures: [] };
    for (let i = 0; i < 40 && report.replayed === 0; i++) {
      const res = await stack.http<typeof report>('POST', '/v1/audit/replay', { key: auditor.key, json: { query } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      report = res.body;
      if (report.replayed === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(report).toMatchObject({ replayed: 1, ok: 1, failures: [] });
    expect((await stack.http('POST', '/v1/audit/replay', { key: drive.actors.ra.key, json: { query } })).status).toBe(403);
    expect((await stack.http('POST', '/v1/audit/replay', { key: auditor.key, json: { query: 'WorkflowId = ' } })).status).toBe(400);

    const exportDir = mkdtempSync(join(tmpdir(), 'certflow-export-'));
    try {
      const env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), MASTER_KEY: inject('masterKey'), DATABASE_URL: inject('databaseUrl'), DATA_DIR: exportDir };
      // The command bundles the sources itself once (the replay of the fixtures below); the other runs are given the
      // suite's bundle, as an auditor's replay of the deployed code would be.
      const prebuilt = { WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath') };
      const fromServer = spawnSync('node', ['--import', 'tsx', 'scripts/replay.ts', '--query', query, '--export', join(exportDir, 'out')], { cwd: ROOT, env: { ...env, ...prebuilt }, encoding: 'utf8' });
      expect(fromServer.status, fromServer.stdout + fromServer.stderr).toBe(0);
      expect(fromServer.stdout).toContain('replayed 1: 1 ok, 0 non-deterministic, 0 failed');
      const files = readdirSync(join(exportDir, 'out'));
      expect(files).toEqual([expect.stringMatching(new RegExp(`^order-${order.id}_[0-9a-f-]{36}\\.json$`))]);
      // The export is the readable form (payloads as JSON values); --from below replays such files.
      expect(readFileSync(join(exportDir, 'out', files[0] ?? ''), 'utf8')).toContain(`"orderId": "${order.id}"`);
      // An auditor with only an API key: the histories through the API, exported, then replayed from the files.
      // Not spawnSync: the API answering the command runs in this very process.
      const viaApi = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn('node', ['--import', 'tsx', 'scripts/replay.ts', '--api', stack.baseUrl, '--order', order.id, '--export', join(exportDir, 'api')], {
          cwd: ROOT,
          env: { PATH: process.env.PATH, CERTFLOW_API_KEY: auditor.key, ...prebuilt },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      expect(viaApi.status, viaApi.stdout + viaApi.stderr).toBe(0);
      expect(viaApi.stdout).toContain('replayed 1: 1 ok');
      const again = spawnSync('node', ['--import', 'tsx', 'scripts/replay.ts', '--from', join(exportDir, 'api')], { cwd: ROOT, env: { PATH: process.env.PATH, ...prebuilt }, encoding: 'utf8' });
      expect(again.status, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain('replayed 1: 1 ok');
      const fromFiles = spawnSync('node', ['--import', 'tsx', 'scripts/replay.ts', '--from', FIXTURES], { cwd: ROOT, env, encoding: 'utf8' });
      expect(fromFiles.status, fromFiles.stdout + fromFiles.stderr).toBe(0);
      expect(fromFiles.stdout).toMatch(/replayed \d+: \d+ ok, 0 non-deterministic, 0 failed/);
    } finally {
      rmSync(exportDir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('the replay command', () => {
  /**
   * Two histories of one order, the order's doctored: its first mail is scheduled under another activity name,
   * which the current code does not call. The summary names the order and that event.
   */
  function doctoredFixtures(): { dir: string; orderId: string; runs: { workflowId: string; runId: string }[]; eventId: number } {
    const orderId = (JSON.parse(readFileSync(SCENARIOS, 'utf8')) as Record<string, string>)['product:ENCRYPTION'] as string;
    const dir = mkdtempSync(join(tmpdir(), 'certflow-replay-cli-'));
    const names = readdirSync(FIXTURES).filter((n) => n.includes(orderId) && n.endsWith('.json')).sort();
    expect(names.map((n) => n.split('-')[0])).toEqual(['certificate', 'order']);
    let eventId = 0;
    for (const name of names) {
      const history = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as { events: { eventId: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[] };
      if (name.startsWith('order-')) {
        const mail = history.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'sendOrderMail');
        expect(mail).toBeDefined();
        mail!.activityTaskScheduledEventAttributes!.activityType.name = 'sendOrderMailV0';
        eventId = Number(mail!.eventId);
      }
      writeFileSync(join(dir, name), JSON.stringify(history));
    }
    const runs = names.map((n) => {
      const [, workflowId, runId] = /^(.+)_([0-9a-f-]{36})\.json$/.exec(n) as unknown as [string, string, string];
      return { workflowId, runId };
    });
    return { dir, orderId, runs, eventId };
  }

  const replayCommand = (dir: string) => ['--import', 'tsx', 'scripts/replay.ts', '--from', dir];

  it('writes a line per history off a terminal, then a summary naming the order and its first divergent event', () => {
    const { dir, orderId, runs, eventId } = doctoredFixtures();
    try {
      const run = spawnSync('node', replayCommand(dir), { cwd: ROOT, env: { PATH: process.env.PATH, WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath') }, encoding: 'utf8' });
      expect(run.status, run.stdout + run.stderr).toBe(1);
      const [certificate, order] = runs as [{ workflowId: string; runId: string }, { workflowId: string; runId: string }];
      const lines = run.stdout.split('\n');
      // The lines CI logs have always had: one per history, as it is replayed, and the summary after a blank line.
      expect(lines[0]).toBe(`[1] ${certificate.workflowId} ${certificate.runId} ok`);
      expect(lines[1]).toBe(`[2] ${order.workflowId} ${order.runId} NON-DETERMINISTIC at event ${eventId} EVENT_TYPE_ACTIVITY_TASK_SCHEDULED sendOrderMailV0`);
      expect(lines[2]).toMatch(/^ {6}\S.*sendOrderMailV0/);
      expect(lines.slice(3)).toEqual([
        '',
        'replayed 2: 1 ok, 1 non-deterministic, 0 failed',
        `  order ${orderId}: ${order.workflowId} (run ${order.runId}): non_deterministic, first divergent event ${eventId} EVENT_TYPE_ACTIVITY_TASK_SCHEDULED (sendOrderMailV0)`,
        '',
      ]);
      // Nothing drawn for a terminal: no bar, no escape sequences, and the replayer's worker keeps quiet.
      expect(run.stdout + run.stderr).not.toContain('\u001b[');
      expect(run.stdout + run.stderr).not.toMatch(/\u2588|replaying/);
      expect(run.stderr).not.toMatch(/Worker state changed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('draws a progress bar on a terminal, prints the failure above it, and ends with the same summary', () => {
    const { dir, orderId, runs, eventId } = doctoredFixtures();
    try {
      // script(1) runs the command on a pseudo-terminal: stdout and stderr are TTYs, as in an auditor's shell.
      const command = ['node', ...replayCommand(dir)].map((a) => `'${a}'`).join(' ');
      const run = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { PATH: process.env.PATH, TERM: 'xterm', COLUMNS: '160', WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath') }, encoding: 'utf8' });
      expect(run.status, run.stdout).toBe(1);
      const out = run.stdout.replace(/\r/g, '');
      expect(out).toMatch(/ replaying \u2588+\u2591* 1\/2 \| 1 ok, 0 failing/);
      const order = runs[1] as { workflowId: string; runId: string };
      expect(out).toContain(`[2] ${order.workflowId} ${order.runId} NON-DETERMINISTIC at event ${eventId} EVENT_TYPE_ACTIVITY_TASK_SCHEDULED sendOrderMailV0`);
      // The ok history has no line of its own: the bar counted it.
      expect(out).not.toContain(`[1] ${runs[0]?.workflowId}`);
      expect(out).toContain(
        `replayed 2: 1 ok, 1 non-deterministic, 0 failed\n  order ${orderId}: ${order.workflowId} (run ${order.runId}): non_deterministic, first divergent event ${eventId} EVENT_TYPE_ACTIVITY_TASK_SCHEDULED (sendOrderMailV0)\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
