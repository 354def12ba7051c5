/** Mails through a real SMTP server: what the customer receives, once per event. */
import { randomUUID } from 'node:crypto';
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { messageIdFor } from '../../activities/notify/index.js';
import { createUser, upsertOrganisation } from '../../db/accounts.js';
import { upsertOrderView } from '../../db/orders.js';
import { DOCUMENT_LABELS } from '../../domain/catalog.js';
import { newOrderView } from '../../domain/order.js';
import { orderInput } from '../orders.js';
import { startFakeSmtp, type ReceivedMail } from '../fakes/smtp.js';
import { runDatabase } from '../run-database.js';
import { startedForFile } from '../stack-for-file.js';
import { MAIL_CONTEXT, checklistOf, confirmationRequest, mailToCamille, ledgerRow, newKey, notifierForFile, sampleOrder } from './support.js';

const database = runDatabase(4);
const smtp = startedForFile(() => startFakeSmtp(), 'the SMTP server');
const notifier = notifierForFile(database, () => ({ SMTP_URL: smtp.url }));

const byMessageId = (id: string) => (m: ReceivedMail) => m.parsed.messageId === id;

async function attachedPdf(mail: ReceivedMail): Promise<{ filename: string | undefined; doc: PDFDocument; bytes: Buffer }> {
  expect(mail.parsed.attachments).toHaveLength(1);
  const [att] = mail.parsed.attachments;
  expect(att?.contentType).toBe('application/pdf');
  const bytes = att!.content;
  expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  return { filename: att?.filename, doc: await PDFDocument.load(bytes), bytes };
}

describe('order confirmation over SMTP', () => {
  it('arrives in French with the checklist and the order form as a PDF', async () => {
    const order = sampleOrder({ payment: { method: 'cheque', purchaseOrderNumber: null } });
    const key = newKey('confirmation');
    const result = await notifier.sendEmail(confirmationRequest(order, key));
    expect(result).toEqual({ messageId: messageIdFor(key), duplicate: false });
    expect(result.messageId).toMatch(/^<[0-9a-f]{64}@certflow>$/);

    const mail = await smtp.waitFor(byMessageId(result.messageId));
    expect(mail.envelope.to).toEqual(['camille.durand@example.test']);
    expect(mail.parsed.from?.text).toContain('no-reply@certflow.test');
    expect(mail.parsed.subject).toBe(`Confirmation de votre commande ${order.orderId} – Pack ID RGS**`);
    expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    const text = mail.parsed.text ?? '';
    for (const item of checklistOf(order)) expect(text).toContain(DOCUMENT_LABELS[item.documentType].fr);
    expect(text).toContain(order.orderId);
    expect(text).toContain('300,00\u00a0€ HT');
    expect(text).toContain('SIRET 73282932000074');
    // Cheque: where to send it (the configured address), and the link to the order's page.
    expect(text).toContain(MAIL_CONTEXT.identity.postalAddress.street);
    expect(text).toContain(`${MAIL_CONTEXT.publicBaseUrl}/orders/${order.orderId}`);
    expect(mail.parsed.html).toContain('<li>Bon de commande daté et signé</li>');

    const pdf = await attachedPdf(mail);
    expect(pdf.filename).toBe(`bon-de-commande-${order.orderId}.pdf`);
    expect(pdf.doc.getPageCount()).toBe(1);
    expect(pdf.doc.getTitle()).toBe(`Bon de commande ${order.orderId}`);

    const row = await ledgerRow(database.db, key);
    expect(row).toMatchObject({
      channel: 'email',
      recipient: 'camille.durand@example.test',
      template: 'order_confirmation',
      language: 'fr',
      status: 'sent',
      providerId: result.messageId,
      subject: mail.parsed.subject,
    });
    expect(row?.sentAt).toBeInstanceOf(Date);
  });

  it('arrives in English with English labels and file name', async () => {
    const order = sampleOrder({ product: 'ID_RGS_STAR', durationYears: 3, payment: { method: 'purchase_order', purchaseOrderNumber: 'BC-2026-117' } });
    const checklist = checklistOf(order);
    expect(checklist.map((c) => c.documentType)).toContain('purchase_order');
    const { messageId } = await notifier.sendEmail(mailToCamille(newKey('confirmation'), 'en', { template: 'order_confirmation', data: { order, checklist } }));

    const mail = await smtp.waitFor(byMessageId(messageId));
    expect(mail.parsed.subject).toBe(`Order ${order.orderId} confirmed – Pack ID RGS*`);
    const text = mail.parsed.text ?? '';
    for (const item of checklist) expect(text).toContain(DOCUMENT_LABELS[item.documentType].en);
    // The seeds' price: 105 € ex-VAT for three years.
    expect(text).toContain('€105.00 ex-VAT');
    expect(text).toContain('BC-2026-117');
    const pdf = await attachedPdf(mail);
    expect(pdf.filename).toBe(`order-form-${order.orderId}.pdf`);
    expect(pdf.doc.getTitle()).toBe(`Order form ${order.orderId}`);
  });
});

