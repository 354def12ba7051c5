/**
 * Pre-issuance checks (BR §4.3.1.2 asks for linting before signing). Two passes: the request before a serial is
 * reserved, and the to-be-signed certificate itself, built with a placeholder signature, before the CA key signs it.
 * Each returns the list of problems; an empty list means the certificate may be signed.
 */
import { checkDnsName } from '../../domain/rules/fqdn.js';
import { checkSiret } from '../../domain/rules/siret.js';
import { checkPublicKey } from '../../lib/pki/csr.js';
import { crlDistributionUrls, ETSI_QCS, OID_QC_STATEMENTS, pdsUrl, readQcStatements } from './extensions.js';
import type { LoadedCa } from './hierarchy.js';
import { maxValidityDays, validityDaysOf, type CertificateProfile, type KeyType } from './profiles.js';
import { SERIAL_BYTES } from './serial.js';
import { standardsProblems } from './standards.js';
import { parsedSubject, type ProfileKind, type SubjectAttribute, type SubjectField } from '../../lib/pki/subject.js';
import { caCertificateUrl, caCrlUrl, ocspUrl } from '../../lib/pki/urls.js';
import { x509 } from '../../lib/pki/x509.js';

/** RFC 5280 upper bounds (ub-common-name, ub-locality-name, ub-organization-name, ub-organizational-unit-name). */
const UPPER_BOUNDS: Partial<Record<SubjectAttribute, number>> = { CN: 64, L: 128, O: 64, OU: 64 };
/** An rfc822Name is an IA5String: ASCII only, one @, a dotted domain. */
const MAILBOX = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The attributes of each subject layout, in order (lib/pki/subject.ts builds them). */
const SUBJECT_LAYOUTS: Readonly<Record<ProfileKind, readonly SubjectAttribute[]>> = {
  person: ['C', 'O', 'organizationIdentifier', 'SN', 'G', 'CN'],
  tls: ['C', 'L', 'O', 'CN'],
  server_client: ['C', 'O', 'organizationIdentifier', 'CN'],
  seal: ['C', 'O', 'OU', 'organizationIdentifier', 'CN'],
};

const ATTRIBUTE_LABELS: Readonly<Record<SubjectAttribute, string>> = {
  C: 'country',
  L: 'locality',
  O: 'organisation name',
  OU: 'organisational unit',
  organizationIdentifier: 'organisation identifier',
  SN: 'surname',
  G: 'given name',
  CN: 'common name',
};

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  certificatePolicies: '2.5.29.32',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  qcStatements: OID_QC_STATEMENTS,
} as const;

/** Only these may be critical; RFC 5280 and the BR want every other leaf extension non-critical. */
const CRITICAL = new Set<string>([OID.basicConstraints, OID.keyUsage]);

export interface SubjectKey {
  readonly keyType: KeyType;
  readonly publicKey: x509.PublicKey;
  readonly der: Buffer;
}

/**
 * The certified key: SPKI DER (base64), under the same key rules as a customer's CSR (lib/pki/csr.ts: algorithms and curves,
 * RSA size and exponent, weak moduli, points on their curve), so a key reaching the CA by another path gets no less.
 */
export function readSubjectKey(spkiBase64: string): SubjectKey | { problem: string } {
  const der = Buffer.from(spkiBase64, 'base64');
  if (der.length === 0 || der.toString('base64') !== spkiBase64.replace(/\s+/g, '')) return { problem: 'publicKeySpki is not base64 DER' };
  const checked = checkPublicKey(der.toString('base64'));
  if (!checked.ok) return { problem: checked.problems.map((p) => p.message).join('; ') };
  try {
    return { keyType: checked.keyType, publicKey: new x509.PublicKey(der), der };
  } catch {
    return { problem: 'publicKeySpki is not a SubjectPublicKeyInfo' };
  }
}

/**
 * The DNS names of a request under its profile's SAN rule, each checked (domain/rules/fqdn.ts) and lower-cased. The
 * names come back even when some are refused, so the caller can build the rest and report every problem at once.
 */
