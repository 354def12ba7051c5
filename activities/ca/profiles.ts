/**
 * Certificate profiles of every product: which CA signs it and what the certificate says besides its subject and key.
 * One place for these facts; the subject layouts are in lib/pki/subject.ts, the policy OIDs in policies.ts and the checks
 * against a profile in lint.ts.
 */
import { CATALOG, PRODUCT_CODES, termDays, type ProductCode } from '../../domain/catalog.js';
import { DAY_MS } from '../../domain/time.js';
import { validityPeriodAt } from '../../domain/rules/validity.js';
import { qualifiedSignatureStatements, revocationPointers } from './extensions.js';
import type { CaFamily, CaId } from '../../lib/pki/ca-ids.js';
import type { LoadedCa } from './hierarchy.js';
import { CA_POLICY_ARC, CABF_POLICY, ETSI_POLICY, OWN_POLICY, SMIME_POLICY, type SmimeGeneration, type SmimeValidation } from './policies.js';
import type { ProfileKind } from '../../lib/pki/subject.js';
import { x509 } from '../../lib/pki/x509.js';

export { CA_POLICY_ARC, CABF_POLICY, ETSI_POLICY, OWN_POLICY, SMIME_POLICY };

export type KeyType = 'ec' | 'rsa';

/**
 * What the subjectAltName holds: the holder's e-mail, the request's DNS names (wildcards allowed or, for the wildcard
 * product, at least one required), or nothing at all.
 */
export type SanRule = 'email' | 'dns' | 'dns-wildcard' | 'none';

/**
 * How long a certificate may live: a fixed ceiling, or the CA/Browser Forum schedule in force at its notBefore. A
 * BR validity period counts both ends (BR §1.6.1), so a TLS certificate of n days ends one second before n × 24 h.
 */
export type ValidityRule = { readonly kind: 'fixed'; readonly maxDays: number } | { readonly kind: 'br-schedule' };

/**
 * A certificate with emailProtection and an e-mail SAN is an S/MIME certificate (S/MIME BR §1.1): its validation type
 * (who was validated: here a person of a validated organisation, "sponsor-validated") and generation (multipurpose
 * allows other EKUs beside emailProtection, strict none) choose its reserved policy and its KU/EKU/subject rules.
 */
export interface SmimeProfile {
  readonly validation: SmimeValidation;
  readonly generation: SmimeGeneration;
}

/** The standards a profile follows, as the README's "Certificate profiles" table names them. */
export type ProfileStandard = 'TLS BR' | 'S/MIME BR + ETSI EN 319 412-2' | 'S/MIME BR + ETSI EN 319 412-2 + 412-5' | 'ETSI EN 319 412-3';

export interface CertificateProfile {
  readonly product: ProductCode;
  readonly family: CaFamily;
  /** The issuing CA (certificate_authorities.id) that signs this profile. */
  readonly issuingCa: CaId;
  readonly kind: ProfileKind;
  /** Key usage per key type: an EC key cannot transport keys, it agrees on them (RFC 8813). */
  readonly keyUsage: Readonly<Record<KeyType, x509.KeyUsageFlags>>;
  /** Empty: the certificate has no extendedKeyUsage extension. */
  readonly extendedKeyUsage: readonly string[];
  /** The reserved CA/B Forum policy (TLS or S/MIME BR) first, then the CA's own, then the ETSI policy it implements. */
  readonly policies: readonly string[];
  readonly san: SanRule;
  readonly validity: ValidityRule;
  /** ETSI EN 319 412-5 QCStatements (qualified signature on a QSCD). */
  readonly qcStatements: boolean;
  /** BR §7.1.2.7.6: a subscriber TLS certificate should not carry one; the other profiles keep it. */
  readonly subjectKeyIdentifier: boolean;
  /** Present: an S/MIME BR certificate of this validation type and generation (the lint applies its rules). */
  readonly smime?: SmimeProfile;
  /**
   * The key signs documents (nonRepudiation): ETSI EN 319 412-2 §4.3.2 NAT-4.3.2-2 and EN 319 412-3 LEG-4.3.1-3 then
   * allow key usage types A, B or F only.
   */
  readonly contentCommitment: boolean;
  readonly standard: ProfileStandard;
}

