/**
 * Certificate policy identifiers: the CA's own, the ETSI ones it implements, the CA/Browser Forum's. One place for
 * the OIDs; profiles.ts says which certificate carries which, hierarchy.ts which the issuing CAs allow.
 */

/**
 * The CA's own policy arc. PLACEHOLDER: 1.2.250.1 is the AFNOR arc for French organisations and 999 is not ours; the
 * operator replaces it with the arc it registered. Persons under `<arc>.1.<n>`, TLS under `<arc>.2.<n>`, seals and
 * server-client under `<arc>.3.<n>`.
 */
export const CA_POLICY_ARC = '1.2.250.1.999';

export const OWN_POLICY = {
  ID_RGS_STAR: `${CA_POLICY_ARC}.1.1`,
  ID_RGS_2STAR: `${CA_POLICY_ARC}.1.2`,
  ID_RGS_3STAR: `${CA_POLICY_ARC}.1.3`,
  ENCRYPTION: `${CA_POLICY_ARC}.1.4`,
  EIDAS_QUALIFIED: `${CA_POLICY_ARC}.1.5`,
  SSL: `${CA_POLICY_ARC}.2.1`,
  SSL_RGS_STAR: `${CA_POLICY_ARC}.2.2`,
  SSL_WILDCARD: `${CA_POLICY_ARC}.2.3`,
  SERVER_CLIENT: `${CA_POLICY_ARC}.3.1`,
  SERVER_SEAL: `${CA_POLICY_ARC}.3.2`,
} as const;

/** ETSI EN 319 411-1 (LCP, NCP, NCP+, OVCP) and EN 319 411-2 (QCP-n-qscd) policy identifiers. */
export const ETSI_POLICY = {
  lcp: '0.4.0.2042.1.3',
  ncp: '0.4.0.2042.1.1',
  ncpPlus: '0.4.0.2042.1.2',
  ovcp: '0.4.0.2042.1.7',
  qcpNQscd: '0.4.0.194112.1.2',
} as const;

/** CA/Browser Forum reserved policy identifiers (BR §7.1.6.1). */
export const CABF_POLICY = { organizationValidated: '2.23.140.1.2.2' } as const;

export const ANY_POLICY = '2.5.29.32.0';
