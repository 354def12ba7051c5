/** An order's human timeline, as staff and auditors read it: actions, refused attempts, messages, the certificate. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../api/routes/timeline.js';
import { startTestStack, type Account, type TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';

let stack: TestStack;
let drive: Driver;
let auditor: Account;

beforeAll(async () => {
  stack = await startTestStack();
  drive = new Driver(stack, { holder: await stack.account('customer'), ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator') });
  auditor = await stack.account('auditor');
});
afterAll(async () => {
  await stack?.close();
});

describe('GET /v1/orders/{id}/timeline', () => {
  it('tells who did what, what was refused, which messages went out and the certificate, oldest first', async () => {
    const created = await drive.create('ID_RGS_STAR');
    // Submitting an incomplete file is refused, and the attempt is on the timeline.
    expect((await drive.post(drive.actors.holder.key, `/v1/orders/${created.id}/submit`)).status).toBe(422);
    const submitted = await drive.completeAndSubmit(created);
    await drive.reject(submitted.id, 'holder_identity', 'The identity document has expired.');
    const again = await drive.completeAndSubmit(await drive.get(submitted.id));
    await drive.approve(again.id);
    await drive.pay(again.id);
    await drive.until(again.id, (o) => o.status === 'awaiting_acceptance');

    const res = await stack.http<{ items: TimelineEntry[] }>('GET', `/v1/orders/${created.id}/timeline`, { key: auditor.key });
    expect(res.status).toBe(200);
    const texts = res.body.items.map((e) => e.text);
    expect(texts[0]).toBe('order created');
    expect(texts).toContain('customer: submit refused (checklist-incomplete)');
    expect(texts).toContain('ra operator: reject');
    expect(texts).toContain('ra operator: approve');
    expect(texts).toContain('ra operator: record payment');
    expect(texts).toContain('email sent: order confirmation');
    expect(texts).toContain('email sent: evidence rejected');
    expect(texts.some((t) => /^certificate [0-9a-f]+ issued by persons-issuing$/.test(t))).toBe(true);
    const times = res.body.items.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const reject = res.body.items.find((e) => e.text === 'ra operator: reject');
    expect(reject?.actor).toEqual({ userId: drive.actors.ra.user.id, role: 'ra_operator' });
  });

  it('is for staff and auditors: the customer gets 403', async () => {
    const order = await drive.create('ID_RGS_STAR');
    const mine = await stack.http('GET', `/v1/orders/${order.id}/timeline`, { key: drive.actors.holder.key });
    expect(mine.status).toBe(403);
    const dra = await stack.http('GET', `/v1/orders/${order.id}/timeline`, { key: drive.actors.dra.key });
    expect(dra.status).toBe(200);
  });
});