const { digitalSignature, nonRepudiation, keyEncipherment, keyAgreement } = x509.KeyUsageFlags;
const { serverAuth, clientAuth, emailProtection } = x509.ExtendedKeyUsage;

/** Longest validity sold (3 years) plus one day for a leap year. */
const THREE_YEARS: ValidityRule = { kind: 'fixed', maxDays: termDays(3) + 1 };

/**
 * S/MIME BR §6.3.2: a strict or multipurpose S/MIME certificate lives 825 days at most, a day being 86,400 seconds and
 * any part of one more counting as a whole day. standards.ts refuses a longer one whatever its profile says.
 */
export const SMIME_MAX_VALIDITY_DAYS = 825;

/**
 * Persons certificates: one day under the S/MIME BR ceiling (§6.3.2 advises against issuing for the maximum, and a
 * validity period counts its last second, RFC 5280 §4.1.2.5). A longer paid term is served by reissues on the same
 * token key (workflows/certificate.ts) until it ends.
 */
const SMIME_VALIDITY: ValidityRule = { kind: 'fixed', maxDays: SMIME_MAX_VALIDITY_DAYS - 1 };

/**
 * Persons certificates are S/MIME certificates (emailProtection, the holder's e-mail as SAN) of a person of a validated
 * organisation: sponsor-validated. Multipurpose generation for all of them: the authentication products need clientAuth
 * beside emailProtection (strict allows emailProtection alone, S/MIME BR §7.1.2.3 f), and the persons products may be
 * put on hold (domain/revocation.ts), which a strict certificate's CRL must never show (S/MIME BR §7.2.2).
 */
const SPONSORED_MULTIPURPOSE: SmimeProfile = { validation: 'sponsored', generation: 'multipurpose' };

const persons = {
  family: 'persons',
  issuingCa: 'persons-issuing',
  kind: 'person',
  san: 'email',
  validity: SMIME_VALIDITY,
  qcStatements: false,
  subjectKeyIdentifier: true, // S/MIME BR §7.1.2.3 n: SHOULD be present
  smime: SPONSORED_MULTIPURPOSE,
  standard: 'S/MIME BR + ETSI EN 319 412-2',
} as const;

/**
 * Signing: digitalSignature + nonRepudiation, ETSI EN 319 412-2 table 1 type B, the only content-commitment type the
 * S/MIME BR also allows (§7.1.2.3 e: a signing key SHALL have digitalSignature, so type A alone is out). The reserved
 * S/MIME policy first, then the CA's own, then the ETSI policy it implements.
 */
const personSigning = (product: ProductCode, extendedKeyUsage: readonly string[], etsi: string): CertificateProfile => ({
  ...persons,
  product,
  keyUsage: { ec: digitalSignature | nonRepudiation, rsa: digitalSignature | nonRepudiation },
  extendedKeyUsage,
  policies: [SMIME_POLICY.sponsoredMultipurpose, OWN_POLICY[product], etsi],
  contentCommitment: true,
});

/** Authentication and signature: one key that logs in (clientAuth, which multipurpose allows) and signs mail and documents. */
const personSignature = (product: ProductCode, etsi: string): CertificateProfile => personSigning(product, [emailProtection, clientAuth], etsi);

/** The subjectAltName of a server product, from the names the catalog says it certifies. */
const serverSan = (product: ProductCode): SanRule => ({ none: 'none', dns: 'dns', wildcard: 'dns-wildcard' } as const)[CATALOG[product].dnsNames];

