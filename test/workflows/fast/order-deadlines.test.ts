/**
 * The order's deadlines on the time-skipping server with stub activities: the exact day each reminder, overdue
 * alert and abandonment happens (SPEC §5 and domain/deadlines.ts), and the mails and state they leave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastStack, type FastStack } from '../stub-activities.js';
import { between, DAY_MS, eventually, OrderRun, refusalOf } from './order-run.js';

let stack: FastStack;
beforeAll(async () => {
  stack = await startFastStack('fast-deadlines');
});
afterAll(() => stack?.close());

// The worker acts on a fired timer within real milliseconds; the server's clock moves on by as much.
const SLACK_MS = 10_000;
const near = (actual: number, expected: number): void => expect(Math.abs(actual - expected)).toBeLessThan(SLACK_MS);
const MINUTE = 60_000;

/** The mails of one template, once there are `count` of them. */
const mailsOnceThere = (run: OrderRun, template: string, count: number) =>
  eventually(() => {
    const found = stack.stubs.mails(run.id).filter((m) => m.template === template);
    return found.length >= count ? found : undefined;
  }, `${count} ${template} mail(s)`);

describe('inactivity', () => {
  it('reminds on days 7 and 14 without customer action and abandons on day 90', async () => {
    const run = await OrderRun.start(stack);
    const t0 = Date.parse(run.input.createdAt);
    expect(run.templates()).toEqual(['order_confirmation']);
    const mailsOf = (template: string) => stack.stubs.mails(run.id).filter((m) => m.template === template);

    await stack.env.sleep(7 * DAY_MS - 60_000);
    expect(mailsOf('evidence_reminder')).toHaveLength(0);
    await stack.env.sleep(120_000);
    const [first] = await eventually(() => (mailsOf('evidence_reminder').length === 1 ? mailsOf('evidence_reminder') : undefined), 'the first reminder');
    near(first!.at, t0 + 7 * DAY_MS);
    expect(first!.extra).toEqual({ days: 7, abandonOn: new Date(t0 + 90 * DAY_MS).toISOString() });
    expect(first!.idempotencyKey).toBe(`order-${run.id}:inactivity-reminder:${run.input.createdAt}:0`);

    await stack.env.sleep(7 * DAY_MS);
    const reminders = await eventually(() => (mailsOf('evidence_reminder').length === 2 ? mailsOf('evidence_reminder') : undefined), 'the second reminder');
    near(reminders[1]!.at, t0 + 14 * DAY_MS);
    expect(reminders[1]!.extra.days).toBe(14);
    expect((await run.state()).deadlines.map((x) => x.kind)).toEqual(['abandonment']);

    await stack.env.sleep(76 * DAY_MS - 5 * 60_000);
    expect((await run.state()).status).toBe('awaiting_evidence');
    const final = await run.handle.result();
    expect(final).toMatchObject({ status: 'abandoned', closedReason: 'no_activity', waitingOn: 'nobody', deadlines: [] });
    near(Date.parse(final.updatedAt), t0 + 90 * DAY_MS);
    expect(run.templates()).toEqual(['order_confirmation', 'evidence_reminder', 'evidence_reminder', 'order_abandoned']);
  });
});

describe('inactivity counts from the last customer action', () => {
  it('moves the reminders when the customer uploads a document, and stops them under review', async () => {
    const run = await OrderRun.start(stack);
    await stack.env.sleep(5 * DAY_MS);
    const uploaded = await run.upload('holder_identity');
    const since = Date.parse(uploaded.updatedAt);
    // The deadlines the order shows are the new ones: 7, 14 and 90 days after the upload.
    expect(uploaded.deadlines.map((x) => [x.kind, between(since, x.at) / DAY_MS])).toEqual([
      ['inactivity_reminder', 7],
      ['inactivity_reminder', 14],
      ['abandonment', 90],
    ]);
    // Day 7 of the order passes without a reminder: the upload on day 5 moved it to day 12.
    await stack.env.sleep(7 * DAY_MS - 2 * MINUTE);
    expect(run.templates()).not.toContain('evidence_reminder');
    await stack.env.sleep(4 * MINUTE);
    const [reminder] = await mailsOnceThere(run, 'evidence_reminder', 1);
    near(reminder!.at, since + 7 * DAY_MS);
    expect(reminder!.idempotencyKey).toBe(`order-${run.id}:inactivity-reminder:${uploaded.updatedAt}:0`);

    // Under review the order waits on the RA: no clock runs against the customer.
    const submitted = await run.completeAndSubmit();
    expect(submitted).toMatchObject({ status: 'under_review', waitingOn: 'ra', deadlines: [] });
    await stack.env.sleep(200 * DAY_MS);
    expect(await run.state()).toMatchObject({ status: 'under_review' });
    expect(stack.stubs.mails(run.id).filter((m) => m.template === 'evidence_reminder')).toHaveLength(1);
    await run.cancel('test over');
  });
});

