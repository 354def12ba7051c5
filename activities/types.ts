/**
 * What the order workflow asks of the outside world. Every request carries an idempotency key made of the
 * workflow id and the step, so a retried activity does its thing once.
 */
import type { OrderInput, OrderView } from '../domain/order.js';

export type OrderMailTemplate =
  | 'order_confirmation'
  | 'evidence_rejected'
  | 'evidence_reminder'
  | 'review_approved'
  | 'originals_reminder'
  | 'originals_overdue_staff'
  | 'order_abandoned'
  | 'order_cancelled'
  | 'certificate_issued'
  | 'acceptance_reminder'
  | 'certificate_revoked'
  | 'order_completed';

export interface OrderMailRequest {
  readonly idempotencyKey: string;
  readonly template: OrderMailTemplate;
  readonly input: OrderInput;
  readonly view: OrderView;
  /** Template specifics: the day count of a reminder, the revocation reason… */
  readonly extra?: Readonly<Record<string, string | number>>;
}

export type { IssuedCertificate } from './ca/index.js';
import type { IssuedCertificate } from './ca/index.js';

export interface OrderActivities {
  /** Writes the read model; idempotent and monotonic on the view's version. */
  recordOrderView(workflowId: string, view: OrderView): Promise<void>;
  /** One mail per key, to the holder (or to staff for staff templates). */
  sendOrderMail(req: OrderMailRequest): Promise<void>;
  /** Personalises the holder's token (its key pair and PIN), once per key. */
  personaliseToken(req: { personalisationKey: string; orderId: string }): Promise<{ tokenId: string; publicKeySpki: string }>;
  /** Signs the order's certificate, once per key, whatever the retries or crashes. */
  issueCertificate(req: { issuanceKey: string; input: OrderInput; publicKeySpki: string }): Promise<IssuedCertificate>;
  revokeCertificate(req: { serial: string; reason: string }): Promise<void>;
  /**
   * Sends a 6-digit unlock code by SMS and returns only its keyed digest. The code is derived from the key under a
   * server secret, so a retry re-sends (or finds sent) the same code and the digest stays right.
   */
  sendUnlockCode(req: { idempotencyKey: string; orderId: string; to: string; language: 'fr' | 'en' }): Promise<{ digest: string }>;
}
