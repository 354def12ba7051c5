/**
 * Every deadline of an order crossed on the real dev server, with the durations configured down to seconds (they
 * travel in the order's input): inactivity, originals by post, acceptance, the unlock code's life and limits.
 */
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificates } from '../../db/schema.js';
import { DEFAULT_DEADLINES, type Deadlines } from '../../domain/deadlines.js';
import { startProviders } from '../fakes/providers.js';
import type { ReceivedMail } from '../fakes/smtp.js';
import { Driver } from './drive.js';
import { startedForFile, testStackForFile } from '../stack-for-file.js';

const SHORT: Deadlines = {
  ...DEFAULT_DEADLINES,
  inactivityReminders: ['1 second', '2 seconds'],
  inactivityAbandon: '3 seconds',
  originalsReminder: '1 second',
  originalsDue: '2 seconds',
  originalsAbandon: '2 seconds',
  acceptanceReminderEvery: '1 second',
  acceptanceTimeout: '3500 milliseconds',
  unlockCodeValidity: '2 seconds',
};

const providers = startedForFile(() => startProviders(), 'the providers');
const stack = testStackForFile(() => ({ deadlines: SHORT, env: { ...providers.env, STAFF_EMAIL: 'ra-team@ca.example' } }));
let drive: Driver;

beforeAll(async () => {
  drive = await Driver.withNewActors(stack);
});

const template = (m: ReceivedMail): string => {
  const value = m.parsed.headers.get('x-certflow-template');
  return typeof value === 'string' ? value : '';
};
const mailsOf = (orderId: string, name: string): ReceivedMail[] =>
  providers.smtp.messages.filter((m) => template(m) === name && `${m.parsed.subject ?? ''} ${m.parsed.text ?? ''}`.includes(orderId));