describe('originals by post', () => {
  it('reminds on day 5, flags them overdue with a staff alert on day 7, abandons 30 days later', async () => {
    const { run, approved } = await OrderRun.startApproved(stack, { product: 'ID_RGS_2STAR' });
    const start = Date.parse(approved.updatedAt);
    expect(approved).toMatchObject({ status: 'awaiting_face_to_face', waitingOn: 'dra', originals: { required: true, received: false, overdue: false } });
    expect(approved.deadlines.map((x) => [x.kind, between(start, x.at) / DAY_MS])).toEqual([
      ['originals_reminder', 5],
      ['originals_due', 7],
      ['abandonment', 37],
    ]);
    const [approval] = await mailsOnceThere(run, 'review_approved', 1);
    expect(approval!.extra).toEqual({ originalsDueOn: new Date(start + 7 * DAY_MS).toISOString() });

    await stack.env.sleep(5 * DAY_MS - MINUTE);
    expect(run.templates()).not.toContain('originals_reminder');
    await stack.env.sleep(2 * MINUTE);
    const [reminder] = await mailsOnceThere(run, 'originals_reminder', 1);
    near(reminder!.at, start + 5 * DAY_MS);
    expect(reminder!).toMatchObject({ idempotencyKey: `order-${run.id}:originals-reminder`, extra: { dueOn: new Date(start + 7 * DAY_MS).toISOString() } });
    expect((await run.state()).originals.overdue).toBe(false);

    await stack.env.sleep(2 * DAY_MS);
    const [alert] = await mailsOnceThere(run, 'originals_overdue_staff', 1);
    near(alert!.at, start + 7 * DAY_MS);
    expect(alert!.extra).toEqual({ dueOn: new Date(start + 7 * DAY_MS).toISOString(), abandonOn: new Date(start + 37 * DAY_MS).toISOString() });
    // The face-to-face still comes first in what the order waits on; the originals are flagged overdue.
    expect(await run.state()).toMatchObject({ status: 'awaiting_face_to_face', originals: { overdue: true } });

    await stack.env.sleep(30 * DAY_MS - 5 * MINUTE);
    expect((await run.state()).status).toBe('awaiting_face_to_face');
    const final = await run.handle.result();
    expect(final).toMatchObject({ status: 'abandoned', closedReason: 'originals_not_received', deadlines: [] });
    near(Date.parse(final.updatedAt), start + 37 * DAY_MS);
    expect(run.templates()).toEqual(['order_confirmation', 'review_approved', 'originals_reminder', 'originals_overdue_staff', 'order_abandoned']);
  });

  it('takes originals that arrive after the overdue alert, and then nothing is due on a clock', async () => {
    const { run } = await OrderRun.startApproved(stack, { product: 'EIDAS_QUALIFIED' });
    expect(await run.faceToFace()).toMatchObject({ status: 'awaiting_originals', waitingOn: 'post' });
    await stack.env.sleep(7 * DAY_MS + MINUTE);
    const overdue = await run.until((o) => o.status === 'originals_overdue');
    expect(overdue).toMatchObject({ waitingOn: 'post', originals: { overdue: true } });
    const received = await run.originals();
    expect(received).toMatchObject({ status: 'awaiting_payment', waitingOn: 'payment', originals: { received: true, overdue: false }, deadlines: [] });
    await stack.env.sleep(60 * DAY_MS);
    expect((await run.state()).status).toBe('awaiting_payment');
    expect(run.templates()).not.toContain('order_abandoned');
    await run.cancel('test over', run.ra);
  });
});