/** OV TLS server certificates (BR §7.1.2.7): serverAuth only, from the dedicated TLS hierarchy. */
const tls = (product: ProductCode): CertificateProfile => ({
  product,
  family: 'tls',
  issuingCa: 'tls-issuing',
  kind: 'tls',
  // BR §7.1.2.7.11: digitalSignature is what TLS 1.3 and the ECDHE suites use; keyEncipherment only serves the RSA key
  // exchange of insecure TLS 1.2 suites, and both together are NOT RECOMMENDED. An ECDSA key only signs the handshake.
  keyUsage: { ec: digitalSignature, rsa: digitalSignature },
  extendedKeyUsage: [serverAuth],
  policies: [CABF_POLICY.organizationValidated, OWN_POLICY[product], ETSI_POLICY.ovcp],
  san: serverSan(product),
  validity: { kind: 'br-schedule' },
  qcStatements: false,
  subjectKeyIdentifier: false,
  contentCommitment: false,
  standard: 'TLS BR',
});

export const PROFILES: Readonly<Record<ProductCode, CertificateProfile>> = {
  SSL: tls('SSL'),
  SSL_RGS_STAR: tls('SSL_RGS_STAR'),
  SSL_WILDCARD: tls('SSL_WILDCARD'),
  // A server that authenticates as a client of another organisation's service: a TLS client, not browser-trusted.
  SERVER_CLIENT: {
    product: 'SERVER_CLIENT',
    family: 'seals',
    issuingCa: 'seals-issuing',
    kind: 'server_client',
    keyUsage: { ec: digitalSignature, rsa: digitalSignature },
    extendedKeyUsage: [clientAuth],
    policies: [OWN_POLICY.SERVER_CLIENT, ETSI_POLICY.ncp],
    san: serverSan('SERVER_CLIENT'),
    validity: THREE_YEARS,
    qcStatements: false,
    subjectKeyIdentifier: true,
    contentCommitment: false,
    // A legal person's certificate (C, O, organizationIdentifier, CN; EN 319 412-3 §4.2.1), not an S/MIME one.
    standard: 'ETSI EN 319 412-3',
  },
  // The organisation's electronic seal (ETSI EN 319 412-3): it signs documents, so nonRepudiation (EN 319 412-2 table 1
  // type B, content commitment: LEG-4.3.1-3) and no EKU; no e-mail, so no S/MIME rules.
  SERVER_SEAL: {
    product: 'SERVER_SEAL',
    family: 'seals',
    issuingCa: 'seals-issuing',
    kind: 'seal',
    keyUsage: { ec: digitalSignature | nonRepudiation, rsa: digitalSignature | nonRepudiation },
    extendedKeyUsage: [],
    policies: [OWN_POLICY.SERVER_SEAL, ETSI_POLICY.ncp],
    san: serverSan('SERVER_SEAL'),
    validity: THREE_YEARS,
    qcStatements: false,
    subjectKeyIdentifier: true,
    contentCommitment: true,
    standard: 'ETSI EN 319 412-3',
  },
  // Identity proofed on documents online: the ETSI lightweight policy.
  ID_RGS_STAR: personSignature('ID_RGS_STAR', ETSI_POLICY.lcp),
  // Face-to-face and a key on a token: NCP+ (secure device).
  ID_RGS_2STAR: personSignature('ID_RGS_2STAR', ETSI_POLICY.ncpPlus),
  ID_RGS_3STAR: personSignature('ID_RGS_3STAR', ETSI_POLICY.ncpPlus),
  // Encryption only ("key management only", S/MIME BR §7.1.2.3 e; ETSI EN 319 412-2 table 1 type E): the key cannot
  // sign, so no clientAuth and no signature bits. RSA: keyEncipherment alone — dataEncipherment is neither in a type
  // of EN 319 412-2 table 1 nor used by S/MIME (CMS wraps a content key). EC: keyAgreement (ECDH, RFC 8813).
  ENCRYPTION: {
    ...persons,
    product: 'ENCRYPTION',
    keyUsage: { ec: keyAgreement, rsa: keyEncipherment },
    extendedKeyUsage: [emailProtection],
    policies: [SMIME_POLICY.sponsoredMultipurpose, OWN_POLICY.ENCRYPTION, ETSI_POLICY.lcp],
    contentCommitment: false,
  },
  // Qualified signature on a QSCD (ETSI EN 319 411-2 QCP-n-qscd), with the QCStatements of EN 319 412-5. It signs: no
  // clientAuth (a qualified signature key that also answers login challenges mixes usages EN 319 412-2 §4.3.2 warns of).
  EIDAS_QUALIFIED: {
    ...personSigning('EIDAS_QUALIFIED', [emailProtection], ETSI_POLICY.qcpNQscd),
    qcStatements: true,
    standard: 'S/MIME BR + ETSI EN 319 412-2 + 412-5',
  },
};