export function checkRequestedNames(profile: CertificateProfile, requested: readonly string[]): { names: string[]; problems: string[] } {
  if (profile.san !== 'dns' && profile.san !== 'dns-wildcard') {
    return { names: [], problems: requested.length > 0 ? [`${profile.product} certificates carry no DNS names`] : [] };
  }
  const problems: string[] = [];
  if (requested.length === 0) problems.push(`${profile.product} certificates need at least one DNS name`);
  const names = requested.map((input) => {
    const check = checkDnsName(input, { wildcardAllowed: profile.san === 'dns-wildcard' });
    if (check.ok) return check.name;
    problems.push(`${check.message} [${check.rule}]`);
    return input.toLowerCase();
  });
  for (const [i, name] of names.entries()) if (names.indexOf(name) !== i) problems.push(`${name} is listed twice`);
  if (profile.san === 'dns-wildcard' && !names.some((name) => name.startsWith('*.'))) {
    problems.push(`${profile.product} certificates need at least one wildcard name (*.example.com)`);
  }
  return { names, problems };
}

/** Each field present, clean and within its bound, in the layout of the profile's kind. */
function subjectProblems(kind: ProfileKind, fields: readonly SubjectField[]): string[] {
  const problems: string[] = [];
  const layout = SUBJECT_LAYOUTS[kind];
  for (const attribute of layout) {
    if (fields.some((f) => f.attribute === attribute)) continue;
    // The two a request can lack; everything else the CA derives.
    if (attribute === 'L') problems.push('the organisation has no locality: a TLS certificate names the city of the organisation (BR §7.1.2.7.4)');
    else if (attribute !== 'CN' || kind === 'person' || kind === 'seal') problems.push(`subject has no ${ATTRIBUTE_LABELS[attribute]}`);
  }
  if (fields.map((f) => f.attribute).join() !== layout.filter((a) => fields.some((f) => f.attribute === a)).join()) {
    problems.push(`subject attributes are not the ${kind} layout ${layout.join(', ')}`);
  }
  for (const { attribute, value } of fields) {
    const label = ATTRIBUTE_LABELS[attribute];
    if (value === '') problems.push(`${label} is empty`);
    if (CONTROL.test(value)) problems.push(`${label} contains control characters`);
    const bound = UPPER_BOUNDS[attribute];
    if (bound !== undefined && value.length > bound) problems.push(`${label} longer than ${bound} characters`);
  }
  if (fields.find((f) => f.attribute === 'C')?.value !== 'FR') problems.push('subject country must be FR');
  return problems;
}

export function lintRequest(req: {
  readonly profile: CertificateProfile;
  readonly fields: readonly SubjectField[];
  readonly subjectString: string;
  readonly siret: string;
  readonly email: string;
  readonly dnsNames: readonly string[];
  readonly validityDays: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly issuing: x509.X509Certificate;
}): string[] {
  const { profile } = req;
  const problems = subjectProblems(profile.kind, req.fields);
  problems.push(...checkRequestedNames(profile, req.dnsNames).problems);
  const siret = checkSiret(req.siret);
  if (!siret.ok) problems.push(`SIRET: ${siret.reason}`);
  if (profile.san === 'email' && (req.email.length > 254 || !MAILBOX.test(req.email))) problems.push('e-mail address is not a valid ASCII mailbox');

  const max = maxValidityDays(profile, req.notBefore);
  if (!Number.isInteger(req.validityDays) || req.validityDays < 1 || req.validityDays > max) {
    problems.push(
      profile.validity.kind === 'br-schedule'
        ? `validity of ${req.validityDays} days: a TLS certificate issued on ${req.notBefore.toISOString().slice(0, 10)} lives 1 to ${max} days (BR §6.3.2)`
        : `validity of ${req.validityDays} days: 1 to ${max}${profile.smime ? ' (an S/MIME certificate, S/MIME BR §6.3.2)' : ''}`,
    );
  }
  if (req.notBefore < req.issuing.notBefore) problems.push('the certificate would start before its issuing CA (clock skew?)');
  if (req.notAfter > req.issuing.notAfter) problems.push('the certificate would outlive its issuing CA');

  // The reservation stores the DN as a string and the certificate is signed from it: it must read back unchanged.
  const back = parsedSubject(req.subjectString);
  if (back.length !== req.fields.length || req.fields.some((f, i) => back[i]?.attribute !== f.attribute || back[i]?.value !== f.value)) {
    problems.push('subject does not survive its string form');
  }
  return problems;
}

