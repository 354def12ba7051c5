/**
 * Pre-issuance checks (BR §4.3.1.2 asks for linting before signing). Two passes: the request before a serial is
 * reserved, and the to-be-signed certificate itself, built with a placeholder signature, before the CA key signs it.
 * Each returns the list of problems; an empty list means the certificate may be signed.
 */
import { checkSiret } from '../../domain/rules/siret.js';
import type { CertificateProfile, KeyType } from './profiles.js';
import { SERIAL_BYTES } from './serial.js';
import { parsedSubject, type PersonSubject } from './subject.js';
import { subtle, x509 } from './x509.js';

/** RFC 5280 upper bounds (ub-common-name, ub-organization-name, ub-organizational-unit-name). */
const UB_COMMON_NAME = 64;
const UB_ORGANIZATION_NAME = 64;
const UB_ORGANIZATIONAL_UNIT_NAME = 64;
/** An rfc822Name is an IA5String: ASCII only, one @, a dotted domain. */
const MAILBOX = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export interface SubjectKey {
  readonly keyType: KeyType;
  readonly publicKey: x509.PublicKey;
  readonly der: Buffer;
}

/** The certified key: SPKI DER (base64) of ECDSA P-256/P-384/P-521 or RSA ≥ 2048 bits, checked by importing it. */
export async function readSubjectKey(spkiBase64: string): Promise<SubjectKey | { problem: string }> {
  const der = Buffer.from(spkiBase64, 'base64');
  if (der.length === 0 || der.toString('base64') !== spkiBase64.replace(/\s+/g, '')) return { problem: 'publicKeySpki is not base64 DER' };
  let publicKey: x509.PublicKey;
  try {
    publicKey = new x509.PublicKey(der);
  } catch {
    return { problem: 'publicKeySpki is not a SubjectPublicKeyInfo' };
  }
  const alg = publicKey.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  try {
    if (alg.name === 'ECDSA' && ['P-256', 'P-384', 'P-521'].includes(alg.namedCurve ?? '')) {
      // Importing validates the point (on the curve, not infinity).
      await subtle.importKey('spki', der, { name: 'ECDSA', namedCurve: alg.namedCurve as string }, true, ['verify']);
      return { keyType: 'ec', publicKey, der };
    }
    if (alg.name === 'RSASSA-PKCS1-v1_5' && alg.modulusLength !== undefined) {
      if (alg.modulusLength < 2048 || alg.modulusLength % 8 !== 0) return { problem: `RSA key of ${alg.modulusLength} bits: at least 2048, a multiple of 8` };
      await subtle.importKey('spki', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
      return { keyType: 'rsa', publicKey, der };
    }
  } catch {
    return { problem: 'publicKeySpki does not hold a usable key' };
  }
  return { problem: `key algorithm ${alg.name}${alg.namedCurve ? ` ${alg.namedCurve}` : ''} is not allowed (ECDSA P-256/P-384/P-521 or RSA ≥ 2048)` };
}

export function lintRequest(req: {
  readonly profile: CertificateProfile;
  readonly subject: PersonSubject;
  readonly subjectString: string;
  readonly siret: string;
  readonly email: string;
  readonly validityDays: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuing: x509.X509Certificate;
}): string[] {
  const problems: string[] = [];
  const s = req.subject;
  for (const [field, value] of [
    ['given name', s.givenName],
    ['surname', s.surname],
    ['organisation name', s.organisationName],
  ] as const) {
    if (value === '') problems.push(`${field} is empty`);
    if (CONTROL.test(value)) problems.push(`${field} contains control characters`);
  }
  if (s.commonName.length > UB_COMMON_NAME) problems.push(`common name longer than ${UB_COMMON_NAME} characters`);
  if (s.organisationName.length > UB_ORGANIZATION_NAME) problems.push(`organisation name longer than ${UB_ORGANIZATION_NAME} characters`);
  if (s.organisationalUnit.length > UB_ORGANIZATIONAL_UNIT_NAME) problems.push('organisational unit too long');
  const siret = checkSiret(req.siret);
  if (!siret.ok) problems.push(`SIRET: ${siret.reason}`);
  if (req.email.length > 254 || !MAILBOX.test(req.email)) problems.push('e-mail address is not a valid ASCII mailbox');
  if (!Number.isInteger(req.validityDays) || req.validityDays < 1 || req.validityDays > req.profile.maxValidityDays) {
    problems.push(`validity of ${req.validityDays} days: 1 to ${req.profile.maxValidityDays}`);
  }
  if (req.notBefore < req.issuing.notBefore) problems.push('the certificate would start before its issuing CA (clock skew?)');
  if (req.notAfter > req.issuing.notAfter) problems.push('the certificate would outlive its issuing CA');

  // The reservation stores the DN as a string and the certificate is signed from it: it must read back unchanged.
  const back = parsedSubject(req.subjectString);
  const expected: Record<string, string> = {
    C: s.country,
    O: s.organisationName,
    OU: s.organisationalUnit,
    organizationIdentifier: s.organizationIdentifier,
    SN: s.surname,
    G: s.givenName,
    CN: s.commonName,
  };
  for (const [key, value] of Object.entries(expected)) {
    const got = back[key];
    if (got?.length !== 1 || got[0] !== value) problems.push(`subject ${key} does not survive its string form`);
  }
  return problems;
}

const sameBytes = (a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean =>
  Buffer.from(a instanceof ArrayBuffer ? new Uint8Array(a) : a).equals(Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b));

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && new Set(a).size === a.length && a.every((x) => b.includes(x));

/** The extensions a leaf may carry, and no other. */
const LEAF_EXTENSIONS = ['2.5.29.19', '2.5.29.15', '2.5.29.37', '2.5.29.32', '2.5.29.17', '2.5.29.14', '2.5.29.35'];

/** The to-be-signed certificate against its profile, its reservation and its issuer. */
export function lintTbs(
  tbs: x509.X509Certificate,
  expected: {
    readonly profile: CertificateProfile;
    readonly keyType: KeyType;
    readonly serial: string;
    readonly subject: string;
    readonly spki: Buffer;
    readonly email: string;
    readonly notBefore: Date;
    readonly notAfter: Date;
    readonly issuing: x509.X509Certificate;
  },
): string[] {
  const problems: string[] = [];
  const { profile, issuing } = expected;

  if (tbs.serialNumber !== expected.serial) problems.push('serial differs from the reservation');
  if (!/^[0-7][0-9a-f]+$/.test(tbs.serialNumber) || tbs.serialNumber.length < 16 || tbs.serialNumber.length > 2 * SERIAL_BYTES || /^0+$/.test(tbs.serialNumber)) {
    problems.push('serial must be positive, at least 64 bits and at most 20 octets');
  }

  if (tbs.subjectName.toString() !== expected.subject) problems.push('subject differs from the reservation');
  for (const field of ['C', 'O', 'CN', '2.5.4.97']) {
    if (tbs.subjectName.getField(field).length !== 1) problems.push(`subject must carry exactly one ${field}`);
  }
  if (tbs.subjectName.getField('C')[0] !== 'FR') problems.push('subject country must be FR');
  if (!sameBytes(tbs.issuerName.toArrayBuffer(), issuing.subjectName.toArrayBuffer())) problems.push('issuer is not the issuing CA');

  if (tbs.notBefore.getTime() !== expected.notBefore.getTime() || tbs.notAfter.getTime() !== expected.notAfter.getTime()) {
    problems.push('validity differs from the reservation');
  }
  if (tbs.notBefore < issuing.notBefore || tbs.notAfter > issuing.notAfter) problems.push('validity is outside the issuing CA validity');
  if (tbs.notAfter.getTime() - tbs.notBefore.getTime() > profile.maxValidityDays * 86_400_000) problems.push('validity exceeds the profile');

  if (!sameBytes(tbs.publicKey.rawData, expected.spki)) problems.push('public key differs from the reservation');

  const oids = tbs.extensions.map((e) => e.type);
  if (new Set(oids).size !== oids.length) problems.push('an extension appears twice');
  for (const oid of oids) if (!LEAF_EXTENSIONS.includes(oid)) problems.push(`unexpected extension ${oid}`);
  for (const oid of LEAF_EXTENSIONS) if (!oids.includes(oid)) problems.push(`missing extension ${oid}`);

  const bc = tbs.getExtension(x509.BasicConstraintsExtension);
  if (bc && (!bc.critical || bc.ca)) problems.push('basicConstraints must be critical with cA=false');
  const ku = tbs.getExtension(x509.KeyUsagesExtension);
  if (ku && (!ku.critical || ku.usages !== profile.keyUsage[expected.keyType])) problems.push('keyUsage must be critical and match the profile');
  const eku = tbs.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku && !sameSet(eku.usages.map(String), profile.extendedKeyUsage)) problems.push('extendedKeyUsage does not match the profile');
  const policies = tbs.getExtension(x509.CertificatePolicyExtension);
  if (policies && !sameSet(policies.policies, profile.policies)) problems.push('certificatePolicies do not match the profile');
  const san = tbs.getExtension(x509.SubjectAlternativeNameExtension);
  if (san) {
    const names = san.names.toJSON();
    if (names.length !== 1 || names[0]?.type !== 'email' || names[0].value !== expected.email) problems.push('subjectAltName must be exactly the holder e-mail');
  }
  const aki = tbs.getExtension(x509.AuthorityKeyIdentifierExtension);
  const issuerSki = issuing.getExtension(x509.SubjectKeyIdentifierExtension);
  if (aki && aki.keyId !== issuerSki?.keyId) problems.push('authorityKeyIdentifier is not the issuing CA key');

  const sigAlg = tbs.signatureAlgorithm as { name: string; hash?: { name: string } };
  if (sigAlg.name !== 'ECDSA' || sigAlg.hash?.name !== 'SHA-384') problems.push('signature algorithm must be ecdsa-with-SHA384');
  return problems;
}
