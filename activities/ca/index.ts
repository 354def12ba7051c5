/** The certificate authority: persons hierarchy, profiles, issuance exactly once, revocation, the (mock) token. */
import { createCaWithInternals, type Ca, type CaDeps } from './ca.js';

export type { Ca, CaDeps } from './ca.js';
export type { IssueRequest, IssuedCertificate } from './issue.js';
export { CA_FAILURE } from './errors.js';
export { CA_POLICY_ARC, ETSI_POLICY, PERSON_PRODUCTS, PROFILES, isPersonProduct, type CertificateProfile, type PersonProduct } from './profiles.js';
export { REVOCATION_REASONS, isRevocationReason, type RevocationReason } from './revoke.js';
export type { TokenAdapter } from './token.js';

export function createCa(deps: CaDeps): Ca {
  return createCaWithInternals(deps).ca;
}
