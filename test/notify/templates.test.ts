/** Every template in both languages: complete, readable, and saying what the customer must do next. */
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { extractText, getDocumentProxy } from 'unpdf';
import { renderEmail, renderSms, STAFF_TEMPLATES, type EmailMessage, type EmailTemplate, type Language, type MailContext } from '../../activities/notify/index.js';
import { DOCUMENT_LABELS } from '../../domain/catalog.js';
import { MAIL_CONTEXT, checklistOf, dnsChallenge, httpChallenge, sampleOrder } from './support.js';

const render = (message: EmailMessage, lang: Language) => renderEmail(message, lang, MAIL_CONTEXT);
const pdfText = async (pdf: Uint8Array): Promise<string> => (await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: true })).text;

const ref = { orderId: '0195f3a2-7c4e-7000-8000-00000000abcd', product: 'ID_RGS_2STAR' as const };
const order = sampleOrder({ orderId: ref.orderId });
/** The certificate mails are about a TLS subscription: same order id, a server product. */
const tls = { orderId: ref.orderId, product: 'SSL' as const };
const serial = '5f3a9c0e1d2b4a6f';
const renewalOrder = '{"product":"SSL","durationYears":1,"os":"other","payment":{"method":"card"},"termsAccepted":false}';
const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

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
  activity_failing_staff: { ...ref, kind: 'refused', step: 'issueCertificate certificate', message: 'the key is already certified for order 42', since: '2026-03-20T10:00:00Z' },
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
  // 23:30 UTC on 19 March is already 20 March in Paris.
  expiry_reminder: { ...tls, serial, notAfter: '2027-03-19T23:30:00Z', days: 30, renewalOrder },
  // 22:30 UTC on 20 April is 21 April in Paris (summer time).
  certificate_renewed: { ...tls, serial: '7a1c0de2b3f45e69', subject: 'CN=www.acme.example, O=ACME, C=FR', notBefore: '2026-05-02T10:00:00Z', notAfter: '2027-04-20T22:30:00Z' },
  domain_revalidation: { ...tls, serial, notAfter: '2026-05-31T22:15:00Z', challenges: [httpChallenge, dnsChallenge('acme.example')] },
  certificate_held: { ...ref, serial, heldAt: '2026-06-01T08:00:00.000Z' },
  hold_released: { ...ref, serial },
  caa_forbids_issuance: { ...tls, serial: null, refusal: 'CAA forbids issuance by this CA: www.acme.example: CAA of acme.example allows only other-ca.example to issue for www.acme.example, not this CA: add 0 issue "certflow.example".', identifiers: 'certflow.example' },
  account_activation: { givenName: 'Camille', activationUrl: 'https://certflow.example/activate?token=Q2FtaWxsZSBEdXJhbmQgYWN0aXZhdGlvbiB0b2tlbg', expiresAt: '2026-03-27T10:00:00Z' },
  password_reset: { givenName: 'Camille', resetUrl: 'https://certflow.example/reset-password?token=Q2FtaWxsZSBEdXJhbmQgcmVzZXQgdG9rZW4gaGVyZQ', expiresAt: '2026-03-20T11:00:00Z' },
  username_reminder: { givenName: 'Camille', email: 'camille.durand@example.test', organisationName: 'ACME', siret: '73282932000074', reason: 'forgot_username' },
};

const ACCOUNT_TEMPLATES: ReadonlySet<EmailTemplate> = new Set<EmailTemplate>(['account_activation', 'password_reset', 'username_reminder']);
const messages = Object.entries(SAMPLES).map(([template, data]) => ({ template, data }) as EmailMessage);
const cases = messages.flatMap((m) => (['fr', 'en'] as const).map((lang) => [m.template, lang, m] as const));

