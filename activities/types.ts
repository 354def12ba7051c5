/**
 * What the order workflow asks of the outside world. Every request carries an idempotency key made of the
 * workflow id and the step, so a retried activity does its thing once.
 */
import type { CaaCheck, DomainChallenge, OrderInput, OrderView } from '../domain/order.js';
import type { RevocationReason } from '../domain/revocation.js';

export type OrderMailTemplate =
  | 'order_confirmation'
  | 'evidence_rejected'
  | 'evidence_reminder'
  | 'review_approved'
  | 'originals_reminder'
  | 'originals_overdue_staff'
  | 'activity_failing_staff'
  | 'order_abandoned'
  | 'order_cancelled'
  | 'certificate_issued'
  | 'acceptance_reminder'
  | 'certificate_revoked'
  | 'order_completed'
  /** CAA forbids issuance right before signing (BR §3.2.2.8): extra refusal, identifiers. */
  | 'caa_forbids_issuance';

/** Mails of a certificate's own life (workflows/certificate.ts), once per key like the order's. */
export type CertificateMailTemplate =
  | 'expiry_reminder'
  | 'certificate_renewed'
  | 'domain_revalidation'
  | 'certificate_held'
  | 'hold_released'
  | 'certificate_revoked'
  /** CAA forbids the next certificate (BR §3.2.2.8): extra refusal, identifiers. */
  | 'caa_forbids_issuance'
  /** To staff: a step of the certificate's workflow kept failing (workflows/attention.ts). */
  | 'activity_failing_staff';

export interface CertificateMailRequest {
  readonly idempotencyKey: string;
  readonly template: CertificateMailTemplate;
  readonly input: OrderInput;
  /** The certificate the mail is about. */
  readonly serial: string;
  /**
   * expiry_reminder: notAfter, days, renewalOrder (the prefilled POST /v1/orders body, JSON);
   * certificate_renewed: subject, notBefore, notAfter; domain_revalidation: notAfter; certificate_held: heldAt;
   * certificate_revoked: reason, revokedAt.
   */
  readonly extra?: Readonly<Record<string, string | number>>;
  /** domain_revalidation: what to publish for each name. */
  readonly challenges?: readonly DomainChallenge[];
}

export interface OrderMailRequest {
  readonly idempotencyKey: string;
  readonly template: OrderMailTemplate;
  readonly input: OrderInput;
  readonly view: OrderView;
  /** Template specifics: the day count of a reminder, the revocation reason… */
  readonly extra?: Readonly<Record<string, string | number>>;
}

export type { IssuedCertificate } from './ca/index.js';

export interface RevocationOutcome {
  readonly serial: string;
  readonly status: 'valid' | 'held' | 'revoked';
  readonly revokedAt: string | null;
  readonly reason: string | null;
}

export type DomainCheckResult =
  | { readonly validated: true; readonly method: 'http' | 'dns'; readonly checkedAt: string; readonly evidence: string }
  | { readonly validated: false; readonly method: 'http' | 'dns'; readonly checkedAt: string; readonly reason: string };
import type { IssuedCertificate } from './ca/index.js';

export interface OrderActivities {
  /** Writes the read model; idempotent and monotonic on the view's version. */
  recordOrderView(workflowId: string, view: OrderView): Promise<void>;
  /** One mail per key, to the holder (or to staff for staff templates). */
  sendOrderMail(req: OrderMailRequest): Promise<void>;
  sendCertificateMail(req: CertificateMailRequest): Promise<void>;
  /** Personalises the holder's token (its key pair and PIN), once per key. */
  personaliseToken(req: { personalisationKey: string; orderId: string }): Promise<{ tokenId: string; publicKeySpki: string }>;
  /**
   * Signs the order's certificate, once per key, whatever the retries or crashes. It ends at `validUntil` at the
   * latest; a TLS certificate ends sooner when the BR schedule says so.
   */
  issueCertificate(req: { issuanceKey: string; input: OrderInput; publicKeySpki: string; validUntil: string }): Promise<IssuedCertificate>;
  /** The dates of an issued certificate, and the key it certifies (SPKI, base64; absent from stubs that predate it). */
  certificateInfo(req: { serial: string }): Promise<{ serial: string; notBefore: string; notAfter: string; publicKeySpki?: string }>;
  /** Revokes (or holds) and publishes the issuing CA's new CRL; a retry finds it done. */
  revokeCertificate(req: { serial: string; reason: RevocationReason }): Promise<RevocationOutcome>;
  /** Lifts a certificateHold and publishes the new CRL. */
  releaseHold(req: { serial: string }): Promise<RevocationOutcome>;
  /** Draws a random value per name for the customer to publish (file or TXT record). */
  createDomainChallenges(req: { domains: string[]; method: 'http' | 'dns' }): Promise<DomainChallenge[]>;
  /** Looks for each challenge's file or TXT record, from the CA's side. */
  checkDomainChallenges(req: { challenges: DomainChallenge[] }): Promise<{ domain: string; result: DomainCheckResult }[]>;
  /**
   * CAA of every name (RFC 8659, BR §3.2.2.8), right before a TLS certificate is signed; the decision is recorded in
   * the order's audit trail once per key. A lookup failure throws (retryable): it is never a permission.
   */
  checkCaa(req: { checkKey: string; orderId: string; names: string[] }): Promise<CaaCheck>;
  /** A blocked token gets a new PIN, which the API shows once; idempotent on the key. */
  resetTokenPin(req: { orderId: string; resetKey: string }): Promise<void>;
  /** Republishes the CRL of every CA (before their nextUpdate). */
  publishCrls(): Promise<{ caId: string; crlNumber: number; nextUpdate: string }[]>;
  /**
   * Sends a 6-digit unlock code by SMS and returns only its keyed digest. The code is derived from the key under a
   * server secret, so a retry re-sends (or finds sent) the same code and the digest stays right.
   */
  sendUnlockCode(req: { idempotencyKey: string; orderId: string; to: string; language: 'fr' | 'en' }): Promise<{ digest: string }>;
}
