/**
 * The recorded histories of test/fixtures/histories replay against the current workflow code; an incompatible
 * change to the order workflow is reported with its workflow and event, and the same change behind patched() is not.
 *
 * With RECORD_HISTORIES=1 (npm: node --import tsx scripts/record-histories.ts) the first block records the fixtures
 * anew over HTTP on the test stack: every product, a rejection loop, a deadline, a refusal, an unlock lockout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import type { OrderView } from '../../domain/order.js';
import { certificateWorkflowId, orderWorkflowId } from '../../workflows/definitions.js';
import { codecsOf, historiesFromDir, replayHistories, workflowRuns, writeHistory } from '../../worker/replay.js';
import { openssl } from '../ca/support.js';
import { startTestStack, type TestStack } from '../support.js';
import { Driver } from './drive.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/histories');
/** Which scenario each recorded order is: the changed-code tests pick their fixture from it. */
const SCENARIOS = join(FIXTURES, '_scenarios.json');

describe.runIf(process.env.RECORD_HISTORIES === '1')('recording the fixtures', () => {
  let stack: TestStack;
  let short: TestStack;
  let drive: Driver;
  let shortDrive: Driver;
  const scenarios: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startTestStack();
    short = await startTestStack({ deadlines: { ...DEFAULT_DEADLINES, inactivityReminders: ['1 second', '2 seconds'], inactivityAbandon: '3 seconds' } });
    const actors = async (s: TestStack) => ({ holder: await s.account('customer'), ra: await s.account('ra_operator'), dra: await s.account('dra_operator') });
    drive = new Driver(stack, await actors(stack));
    shortDrive = new Driver(short, await actors(short));
    for (const name of readdirSync(FIXTURES)) if (name.endsWith('.json')) rmSync(join(FIXTURES, name));
  });
  afterAll(async () => {
    writeFileSync(SCENARIOS, JSON.stringify(scenarios, null, 2) + '\n');
    await stack?.close();
    await short?.close();
  });

  /** Every run of the order's workflow and, once it lives, of its certificate's. */
  async function record(s: TestStack, scenario: string, orderId: string): Promise<void> {
    scenarios[scenario] = orderId;
    for (const workflowId of [orderWorkflowId(orderId), certificateWorkflowId(orderId)]) {
      try {
        for (const run of await workflowRuns(s.client, workflowId)) writeHistory(FIXTURES, run);
      } catch (err) {
        if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      }
    }
  }

  const lastOutboxCode = (s: TestStack): string => {
    const lines = readFileSync(join(s.dataDir, 'outbox', 'sms.jsonl'), 'utf8').trim().split('\n');
    return /\b(\d{6})\b/.exec((JSON.parse(lines.at(-1) ?? '{}') as { body?: string }).body ?? '')?.[1] ?? '';
  };

  for (const product of ['ID_RGS_STAR', 'ID_RGS_2STAR', 'ID_RGS_3STAR', 'ENCRYPTION', 'EIDAS_QUALIFIED']) {
    it(`${product} to completed`, async () => {
      const order = await drive.toAcceptance(product);
      const key = drive.actors.holder.key;
      expect((await drive.post(key, `/v1/orders/${order.id}/acceptance`, { decision: 'accept' })).status).toBe(200);
      expect((await drive.post(key, `/v1/orders/${order.id}/unlock-code`)).status).toBe(200);
      expect((await drive.post(key, `/v1/orders/${order.id}/unlock-code/verify`, { code: lastOutboxCode(stack) })).status).toBe(200);
      await drive.until(order.id, (o) => o.status === 'completed');
      await new Promise((r) => setTimeout(r, 1000));
      await record(stack, `product:${product}`, order.id);
    }, 90_000);
  }

  const csr = (names: string[]): string => {
    const san = names.length > 0 ? ['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`] : [];
    const run = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{key.pem}', '-subj', `/CN=${names[0] ?? 'ACME seal'}`, ...san], {});
    expect(run.status, run.stderr).toBe(0);
    return run.stdout;
  };

  for (const [product, names] of [
    ['SSL', ['www.acme-replay.fr']],
    ['SSL_RGS_STAR', ['rgs.acme-replay.fr']],
    ['SSL_WILDCARD', ['*.acme-replay.fr', 'acme-replay.fr']],
    ['SERVER_CLIENT', ['client.acme-replay.fr']],
    ['SERVER_SEAL', []],
  ] as const) {
    it(`${product} to completed (domains recorded by the RA)`, async () => {
      const { holder, ra } = drive.actors;
      const created = await drive.post(holder.key, '/v1/orders', { product, durationYears: 1, os: 'other', payment: { method: 'transfer' }, termsAccepted: true, csr: csr([...names]) });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const order = created.body as unknown as OrderView;
      for (const item of order.checklist) expect((await drive.upload(holder.key, order.id, item.documentType)).status).toBe(201);
      expect((await drive.post(holder.key, `/v1/orders/${order.id}/submit`)).status).toBe(200);
      const approved = (await drive.post(ra.key, `/v1/orders/${order.id}/review`, { decision: 'approve' })).body as unknown as OrderView;
      if (approved.status === 'awaiting_domain_validation') {
        const docId = approved.checklist.find((c) => c.documentType === 'domain_ownership')?.documentId;
        for (const name of names) {
          const recorded = await drive.post(ra.key, `/v1/orders/${order.id}/domain-validation`, { action: 'record', domain: name, evidenceDocumentId: docId, note: 'registrar WHOIS checked' });
          expect(recorded.status, JSON.stringify(recorded.body)).toBe(200);
        }
      }
      expect((await drive.post(ra.key, `/v1/orders/${order.id}/payment`, { status: 'received', reference: `VIR-${order.id.slice(0, 8)}` })).status).toBe(200);
      await drive.until(order.id, (o) => o.status === 'awaiting_acceptance');
      expect((await drive.post(holder.key, `/v1/orders/${order.id}/acceptance`, { decision: 'accept' })).status).toBe(200);
      await drive.until(order.id, (o) => o.status === 'completed');
      await new Promise((r) => setTimeout(r, 1000));
      await record(stack, `product:${product}`, order.id);
    }, 90_000);
  }

  it('a rejection loop of twelve rounds (continued as new), then approval', async () => {
    let order = await drive.completeAndSubmit(await drive.create('ID_RGS_3STAR'));
    for (let round = 1; round <= 12; round++) {
      order = await drive.reject(order.id, 'holder_identity', `round ${round}: unreadable`);
      order = await drive.completeAndSubmit(order);
    }
    await drive.approve(order.id);
    await record(stack, 'rejection-loop', order.id);
  }, 90_000);

  it('a refused certificate', async () => {
    const order = await drive.toAcceptance('ENCRYPTION');
    expect((await drive.post(drive.actors.holder.key, `/v1/orders/${order.id}/acceptance`, { decision: 'refuse' })).status).toBe(200);
    await drive.until(order.id, (o) => o.status === 'refused');
    await new Promise((r) => setTimeout(r, 1000));
    await record(stack, 'refusal', order.id);
  }, 90_000);

  it('an unlock code locked out after three wrong entries', async () => {
    const order = await drive.toAcceptance('ID_RGS_STAR');
    const key = drive.actors.holder.key;
    expect((await drive.post(key, `/v1/orders/${order.id}/acceptance`, { decision: 'accept' })).status).toBe(200);
    expect((await drive.post(key, `/v1/orders/${order.id}/unlock-code`)).status).toBe(200);
    const wrong = lastOutboxCode(stack) === '000000' ? '111111' : '000000';
    for (const left of [2, 1, 0]) {
      expect((await drive.post(key, `/v1/orders/${order.id}/unlock-code/verify`, { code: wrong })).body).toMatchObject({ attemptsLeft: left });
    }
    await record(stack, 'unlock-lockout', order.id);
  }, 90_000);

  it('an order abandoned by its inactivity deadline (seconds here)', async () => {
    const order = await shortDrive.create('ID_RGS_STAR');
    await shortDrive.until(order.id, (o) => o.status === 'abandoned', 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    await record(short, 'deadline-abandoned', order.id);
  }, 60_000);
});

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

