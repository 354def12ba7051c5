/** Payment by signed webhook, hold / release / cancel, the audit trail of attempts, and secrets kept out of histories. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../api/routes/order-actions.js';
import { listOrderEvents } from '../../db/order-events.js';
import { sentMessages, tokens } from '../../db/schema.js';
import { orderWorkflowId } from '../../workflows/definitions.js';
import { historyAsJson } from '../../lib/history/json.js';
import { codecsOf, decodeHistory } from '../../lib/history/read.js';
import { Driver } from './drive.js';
import { testStackForFile } from '../stack-for-file.js';

const SECRET = 'whsec_test_0123456789';
const stack = testStackForFile({ env: { PAYMENT_WEBHOOK_SECRET: SECRET } });
let drive: Driver;

beforeAll(async () => {
  drive = await Driver.withNewActors(stack);
});

async function webhook(body: unknown, opts: { secret?: string; at?: number } = {}) {
  const raw = JSON.stringify(body);
  const signature = signWebhook(opts.secret ?? SECRET, raw, Math.floor((opts.at ?? Date.now()) / 1000));
  const res = await fetch(`${stack.baseUrl}/v1/payments/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body: raw });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('card payment by webhook', () => {
  it('accepts a signed result once, refuses bad or stale signatures, and never retries a failed card', async () => {
    let order = await drive.completeAndSubmit(await drive.create('ID_RGS_STAR', { payment: { method: 'card' } }));
    order = await drive.approve(order.id);
    expect(order.status).toBe('awaiting_payment');

    expect((await webhook({ orderId: order.id, status: 'failed', reference: 'CB-1' }, { secret: 'wrong' })).status).toBe(401);
    expect((await webhook({ orderId: order.id, status: 'failed', reference: 'CB-1' }, { at: Date.now() - 10 * 60_000 })).status).toBe(401);
    const failed = await webhook({ orderId: order.id, status: 'failed', reference: 'CB-1' });
    expect(failed).toMatchObject({ status: 200, body: { status: 'failed' } });
    // The provider retries its delivery: acknowledged, nothing changes.
    expect((await webhook({ orderId: order.id, status: 'failed', reference: 'CB-1' })).body).toMatchObject({ received: true });
    // A new card attempt cannot succeed: the card is not retried.
    const retry = await webhook({ orderId: order.id, status: 'succeeded', reference: 'CB-2' });
    expect(retry.status).toBe(422);
    expect((await drive.get(order.id)).payment.status).toBe('failed');
    // The customer switches to a transfer, recorded by staff: the order moves on to issuance.
    const paid = await drive.post(drive.actors.ra.key, `/v1/orders/${order.id}/payment`, { status: 'received', reference: 'VIR-9', method: 'transfer' });
    expect(paid.body.payment).toMatchObject({ method: 'transfer', status: 'received' });
    await drive.until(order.id, (o) => o.status === 'awaiting_acceptance');
  }, 60_000);
});

describe('hold, release, cancel', () => {
  it('lets staff hold and release, refuses customer actions while held, and lets the customer cancel before issuance', async () => {
    const order = await drive.create('ID_RGS_STAR');
    const held = await drive.post(drive.actors.ra.key, `/v1/orders/${order.id}/hold`, { comment: 'Checking the Kbis with the registry' });
    expect(held.body).toMatchObject({ status: 'on_hold', waitingOn: 'ra', holdComment: 'Checking the Kbis with the registry' });
    expect((await drive.post(drive.actors.holder.key, `/v1/orders/${order.id}/hold`, { comment: 'me too' })).status).toBe(403);
    const upload = await drive.upload(drive.actors.holder.key, order.id, 'holder_identity');
    expect(upload.body).toMatchObject({ status: 409, state: 'on_hold', waitingOn: 'ra' });
    expect((await drive.post(drive.actors.ra.key, `/v1/orders/${order.id}/release`)).body.status).toBe('awaiting_evidence');
    const cancelled = await drive.post(drive.actors.holder.key, `/v1/orders/${order.id}/cancel`, { reason: 'ordered the wrong product' });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', closedReason: 'ordered the wrong product', waitingOn: 'nobody' });
    expect((await drive.post(drive.actors.holder.key, `/v1/orders/${order.id}/cancel`, { reason: 'again' })).status).toBe(409);

    // Every attempt is in the audit trail, refused ones included, with who made it.
    const events = await listOrderEvents(stack.db, order.id);
    const summary = events.map((e) => `${e.action}:${e.outcome}`);
    expect(summary).toEqual(['hold:accepted', 'upload_evidence:refused', 'release:accepted', 'cancel:accepted', 'cancel:refused']);
    expect(events[0]).toMatchObject({ actorUserId: drive.actors.ra.user.id, actorRole: 'ra_operator', detail: { comment: 'Checking the Kbis with the registry' } });
    expect(events[1]?.detail).toMatchObject({ code: 'not-allowed-in-state' });
  }, 60_000);
});

describe('secrets', () => {
  it('keeps the SMS code and the PIN out of the workflow history and of every table', async () => {
    const order = await drive.toAcceptance('ID_RGS_STAR');
    const key = drive.actors.holder.key;
    await drive.post(key, `/v1/orders/${order.id}/acceptance`, { decision: 'accept' });
    await drive.post(key, `/v1/orders/${order.id}/unlock-code`);
    const lines = readFileSync(join(stack.dataDir, 'outbox', 'sms.jsonl'), 'utf8').trim().split('\n');
    const code = /\b(\d{6})\b/.exec((JSON.parse(lines.at(-1) ?? '{}') as { body: string }).body)?.[1] ?? '';
    const pin = (await drive.post<{ unlockPin: string }>(key, `/v1/orders/${order.id}/unlock-code/verify`, { code })).body.unlockPin;
    expect(pin).toMatch(/^\d{8}$/);
    await drive.until(order.id, (o) => o.status === 'completed');

    // The history as an auditor reads it: every payload decrypted by the codec, in the JSON of `temporal workflow show`.
    const raw = await stack.client.workflow.getHandle(orderWorkflowId(order.id)).fetchHistory();
    const decoded = JSON.stringify(historyAsJson(await decodeHistory(raw, codecsOf(stack.client))));
    const texts = (decoded.match(/"data":"([A-Za-z0-9+/=]+)"/g) ?? []).map((b64) => Buffer.from(b64.slice(8, -1), 'base64').toString('utf8'));
    // The search reads clear payloads: the holder's e-mail, in the order's input, is there to be found.
    expect(texts.some((t) => t.includes(drive.actors.holder.user.email))).toBe(true);
    for (const text of texts) {
      expect(text).not.toContain(pin);
      expect(text).not.toMatch(new RegExp(`\\b${code}\\b`));
    }
    expect(decoded).not.toContain(pin);
    const rows = JSON.stringify([
      await stack.db.select().from(sentMessages).where(eq(sentMessages.orderId, order.id)),
      await stack.db.select().from(tokens).where(eq(tokens.orderId, order.id)),
      await listOrderEvents(stack.db, order.id),
    ]);
    expect(rows).not.toContain(pin);
    expect(rows).not.toMatch(new RegExp(`\\b${code}\\b`));
  }, 60_000);
});
