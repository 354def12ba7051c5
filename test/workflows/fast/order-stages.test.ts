/**
 * Each stage of the order workflow on the time-skipping server with stub activities: the file and its review loop,
 * face-to-face, payment by each method, issuance (and the CA's refusal), acceptance or refusal, the SMS unlock,
 * hold and release, cancellation at every stage before issuance. Asserts the state the workflow answers, the
 * refusals its validators give, and the activities it called with which keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderStatus } from '../../../domain/order.js';
import { startFastStack, type FastStack } from '../stub-activities.js';
import { DAY_MS, eventually, OrderRun, refusalOf } from './order-run.js';

let stack: FastStack;
beforeAll(async () => {
  stack = await startFastStack('fast-stages');
});
afterAll(() => stack?.close());

describe('the file and its review', () => {
  it('refuses an incomplete file, goes round a rejection and is approved once uploaded and submitted again', async () => {
    const run = await OrderRun.start(stack);
    const created = await run.state();
    expect(created).toMatchObject({ status: 'awaiting_evidence', waitingOn: 'customer', reviewRounds: 0 });
    expect(created.checklist.map((c) => [c.documentType, c.status])).toEqual([
      ['holder_identity', 'missing'],
      ['organisation_registration', 'missing'],
      ['signed_order_form', 'missing'],
    ]);
    expect(await refusalOf(run.upload('domain_ownership'))).toMatchObject({ kind: 'rule', code: 'document-not-in-checklist' });
    await run.upload('holder_identity');
    expect(await refusalOf(run.submit())).toMatchObject({
      kind: 'rule',
      code: 'checklist-incomplete',
      message: 'Documents still missing or rejected: organisation_registration, signed_order_form.',
      status: 'awaiting_evidence',
    });
    expect(await refusalOf(run.approve())).toMatchObject({ kind: 'state', code: 'not-allowed-in-state' });

    const submitted = await run.completeAndSubmit();
    expect(submitted).toMatchObject({ status: 'under_review', waitingOn: 'ra' });
    expect(await refusalOf(run.upload('holder_identity'))).toMatchObject({ kind: 'state', status: 'under_review' });
    expect(await refusalOf(run.reject([]))).toMatchObject({ kind: 'rule', code: 'reasons-required' });

    const rejected = await run.reject([{ documentType: 'holder_identity', reason: 'The identity document has expired.' }]);
    expect(rejected).toMatchObject({ status: 'awaiting_evidence', waitingOn: 'customer', reviewRounds: 1 });
    expect(rejected.checklist.map((c) => [c.documentType, c.status, c.rejectionReason])).toEqual([
      ['holder_identity', 'rejected', 'The identity document has expired.'],
      ['organisation_registration', 'accepted', undefined],
      ['signed_order_form', 'accepted', undefined],
    ]);
    const [rejection] = await eventually(() => {
      const found = stack.stubs.mails(run.id).filter((m) => m.template === 'evidence_rejected');
      return found.length > 0 ? found : undefined;
    }, 'the rejection mail');
    expect(rejection!.idempotencyKey).toBe(`order-${run.id}:rejected:1`);
    // Approving straight after a rejection is refused: the customer uploads again and submits again first.
    expect(await refusalOf(run.approve())).toMatchObject({ kind: 'state', status: 'awaiting_evidence' });
    expect(await refusalOf(run.submit())).toMatchObject({ code: 'checklist-incomplete', message: 'Documents still missing or rejected: holder_identity.' });

    await run.upload('holder_identity');
    expect((await run.submit()).status).toBe('under_review');
    const second = await run.reject([{ documentType: 'signed_order_form', reason: 'Not signed.' }]);
    expect(second.reviewRounds).toBe(2);
    await run.completeAndSubmit();
    const approved = await run.approve();
    expect(approved).toMatchObject({ status: 'awaiting_payment', waitingOn: 'payment', reviewRounds: 3 });
    expect(approved.checklist.every((c) => c.status === 'accepted')).toBe(true);
    await eventually(() => (run.templates().includes('review_approved') ? true : undefined), 'the approval mail');
    expect(stack.stubs.mails(run.id).map((m) => m.idempotencyKey.slice(`order-${run.id}:`.length))).toEqual(['confirmation', 'rejected:1', 'rejected:2', 'approved']);
    expect(stack.stubs.mails(run.id).find((m) => m.template === 'review_approved')!.extra).toEqual({});
    // The read model got every change, the last one as the query answers it.
    expect(stack.stubs.views.get(`order-${run.id}`)).toEqual(await run.state());
    await run.cancel('test over');
  });
});

describe('face-to-face', () => {
  it('is recorded by a DRA operator, never by the holder, before the originals', async () => {
    const { run, approved } = await OrderRun.startApproved(stack, { product: 'ID_RGS_3STAR' });
    expect(approved).toMatchObject({ status: 'awaiting_face_to_face', waitingOn: 'dra', faceToFace: { required: true, done: false } });
    expect(await refusalOf(run.faceToFace(run.holder))).toMatchObject({ kind: 'forbidden', code: 'operator-is-holder' });
    const met = await run.faceToFace();
    expect(met).toMatchObject({ status: 'awaiting_originals', waitingOn: 'post', faceToFace: { done: true, meetingDate: '2026-11-20' } });
    expect(await refusalOf(run.faceToFace())).toMatchObject({ code: 'already-done' });
    expect(await run.originals()).toMatchObject({ status: 'awaiting_payment', originals: { received: true } });
    expect(await refusalOf(run.originals())).toMatchObject({ code: 'already-done' });
    await run.cancel('test over', run.ra);
  });

  it('is not asked of an online product', async () => {
    const run = await OrderRun.start(stack);
    expect(await refusalOf(run.faceToFace())).toMatchObject({ kind: 'state', code: 'not-required' });
    expect(await refusalOf(run.originals())).toMatchObject({ kind: 'state', code: 'not-required' });
    await run.cancel('test over');
  });
});

describe('payment', () => {
  it('by card: a failed payment cannot be retried by card, a transfer settles it', async () => {
    const { run } = await OrderRun.startApproved(stack, { payment: { method: 'card', purchaseOrderNumber: null } });
    const failed = await run.payFailed('CB-123');
    expect(failed).toMatchObject({ status: 'awaiting_payment', payment: { method: 'card', status: 'failed', reference: 'CB-123' } });
    expect(await refusalOf(run.payFailed('CB-124'))).toMatchObject({ code: 'no-card-payment-pending' });
    expect(await refusalOf(run.pay('CB-125', 'card'))).toMatchObject({ kind: 'rule', code: 'card-retry-not-possible' });
    const paid = await run.pay('VIR-9', 'transfer');
    expect(paid.payment).toMatchObject({ method: 'transfer', status: 'received', reference: 'VIR-9' });
    await run.until((o) => o.status === 'awaiting_acceptance');
    expect(await refusalOf(run.pay('VIR-10'))).toMatchObject({ kind: 'state', status: 'awaiting_acceptance' });
  });

  it('by cheque, recorded during the review: approval goes straight to issuance', async () => {
    const run = await OrderRun.start(stack, { payment: { method: 'cheque', purchaseOrderNumber: null } });
    await run.completeAndSubmit();
    const paid = await run.pay('CHQ-1');
    // Paid in parallel with the review: the order still waits on the RA.
    expect(paid).toMatchObject({ status: 'under_review', payment: { method: 'cheque', status: 'received' } });
    expect(await refusalOf(run.payFailed('CHQ-1'))).toMatchObject({ code: 'no-card-payment-pending' });
    expect(await refusalOf(run.pay('CHQ-2'))).toMatchObject({ kind: 'state', code: 'already-paid' });
    const approved = await run.approve();
    expect(approved.status).toBe('issuing');
    await run.until((o) => o.status === 'awaiting_acceptance');
  });

  it('by purchase order: only when chosen at ordering, with its document in the checklist', async () => {
    const byTransfer = await OrderRun.start(stack);
    expect(await refusalOf(byTransfer.pay('PO-1', 'purchase_order'))).toMatchObject({ kind: 'rule', code: 'payment-method-not-allowed' });
    await byTransfer.cancel('test over');

    const run = await OrderRun.start(stack, { payment: { method: 'purchase_order', purchaseOrderNumber: 'PO-2026-7' } });
    const created = await run.state();
    expect(created.checklist.map((c) => c.documentType)).toContain('purchase_order');
    expect(created.payment).toMatchObject({ method: 'purchase_order', purchaseOrderNumber: 'PO-2026-7', status: 'pending' });
    await run.completeAndSubmit();
    await run.approve();
    expect((await run.pay('PO-2026-7')).payment.status).toBe('purchase_order_accepted');
    await run.until((o) => o.status === 'awaiting_acceptance');
  });
});

describe('issuance, acceptance and unlock', () => {
  it('personalises the token, issues once, and after acceptance unlocks with the SMS code', async () => {
    const run = await OrderRun.start(stack);
    const issued = await run.toAcceptance();
    const wf = `order-${run.id}`;
    expect(issued).toMatchObject({ status: 'awaiting_acceptance', waitingOn: 'customer', acceptance: 'pending', keyOrigin: 'token' });
    expect(stack.stubs.callsOf('personaliseToken', run.id).map((c) => c.req)).toEqual([{ personalisationKey: `${wf}:token`, orderId: run.id }]);
    const issuance = stack.stubs.callsOf('issueCertificate', run.id);
    expect(issuance).toHaveLength(1);
    const req = issuance[0]!.req as { issuanceKey: string; publicKeySpki: string; validUntil: string };
    expect(req.issuanceKey).toBe(`${wf}:certificate`);
    expect(req.publicKeySpki).toBe(`spki-of-token-${run.id}`);
    // The paid term (one year here) runs from the issuance: 365 days.
    expect(Math.round((Date.parse(req.validUntil) - issuance[0]!.at) / DAY_MS)).toBe(365);
    expect(issued.certificateSerial).toMatch(/^[0-9a-f]{16}$/);
    const mail = await eventually(() => stack.stubs.mails(run.id).find((m) => m.template === 'certificate_issued'), 'the issuance mail');
    expect(mail.extra).toMatchObject({ subject: 'CN=Camille Durand' });

    // Only the holder answers for the certificate, once.
    expect(await refusalOf(run.cancel('too late'))).toMatchObject({ kind: 'state', status: 'awaiting_acceptance' });
    const accepted = await run.respond('accept');
    expect(accepted).toMatchObject({ status: 'awaiting_unlock', acceptance: 'accepted', deadlines: [] });
    expect(await refusalOf(run.respond('refuse'))).toMatchObject({ kind: 'state' });

    expect(await refusalOf(run.verifyCode('0'.repeat(64)))).toMatchObject({ kind: 'state', code: 'no-active-code' });
    expect(await refusalOf(run.requestCode(run.ra))).toMatchObject({ kind: 'forbidden', code: 'holder-only' });
    expect(await run.requestCode()).toMatchObject({ codesLeftToday: 4 });
    const [sms] = stack.stubs.callsOf('sendUnlockCode', run.id);
    expect(sms!.req).toMatchObject({ orderId: run.id, to: '+33612345678', language: 'fr' });
    const right = stack.stubs.lastCodeDigest(run.id);
    // Three wrong entries void the code: the right one no longer works.
    for (const left of [2, 1, 0]) expect(await run.verifyCode('f'.repeat(64))).toEqual({ verified: false, attemptsLeft: left });
    expect(await refusalOf(run.verifyCode(right))).toMatchObject({ code: 'no-active-code', status: 'awaiting_unlock' });
    // A new code, a new digest: the old one is not it.
    await run.requestCode();
    expect(stack.stubs.lastCodeDigest(run.id)).not.toBe(right);
    expect(await run.verifyCode(right)).toEqual({ verified: false, attemptsLeft: 2 });
    expect(await run.verifyCode(stack.stubs.lastCodeDigest(run.id))).toEqual({ verified: true, attemptsLeft: 0 });

    const final = await run.handle.result();
    expect(final).toMatchObject({ status: 'completed', unlock: { required: true, done: true }, waitingOn: 'nobody' });
    expect(run.templates()).toEqual(['order_confirmation', 'review_approved', 'certificate_issued', 'order_completed']);
    expect(stack.stubs.callsOf('revokeCertificate', run.id)).toHaveLength(0);
    // The certificate lives on in its own workflow, from the issued dates.
    const { life, view } = await run.certificateLife();
    expect(view).toMatchObject({ orderId: run.id, status: 'active', current: final.certificateSerial, subscription: false, unblockable: true });
    await life.terminate('test over');
  });

  it('a refused certificate is revoked as superseded and the order ends refused', async () => {
    const run = await OrderRun.start(stack, { product: 'ENCRYPTION' });
    const issued = await run.toAcceptance();
    expect(await run.respond('refuse')).toMatchObject({ status: 'refused', acceptance: 'refused', closedReason: 'certificate refused by the holder' });
    await run.handle.result();
    expect(stack.stubs.callsOf('revokeCertificate', issued.certificateSerial!).map((c) => c.req)).toEqual([{ serial: issued.certificateSerial, reason: 'superseded' }]);
    expect(run.templates().slice(-1)).toEqual(['certificate_revoked']);
    expect(stack.stubs.mails(run.id).at(-1)!.extra).toMatchObject({ reason: 'superseded' });
  });
});

describe('hold and release', () => {
  it('stops the clocks while on hold and restarts them from the release', async () => {
    const run = await OrderRun.start(stack);
    const held = await run.hold('Checking the SIRET with the registry.');
    expect(held).toMatchObject({ status: 'on_hold', waitingOn: 'ra', heldStatus: 'awaiting_evidence', holdComment: 'Checking the SIRET with the registry.', deadlines: [] });
    expect(await refusalOf(run.hold('again'))).toMatchObject({ code: 'already-on-hold' });
    expect(await refusalOf(run.upload('holder_identity'))).toMatchObject({ kind: 'state', status: 'on_hold' });
    // Longer than the 90 days of inactivity: nothing is due while the RA holds it.
    await stack.env.sleep(120 * DAY_MS);
    expect((await run.state()).status).toBe('on_hold');
    expect(run.templates()).toEqual(['order_confirmation']);
    const released = await run.release();
    expect(released).toMatchObject({ status: 'awaiting_evidence', heldStatus: null, holdComment: null });
    expect(released.deadlines.map((x) => [x.kind, (Date.parse(x.at) - Date.parse(released.updatedAt)) / DAY_MS])).toEqual([
      ['inactivity_reminder', 7],
      ['inactivity_reminder', 14],
      ['abandonment', 90],
    ]);
    expect(await refusalOf(run.release())).toMatchObject({ code: 'not-on-hold' });
    await run.cancel('test over');
  });

  it('returns to the stage it was held in, re-derived from what happened meanwhile', async () => {
    const { run } = await OrderRun.startApproved(stack, { product: 'ID_RGS_2STAR' });
    await run.hold('Call the holder.');
    // Originals may arrive while the order is held; the face-to-face may not be recorded.
    expect(await refusalOf(run.faceToFace())).toMatchObject({ kind: 'state', status: 'on_hold' });
    await run.originals();
    expect(await run.release()).toMatchObject({ status: 'awaiting_face_to_face' });
    expect(await run.faceToFace()).toMatchObject({ status: 'awaiting_payment' });
    await run.cancel('test over', run.ra);
  });
});

describe('cancellation', () => {
  /** Brings a new order to `stage`, through the actions a user takes. */
  async function orderAt(stage: OrderStatus): Promise<OrderRun> {
    const byPost = stage === 'awaiting_face_to_face' || stage === 'awaiting_originals' || stage === 'originals_overdue';
    const run = await OrderRun.start(
      stack,
      stage === 'awaiting_domain_validation'
        ? { product: 'SSL', certificateRequest: { csrPem: '-----BEGIN CERTIFICATE REQUEST-----\n', publicKeySpki: 'spki', keyDescription: 'EC P-256', dnsNames: ['acme.test'] } }
        : { product: byPost ? 'ID_RGS_2STAR' : 'ID_RGS_STAR' },
    );
    if (stage === 'awaiting_evidence') return run;
    if (stage === 'on_hold') {
      await run.hold('Why not.');
      return run;
    }
    await run.completeAndSubmit();
    if (stage === 'under_review') return run;
    await run.approve();
    if (stage === 'awaiting_payment' || stage === 'awaiting_face_to_face' || stage === 'awaiting_domain_validation') return run;
    await run.faceToFace();
    if (stage === 'originals_overdue') {
      await stack.env.sleep(7 * DAY_MS + 60_000);
      await run.until((o) => o.status === 'originals_overdue');
    }
    return run;
  }

  const stages = ['awaiting_evidence', 'under_review', 'awaiting_face_to_face', 'awaiting_originals', 'originals_overdue', 'awaiting_domain_validation', 'awaiting_payment', 'on_hold'] as const;
  for (const stage of stages) {
    it(`in ${stage}: cancelled, the holder told who cancelled`, async () => {
      const run = await orderAt(stage);
      expect((await run.state()).status).toBe(stage);
      const byStaff = stage === 'under_review' || stage === 'on_hold';
      const cancelled = await run.cancel('No longer needed.', byStaff ? run.ra : run.holder);
      expect(cancelled).toMatchObject({ status: 'cancelled', waitingOn: 'nobody', closedReason: 'No longer needed.', heldStatus: null, deadlines: [] });
      const final = await run.handle.result();
      expect(final.status).toBe('cancelled');
      const last = stack.stubs.mails(run.id).at(-1)!;
      expect(last).toMatchObject({ template: 'order_cancelled', idempotencyKey: `order-${run.id}:cancelled`, extra: { cancelledBy: byStaff ? 'staff' : 'customer' } });
      expect(stack.stubs.callsOf('issueCertificate', run.id)).toHaveLength(0);
    });
  }

  it('is refused once the order has ended (the certificate stage refuses it too, above)', async () => {
    const run = await OrderRun.start(stack);
    await run.cancel('Changed my mind.');
    await run.handle.result();
    // A closed workflow takes no Update at all.
    await expect(run.cancel('again')).rejects.toThrow();
  });
});