describe('deadlines', () => {
  it('reminds an inactive customer twice, then abandons the order', async () => {
    const order = await drive.create('ID_RGS_STAR');
    expect(order.status).toBe('awaiting_evidence');
    const kinds = (await drive.until(order.id, (o) => o.deadlines.length > 0)).deadlines.map((d) => d.kind);
    expect(kinds).toEqual(['inactivity_reminder', 'inactivity_reminder', 'abandonment']);
    const abandoned = await drive.until(order.id, (o) => o.status === 'abandoned', 20_000);
    expect(abandoned).toMatchObject({ closedReason: 'no_activity', waitingOn: 'nobody', deadlines: [] });
    await providers.smtp.waitFor((m) => template(m) === 'order_abandoned' && (m.parsed.text ?? '').includes(order.id), 10_000);
    expect(mailsOf(order.id, 'evidence_reminder')).toHaveLength(2);
    // An abandoned order takes no more action: 409 with the state.
    const late = await drive.upload(drive.actors.holder.key, order.id, 'holder_identity');
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ state: 'abandoned', waitingOn: 'nobody' });
  }, 40_000);

  it('marks the originals overdue on day 7 with a staff alert, and abandons 30 days later', async () => {
    let order = await drive.completeAndSubmit(await drive.create('ID_RGS_2STAR'));
    order = await drive.approve(order.id);
    expect(order.status).toBe('awaiting_face_to_face');
    await providers.smtp.waitFor((m) => template(m) === 'originals_reminder' && (m.parsed.text ?? '').includes(order.id), 15_000);
    const overdue = await drive.until(order.id, (o) => o.originals.overdue, 15_000);
    // The face-to-face still comes first in what the order waits on; the originals are flagged overdue.
    expect(overdue.status).toBe('awaiting_face_to_face');
    const alert = await providers.smtp.waitFor((m) => template(m) === 'originals_overdue_staff', 10_000);
    expect(alert.envelope.to).toEqual(['ra-team@ca.example']);
    const abandoned = await drive.until(order.id, (o) => o.status === 'abandoned', 20_000);
    expect(abandoned.closedReason).toBe('originals_not_received');
  }, 60_000);

  it('takes late originals after the overdue alert', async () => {
    let order = await drive.completeAndSubmit(await drive.create('EIDAS_QUALIFIED'));
    order = await drive.approve(order.id);
    order = await drive.faceToFace(order.id);
    expect(order.status).toBe('awaiting_originals');
    const overdue = await drive.until(order.id, (o) => o.status === 'originals_overdue', 15_000);
    expect(overdue.waitingOn).toBe('post');
    const received = await drive.originals(order.id);
    expect(received).toMatchObject({ status: 'awaiting_payment', originals: { received: true, overdue: false } });
  }, 40_000);

  it('reminds the holder to answer, then revokes the certificate and abandons the order', async () => {
    const order = await drive.toAcceptance('ID_RGS_STAR');
    const serial = order.certificateSerial ?? '';
    const abandoned = await drive.until(order.id, (o) => o.status === 'abandoned', 20_000);
    expect(abandoned.closedReason).toBe('not_accepted');
    await providers.smtp.waitFor((m) => template(m) === 'certificate_revoked' && (m.parsed.text ?? '').includes(serial), 10_000);
    const [row] = await stack.db.select().from(certificates).where(eq(certificates.serial, serial));
    expect(row).toMatchObject({ status: 'revoked', revocationReason: 'cessationOfOperation' });
    expect(mailsOf(order.id, 'acceptance_reminder').length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('revokes a refused certificate as superseded and ends refused', async () => {
    const order = await drive.toAcceptance('ENCRYPTION');
    const refused = await drive.post(drive.actors.holder.key, `/v1/orders/${order.id}/acceptance`, { decision: 'refuse' });
    expect(refused.body.status).toBe('refused');
    await drive.until(order.id, (o) => o.status === 'refused');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [row] = await stack.db.select().from(certificates).where(eq(certificates.serial, order.certificateSerial ?? ''));
      if (row?.status === 'revoked') {
        expect(row.revocationReason).toBe('superseded');
        break;
      }
      if (Date.now() > deadline) throw new Error('certificate not revoked');
      await new Promise((r) => setTimeout(r, 150));
    }
  }, 60_000);

  it('voids an unlock code after 10 minutes (here 2 s) and after 3 wrong entries, and sends at most 5 a day', async () => {
    const order = await drive.toAcceptance('ID_RGS_3STAR');
    const key = drive.actors.holder.key;
    expect((await drive.post(key, `/v1/orders/${order.id}/acceptance`, { decision: 'accept' })).body.status).toBe('awaiting_unlock');
    const noCode = await drive.post(key, `/v1/orders/${order.id}/unlock-code/verify`, { code: '123456' });
    expect(noCode.body).toMatchObject({ status: 409, type: 'urn:certflow:problem:no-active-code' });

    const codeOf = async (n: number): Promise<string> => {
      const sms = await providers.twilio.waitFor((m) => providers.twilio.messages.filter((x) => x.to === m.to).indexOf(m) === n - 1 && m.to === '+33612345678', 10_000);
      return /\b(\d{6})\b/.exec(sms.body)?.[1] ?? '';
    };
    const before = providers.twilio.messages.filter((m) => m.to === '+33612345678').length;

    expect((await drive.post(key, `/v1/orders/${order.id}/unlock-code`)).status).toBe(200);
    const first = await codeOf(before + 1);
    await new Promise((r) => setTimeout(r, 2500));
    const expired = await drive.post(key, `/v1/orders/${order.id}/unlock-code/verify`, { code: first });
    expect(expired.body).toMatchObject({ status: 409, type: 'urn:certflow:problem:code-expired' });

    expect((await drive.post(key, `/v1/orders/${order.id}/unlock-code`)).status).toBe(200);
    const second = await codeOf(before + 2);
    const wrongCode = second === '000000' ? '111111' : '000000';
    for (const left of [2, 1, 0]) {
      const wrong = await drive.post(key, `/v1/orders/${order.id}/unlock-code/verify`, { code: wrongCode });
      expect(wrong.body).toMatchObject({ status: 422, attemptsLeft: left });
    }
    // The right code no longer works: three wrong entries voided it.
    expect((await drive.post(key, `/v1/orders/${order.id}/unlock-code/verify`, { code: second })).body).toMatchObject({ status: 409 });

    for (let n = 3; n <= 5; n++) expect((await drive.post(key, `/v1/orders/${order.id}/unlock-code`)).status).toBe(200);
    const sixth = await drive.post(key, `/v1/orders/${order.id}/unlock-code`);
    expect(sixth.body).toMatchObject({ status: 422, type: 'urn:certflow:problem:too-many-codes' });
    expect(providers.twilio.messages.filter((m) => m.to === '+33612345678').length - before).toBe(5);
    // The codes and the PIN are in no table and no order view.
    const fifth = await codeOf(before + 5);
    const view = JSON.stringify(await drive.get(order.id));
    expect(view).not.toContain(fifth);
    const right = await drive.post<{ unlockPin: string }>(key, `/v1/orders/${order.id}/unlock-code/verify`, { code: fifth });
    expect(right.body.unlockPin).toMatch(/^\d{8}$/);
  }, 90_000);
});
