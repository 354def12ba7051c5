/** The certificate workflow's mail requests become the notifier's messages, or fail loudly when a fact is missing. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateMailMessage } from '../../activities/certificate-mail.js';
import { renderEmail } from '../../activities/notify/index.js';
import type { CertificateMailRequest, CertificateMailTemplate } from '../../activities/types.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import type { DomainChallenge, OrderInput } from '../../domain/order.js';
import { MAIL_CONTEXT, sampleOrder } from './support.js';

const input: OrderInput = {
  ...sampleOrder({ product: 'SSL', durationYears: 1, os: 'other', payment: { method: 'card', purchaseOrderNumber: null } }),
  orderedByUserId: randomUUID(),
  certificateRequest: { csrPem: '-----BEGIN CERTIFICATE REQUEST-----', publicKeySpki: 'MFkw', keyDescription: 'EC P-256', dnsNames: ['www.acme.example'] },
  domainOwner: null,
  deadlines: DEFAULT_DEADLINES,
};
const ref = { orderId: input.orderId, product: input.product };
const serial = '5f3a9c0e1d2b4a6f';
const renewalOrder = JSON.stringify({ product: 'SSL', durationYears: 1, os: 'other', payment: { method: 'card' }, termsAccepted: false });
const challenge: DomainChallenge = {
  domain: 'www.acme.example',
  authorizationDomain: 'www.acme.example',
  method: 'dns',
  token: 'Hx4_Lp9-Qa2Wz7Ns5Kd1Vb8Rm3Tc6Yf0Ug2Ej5Oi7P',
  createdAt: '2026-04-30T08:00:00Z',
  expiresAt: '2026-05-30T08:00:00Z',
  dns: { recordName: '_certflow-challenge.www.acme.example', recordType: 'TXT', value: 'Hx4_Lp9-Qa2Wz7Ns5Kd1Vb8Rm3Tc6Yf0Ug2Ej5Oi7P' },
};

const request = (template: CertificateMailTemplate, extra?: Record<string, string | number>, challenges?: DomainChallenge[]): CertificateMailRequest => ({
  idempotencyKey: `certificate-${input.orderId}:${template}`,
  template,
  input,
  serial,
  ...(extra ? { extra } : {}),
  ...(challenges ? { challenges } : {}),
});

/** What the workflow sends for each template (workflows/certificate.ts). */
const EXTRAS: { readonly [T in CertificateMailTemplate]: Record<string, string | number> } = {
  expiry_reminder: { notAfter: '2027-03-19T23:30:00Z', days: 30, renewalOrder },
  certificate_renewed: { subject: 'CN=www.acme.example, O=ACME, C=FR', notBefore: '2026-05-02T10:00:00Z', notAfter: '2027-04-20T22:30:00Z' },
  domain_revalidation: { notAfter: '2026-05-31T22:15:00Z' },
  certificate_held: { heldAt: '2026-06-01T08:00:00Z' },
  hold_released: {},
  caa_forbids_issuance: { refusal: 'CAA forbids issuance by this CA: www.acme.example: …', identifiers: 'certflow.example' },
  certificate_revoked: { reason: 'keyCompromise', revokedAt: '2026-06-01T08:00:00Z' },
  activity_failing_staff: { step: 'revokeCertificate', message: 'connect ECONNREFUSED 10.0.0.7:5432', since: '2026-06-01T08:00:00Z' },
};
const challengesFor = (template: CertificateMailTemplate): DomainChallenge[] | undefined => (template === 'domain_revalidation' ? [challenge] : undefined);

describe('certificateMailMessage', () => {
  it('maps each template with its facts', () => {
    expect(certificateMailMessage(request('expiry_reminder', EXTRAS.expiry_reminder))).toEqual({
      template: 'expiry_reminder',
      data: { ...ref, serial, notAfter: '2027-03-19T23:30:00Z', days: 30, renewalOrder },
    });
    expect(certificateMailMessage(request('certificate_renewed', EXTRAS.certificate_renewed))).toEqual({
      template: 'certificate_renewed',
      data: { ...ref, serial, subject: 'CN=www.acme.example, O=ACME, C=FR', notBefore: '2026-05-02T10:00:00Z', notAfter: '2027-04-20T22:30:00Z' },
    });
    expect(certificateMailMessage(request('domain_revalidation', EXTRAS.domain_revalidation, [challenge]))).toEqual({
      template: 'domain_revalidation',
      data: { ...ref, serial, notAfter: '2026-05-31T22:15:00Z', challenges: [challenge] },
    });
    expect(certificateMailMessage(request('hold_released'))).toEqual({ template: 'hold_released', data: { ...ref, serial } });
    expect(certificateMailMessage(request('certificate_revoked', EXTRAS.certificate_revoked))).toEqual({
      template: 'certificate_revoked',
      data: { ...ref, serial, reason: 'keyCompromise', revokedAt: '2026-06-01T08:00:00Z' },
    });
  });

  it('reads a day count given as a string', () => {
    const message = certificateMailMessage(request('expiry_reminder', { ...EXTRAS.expiry_reminder, days: '7' }));
    expect(message.template === 'expiry_reminder' && message.data.days).toBe(7);
  });

  const templates = Object.keys(EXTRAS) as CertificateMailTemplate[];

  it.each(templates.flatMap((template) => (['fr', 'en'] as const).map((lang) => [template, lang] as const)))('%s renders in %s', async (template, lang) => {
    const mail = await renderEmail(certificateMailMessage(request(template, EXTRAS[template], challengesFor(template))), lang, MAIL_CONTEXT);
    expect(mail.text).toContain(serial);
    expect(mail.text).toContain(input.orderId);
  });

  const required = templates.flatMap((template) => Object.keys(EXTRAS[template]).map((key) => [template, key] as const));

  it.each(required)('%s without %s throws a clear error', (template, key) => {
    const { [key]: _dropped, ...rest } = EXTRAS[template];
    expect(() => certificateMailMessage(request(template, rest, challengesFor(template)))).toThrow(`certificate mail data ${key} is missing`);
  });

  it('a revalidation without challenges, or with a challenge that says nothing to publish, throws', () => {
    expect(() => certificateMailMessage(request('domain_revalidation', EXTRAS.domain_revalidation))).toThrow('certificate mail data challenges is missing');
    expect(() => certificateMailMessage(request('domain_revalidation', EXTRAS.domain_revalidation, []))).toThrow('certificate mail data challenges is missing');
    const { dns: _dns, ...bare } = challenge;
    expect(() => certificateMailMessage(request('domain_revalidation', EXTRAS.domain_revalidation, [bare]))).toThrow(
      'the dns challenge of www.acme.example has no TXT record',
    );
  });

  it('a renewal order that is not JSON, or a day count that is not a number, throws', () => {
    expect(() => certificateMailMessage(request('expiry_reminder', { ...EXTRAS.expiry_reminder, renewalOrder: '{product: SSL' }))).toThrow(
      'certificate mail data renewalOrder is not JSON',
    );
    expect(() => certificateMailMessage(request('expiry_reminder', { ...EXTRAS.expiry_reminder, days: 'soon' }))).toThrow('certificate mail data days is not a number');
  });
});
