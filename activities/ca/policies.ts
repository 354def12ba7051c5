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

/** CA/Browser Forum reserved policy identifiers of TLS certificates (BR §7.1.6.1). */
export const CABF_POLICY = { organizationValidated: '2.23.140.1.2.2' } as const;

/** Every TLS reserved identifier (BR §7.1.6.1: EV, DV, OV, IV): a TLS certificate asserts exactly one. */
export const CABF_TLS_RESERVED = ['2.23.140.1.1', '2.23.140.1.2.1', '2.23.140.1.2.2', '2.23.140.1.2.3'] as const;

/** S/MIME BR validation types (§7.1.6.1): the third arc of 2.23.140.1.5.<type>.<generation>. */
export const SMIME_VALIDATION = { mailbox: 1, organization: 2, sponsored: 3, individual: 4 } as const;
export type SmimeValidation = keyof typeof SMIME_VALIDATION;
/** S/MIME BR generations (§7.1.6.1); legacy (1) may no longer be issued since 2025-07-15. */
export const SMIME_GENERATION = { legacy: 1, multipurpose: 2, strict: 3 } as const;
export type SmimeGeneration = keyof typeof SMIME_GENERATION;

/** The reserved S/MIME BR policy identifier of a validation type and generation (S/MIME BR §7.1.6.1). */
export const smimePolicy = (validation: SmimeValidation, generation: SmimeGeneration): string =>
  `2.23.140.1.5.${SMIME_VALIDATION[validation]}.${SMIME_GENERATION[generation]}`;

/** The S/MIME reserved identifiers CertFlow issues under: a person of a validated organisation (sponsor-validated). */
export const SMIME_POLICY = { sponsoredMultipurpose: smimePolicy('sponsored', 'multipurpose'), sponsoredStrict: smimePolicy('sponsored', 'strict') } as const;

/** Whether an OID is one of the S/MIME BR reserved identifiers (any type, any generation). */
export const isSmimeReserved = (oid: string): boolean => /^2\.23\.140\.1\.5\.[1-4]\.[1-3]$/.test(oid);

export const ANY_POLICY = '2.5.29.32.0';