describe('email templates', () => {
  it.each(cases)('%s in %s renders a complete mail', async (_template, lang, message) => {
    const mail = await render(message, lang);
    expect(mail.subject.length).toBeGreaterThan(5);
    for (const part of [mail.subject, mail.text, mail.html]) expect(part).not.toMatch(/undefined|\bnull\b|NaN|\[object/);
    // Account mails are about no order.
    if (!ACCOUNT_TEMPLATES.has(message.template)) expect(mail.text).toContain(ref.orderId);
    expect(mail.html).toMatch(new RegExp(`^<!doctype html>\\n<html lang="${lang}">`));
    // The other language's subject is not this one: each language has its own words.
    const other: Language = lang === 'fr' ? 'en' : 'fr';
    expect((await render(message, other)).subject).not.toBe(mail.subject);
  });

  it('a rejection gives a reason per document, keeps the accepted ones and asks only for what is missing', async () => {
    const mail = await render({ template: 'evidence_rejected', data: SAMPLES.evidence_rejected }, 'fr');
    expect(mail.text).toContain(`${DOCUMENT_LABELS.holder_identity.fr} : Pièce expirée`);
    expect(mail.text).toMatch(/Encore manquants\n-+\n\n {2}- Bon de commande daté et signé/);
    expect(mail.text).toMatch(/Conservés\n-+\n\n {2}- Justificatif de l'organisation/);
    expect(mail.text).toContain('temporaire');
  });

  it('approval of a face-to-face product explains the meeting, the originals by post and the payment', async () => {
    const mail = await render({ template: 'review_approved', data: SAMPLES.review_approved }, 'en');
    expect(mail.text).toContain('Face-to-face');
    expect(mail.text).toContain('reach us by 12 March 2026');
    expect(mail.text).toContain(MAIL_CONTEXT.identity.postalAddress.street);
    expect(mail.text).toContain('post your cheque');
  });

  it('approval of a TLS product asks for domain control, not for originals', async () => {
    const mail = await render({ template: 'review_approved', data: { orderId: ref.orderId, product: 'SSL', payment: { method: 'card', received: true }, originalsDueOn: null } }, 'fr');
    expect(mail.text).toContain('/.well-known/pki-validation/');
    expect(mail.text).not.toContain('Originaux');
    expect(mail.text).toContain('Paiement : reçu');
  });

  it('an issued certificate asks to check it, then accept or refuse', async () => {
    const fr = await render({ template: 'certificate_issued', data: SAMPLES.certificate_issued }, 'fr');
    expect(fr.text).toContain('« Accepter » ou « Refuser »');
    expect(fr.text).toContain('révoqué');
    expect(fr.text).toContain('19 avril 2026');
  });

  it.each([
    ['fr', ['expire le 20 mars 2027, dans 30 jours', 'POST /v1/orders', '"termsAccepted": true', 'champ "csr"', 'POST /v1/csr-command']],
    ['en', ['expires on 20 March 2027, in 30 days', 'POST /v1/orders', '"termsAccepted": true', '"csr" field', 'POST /v1/csr-command']],
  ] as const)('an expiry reminder in %s gives the date, the days left and the renewal order to post', async (lang, facts) => {
    const mail = await render({ template: 'expiry_reminder', data: SAMPLES.expiry_reminder }, lang);
    for (const fact of facts) expect(mail.text).toContain(fact);
    expect(mail.subject).toContain(serial);
    expect(mail.subject).toContain(lang === 'fr' ? '20 mars 2027' : '20 March 2027');
    // The body as it is, on a line of its own, to copy and post; in HTML a <pre> block.
    expect(mail.text).toContain(`\n    ${renewalOrder}\n`);
    expect(mail.html).toContain(`${escapeHtml(renewalOrder)}</pre>`);
  });

  it('an expiry reminder of a token certificate asks for no CSR, and counts one day in the singular', async () => {
    const data = { ...SAMPLES.expiry_reminder, product: 'ID_RGS_2STAR' as const, days: 1 };
    const fr = await render({ template: 'expiry_reminder', data }, 'fr');
    expect(fr.text).toContain('dans 1 jour.');
    expect(fr.text).not.toContain('csr');
    expect((await render({ template: 'expiry_reminder', data }, 'en')).text).toContain('in 1 day.');
  });

  it.each([
    ['fr', ['Le nouveau certificat de votre abonnement SSL (OV TLS) est prêt', 'N° de série : 7a1c0de2b3f45e69', 'Valide du : 2 mai 2026', 'Au : 21 avril 2027', "avant l’expiration du certificat précédent"]],
    ['en', ['The new certificate of your SSL (OV TLS) subscription is ready', 'Serial number: 7a1c0de2b3f45e69', 'Valid from: 2 May 2026', 'Until: 21 April 2027', 'before the previous certificate expires']],
  ] as const)('a renewed certificate in %s is ready to download and install', async (lang, facts) => {
    const mail = await render({ template: 'certificate_renewed', data: SAMPLES.certificate_renewed }, lang);
    for (const fact of facts) expect(mail.text).toContain(fact);
    expect(mail.text).toContain('CN=www.acme.example, O=ACME, C=FR');
    expect(mail.text).toContain(`/v1/orders/${ref.orderId}/certificate`);
  });

  it.each([
    ['fr', ['Baseline Requirements', 'URL : ', 'Contenu du fichier : ', 'Nom : _certflow-challenge.acme.example', 'Type : TXT', "Valable jusqu'au : 30 mai 2026", 'avant le 1er juin 2026']],
    ['en', ['Baseline Requirements', 'URL: ', 'File content: ', 'Name: _certflow-challenge.acme.example', 'Type: TXT', 'Valid until: 30 May 2026', 'before 1 June 2026']],
  ] as const)('a revalidation in %s says, per name, what to publish, and how to ask for a check', async (lang, facts) => {
    const mail = await render({ template: 'domain_revalidation', data: SAMPLES.domain_revalidation }, lang);
    for (const fact of facts) expect(mail.text).toContain(fact);
    const http = httpChallenge.http!;
    const dns = dnsChallenge('acme.example').dns!;
    for (const value of ['www.acme.example', 'acme.example', http.url, http.content, dns.recordName, dns.value, serial]) {
      expect(mail.text).toContain(value);
      expect(mail.html).toContain(escapeHtml(value));
    }
    expect(mail.text).toContain(`    POST /v1/orders/${ref.orderId}/domain-validation\n    {"action":"check"}\n`);
    expect(mail.html).toContain(escapeHtml('{"action":"check"}'));
  });

  it('a name and its wildcard share one TXT record, shown once under both names', async () => {
    const data = { ...SAMPLES.domain_revalidation, challenges: [dnsChallenge('acme.example'), dnsChallenge('*.acme.example')] };
    const mail = await render({ template: 'domain_revalidation', data }, 'en');
    expect(mail.text).toContain('acme.example and *.acme.example\n---');
    expect(mail.text.split('_certflow-challenge.acme.example')).toHaveLength(2);
  });

  it.each([
    ['fr', 'est levée : il est de nouveau valide'],
    ['en', 'is lifted: it is valid again'],
  ] as const)('a released hold in %s says the certificate is valid again', async (lang, fact) => {
    const mail = await render({ template: 'hold_released', data: SAMPLES.hold_released }, lang);
    expect(mail.text).toContain(fact);
    expect(mail.subject).toContain(serial);
  });

  it.each([
    ['fr', "n'est plus accepté tant que la suspension dure", '1er juin 2026'],
    ['en', 'it is not accepted while the hold lasts', 'June 2026'],
  ] as const)('a hold in %s says it is suspended, not revoked, and how to end it', async (lang, fact, date) => {
    const mail = await render({ template: 'certificate_held', data: SAMPLES.certificate_held }, lang);
    expect(mail.text).toContain(fact);
    expect(mail.text).toContain(date);
    expect(mail.text.toLowerCase()).not.toContain(lang === 'fr' ? 'révoqué' : 'revoked');
  });

  it('only the order confirmation carries the order form', async () => {
    for (const m of messages) {
      const mail = await render(m, 'fr');
      expect(mail.attachments.map((a) => a.filename)).toEqual(m.template === 'order_confirmation' ? [`bon-de-commande-${ref.orderId}.pdf`] : []);
    }
  });

  it('builds the same order form for the same order, whatever the non-WinAnsi characters of a name', async () => {
    const odd = sampleOrder({ orderId: ref.orderId, holder: { ...order.holder, givenName: 'Łukasz 李', surname: 'Nowak' } });
    const message: EmailMessage = { template: 'order_confirmation', data: { order: odd, checklist: checklistOf(odd) } };
    const [a, b] = await Promise.all([render(message, 'fr'), render(message, 'fr')]);
    expect(Buffer.from(a.attachments[0]!.content).equals(Buffer.from(b.attachments[0]!.content))).toBe(true);
    expect((await PDFDocument.load(a.attachments[0]!.content)).getPageCount()).toBe(1);
  });
});

/** Another CA than the demo one: whatever a mail or the order form says of the CA comes from the configuration. */
const OTHER_CA: MailContext = {
  publicBaseUrl: 'https://pki.autorite-exemplaire.fr',
  identity: {
    tradingName: 'Autorité Exemplaire',
    legalName: 'Autorité Exemplaire SA',
    postalAddress: { street: '12, boulevard Haussmann', postalCode: '75009', locality: 'Paris', country: 'France' },
    bank: { accountHolder: 'Autorité Exemplaire SA', bankName: 'BNP Paribas', iban: 'FR7630006000011234567890189', bic: 'BNPAFRPPXXX' },
    support: { email: 'support@autorite-exemplaire.fr', phone: '+33 1 44 00 00 00' },
  },
};
/** What the seeds' blanked-out tables and the old hard-coded contacts left in the mails. */
const PLACEHOLDERS = /Dhimyotis|Certigna|Râperie|XXXX|\[banque|\[bank/;
/** "votre espace client" not followed by its link: ` <url>` or `: url` in text, the end of an <a> in HTML. */
const UNLINKED_AREA_TEXT = /(?:votre espace client|your customer area)(?! <https?:\/\/)(?! ?: https?:\/\/)/i;
const UNLINKED_AREA_HTML = /(?:votre espace client|your customer area)(?!<\/a>)/i;

describe('the CA as the configuration says', () => {
  it.each(cases)('%s in %s names no CA but the configured one, and no placeholder', async (_template, lang, message) => {
    const mail = await renderEmail(message, lang, OTHER_CA);
    for (const part of [mail.subject, mail.text, mail.html]) {
      expect(part).not.toMatch(PLACEHOLDERS);
      expect(part).not.toContain('CertFlow');
    }
    expect(mail.text).not.toMatch(UNLINKED_AREA_TEXT);
    expect(mail.html).not.toMatch(UNLINKED_AREA_HTML);
    // Staff's own alert is not signed to them.
    if (STAFF_TEMPLATES.has(message.template)) return;
    expect(mail.text).toContain(lang === 'fr' ? "L'équipe Autorité Exemplaire" : 'The Autorité Exemplaire team');
    expect(mail.text).toContain('support@autorite-exemplaire.fr');
  });

  it.each(['fr', 'en'] as const)('a transfer in %s gives the configured account: holder, bank, IBAN in groups of four, BIC', async (lang) => {
    const order = sampleOrder({ orderId: ref.orderId, payment: { method: 'transfer', purchaseOrderNumber: null } });
    const mail = await renderEmail({ template: 'order_confirmation', data: { order, checklist: checklistOf(order) } }, lang, OTHER_CA);
    const colon = lang === 'fr' ? ' : ' : ': ';
    expect(mail.text).toContain(`${lang === 'fr' ? 'Titulaire' : 'Account holder'}${colon}Autorité Exemplaire SA`);
    expect(mail.text).toContain(`${lang === 'fr' ? 'Banque' : 'Bank'}${colon}BNP Paribas`);
    expect(mail.text).toContain(`IBAN${colon}FR76 3000 6000 0112 3456 7890 189`);
    expect(mail.text).toContain(`BIC${colon}BNPAFRPPXXX`);
    // The order form carries them too, for whoever pays from the paper.
    const form = await pdfText(mail.attachments[0]!.content);
    expect(form).toContain('FR76 3000 6000 0112 3456 7890 189');
    expect(form).toContain('BNPAFRPPXXX');
  });

  it('a cheque is payable to the account holder and posted to the configured address', async () => {
    const order = sampleOrder({ orderId: ref.orderId, payment: { method: 'cheque', purchaseOrderNumber: null } });
    const mail = await renderEmail({ template: 'order_confirmation', data: { order, checklist: checklistOf(order) } }, 'fr', OTHER_CA);
    expect(mail.text).toContain("à l'ordre de Autorité Exemplaire SA");
    expect(mail.text).toContain('    Autorité Exemplaire SA\n    12, boulevard Haussmann\n    75009 Paris\n    France\n');
  });

  it.each(['fr', 'en'] as const)('the order form in %s is headed by the one configured CA', async (lang) => {
    const order = sampleOrder({ orderId: ref.orderId });
    const mail = await renderEmail({ template: 'order_confirmation', data: { order, checklist: checklistOf(order) } }, lang, OTHER_CA);
    const form = await pdfText(mail.attachments[0]!.content);
    // Trading name, legal name, address, support: then the title.
    expect(form).toMatch(
      new RegExp(`^Autorité Exemplaire\nAutorité Exemplaire SA\n12, boulevard Haussmann, 75009 Paris, France\nsupport@autorite-exemplaire\\.fr · \\+33 1 44 00 00 00\n${lang === 'fr' ? 'Bon de commande' : 'Order form'}\n`),
    );
    expect(form).not.toMatch(/CertFlow|Certigna|Dhimyotis|Râperie/);
    expect(form).toContain(`https://pki.autorite-exemplaire.fr/orders/${ref.orderId}`);
  });
});

describe('SMS template', () => {
  it.each(['fr', 'en'] as const)('the unlock code fits in one SMS (%s)', (lang) => {
    const body = renderSms({ template: 'unlock_code', data: { code: '000000' } }, lang, MAIL_CONTEXT.identity);
    expect(body).toContain('000000');
    expect(body).toContain('10 minutes');
    expect(body.length).toBeLessThanOrEqual(160);
  });
  it('is signed with the configured trading name', () => {
    expect(renderSms({ template: 'unlock_code', data: { code: '000000' } }, 'fr', OTHER_CA.identity)).toMatch(/^Autorité Exemplaire : /);
  });
});