const sameBytes = (a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean =>
  Buffer.from(a instanceof ArrayBuffer ? new Uint8Array(a) : a).equals(Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b));

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && new Set(a).size === a.length && a.every((x) => b.includes(x));
const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The extensions a leaf of this profile carries, and no other. */
export function expectedExtensions(profile: CertificateProfile): string[] {
  return [
    OID.basicConstraints,
    OID.keyUsage,
    ...(profile.extendedKeyUsage.length > 0 ? [OID.extendedKeyUsage] : []),
    OID.certificatePolicies,
    ...(profile.san === 'none' ? [] : [OID.subjectAltName]),
    ...(profile.subjectKeyIdentifier ? [OID.subjectKeyIdentifier] : []),
    OID.authorityKeyIdentifier,
    OID.crlDistributionPoints,
    OID.authorityInfoAccess,
    ...(profile.qcStatements ? [OID.qcStatements] : []),
  ];
}

const urlsOf = (names: readonly x509.GeneralName[]): string[] => names.map((n) => (n.type === 'url' ? n.value : `${n.type}:${n.value}`));

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
    /** Checked and lower-cased, in request order. */
    readonly dnsNames: readonly string[];
    readonly notBefore: Date;
    readonly notAfter: Date;
    readonly issuing: LoadedCa;
    /** PKI_HTTP_BASE_URL and PDS_URL, as the certificate was built with them. */
    readonly pkiBaseUrl: string;
    readonly pdsUrl: string;
  },
): string[] {
  const problems: string[] = [];
  const { profile, issuing, pkiBaseUrl } = expected;
  const issuer = issuing.certificate;

  if (tbs.serialNumber !== expected.serial) problems.push('serial differs from the reservation');
  if (!/^[0-7][0-9a-f]+$/.test(tbs.serialNumber) || tbs.serialNumber.length < 16 || tbs.serialNumber.length > 2 * SERIAL_BYTES || /^0+$/.test(tbs.serialNumber)) {
    problems.push('serial must be positive, at least 64 bits and at most 20 octets');
  }

  if (tbs.subjectName.toString() !== expected.subject) problems.push('subject differs from the reservation');
  const subject = parsedSubject(tbs.subjectName.toString());
  if (!sameList(subject.map((f) => f.attribute), SUBJECT_LAYOUTS[profile.kind])) {
    problems.push(`subject must be exactly ${SUBJECT_LAYOUTS[profile.kind].join(', ')}`);
  }
  if (subject.find((f) => f.attribute === 'C')?.value !== 'FR') problems.push('subject country must be FR');
  if (!sameBytes(tbs.issuerName.toArrayBuffer(), issuer.subjectName.toArrayBuffer())) problems.push('issuer is not the issuing CA');

  if (tbs.notBefore.getTime() !== expected.notBefore.getTime() || tbs.notAfter.getTime() !== expected.notAfter.getTime()) {
    problems.push('validity differs from the reservation');
  }
  if (tbs.notBefore < issuer.notBefore || tbs.notAfter > issuer.notAfter) problems.push('validity is outside the issuing CA validity');
  const days = validityDaysOf(profile, tbs.notBefore, tbs.notAfter);
  const max = maxValidityDays(profile, tbs.notBefore);
  if (days > max) problems.push(`validity of ${days} days exceeds the ${max} days allowed${profile.validity.kind === 'br-schedule' ? ' by the BR schedule' : ''}`);

  if (!sameBytes(tbs.publicKey.rawData, expected.spki)) problems.push('public key differs from the reservation');

  const oids = tbs.extensions.map((e) => e.type);
  const wanted = expectedExtensions(profile);
  if (new Set(oids).size !== oids.length) problems.push('an extension appears twice');
  for (const oid of oids) if (!wanted.includes(oid)) problems.push(`unexpected extension ${oid}`);
  for (const oid of wanted) if (!oids.includes(oid)) problems.push(`missing extension ${oid}`);
  for (const e of tbs.extensions) if (e.critical !== CRITICAL.has(e.type)) problems.push(`extension ${e.type} must be ${CRITICAL.has(e.type) ? '' : 'non-'}critical`);

  const bc = tbs.getExtension(x509.BasicConstraintsExtension);
  if (bc && (bc.ca || bc.pathLength !== undefined)) problems.push('basicConstraints must say cA=false');
  const ku = tbs.getExtension(x509.KeyUsagesExtension);
  if (ku && ku.usages !== profile.keyUsage[expected.keyType]) problems.push('keyUsage does not match the profile');
  const eku = tbs.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku && !sameSet(eku.usages.map(String), profile.extendedKeyUsage)) problems.push('extendedKeyUsage does not match the profile');
  const policies = tbs.getExtension(x509.CertificatePolicyExtension);
  if (policies && !sameSet(policies.policies, profile.policies)) problems.push('certificatePolicies do not match the profile');

  const san = tbs.getExtension(x509.SubjectAlternativeNameExtension);
  if (san) problems.push(...sanProblems(san, expected, subject));

  const aki = tbs.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (aki && aki.keyId !== issuing.keyId) problems.push('authorityKeyIdentifier is not the issuing CA key');
  const cdp = tbs.getExtension(x509.CRLDistributionPointsExtension);
  if (cdp && !sameList(crlDistributionUrls(cdp), [caCrlUrl(pkiBaseUrl, issuing.id)])) problems.push(`CRL distribution point must be the CRL of ${issuing.id}`);
  const aia = tbs.getExtension(x509.AuthorityInfoAccessExtension);
  if (aia) {
    if (!sameList(urlsOf(aia.ocsp), [ocspUrl(pkiBaseUrl)])) problems.push('AIA must name the OCSP responder');
    if (!sameList(urlsOf(aia.caIssuers), [caCertificateUrl(pkiBaseUrl, issuing.id)])) problems.push(`AIA caIssuers must be the certificate of ${issuing.id}`);
    if (aia.timeStamping.length + aia.caRepository.length > 0) problems.push('AIA carries unexpected access methods');
  }
  const qc = tbs.extensions.find((e) => e.type === OID.qcStatements);
  if (qc) problems.push(...qcProblems(qc, expected.pdsUrl));

  const sigAlg = tbs.signatureAlgorithm as { name: string; hash?: { name: string } };
  if (sigAlg.name !== 'ECDSA' || sigAlg.hash?.name !== 'SHA-384') problems.push('signature algorithm must be ecdsa-with-SHA384');
  // The same certificate against the standards its profile must follow (standards.ts): a wrong profile stops here too.
  problems.push(...standardsProblems(tbs, { profile, keyType: expected.keyType, issuer }));
  return problems;
}

