/**
 * Revocation reasons (RFC 5280 §5.3.1) and which products may use which. One place for the fact; the API's schema,
 * the certificate workflow's validator and the CA's revoker all read it.
 */
import { CATALOG, type ProductCode } from './catalog.js';

/**
 * The reasons a subscriber (or the RA) may give. cACompromise and aACompromise concern CAs, and removeFromCRL only
 * appears in delta CRLs when a hold is lifted; none of them is a request a subscriber makes.
 */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export const isRevocationReason = (reason: string): reason is RevocationReason => (REVOCATION_REASONS as readonly string[]).includes(reason);

/** RFC 5280 CRLReason codes, as they appear in a CRL entry and an OCSP response. */
export const REVOCATION_REASON_CODES: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
};

/**
 * TLS certificates (browser-trusted) may not be put on hold (BR §7.2.2: certificateHold is not used); a person's or
 * an organisation's certificate may, for a token mislaid and found again, and the hold can then be lifted.
 */
export function revocationReasonsFor(product: ProductCode): readonly RevocationReason[] {
  return CATALOG[product].browserTrusted ? REVOCATION_REASONS.filter((r) => r !== 'certificateHold') : REVOCATION_REASONS;
}

/** Revocation is final except for a hold. */
export const isFinalRevocation = (reason: RevocationReason): boolean => reason !== 'certificateHold';