describe('one mail per event', () => {
  it('sends once for a key and answers duplicate with the stored id afterwards', async () => {
    const order = sampleOrder();
    const key = newKey('confirmation');
    const req = confirmationRequest(order, key);
    const first = await notifier.sendEmail(req);
    const second = await notifier.sendEmail(req);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ messageId: first.messageId, duplicate: true });
    await smtp.waitFor(byMessageId(first.messageId));
    expect(smtp.messages.filter(byMessageId(first.messageId))).toHaveLength(1);
  });

  it('sends once when two attempts run at the same time', async () => {
    const key = newKey('reminder');
    const req = mailToCamille(key, 'en', { template: 'originals_reminder', data: { orderId: randomUUID(), product: 'ID_RGS_3STAR', dueOn: '2026-03-09T09:30:00Z' } });
    const results = await Promise.all([notifier.sendEmail(req), notifier.sendEmail(req), notifier.sendEmail(req)]);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const id = messageIdFor(key);
    await smtp.waitFor(byMessageId(id));
    expect(smtp.messages.filter(byMessageId(id))).toHaveLength(1);
  });

  it('leaves the row unsent when the relay refuses, then sends on the next attempt', async () => {
    const key = newKey('approved');
    const req = mailToCamille(key, 'fr', {
      template: 'review_approved',
      data: { orderId: randomUUID(), product: 'EIDAS_QUALIFIED', payment: { method: 'transfer', received: false }, originalsDueOn: '2026-03-12T10:00:00Z' },
    });
    smtp.failNext(1, 451);
    await expect(notifier.sendEmail(req)).rejects.toThrow();
    expect((await ledgerRow(database.db, key))?.status).toBe('sending');

    const retried = await notifier.sendEmail(req);
    expect(retried.duplicate).toBe(false);
    const mail = await smtp.waitFor(byMessageId(retried.messageId));
    expect(mail.parsed.text).toContain('Face-à-face');
    const { postalCode, locality } = MAIL_CONTEXT.identity.postalAddress;
    expect(mail.parsed.text).toContain(`${postalCode} ${locality}`);
    expect(mail.parsed.text).toContain('12 mars 2026');
    expect((await ledgerRow(database.db, key))?.status).toBe('sent');
  });

  it('refuses a key already used for another message, for good', async () => {
    const key = newKey('step');
    const ref = { orderId: randomUUID(), product: 'SSL' as const };
    await notifier.sendEmail({ idempotencyKey: key, orderId: null, to: 'a@example.test', language: 'en', message: { template: 'order_abandoned', data: { ...ref, reason: 'no_activity' } } });
    await expect(
      notifier.sendEmail({ idempotencyKey: key, orderId: null, to: 'a@example.test', language: 'en', message: { template: 'order_cancelled', data: { ...ref, cancelledBy: 'staff', comment: null } } }),
    ).rejects.toMatchObject({ type: 'IdempotencyKeyReused', nonRetryable: true });
  });
});

describe('recipients and records', () => {
  it('sends staff alerts to STAFF_EMAIL whatever the request says', async () => {
    const key = newKey('originals-overdue');
    const { messageId } = await notifier.sendEmail(mailToCamille(key, 'fr', {
      template: 'originals_overdue_staff',
      data: {
        orderId: randomUUID(),
        product: 'ID_RGS_2STAR',
        holderName: 'Camille Durand',
        holderEmail: 'camille.durand@example.test',
        organisationName: 'ACME',
        siret: '73282932000074',
        dueOn: '2026-03-09T10:00:00Z',
        abandonOn: '2026-04-08T10:00:00Z',
      },
    }));
    const mail = await smtp.waitFor(byMessageId(messageId));
    expect(mail.envelope.to).toEqual(['ra-team@certflow.test']);
    expect(mail.parsed.subject).toMatch(/^\[Originaux en retard\] Commande /);
    expect((await ledgerRow(database.db, key))?.recipient).toBe('ra-team@certflow.test');
  });

  it('records the order a mail is about', async () => {
    const org = await upsertOrganisation(database.db, { siret: '44306184100047', name: 'Globex' });
    const user = await createUser(database.db, { email: `n-${randomUUID()}@example.test`, role: 'customer', organisationId: org.id });
    // A real order view: the database is the run's, and other files list every order of it.
    const input = orderInput(user, org);
    const orderId = input.orderId;
    await upsertOrderView(database.db, `order-${orderId}`, newOrderView(input));
    const key = `order-${orderId}/cancelled`;
    await notifier.sendEmail({
      idempotencyKey: key,
      orderId,
      to: user.email,
      language: 'en',
      message: { template: 'order_cancelled', data: { orderId, product: 'ID_RGS_STAR', cancelledBy: 'customer', comment: null } },
    });
    expect((await ledgerRow(database.db, key))?.orderId).toBe(orderId);
  });
});
