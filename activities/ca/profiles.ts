/**
 * Certificate profiles of the personal products: what each certificate says besides its subject and key. One place
 * for these facts; the subject layout is in subject.ts and the checks against a profile in lint.ts.
 */
import type { ProductCode } from '../../domain/catalog.js';
import { x509 } from './x509.js';

/**
 * The CA's own policy arc. PLACEHOLDER: 1.2.250.1 is the AFNOR arc for French organisations and 999 is not ours; the
 * operator replaces it with the arc it registered. Person policies live under `<arc>.1.<n>`.
 */
export const CA_POLICY_ARC = '1.2.250.1.999';
const personPolicy = (n: number): string => `${CA_POLICY_ARC}.1.${n}`;

/** ETSI EN 319 411-1 (LCP, NCP, NCP+) and EN 319 411-2 (QCP-n-qscd) policy identifiers. */
export const ETSI_POLICY = {
  lcp: '0.4.0.2042.1.3',
  ncp: '0.4.0.2042.1.1',
  ncpPlus: '0.4.0.2042.1.2',
  qcpNQscd: '0.4.0.194112.1.2',
} as const;

export const PERSON_PRODUCTS = ['ID_RGS_STAR', 'ID_RGS_2STAR', 'ID_RGS_3STAR', 'ENCRYPTION', 'EIDAS_QUALIFIED'] as const satisfies readonly ProductCode[];
export type PersonProduct = (typeof PERSON_PRODUCTS)[number];

export type KeyType = 'ec' | 'rsa';

export interface CertificateProfile {
  readonly product: PersonProduct;
  /** The issuing CA (certificate_authorities.id) that signs this profile. */
  readonly issuingCa: 'persons-issuing';
  readonly purpose: 'signature' | 'encryption';
  /** Key usage per key type: an EC key cannot transport keys, it agrees on them (RFC 8813). */
  readonly keyUsage: Readonly<Record<KeyType, x509.KeyUsageFlags>>;
  readonly extendedKeyUsage: readonly string[];
  /** The CA's own policy first, then the ETSI policy it implements. */
  readonly policies: readonly string[];
  /** Longest validity sold (3 years) plus one day for a leap year. */
  readonly maxValidityDays: number;
}

const { digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement } = x509.KeyUsageFlags;
const { clientAuth, emailProtection } = x509.ExtendedKeyUsage;

/** Authentication and signature: one key that logs in (clientAuth), signs mail and documents (nonRepudiation). */
const signature = (product: PersonProduct, policies: readonly string[]): CertificateProfile => ({
  product,
  issuingCa: 'persons-issuing',
  purpose: 'signature',
  keyUsage: { ec: digitalSignature | nonRepudiation, rsa: digitalSignature | nonRepudiation },
  extendedKeyUsage: [clientAuth, emailProtection],
  policies,
  maxValidityDays: 3 * 365 + 1,
});

export const PROFILES: Readonly<Record<PersonProduct, CertificateProfile>> = {
  // Identity proofed on documents online: the ETSI lightweight policy.
  ID_RGS_STAR: signature('ID_RGS_STAR', [personPolicy(1), ETSI_POLICY.lcp]),
  // Face-to-face and a key on a token: NCP+ (secure device).
  ID_RGS_2STAR: signature('ID_RGS_2STAR', [personPolicy(2), ETSI_POLICY.ncpPlus]),
  ID_RGS_3STAR: signature('ID_RGS_3STAR', [personPolicy(3), ETSI_POLICY.ncpPlus]),
  // Encryption only: the key cannot sign, so no clientAuth and no signature bits.
  ENCRYPTION: {
    product: 'ENCRYPTION',
    issuingCa: 'persons-issuing',
    purpose: 'encryption',
    keyUsage: { ec: keyAgreement, rsa: keyEncipherment | dataEncipherment },
    extendedKeyUsage: [emailProtection],
    policies: [personPolicy(4), ETSI_POLICY.lcp],
    maxValidityDays: 3 * 365 + 1,
  },
  // Qualified signature on a QSCD (ETSI EN 319 411-2). QCStatements are still to come (see the CA issue).
  EIDAS_QUALIFIED: signature('EIDAS_QUALIFIED', [personPolicy(5), ETSI_POLICY.qcpNQscd]),
};

export const isPersonProduct = (product: string): product is PersonProduct => (PERSON_PRODUCTS as readonly string[]).includes(product);

/** The extensions of a leaf certificate under its profile. */
export async function leafExtensions(
  profile: CertificateProfile,
  leaf: { keyType: KeyType; publicKey: x509.PublicKey; email: string; authorityKeyId: string },
): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(profile.keyUsage[leaf.keyType], true),
    new x509.ExtendedKeyUsageExtension([...profile.extendedKeyUsage], false),
    new x509.CertificatePolicyExtension([...profile.policies], false),
    // Non-critical: the subject DN is not empty (RFC 5280 §4.2.1.6).
    new x509.SubjectAlternativeNameExtension([{ type: 'email', value: leaf.email }], false),
    await x509.SubjectKeyIdentifierExtension.create(leaf.publicKey, false),
    new x509.AuthorityKeyIdentifierExtension(leaf.authorityKeyId, false),
  ];
}
