/**
 * The certificate authority: three hierarchies (TLS, persons, seals), a profile per product, issuance exactly once
 * with pre-issuance lint, revocation and hold, the (mock) token.
 */
import { createCaWithInternals, type Ca, type CaDeps } from './ca.js';

export type { Ca, CaDeps } from './ca.js';
export type { CaCertificate, CaView } from '../../lib/pki/ca-view.js';
export type { Hierarchy, LoadedCa } from './hierarchy.js';
export { pdsUrl } from './extensions.js';
export type { IssueRequest, IssuedCertificate } from './issue.js';
export { CA_FAILURE } from './errors.js';
export {
  CA_POLICY_ARC,
  CABF_POLICY,
  ETSI_POLICY,
  OWN_POLICY,
  PERSON_PRODUCTS,
  PROFILES,
  isPersonProduct,
  maxValidityDays,
  profileFor,
  type CertificateProfile,
  type KeyType,
  type SanRule,
  type ValidityRule,
} from './profiles.js';
export type { HoldRelease, Revocation } from './revoke.js';
export { REVOCATION_REASONS, isRevocationReason, type RevocationReason } from '../../domain/revocation.js';
export type { TokenAdapter } from './token.js';

export function createCa(deps: CaDeps): Ca {
  return createCaWithInternals(deps).ca;
}