describe('acceptance', () => {
  it('reminds the holder every 7 days, then revokes the certificate and abandons the order on day 30', async () => {
    const run = await OrderRun.start(stack);
    const issued = await run.toAcceptance();
    const serial = issued.certificateSerial ?? '';
    const [issuedMail] = await mailsOnceThere(run, 'certificate_issued', 1);
    // The acceptance clock starts when the certificate is issued (the mail carries its own date).
    const start = Date.parse(issuedMail!.extra.answerBy as string) - 30 * DAY_MS;
    near(start, issuedMail!.at);
    expect(issued.deadlines.map((x) => [x.kind, between(start, x.at) / DAY_MS])).toEqual([
      ['acceptance_reminder', 7],
      ['acceptance_reminder', 14],
      ['acceptance_reminder', 21],
      ['acceptance_reminder', 28],
      ['acceptance_timeout', 30],
    ]);
    await stack.env.sleep(29 * DAY_MS);
    const reminders = await mailsOnceThere(run, 'acceptance_reminder', 4);
    expect(reminders.map((m) => Math.round(between(start, m.at) / MINUTE))).toEqual([7, 14, 21, 28].map((n) => (n * DAY_MS) / MINUTE));
    expect(reminders.map((m) => m.idempotencyKey)).toEqual([1, 2, 3, 4].map((n) => `order-${run.id}:acceptance-reminder:${n}`));
    expect(reminders[0]!.extra).toEqual({ revokeOn: new Date(start + 30 * DAY_MS).toISOString() });
    expect(stack.stubs.callsOf('revokeCertificate', serial)).toHaveLength(0);

    const final = await run.handle.result();
    expect(final).toMatchObject({ status: 'abandoned', closedReason: 'not_accepted', acceptance: 'pending' });
    const [revocation] = stack.stubs.callsOf('revokeCertificate', serial);
    expect(revocation!.req).toEqual({ serial, reason: 'cessationOfOperation' });
    near(revocation!.at, start + 30 * DAY_MS);
    expect(run.templates().slice(-2)).toEqual(['certificate_revoked', 'order_abandoned']);
    expect(stack.stubs.mails(run.id).find((m) => m.template === 'certificate_revoked')!.extra.reason).toBe('cessationOfOperation');
  });
});

describe('the unlock code', () => {
  it('lives 10 minutes, and at most 5 are sent in a day', async () => {
    const run = await OrderRun.start(stack);
    await run.toAcceptance();
    await run.respond('accept');
    const sent = await run.requestCode();
    const sentAt = stack.stubs.callsOf('sendUnlockCode', run.id)[0]!.at;
    near(Date.parse(sent.expiresAt), sentAt + 10 * MINUTE);
    expect(sent.codesLeftToday).toBe(4);
    const digest = stack.stubs.lastCodeDigest(run.id);
    await stack.env.sleep(10 * MINUTE + 1000);
    expect(await refusalOf(run.verifyCode(digest))).toMatchObject({ kind: 'state', code: 'code-expired', status: 'awaiting_unlock' });

    for (const left of [3, 2, 1, 0]) expect((await run.requestCode()).codesLeftToday).toBe(left);
    expect(await refusalOf(run.requestCode())).toMatchObject({ kind: 'rule', code: 'too-many-codes' });
    expect(stack.stubs.callsOf('sendUnlockCode', run.id)).toHaveLength(5);
    // A day after the first, one more may be sent; the latest code unlocks.
    await stack.env.sleep(DAY_MS - 10 * MINUTE);
    expect((await run.requestCode()).codesLeftToday).toBe(0);
    expect(await run.verifyCode(stack.stubs.lastCodeDigest(run.id))).toEqual({ verified: true, attemptsLeft: 0 });
    expect((await run.handle.result()).status).toBe('completed');
  });
});
