/**
 * The CA's refusals. They are non-retryable: retrying the same request cannot change the answer, so the workflow
 * gets a stable failure type to act on instead of an activity retried forever.
 */
import { ApplicationFailure } from '@temporalio/common';

export const CA_FAILURE = {
  /** The product has no certificate profile (profiles.ts). */
  unsupportedProduct: 'CaUnsupportedProduct',
  /** The request or the to-be-signed certificate breaks its profile (pre-issuance lint). */
  lintFailed: 'CaLintFailed',
  /** An idempotency key was reused for a different request. */
  idempotencyConflict: 'CaIdempotencyConflict',
  certificateNotFound: 'CaCertificateNotFound',
  certificateNotIssued: 'CaCertificateNotIssued',
  badRevocationReason: 'CaBadRevocationReason',
  /** Only a certificate on hold can be released; a final revocation stays. */
  certificateNotHeld: 'CaCertificateNotHeld',
  /** The order has no personalised token (a PIN reset before personalisation). */
  tokenNotFound: 'CaTokenNotFound',
} as const;
export type CaFailureType = (typeof CA_FAILURE)[keyof typeof CA_FAILURE];

export const refuse = (type: CaFailureType, message: string, ...details: unknown[]): ApplicationFailure =>
  ApplicationFailure.nonRetryable(message, type, ...details);