describe.skipIf(process.env.RECORD_HISTORIES === '1')('replaying the recorded histories', () => {
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
    }, 120_000);

    it('replays clean behind patched()', async () => {
      const runs = fixture();
      const report = await replayHistories(runs, { workflowBundle: await changedWorkflowBundle(true) });
      expect(report.failures).toEqual([]);
      expect(report.ok).toBe(runs.length);
    }, 120_000);
  });
});

describe.skipIf(process.env.RECORD_HISTORIES === '1')('the history API, the replay endpoint and the command', () => {
  let stack: TestStack;
  let drive: Driver;

  beforeAll(async () => {
    stack = await startTestStack();
    drive = new Driver(stack, { holder: await stack.account('customer'), ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator') });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('gives staff and auditors the decoded history of every run, in the JSON of temporal workflow show', async () => {
    const order = await drive.completeAndSubmit(await drive.create('ID_RGS_STAR'));
    const auditor = await stack.account('auditor');
    type Runs = { workflowId: string; runs: { runId: string; history: { events: { eventId: string; eventType: string; [k: string]: unknown }[] } }[] };
    const res = await stack.http<Runs>('GET', `/v1/orders/${order.id}/history`, { key: auditor.key });
    expect(res.status).toBe(200);
    expect(res.body.workflowId).toBe(orderWorkflowId(order.id));
    expect(res.body.runs).toHaveLength(1);
    const events = res.body.runs[0]?.history.events ?? [];
    expect(events[0]).toMatchObject({ eventId: '1', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED' });
    expect(events.some((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED')).toBe(true);
    // Payloads read as the SDK wrote them: the order's input is there, base64 JSON once decoded by the codec.
    const input = (events[0]?.workflowExecutionStartedEventAttributes as { input: { payloads: { data: string }[] } }).input.payloads[0]?.data ?? '';
    expect(Buffer.from(input, 'base64').toString('utf8')).toContain(order.id);
    // What the server stores is the codec's (encrypted, when one is configured); the route gave it decoded.
    const raw = await stack.client.workflow.getHandle(orderWorkflowId(order.id)).fetchHistory();
    const rawEncoding = Buffer.from(raw.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.metadata?.encoding ?? []).toString();
    if (codecsOf(stack.client).length > 0) expect(rawEncoding).toBe('binary/encrypted');
    const shownEncoding = (events[0]?.workflowExecutionStartedEventAttributes as { input: { payloads: { metadata: { encoding: string } }[] } }).input.payloads[0]?.metadata.encoding ?? '';
    expect(Buffer.from(shownEncoding, 'base64').toString()).toBe('json/plain');
    expect((await stack.http('GET', `/v1/orders/${order.id}/history`, { key: drive.actors.holder.key })).status).toBe(403);
    expect((await stack.http('GET', `/v1/orders/${order.id}/history?workflow=certificate`, { key: auditor.key })).status).toBe(404);
  });

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
      const fromServer = spawnSync('node', ['--import', 'tsx', 'scripts/replay.ts', '--query', query, '--export', join(exportDir, 'out')], { cwd: ROOT, env, encoding: 'utf8' });
      expect(fromServer.status, fromServer.stdout + fromServer.stderr).toBe(0);
      expect(fromServer.stdout).toContain('replayed 1: 1 ok, 0 non-deterministic, 0 failed');
      const files = readdirSync(join(exportDir, 'out'));
      expect(files).toEqual([expect.stringMatching(new RegExp(`^order-${order.id}_[0-9a-f-]{36}\\.json$`))]);
      // An auditor with only an API key: the histories through the API, exported, then replayed from the files.
      // Not spawnSync: the API answering the command runs in this very process.
      const viaApi = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn('node', ['--import', 'tsx', 'scripts/replay.ts', '--api', stack.baseUrl, '--order', order.id, '--export', join(exportDir, 'api')], {
          cwd: ROOT,
          env: { PATH: process.env.PATH, CERTFLOW_API_KEY: auditor.key },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      expect(viaApi.status, viaApi.stdout + viaApi.stderr).toBe(0);
      expect(viaApi.stdout).toContain('replayed 1: 1 ok');
      const again = spawnSync('node', ['--import', 'tsx', 'scripts/replay.ts', '--from', join(exportDir, 'api')], { cwd: ROOT, env: { PATH: process.env.PATH }, encoding: 'utf8' });
      expect(again.status, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain('replayed 1: 1 ok');
      const fromFiles = spawnSync('node', ['--import', 'tsx', 'scripts/replay.ts', '--from', FIXTURES], { cwd: ROOT, env, encoding: 'utf8' });
      expect(fromFiles.status, fromFiles.stdout + fromFiles.stderr).toBe(0);
      expect(fromFiles.stdout).toMatch(/replayed \d+: \d+ ok, 0 non-deterministic, 0 failed/);
    } finally {
      rmSync(exportDir, { recursive: true, force: true });
    }
  }, 180_000);
});