export const PERSON_PRODUCTS = PRODUCT_CODES.filter((product) => PROFILES[product].kind === 'person');
export const isPersonProduct = (product: string): boolean => isProduct(product) && PROFILES[product].kind === 'person';
export const isProduct = (product: string): product is ProductCode => (PRODUCT_CODES as readonly string[]).includes(product);

/** The profile of a product; undefined for a string that is no product. */
export const profileFor = (product: string): CertificateProfile | undefined => (isProduct(product) ? PROFILES[product] : undefined);

/** The longest validity, in days, a certificate of this profile starting at notBefore may have. */
export const maxValidityDays = (profile: CertificateProfile, notBefore: Date): number =>
  profile.validity.kind === 'fixed' ? profile.validity.maxDays : validityPeriodAt(notBefore).maxValidityDays;

/** The notAfter of a certificate of `days` days: BR periods count the last second, so TLS ends one second earlier. */
export const notAfterFor = (profile: CertificateProfile, notBefore: Date, days: number): Date =>
  new Date(notBefore.getTime() + days * DAY_MS - (profile.validity.kind === 'br-schedule' ? 1000 : 0));

/** The validity period of a certificate in days as its profile counts it (inclusive for the BR schedule). */
export const validityDaysOf = (profile: CertificateProfile, notBefore: Date, notAfter: Date): number =>
  (notAfter.getTime() - notBefore.getTime() + (profile.validity.kind === 'br-schedule' ? 1000 : 0)) / DAY_MS;

export interface LeafFacts {
  readonly keyType: KeyType;
  readonly publicKey: x509.PublicKey;
  readonly email: string;
  /** Lower-case, checked; empty for profiles without DNS names. */
  readonly dnsNames: readonly string[];
  readonly issuing: LoadedCa;
  /** PKI_HTTP_BASE_URL (http://): CRL, OCSP and caIssuers URLs. */
  readonly pkiBaseUrl: string;
  /** PDS_URL (https://): the QcPDS of qualified certificates. */
  readonly pdsUrl: string;
}

/** The extensions of a leaf certificate under its profile; lint.ts checks the same list before signing. */
export async function leafExtensions(profile: CertificateProfile, leaf: LeafFacts): Promise<x509.Extension[]> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(profile.keyUsage[leaf.keyType], true),
  ];
  if (profile.extendedKeyUsage.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension([...profile.extendedKeyUsage], false));
  extensions.push(new x509.CertificatePolicyExtension([...profile.policies], false));
  // Non-critical: the subject DN is never empty (RFC 5280 §4.2.1.6).
  if (profile.san === 'email') extensions.push(new x509.SubjectAlternativeNameExtension([{ type: 'email', value: leaf.email }], false));
  if (profile.san === 'dns' || profile.san === 'dns-wildcard') {
    extensions.push(new x509.SubjectAlternativeNameExtension(leaf.dnsNames.map((value) => ({ type: 'dns' as const, value })), false));
  }
  if (profile.subjectKeyIdentifier) extensions.push(await x509.SubjectKeyIdentifierExtension.create(leaf.publicKey, false));
  extensions.push(new x509.AuthorityKeyIdentifierExtension(leaf.issuing.keyId, false));
  extensions.push(...revocationPointers(leaf.pkiBaseUrl, leaf.issuing.id, { ocsp: true }));
  if (profile.qcStatements) extensions.push(qualifiedSignatureStatements(leaf.pdsUrl));
  return extensions;
}
