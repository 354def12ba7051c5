/** Turns what happened to a certificate (workflows/certificate.ts) into the notifier's message for that template. */
import type { DomainChallenge } from '../domain/order.js';
import type { EmailMessage } from './notify/index.js';
import type { CertificateMailRequest } from './types.js';

const text = (v: string | number | undefined, name: string): string => {
  if (v === undefined) throw new Error(`certificate mail data ${name} is missing`);
  return String(v);
};

const count = (v: string | number | undefined, name: string): number => {
  const n = Number(text(v, name));
  if (!Number.isFinite(n)) throw new Error(`certificate mail data ${name} is not a number: ${String(v)}`);
  return n;
};

/** The renewal body is shown for the customer to post: it must be JSON, as it is. */
const json = (v: string | number | undefined, name: string): string => {
  const body = text(v, name);
  try {
    JSON.parse(body);
  } catch {
    throw new Error(`certificate mail data ${name} is not JSON: ${body}`);
  }
  return body;
};

/** Every name needs what to publish: its file (URL and content) or its TXT record (name and value). */
function challengesOf(req: CertificateMailRequest): readonly DomainChallenge[] {
  const challenges = req.challenges ?? [];
  if (challenges.length === 0) throw new Error('certificate mail data challenges is missing');
  for (const c of challenges) {
    if (c.method === 'http' ? c.http === undefined : c.dns === undefined) {
      throw new Error(`certificate mail data challenges: the ${c.method} challenge of ${c.domain} has no ${c.method === 'http' ? 'URL and content' : 'TXT record'}`);
    }
  }
  return challenges;
}

export function certificateMailMessage(req: CertificateMailRequest): EmailMessage {
  const { input, serial } = req;
  const extra = req.extra ?? {};
  const ref = { orderId: input.orderId, product: input.product, serial };
  switch (req.template) {
    case 'expiry_reminder':
      return {
        template: 'expiry_reminder',
        data: { ...ref, notAfter: text(extra.notAfter, 'notAfter'), days: count(extra.days, 'days'), renewalOrder: json(extra.renewalOrder, 'renewalOrder') },
      };
    case 'certificate_renewed':
      return {
        template: 'certificate_renewed',
        data: { ...ref, subject: text(extra.subject, 'subject'), notBefore: text(extra.notBefore, 'notBefore'), notAfter: text(extra.notAfter, 'notAfter') },
      };
    case 'domain_revalidation':
      return { template: 'domain_revalidation', data: { ...ref, notAfter: text(extra.notAfter, 'notAfter'), challenges: challengesOf(req) } };
    case 'activity_failing_staff':
      return {
        template: 'activity_failing_staff',
        data: { ...ref, kind: extra.kind === 'refused' ? 'refused' : 'stuck', step: text(extra.step, 'step'), message: text(extra.message, 'message'), since: text(extra.since, 'since') },
      };
    case 'caa_forbids_issuance':
      return { template: 'caa_forbids_issuance', data: { ...ref, refusal: text(extra.refusal, 'refusal'), identifiers: text(extra.identifiers, 'identifiers') } };
    case 'hold_released':
      return { template: 'hold_released', data: ref };
    case 'certificate_held':
      return { template: 'certificate_held', data: { ...ref, heldAt: text(extra.heldAt, 'heldAt') } };
    case 'certificate_revoked':
      return { template: 'certificate_revoked', data: { ...ref, reason: text(extra.reason, 'reason'), revokedAt: text(extra.revokedAt, 'revokedAt') } };
  }
}
