/**
 * A personal certificate order from creation to completion, over HTTP alone, on the real stack: Temporal dev
 * server, Postgres, an SMTP server receiving the real mails and an HTTP server speaking Twilio's API receiving the
 * real SMS.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { minimalPdf, PNG_1X1 } from '../documents/fixtures.js';
import { startProviders } from '../fakes/providers.js';
import { rgsStarOrder, type Account } from '../support.js';
import { Driver } from './drive.js';
import { startedForFile, testStackForFile } from '../stack-for-file.js';

const providers = startedForFile(() => startProviders(), 'the providers');
const stack = testStackForFile(() => ({ env: providers.env }));
let holder: Account;
let ra: Account;
let dra: Account;
let drive: Driver;

beforeAll(async () => {
  drive = await Driver.withNewActors(stack);
  ({ holder, ra, dra } = drive.actors);
});

const mailsTo = (address: string, orderId: string) => providers.smtp.messages.filter((m) => m.envelope.to.includes(address) && (m.parsed.text ?? '').includes(orderId));

describe('an RGS*** order, end to end over HTTP', () => {
  it('goes from creation to completed: evidence, a rejection, face-to-face, originals, payment, issuance, acceptance, SMS unlock', async () => {
    const created = await drive.post(holder.key, '/v1/orders', rgsStarOrder({ product: 'ID_RGS_3STAR' }));
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body.faceToFace.required).toBe(true);
    expect(created.body.originals.required).toBe(true);

    // The confirmation mail carries the order form as a PDF and the checklist.
    const confirmation = await providers.smtp.waitFor((m) => m.envelope.to.includes(holder.user.email) && (m.parsed.text ?? '').includes(id), 15_000);
    const pdf = confirmation.parsed.attachments.find((a) => a.contentType === 'application/pdf');
    expect(pdf?.content.subarray(0, 5).toString()).toBe('%PDF-');

    // Submitting an incomplete file is a rule (422); uploading during review is a state (409).
    expect((await drive.post(holder.key, `/v1/orders/${id}/submit`)).body).toMatchObject({ status: 422, type: 'urn:certflow:problem:checklist-incomplete' });
    for (const doc of ['holder_identity', 'organisation_registration', 'signed_order_form']) {
      const up = await drive.upload(holder.key, id, doc, minimalPdf(), `${doc}.pdf`);
      expect(up.status, JSON.stringify(up.body)).toBe(201);
    }
    expect((await drive.post(holder.key, `/v1/orders/${id}/submit`)).body.status).toBe('under_review');
    const during = await drive.upload(holder.key, id, 'holder_identity', PNG_1X1, 'id.png');
    expect(during.status).toBe(409);
    expect(during.body).toMatchObject({ state: 'under_review', waitingOn: 'ra' });

    // A rejection with a reason; the accepted documents are kept.
    const rejected = await drive.post(ra.key, `/v1/orders/${id}/review`, { decision: 'reject', reasons: [{ documentType: 'holder_identity', reason: 'The scan is unreadable' }] });
    expect(rejected.body.status).toBe('awaiting_evidence');
    expect(rejected.body.checklist.filter((c) => c.status === 'accepted')).toHaveLength(2);
    await providers.smtp.waitFor((m) => (m.parsed.text ?? '').includes('The scan is unreadable') || (m.parsed.text ?? '').includes('unreadable'), 15_000);
    expect((await drive.upload(holder.key, id, 'holder_identity', PNG_1X1, 'id.png')).status).toBe(201);
    expect((await drive.post(holder.key, `/v1/orders/${id}/submit`)).body.status).toBe('under_review');
    // Only RA operators review.
    expect((await drive.post(dra.key, `/v1/orders/${id}/review`, { decision: 'approve' })).status).toBe(403);
    const approved = await drive.post(ra.key, `/v1/orders/${id}/review`, { decision: 'approve' });
    expect(approved.body).toMatchObject({ status: 'awaiting_face_to_face', waitingOn: 'dra' });
    // The originals' 7 days start at the online validation; the deadline shows on the order.
    const dated = await drive.until(id, (o) => o.deadlines.some((d) => d.kind === 'originals_due'));
    const due = dated.deadlines.find((d) => d.kind === 'originals_due');
    expect(Date.parse(due?.at ?? '') - Date.parse(dated.updatedAt)).toBeGreaterThan(6.9 * 24 * 3600 * 1000);

    // Face-to-face: never by the holder; by a DRA operator with the signed intervention form.
    const form = await drive.upload(dra.key, id, 'intervention_form', minimalPdf(), 'intervention.pdf');
    expect(form.status).toBe(201);
    expect((await drive.post(holder.key, `/v1/orders/${id}/face-to-face`, { interventionFormDocumentId: form.body.document.id, meetingDate: '2026-11-20' })).status).toBe(403);
    const met = await drive.post(dra.key, `/v1/orders/${id}/face-to-face`, { interventionFormDocumentId: form.body.document.id, meetingDate: '2026-11-20' });
    expect(met.body).toMatchObject({ status: 'awaiting_originals', waitingOn: 'post' });

    expect((await drive.post(ra.key, `/v1/orders/${id}/originals-received`)).body).toMatchObject({ status: 'awaiting_payment', waitingOn: 'payment' });
    // Cancelling is refused by nobody yet; accepting before issuance is a 409 with the state.
    const early = await drive.post(holder.key, `/v1/orders/${id}/acceptance`, { decision: 'accept' });
    expect(early.body).toMatchObject({ status: 409, state: 'awaiting_payment', waitingOn: 'payment' });

    const paid = await drive.post(ra.key, `/v1/orders/${id}/payment`, { status: 'received', reference: 'VIR-2026-001' });
    expect(paid.body.payment.status).toBe('received');
    const issued = await drive.until(id, (o) => o.status === 'awaiting_acceptance');
    expect(issued.certificateSerial).toMatch(/^[0-9a-f]{16,}$/);

    // The certificate parses with openssl and names the holder.
    const pem = await stack.http<string>('GET', `/v1/orders/${id}/certificate`, { key: holder.key });
    expect(pem.status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'certflow-cert-'));
    writeFileSync(join(dir, 'leaf.pem'), pem.body);
    const text = spawnSync('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-text'], { encoding: 'utf8' });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain(holder.user.email);
    expect(text.stdout.toLowerCase()).toContain((issued.certificateSerial ?? '').slice(0, 2));
    await providers.smtp.waitFor((m) => m.envelope.to.includes(holder.user.email) && (m.parsed.text ?? '').includes(issued.certificateSerial ?? '-'), 15_000);

    const accepted = await drive.post(holder.key, `/v1/orders/${id}/acceptance`, { decision: 'accept' });
    expect(accepted.body).toMatchObject({ status: 'awaiting_unlock', acceptance: 'accepted' });

    // SMS unlock: a wrong code counts, the right one shows the PIN once.
    const asked = await drive.post<{ expiresAt: string }>(holder.key, `/v1/orders/${id}/unlock-code`);
    expect(asked.status).toBe(200);
    const sms = await providers.twilio.waitFor((m) => m.to === '+33612345678', 15_000);
    const code = /\b(\d{6})\b/.exec(sms.body)?.[1];
    expect(code).toBeDefined();
    const wrong = await drive.post(holder.key, `/v1/orders/${id}/unlock-code/verify`, { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.body).toMatchObject({ status: 422, attemptsLeft: 2 });
    const right = await drive.post<{ unlockPin: string }>(holder.key, `/v1/orders/${id}/unlock-code/verify`, { code });
    expect(right.status).toBe(200);
    expect(right.body.unlockPin).toMatch(/^\d{8}$/);
    const again = await drive.post(holder.key, `/v1/orders/${id}/unlock-code/verify`, { code });
    expect(again.status).toBe(409);

    const done = await drive.until(id, (o) => o.status === 'completed');
    expect(done.unlock.done).toBe(true);
    // One mail per event, never two: every mail of this order has a distinct Message-ID.
    const ids = mailsTo(holder.user.email, id).map((m) => m.parsed.messageId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(providers.twilio.messages.filter((m) => m.body.includes(code ?? '-'))).toHaveLength(1);
  }, 120_000);
});
