/** Every template in both languages: complete, readable, and saying what the customer must do next. */
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { renderEmail, renderSms, type EmailMessage, type EmailTemplate, type Language } from '../../activities/notify/index.js';
import { DOCUMENT_LABELS } from '../../domain/catalog.js';
import { checklistOf, sampleOrder } from './support.js';

const ref = { orderId: '0195f3a2-7c4e-7000-8000-00000000abcd', product: 'ID_RGS_2STAR' as const };
const order = sampleOrder({ orderId: ref.orderId });

/** One sample per template: the mapped type makes a new template without a sample a compile error. */
const SAMPLES: { [T in EmailTemplate]: Extract<EmailMessage, { template: T }>['data'] } = {
  order_confirmation: { order, checklist: checklistOf(order) },
  evidence_rejected: {
    ...ref,
    checklist: [
      { documentType: 'holder_identity', status: 'rejected', rejectionReason: 'Pièce expirée' },
      { documentType: 'organisation_registration', status: 'accepted', documentId: 'd1' },
      { documentType: 'signed_order_form', status: 'missing' },
    ],
  },
  evidence_reminder: { ...ref, inactiveDays: 7, missing: ['holder_identity'], abandonOn: '2026-05-31T09:30:00Z' },
  review_approved: { ...ref, payment: { method: 'cheque', received: false }, originalsDueOn: '2026-03-12T10:00:00Z' },
  originals_reminder: { ...ref, dueOn: '2026-03-12T10:00:00Z' },
  originals_overdue_staff: {
    ...ref,
    holderName: 'Camille Durand',
    holderEmail: 'camille.durand@example.test',
    organisationName: 'ACME',
    siret: '73282932000074',
    dueOn: '2026-03-12T10:00:00Z',
    abandonOn: '2026-04-11T10:00:00Z',
  },
  order_abandoned: { ...ref, reason: 'originals_not_received' },
  order_cancelled: { ...ref, cancelledBy: 'staff', comment: 'Doublon de la commande 42' },
  certificate_issued: {
    ...ref,
    serial: '5f3a9c0e1d2b4a6f',
    subject: 'CN=Camille Durand, O=ACME, C=FR',
    notBefore: '2026-03-20T10:00:00Z',
    notAfter: '2029-03-19T10:00:00Z',
    answerBy: '2026-04-19T10:00:00Z',
  },
  acceptance_reminder: { ...ref, serial: '5f3a9c0e1d2b4a6f', revokeOn: '2026-04-19T10:00:00Z' },
  certificate_revoked: { ...ref, serial: '5f3a9c0e1d2b4a6f', reason: 'keyCompromise', revokedAt: '2026-06-01T08:00:00Z' },
  order_completed: { ...ref, serial: '5f3a9c0e1d2b4a6f' },
};

const messages = Object.entries(SAMPLES).map(([template, data]) => ({ template, data }) as EmailMessage);
const cases = messages.flatMap((m) => (['fr', 'en'] as const).map((lang) => [m.template, lang, m] as const));

describe('email templates', () => {
  it.each(cases)('%s in %s renders a complete mail', async (_template, lang, message) => {
    const mail = await renderEmail(message, lang);
    expect(mail.subject.length).toBeGreaterThan(5);
    for (const part of [mail.subject, mail.text, mail.html]) expect(part).not.toMatch(/undefined|\bnull\b|NaN|\[object/);
    expect(mail.text).toContain(ref.orderId);
    expect(mail.html).toMatch(new RegExp(`^<!doctype html>\\n<html lang="${lang}">`));
    // The other language's subject is not this one: each language has its own words.
    const other: Language = lang === 'fr' ? 'en' : 'fr';
    expect((await renderEmail(message, other)).subject).not.toBe(mail.subject);
  });

  it('a rejection gives a reason per document, keeps the accepted ones and asks only for what is missing', async () => {
    const mail = await renderEmail({ template: 'evidence_rejected', data: SAMPLES.evidence_rejected }, 'fr');
    expect(mail.text).toContain(`${DOCUMENT_LABELS.holder_identity.fr} : Pièce expirée`);
    expect(mail.text).toMatch(/Encore manquants\n-+\n\n {2}- Bon de commande daté et signé/);
    expect(mail.text).toMatch(/Conservés\n-+\n\n {2}- Justificatif de l'organisation/);
    expect(mail.text).toContain('temporaire');
  });

  it('approval of a face-to-face product explains the meeting, the originals by post and the payment', async () => {
    const mail = await renderEmail({ template: 'review_approved', data: SAMPLES.review_approved }, 'en');
    expect(mail.text).toContain('Face-to-face');
    expect(mail.text).toContain('reach us by 12 March 2026');
    expect(mail.text).toContain('20, allée de la Râperie');
    expect(mail.text).toContain('post your cheque');
  });

  it('approval of a TLS product asks for domain control, not for originals', async () => {
    const mail = await renderEmail({ template: 'review_approved', data: { orderId: ref.orderId, product: 'SSL', payment: { method: 'card', received: true }, originalsDueOn: null } }, 'fr');
    expect(mail.text).toContain('/.well-known/pki-validation/');
    expect(mail.text).not.toContain('Originaux');
    expect(mail.text).toContain('Paiement : reçu');
  });

  it('an issued certificate asks to check it, then accept or refuse', async () => {
    const fr = await renderEmail({ template: 'certificate_issued', data: SAMPLES.certificate_issued }, 'fr');
    expect(fr.text).toContain('« Accepter » ou « Refuser »');
    expect(fr.text).toContain('révoqué');
    expect(fr.text).toContain('19 avril 2026');
  });

  it('only the order confirmation carries the order form', async () => {
    for (const m of messages) {
      const mail = await renderEmail(m, 'fr');
      expect(mail.attachments.map((a) => a.filename)).toEqual(m.template === 'order_confirmation' ? [`bon-de-commande-${ref.orderId}.pdf`] : []);
    }
  });

  it('builds the same order form for the same order, whatever the non-WinAnsi characters of a name', async () => {
    const odd = sampleOrder({ orderId: ref.orderId, holder: { ...order.holder, givenName: 'Łukasz 李', surname: 'Nowak' } });
    const message: EmailMessage = { template: 'order_confirmation', data: { order: odd, checklist: checklistOf(odd) } };
    const [a, b] = await Promise.all([renderEmail(message, 'fr'), renderEmail(message, 'fr')]);
    expect(Buffer.from(a.attachments[0]!.content).equals(Buffer.from(b.attachments[0]!.content))).toBe(true);
    expect((await PDFDocument.load(a.attachments[0]!.content)).getPageCount()).toBe(1);
  });
});

describe('SMS template', () => {
  it.each(['fr', 'en'] as const)('the unlock code fits in one SMS (%s)', (lang) => {
    const body = renderSms({ template: 'unlock_code', data: { code: '000000' } }, lang);
    expect(body).toContain('000000');
    expect(body).toContain('10 minutes');
    expect(body.length).toBeLessThanOrEqual(160);
  });
});
