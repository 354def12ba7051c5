/**
 * Records the replay fixtures: drives every product and the important paths (a rejection loop that continues as
 * new, a refusal, an unlock lockout, an inactivity deadline) over HTTP on the test stack (the run's Temporal dev
 * server and Postgres, a worker), then writes each run's decoded history as `<workflowId>_<runId>.json` with
 * `_scenarios.json` naming which order is which. test/workflows/replay.test.ts replays what this writes.
 *
 * Not part of the test run: `npm run record:histories [-- --out <dir>]` runs it with vitest.record.config.ts.
 * The folder comes from RECORD_HISTORIES_DIR (default test/fixtures/histories); its JSON files are replaced.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import type { OrderView } from '../../domain/order.js';
import { certificateWorkflowId, orderWorkflowId } from '../../workflows/definitions.js';
import { writeHistory } from '../../lib/history/files.js';
import { workflowRuns } from '../../lib/history/read.js';
import { openssl } from '../../test/ca/support.js';
import { startTestStack, type TestStack } from '../../test/support.js';
import { Driver } from '../../test/workflows/drive.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const requested = process.env.RECORD_HISTORIES_DIR;
/** Where the histories go: the fixtures unless told otherwise. */
const OUT = requested === undefined || requested === '' ? join(ROOT, 'test/fixtures/histories') : isAbsolute(requested) ? requested : resolve(ROOT, requested);

describe('recording the histories', () => {
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
    mkdirSync(OUT, { recursive: true });
    for (const name of readdirSync(OUT)) if (name.endsWith('.json')) rmSync(join(OUT, name));
  });
  afterAll(async () => {
    writeFileSync(join(OUT, '_scenarios.json'), JSON.stringify(scenarios, null, 2) + '\n');
    await stack?.close();
    await short?.close();
  });

  /** Every run of the order's workflow and, once it lives, of its certificate's. */
  async function record(s: TestStack, scenario: string, orderId: string): Promise<void> {
    scenarios[scenario] = orderId;
    for (const workflowId of [orderWorkflowId(orderId), certificateWorkflowId(orderId)]) {
      try {
        for (const run of await workflowRuns(s.client, workflowId)) writeHistory(OUT, run);
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