function sanProblems(
  san: x509.SubjectAlternativeNameExtension,
  expected: { readonly profile: CertificateProfile; readonly email: string; readonly dnsNames: readonly string[] },
  subject: readonly { attribute: string; value: string }[],
): string[] {
  const { profile } = expected;
  const names = san.names.toJSON();
  if (profile.san === 'email') {
    return names.length === 1 && names[0]?.type === 'email' && names[0].value === expected.email ? [] : ['subjectAltName must be exactly the holder e-mail'];
  }
  const problems: string[] = [];
  if (names.some((n) => n.type !== 'dns')) problems.push('subjectAltName may hold DNS names only');
  const dns = names.filter((n) => n.type === 'dns').map((n) => n.value);
  if (!sameList(dns, expected.dnsNames)) problems.push('subjectAltName differs from the requested names');
  for (const name of dns) {
    const check = checkDnsName(name, { wildcardAllowed: profile.san === 'dns-wildcard' });
    if (!check.ok) problems.push(`${check.message} [${check.rule}]`);
    else if (check.name !== name) problems.push(`${name} is not in lower case`);
  }
  if (profile.san === 'dns-wildcard' && !dns.some((name) => name.startsWith('*.'))) problems.push('a wildcard certificate needs a wildcard name');
  // BR §7.1.4.3: a common name, when present, is one of the SAN's names.
  const cn = subject.find((f) => f.attribute === 'CN')?.value;
  if (cn !== undefined && !dns.includes(cn)) problems.push('common name is not among the subjectAltName DNS names');
  return problems;
}

function qcProblems(extension: x509.Extension, pdsBaseUrl: string): string[] {
  let content;
  try {
    content = readQcStatements(extension);
  } catch {
    return ['QCStatements do not parse'];
  }
  const problems: string[] = [];
  if (!sameList(content.statementIds, [ETSI_QCS.compliance, ETSI_QCS.sscd, ETSI_QCS.type, ETSI_QCS.pds])) {
    problems.push('QCStatements must be QcCompliance, QcSSCD, QcType, QcPDS');
  }
  if (!sameList(content.qcTypes, [ETSI_QCS.typeEsign])) problems.push('QcType must be esign');
  const pds = content.pdsLocations;
  if (pds.length !== 1 || pds[0]?.url !== pdsUrl(pdsBaseUrl) || pds[0].language !== 'en') problems.push('QcPDS must be the English PDS');
  return problems;
}
