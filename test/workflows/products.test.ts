/**
 * Each personal product from creation to completed over HTTP, with mails and SMS in the outbox (the embedded
 * default); a rejection loop of several rounds; the size of the histories it leaves.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { SMIME_MAX_VALIDITY_DAYS } from '../../activities/ca/profiles.js';
import { getCertificate } from '../../db/certificates.js';
import { sentMessages } from '../../db/schema.js';
import { expectHolderToken } from '../ca/holder-token.js';
import { orderWorkflowId } from '../../workflows/definitions.js';
import { CONTINUE_AS_NEW_AT } from '../global-setup.js';
import { Driver } from './drive.js';
import { testStackForFile } from '../stack-for-file.js';

const stack = testStackForFile();
let drive: Driver;

beforeAll(async () => {
  drive = await Driver.withNewActors(stack);
});

/** The SMS outbox, a JSON line per message: what a developer reads without a provider. */
function lastOutboxCode(): string {
  const lines = readFileSync(join(stack.dataDir, 'outbox', 'sms.jsonl'), 'utf8').trim().split('\n');
  const body = (JSON.parse(lines.at(-1) ?? '{}') as { body?: string }).body ?? '';
  return /\b(\d{6})\b/.exec(body)?.[1] ?? '';
}

async function waitForMails(orderId: string, templates: string[]) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const mails = await stack.db
      .select({ template: sentMessages.template, status: sentMessages.status })
      .from(sentMessages)
      .where(eq(sentMessages.orderId, orderId));
    const done = templates.every((t) => mails.some((m) => m.template === t && m.status === 'sent'));
    if (done || Date.now() > deadline) return mails;
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Every run of the order (continue-as-new starts a new run under the same id): total events and the longest run. */
async function historyLength(orderId: string): Promise<{ events: number; runs: number; longestRun: number }> {
  let events = 0;
  let runs = 0;
  let longestRun = 0;
  for await (const execution of stack.client.workflow.list({ query: `WorkflowId = '${orderWorkflowId(orderId)}'` })) {
    const history = await stack.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const length = history.events?.length ?? 0;
    events += length;
    longestRun = Math.max(longestRun, length);
    runs += 1;
  }
  return { events, runs, longestRun };
}

describe.each(['ID_RGS_STAR', 'ID_RGS_2STAR', 'ID_RGS_3STAR', 'ENCRYPTION', 'EIDAS_QUALIFIED'])('%s', (product) => {
  it('goes from creation to completed over HTTP', async () => {
    const issued = await drive.toAcceptance(product);
    const key = drive.actors.holder.key;
    expect(issued.certificateSerial).not.toBeNull();
    // Three years paid, yet one certificate lives 825 days at most (S/MIME BR §6.3.2); reissues serve the rest.
    const row = await getCertificate(stack.db, issued.certificateSerial ?? '');
    expect((row!.notAfter.getTime() - row!.notBefore.getTime()) / 86_400_000).toBe(SMIME_MAX_VALIDITY_DAYS - 1);
    expect((await drive.post(key, `/v1/orders/${issued.id}/acceptance`, { decision: 'accept' })).body.status).toBe('awaiting_unlock');
    expect((await drive.post(key, `/v1/orders/${issued.id}/unlock-code`)).status).toBe(200);
    const verified = await drive.post<{ unlockPin: string }>(key, `/v1/orders/${issued.id}/unlock-code/verify`, { code: lastOutboxCode() });
    expect(verified.body.unlockPin).toMatch(/^\d{8}$/);
    // The PIN shown opens the order's own PKCS#11 token, whose key pair the certificate certifies.
    await expectHolderToken(stack.db, issued.id, verified.body.unlockPin);
    const done = await drive.until(issued.id, (o) => o.status === 'completed');
    expect(done.waitingOn).toBe('nobody');
    // The closing mail follows the last update; wait for it, then every event has exactly one mail, sent.
    const expected = ['order_confirmation', 'review_approved', 'certificate_issued', 'order_completed'];
    const mails = await waitForMails(issued.id, expected);
    for (const t of expected) expect(mails.filter((m) => m.template === t), t).toEqual([{ template: t, status: 'sent' }]);
    if (product === 'ID_RGS_3STAR') {
      const { events, runs } = await historyLength(issued.id);
      console.log(`history of a clean ${product} order: ${events} events in ${runs} run(s)`);
    }
  }, 60_000);
});

describe('the rejection loop', () => {
  it('turns as often as needed, keeps accepted documents, mails each rejection once, and keeps the history bounded', async () => {
    const rounds = Number(process.env.CERTFLOW_REJECTION_ROUNDS ?? 6);
    let order = await drive.completeAndSubmit(await drive.create('ID_RGS_3STAR'));
    for (let round = 1; round <= rounds; round++) {
      order = await drive.reject(order.id, 'holder_identity', `round ${round}: the document has expired`);
      expect(order.checklist.filter((c) => c.status === 'accepted').map((c) => c.documentType)).toEqual(['organisation_registration', 'signed_order_form']);
      order = await drive.completeAndSubmit(order);
    }
    order = await drive.approve(order.id);
    expect(order).toMatchObject({ status: 'awaiting_face_to_face', reviewRounds: rounds + 1 });
    const deadline = Date.now() + 20_000;
    let rejected = 0;
    while (Date.now() < deadline) {
      rejected = (
        await stack.db
          .select()
          .from(sentMessages)
          .where(and(eq(sentMessages.orderId, order.id), eq(sentMessages.template, 'evidence_rejected')))
      ).length;
      if (rejected === rounds) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rejected).toBe(rounds);
    // Visibility lists the runs a moment after they close.
    await new Promise((r) => setTimeout(r, 1500));
    const { events, runs, longestRun } = await historyLength(order.id);
    console.log(`history of an ID_RGS_3STAR order with ${rounds} rejections: ${events} events in ${runs} run(s), longest run ${longestRun}`);
    // The suite's server suggests continuing as new at CONTINUE_AS_NEW_AT events: the order did, and lost nothing.
    expect(runs).toBeGreaterThan(1);
    expect(longestRun).toBeLessThan(CONTINUE_AS_NEW_AT + 60);
    const after = await drive.faceToFace(order.id);
    expect(after).toMatchObject({ status: 'awaiting_originals', reviewRounds: rounds + 1 });
  }, 180_000);
});
