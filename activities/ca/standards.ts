/**
 * What the standards demand of a subscriber certificate, whatever its product profile says: the third look of the
 * pre-issuance lint (lint.ts), on the to-be-signed certificate and its issuing CA. The profile-matching checks of lint.ts
 * catch a certificate that strays from its profile; these catch a profile that strays from the standards, before any
 * signature. Each problem names the rule:
 * - TLS BR (CA/Browser Forum Baseline Requirements 2.x) §7.1.2.7 for serverAuth certificates, §7.1.2.10 for their CA;
 * - S/MIME BR (CA/Browser Forum S/MIME Baseline Requirements 1.0.x) §6.3.2, §7.1.2.3, §7.1.4.2 and §7.1.6 for certificates with
 *   emailProtection and an e-mail SAN, §7.1.2.2 g and §7.1.6.3 for their CA;
 * - ETSI EN 319 412-2 (natural persons), EN 319 412-3 (legal persons: seals, server-client) and EN 319 412-5
 *   (QCStatements) for the rest.
 */
import { ETSI_QCS, OID_QC_STATEMENTS, crlDistributionUrls, readQcStatements } from './extensions.js';
import { ANY_POLICY, CABF_POLICY, CABF_TLS_RESERVED, ETSI_POLICY, isSmimeReserved, smimePolicy } from './policies.js';
import { SMIME_MAX_VALIDITY_DAYS, type CertificateProfile, type KeyType, type SmimeProfile } from './profiles.js';
import { parsedSubject } from '../../lib/pki/subject.js';
import { x509 } from '../../lib/pki/x509.js';

const { digitalSignature: DS, nonRepudiation: NR, keyEncipherment: KE, dataEncipherment: DE, keyAgreement: KA, encipherOnly: EO, decipherOnly: DO } =
  x509.KeyUsageFlags;

const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  any: '2.5.29.37.0',
  precertificateSigning: '1.3.6.1.4.1.11129.2.4.4',
} as const;

const OID_SUBJECT_DIRECTORY_ATTRIBUTES = '2.5.29.9';

/** Subject attribute keys as lib/pki/subject.ts parses them (names it knows, dotted OIDs otherwise). */
const ATTR = { pseudonym: '2.5.4.65', serialNumber: '2.5.4.5', street: '2.5.4.9', postalCode: '2.5.4.17', email: 'E', title: 'T', state: 'ST' } as const;

/** What the standards are checked against: the certificate as it would be signed, its profile, its key and its CA. */
export interface StandardsInput {
  readonly profile: CertificateProfile;
  readonly keyType: KeyType;
  /** The issuing CA's certificate. */
  readonly issuer: x509.X509Certificate;
}

const ekuOf = (cert: x509.X509Certificate): string[] | undefined => cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String);
const policiesOf = (cert: x509.X509Certificate): readonly string[] => cert.getExtension(x509.CertificatePolicyExtension)?.policies ?? [];
const names = (flags: number): string =>
  Object.entries({ digitalSignature: DS, nonRepudiation: NR, keyEncipherment: KE, dataEncipherment: DE, keyAgreement: KA, encipherOnly: EO, decipherOnly: DO })
    .filter(([, flag]) => (flags & flag) !== 0)
    .map(([name]) => name)
    .join(', ') || 'none';

/**
 * The key usage type of ETSI EN 319 412-2 table 1 (§4.3.2, also used by EN 319 412-3 §4.3.1): A nonRepudiation,
 * B nonRepudiation + digitalSignature, C digitalSignature, D digitalSignature + one of keyEncipherment/keyAgreement,
 * E one of keyEncipherment/keyAgreement, F B + one of them. Any other combination is none of them.
 */
export function etsiKeyUsageType(ku: number): 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | undefined {
  if ((ku & ~(DS | NR | KE | KA)) !== 0) return undefined;
  const management = ku & (KE | KA);
  if (management === (KE | KA)) return undefined;
  const signing = ku & (DS | NR);
  const types: Partial<Record<number, 'A' | 'B' | 'C' | 'D' | 'E' | 'F'>> =
    management === 0 ? { [NR]: 'A', [DS | NR]: 'B', [DS]: 'C' } : { 0: 'E', [DS]: 'D', [DS | NR]: 'F' };
  return types[signing];
}

/** S/MIME BR §7.1.2.3 e: signing only, key management only or dual use, per key type and generation; nothing else. */
function smimeKeyUsageProblems(ku: number, keyType: KeyType, smime: SmimeProfile): string[] {
  const signing = (ku & DS) !== 0;
  const management = (ku & (keyType === 'rsa' ? KE : KA)) !== 0;
  if (!signing && !management) {
    return [`keyUsage ${names(ku)}: an S/MIME certificate signs (digitalSignature), manages keys (${keyType === 'rsa' ? 'keyEncipherment' : 'keyAgreement'}) or both (S/MIME BR §7.1.2.3 e)`];
  }
  const optionalManagement = keyType === 'rsa' ? (smime.generation === 'strict' ? 0 : DE) : EO | DO;
  const allowed = (signing ? DS | NR : 0) | (management ? (keyType === 'rsa' ? KE : KA) | optionalManagement : 0);
  const extra = ku & ~allowed;
  return extra === 0 ? [] : [`keyUsage ${names(extra)} not allowed in a ${smime.generation} S/MIME certificate with ${keyType === 'rsa' ? 'an RSA' : 'an EC'} key (S/MIME BR §7.1.2.3 e)`];
}

/** TLS BR §7.1.2.7.11: the bits permitted for the key's algorithm. */
function tlsKeyUsageProblems(ku: number, keyType: KeyType): string[] {
  if (keyType === 'rsa') {
    const extra = ku & ~(DS | KE | DE);
    if (ku === 0) return ['keyUsage of an RSA TLS certificate sets at least one bit (BR §7.1.2.7.11)'];
    return extra === 0 ? [] : [`keyUsage ${names(extra)} not permitted for an RSA TLS certificate (BR §7.1.2.7.11)`];
  }
  const problems = (ku & DS) === 0 ? ['keyUsage of an EC TLS certificate must set digitalSignature (BR §7.1.2.7.11)'] : [];
  const extra = ku & ~(DS | KA);
  if (extra !== 0) problems.push(`keyUsage ${names(extra)} not permitted for an EC TLS certificate (BR §7.1.2.7.11)`);
  return problems;
}

/** ETSI EN 319 412-2 §4.3.2 / EN 319 412-3 §4.3.1: one of types A–F; a key that commits to content A, B or F. */
function etsiKeyUsageProblems(ku: number, contentCommitment: boolean, part: '412-2 NAT-4.3.2' | '412-3 LEG-4.3.1'): string[] {
  const type = etsiKeyUsageType(ku);
  if (type === undefined) return [`keyUsage ${names(ku)} is none of the types A–F of ETSI EN 319 412-2 table 1 (EN 319 ${part})`];
  if (contentCommitment && !['A', 'B', 'F'].includes(type)) return [`keyUsage type ${type}: a certificate that signs content is of type A, B or F (EN 319 ${part})`];
  return [];
}

/** Every CRL, OCSP and caIssuers URI is http (BR §7.1.2.11.2 and §7.1.2.7.7; S/MIME BR §7.1.2.3 b, c; EN 319 412-2 §4.3.11, §4.4.1 allow it). */
function uriSchemeProblems(cert: x509.X509Certificate): string[] {
  const problems: string[] = [];
  const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
  for (const url of cdp ? crlDistributionUrls(cdp) : []) {
    if (!url.startsWith('http://')) problems.push(`CRL distribution point ${url} is not http:// (BR §7.1.2.11.2, S/MIME BR §7.1.2.3 b)`);
  }
  const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
  for (const [method, list] of [
    ['OCSP', aia?.ocsp ?? []],
    ['caIssuers', aia?.caIssuers ?? []],
  ] as const) {
    for (const name of list) {
      if (name.type !== 'url' || !name.value.startsWith('http://')) problems.push(`AIA ${method} ${name.value} is not an http:// URI (BR §7.1.2.7.7, S/MIME BR §7.1.2.3 c)`);
    }
  }
  return problems;
}

function tlsProblems(cert: x509.X509Certificate, { keyType, issuer }: StandardsInput): string[] {
  const problems: string[] = [];
  const eku = ekuOf(cert) ?? [];
  if (!eku.includes(EKU.serverAuth)) problems.push('a TLS certificate carries serverAuth (BR §7.1.2.7.10)');
  for (const forbidden of [EKU.codeSigning, EKU.emailProtection, EKU.timeStamping, EKU.ocspSigning, EKU.any, EKU.precertificateSigning]) {
    if (eku.includes(forbidden)) problems.push(`extendedKeyUsage ${forbidden} is forbidden in a TLS certificate (BR §7.1.2.7.10)`);
  }
  problems.push(...tlsKeyUsageProblems(cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0, keyType));

  const policies = policiesOf(cert);
  const reserved = policies.filter((p) => (CABF_TLS_RESERVED as readonly string[]).includes(p));
  if (reserved.length !== 1) problems.push('a TLS certificate asserts exactly one reserved CA/B Forum policy (BR §7.1.2.7.9)');
  else if (reserved[0] !== CABF_POLICY.organizationValidated) problems.push('an organisation-validated TLS certificate asserts 2.23.140.1.2.2 (BR §7.1.2.7.4)');
  else if (policies[0] !== CABF_POLICY.organizationValidated) problems.push('the reserved CA/B Forum policy comes first (BR §7.1.2.7.9)');
  if (policies.some(isSmimeReserved)) problems.push('a TLS certificate asserts no S/MIME BR policy');

  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!san || !san.names.toJSON().some((n) => n.type === 'dns')) problems.push('a TLS certificate names at least one dNSName in its subjectAltName (BR §7.1.2.7.12)');
  else if (san.critical) problems.push('the subjectAltName of a TLS certificate with a subject is non-critical (BR §7.1.2.7.12)');

  const subject = parsedSubject(cert.subjectName.toString());
  const has = (attribute: string): boolean => subject.some((f) => f.attribute === attribute);
  if (!has('C') || !has('O') || !(has('L') || has(ATTR.state))) problems.push('an OV subject names countryName, organizationName and localityName or stateOrProvinceName (BR §7.1.2.7.4)');
  for (const forbidden of ['G', 'SN', 'OU']) if (has(forbidden)) problems.push(`${forbidden} is forbidden in an OV subject (BR §7.1.2.7.4)`);
  if (cert.getExtension(x509.SubjectKeyIdentifierExtension)) problems.push('a TLS subscriber certificate carries no subjectKeyIdentifier here (BR §7.1.2.7.6: NOT RECOMMENDED)');
  if (!cert.getExtension(x509.AuthorityInfoAccessExtension)?.caIssuers.length) problems.push('a TLS certificate gives its issuer in AIA caIssuers (BR §7.1.2.7.6, §7.1.2.7.7)');

  // BR §7.1.2.10.6 and §7.1.2.10.5: its CA is a TLS CA.
  const caEku = ekuOf(issuer);
  if (caEku === undefined || !caEku.includes(EKU.serverAuth) || caEku.some((p) => p === EKU.emailProtection || p === EKU.codeSigning || p === EKU.any)) {
    problems.push('the issuing CA of a TLS certificate has an extendedKeyUsage with serverAuth and without emailProtection, codeSigning or anyExtendedKeyUsage (BR §7.1.2.10.6)');
  }
  return problems;
}

/**
 * S/MIME BR §6.3.2: 825 days at most for strict and multipurpose certificates. The period runs from notBefore through
 * notAfter inclusive (RFC 5280 §4.1.2.5), days of 86,400 seconds, any part of one more counting as a whole day.
 */
export function smimeValidityDays(cert: Pick<x509.X509Certificate, 'notBefore' | 'notAfter'>): number {
  return Math.ceil((cert.notAfter.getTime() - cert.notBefore.getTime() + 1000) / 86_400_000);
}

function smimeProblems(cert: x509.X509Certificate, smime: SmimeProfile, { keyType, issuer }: StandardsInput): string[] {
  const problems: string[] = [];
  const generation = smime.generation;
  const days = smimeValidityDays(cert);
  if (days > SMIME_MAX_VALIDITY_DAYS) problems.push(`validity of ${days} days exceeds the ${SMIME_MAX_VALIDITY_DAYS} days of a ${generation} S/MIME certificate (S/MIME BR §6.3.2)`);
  const policies = policiesOf(cert);
  const reserved = policies.filter(isSmimeReserved);
  const expected = smimePolicy(smime.validation, generation);
  if (reserved.length !== 1) problems.push('an S/MIME certificate asserts exactly one reserved S/MIME BR policy (S/MIME BR §7.1.2.3 a, §7.1.6.4)');
  else if (reserved[0] !== expected) problems.push(`a ${smime.validation}-validated ${generation} S/MIME certificate asserts ${expected}, not ${reserved[0] ?? ''} (S/MIME BR §7.1.6.1)`);
  if (generation === 'legacy' || reserved.some((p) => p.endsWith('.1'))) problems.push('legacy S/MIME certificates may no longer be issued (S/MIME BR §7.1.6.1, since 2025-07-15)');
  if (policies.some((p) => (CABF_TLS_RESERVED as readonly string[]).includes(p))) problems.push('an S/MIME certificate asserts no TLS BR policy');

  const eku = ekuOf(cert) ?? [];
  if (!eku.includes(EKU.emailProtection)) problems.push('an S/MIME certificate carries emailProtection (S/MIME BR §7.1.2.3 f)');
  for (const forbidden of [EKU.serverAuth, EKU.codeSigning, EKU.timeStamping, EKU.any]) {
    if (eku.includes(forbidden)) problems.push(`extendedKeyUsage ${forbidden} is forbidden in an S/MIME certificate (S/MIME BR §7.1.2.3 f)`);
  }
  if (generation === 'strict' && eku.some((p) => p !== EKU.emailProtection)) problems.push('a strict S/MIME certificate carries emailProtection and nothing else (S/MIME BR §7.1.2.3 f)');
  problems.push(...smimeKeyUsageProblems(cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0, keyType, smime));

  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const sanNames = san?.names.toJSON() ?? [];
  if (!sanNames.some((n) => n.type === 'email')) problems.push('an S/MIME certificate names a mailbox (rfc822Name) in its subjectAltName (S/MIME BR §7.1.2.3 h, §7.1.4.2.1)');
  if (sanNames.some((n) => n.type !== 'email')) problems.push('the subjectAltName of an S/MIME certificate holds mailboxes only here (S/MIME BR §7.1.4.2.1)');
  if (san?.critical) problems.push('the subjectAltName of an S/MIME certificate with a subject is non-critical (S/MIME BR §7.1.2.3 h)');
  if (!cert.getExtension(x509.CRLDistributionPointsExtension)) problems.push('an S/MIME certificate has a CRL distribution point (S/MIME BR §7.1.2.3 b)');
  if (!cert.getExtension(x509.SubjectKeyIdentifierExtension)) problems.push('an S/MIME certificate carries a subjectKeyIdentifier (S/MIME BR §7.1.2.3 n)');
  if (cert.extensions.some((e) => e.type === OID_SUBJECT_DIRECTORY_ATTRIBUTES)) problems.push(`subjectDirectoryAttributes are prohibited in a ${generation} S/MIME certificate (S/MIME BR §7.1.2.3 j)`);

  if (smime.validation !== 'sponsored') problems.push(`only sponsor-validated S/MIME subjects are profiled here, not ${smime.validation}`);
  else problems.push(...sponsoredSubjectProblems(cert, generation, sanNames.filter((n) => n.type === 'email').map((n) => n.value)));

  // S/MIME BR §7.1.2.2 g and §7.1.6.3: its CA is an S/MIME CA that lets the reserved policy through.
  const caEku = ekuOf(issuer);
  if (caEku === undefined || !caEku.includes(EKU.emailProtection)) problems.push('the issuing CA of an S/MIME certificate carries the emailProtection EKU (S/MIME BR §7.1.2.2 g)');
  for (const forbidden of [EKU.serverAuth, EKU.codeSigning, EKU.timeStamping, EKU.any]) {
    if (caEku?.includes(forbidden)) problems.push(`the issuing CA of an S/MIME certificate must not carry ${forbidden} (S/MIME BR §7.1.2.2 g)`);
  }
  const caPolicies = policiesOf(issuer);
  if (!caPolicies.includes(ANY_POLICY) && !caPolicies.includes(expected)) problems.push(`the issuing CA asserts ${expected} or anyPolicy (S/MIME BR §7.1.6.3)`);
  return problems;
}

/** S/MIME BR §7.1.4.2.2 and the sponsor-validated table §7.1.4.2.5 (multipurpose and strict columns). */
function sponsoredSubjectProblems(cert: x509.X509Certificate, generation: SmimeProfile['generation'], mailboxes: readonly string[]): string[] {
  const problems: string[] = [];
  const subject = parsedSubject(cert.subjectName.toString());
  const value = (attribute: string): string | undefined => subject.find((f) => f.attribute === attribute)?.value;
  const allowed = new Set<string>(['CN', 'O', 'organizationIdentifier', 'G', 'SN', ATTR.pseudonym, ATTR.serialNumber, ATTR.email, ATTR.title, 'L', ATTR.state, 'C']);
  if (generation !== 'strict') for (const a of [ATTR.street, ATTR.postalCode]) allowed.add(a);
  for (const { attribute } of subject) {
    // OU may only be the verified legal name of an Affiliate of O (§7.1.4.2.2 c); CertFlow verifies no Affiliate.
    if (attribute === 'OU') problems.push('organizationalUnitName in an S/MIME subject must be a verified Affiliate name, which CertFlow does not validate (S/MIME BR §7.1.4.2.2 c)');
    else if (!allowed.has(attribute)) problems.push(`${attribute} is not allowed in a ${generation} sponsor-validated S/MIME subject (S/MIME BR §7.1.4.2.5)`);
  }
  if (value('O') === undefined || value('organizationIdentifier') === undefined) problems.push('a sponsor-validated subject names organizationName and organizationIdentifier (S/MIME BR §7.1.4.2.5)');
  const personal = value('G') !== undefined || value('SN') !== undefined;
  const pseudonym = value(ATTR.pseudonym);
  if (!personal && pseudonym === undefined) problems.push('a sponsor-validated subject names givenName and/or surname, or a pseudonym (S/MIME BR §7.1.4.2.5 note 2)');
  if (personal && pseudonym !== undefined) problems.push('pseudonym and givenName/surname exclude each other (S/MIME BR §7.1.4.2.2 e, f)');
  const cn = value('CN');
  const personalName = [value('G'), value('SN')].filter((v) => v !== undefined).join(' ');
  if (cn !== undefined && cn !== personalName && cn !== pseudonym && !mailboxes.includes(cn)) {
    problems.push('the commonName of a sponsor-validated subject is the personal name, the pseudonym or a mailbox of the SAN (S/MIME BR §7.1.4.2.2 a)');
  }
  const orgId = value('organizationIdentifier');
  const scheme = orgId === undefined ? null : /^([A-Z]{3})([A-Z]{2})(\+[A-Z0-9]{1,3})?-(.+)$/.exec(orgId);
  if (orgId !== undefined && scheme === null) problems.push('organizationIdentifier is not <scheme><country>-<reference> (S/MIME BR §7.1.4.2.2 d)');
  else if (scheme && !['LEI', 'INT'].includes(scheme[1] ?? '') && value('C') !== undefined && scheme[2] !== value('C')) {
    problems.push('the country of organizationIdentifier is the subject countryName (S/MIME BR §7.1.4.2.2 d note 1)');
  }
  for (const { attribute, value: v } of subject) if (/^[\s.-]*$/.test(v)) problems.push(`${attribute} holds only metadata characters (S/MIME BR §7.1.4.2)`);
  return problems;
}

/** ETSI EN 319 412-2 §4.2.4 and §4.3.2: a natural person's subject and key usage. */
function naturalPersonProblems(cert: x509.X509Certificate, profile: CertificateProfile): string[] {
  const problems: string[] = [];
  const subject = parsedSubject(cert.subjectName.toString());
  const count = (attribute: string): number => subject.filter((f) => f.attribute === attribute).length;
  if (count('C') !== 1 || count('CN') !== 1) problems.push('a natural person subject names exactly one countryName and one commonName (EN 319 412-2 NAT-4.2.4-1, -3)');
  if (count('G') + count('SN') === 0 && count(ATTR.pseudonym) === 0) problems.push('a natural person subject names givenName and/or surname, or a pseudonym (EN 319 412-2 NAT-4.2.4-1)');
  const ku = cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
  problems.push(...etsiKeyUsageProblems(ku, profile.contentCommitment || profile.qcStatements, '412-2 NAT-4.3.2'));
  if (!cert.getExtension(x509.AuthorityInfoAccessExtension)?.caIssuers.length) problems.push('AIA names the issuing CA certificate (EN 319 412-2 GEN-4.4.1-2)');
  return problems;
}

/** ETSI EN 319 412-3 §4.2.1 and §4.3.1: a legal person's subject and key usage (seals, server-client). */
function legalPersonProblems(cert: x509.X509Certificate, profile: CertificateProfile): string[] {
  const problems: string[] = [];
  const subject = parsedSubject(cert.subjectName.toString());
  const values = (attribute: string): string[] => subject.filter((f) => f.attribute === attribute).map((f) => f.value);
  for (const attribute of ['C', 'O', 'organizationIdentifier', 'CN']) {
    if (values(attribute).length !== 1) problems.push(`a legal person subject names exactly one ${attribute} (EN 319 412-3 LEG-4.2.1-2, -3)`);
  }
  if (values('organizationIdentifier')[0] === values('O')[0]) problems.push('organizationIdentifier differs from organizationName (EN 319 412-3 LEG-4.2.1-6)');
  for (const attribute of ['G', 'SN', ATTR.pseudonym]) if (values(attribute).length > 0) problems.push(`${attribute} names a natural person, not a legal person (EN 319 412-3 §4.2.1)`);
  const ku = cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
  problems.push(...etsiKeyUsageProblems(ku, profile.contentCommitment, '412-3 LEG-4.3.1'));
  if ((ekuOf(cert) ?? []).includes(EKU.emailProtection)) problems.push('a legal person certificate here carries no emailProtection: it would be an organization-validated S/MIME certificate');
  return problems;
}

/** ETSI EN 319 412-5 (QCStatements) and EN 319 412-2 §5 (qualified natural persons). */
function qualifiedProblems(cert: x509.X509Certificate, profile: CertificateProfile): string[] {
  const extension = cert.extensions.find((e) => e.type === OID_QC_STATEMENTS);
  if (extension === undefined) return profile.qcStatements ? ['a qualified certificate carries QCStatements (EN 319 412-5 §5)'] : [];
  const problems: string[] = [];
  if (extension.critical) problems.push('QCStatements is non-critical (EN 319 412-5 QCS-4.1-02)');
  let content;
  try {
    content = readQcStatements(extension);
  } catch {
    return [...problems, 'QCStatements do not parse (EN 319 412-5 §4)'];
  }
  if (!content.statementIds.includes(ETSI_QCS.compliance)) problems.push('an EU qualified certificate states QcCompliance (EN 319 412-5 §5 table 2)');
  const policies = policiesOf(cert);
  const sscd = content.statementIds.includes(ETSI_QCS.sscd);
  if (sscd !== policies.includes(ETSI_POLICY.qcpNQscd)) problems.push('QcSSCD goes with the QCP-n-qscd policy 0.4.0.194112.1.2 (EN 319 412-5 §4.2.2, EN 319 412-2 QCS-5.2)');
  if (profile.kind === 'person' && (content.qcTypes.length !== 1 || content.qcTypes[0] !== ETSI_QCS.typeEsign)) {
    problems.push('a natural person qualified certificate has the one QcType esign (EN 319 412-5 §4.2.3)');
  }
  if (content.pdsLocations.length === 0) problems.push('a qualified certificate names its PDS (EN 319 412-5 §4.3.4)');
  for (const { url, language } of content.pdsLocations) {
    if (!url.startsWith('https://')) problems.push(`the PDS location ${url} is not https:// (EN 319 412-5 §4.3.4)`);
    if (!/^[a-z]{2}$/.test(language)) problems.push(`the PDS language ${language} is not an ISO 639-1 code (EN 319 412-5 §4.3.4)`);
  }
  if (!content.pdsLocations.some((l) => l.language === 'en')) problems.push('one PDS is in English (EN 319 412-5 §4.3.4)');
  return problems;
}

/** RFC 5280 §6.1 (policies) and §4.2.1.12 as clients apply it to a chain: the issuing CA allows what its leaf asserts. */
function issuerAllowsProblems(cert: x509.X509Certificate, issuer: x509.X509Certificate): string[] {
  const problems: string[] = [];
  const caPolicies = policiesOf(issuer);
  if (!caPolicies.includes(ANY_POLICY)) {
    for (const policy of policiesOf(cert)) if (!caPolicies.includes(policy)) problems.push(`the issuing CA does not allow policy ${policy} (RFC 5280 §6.1)`);
  }
  const caEku = ekuOf(issuer);
  if (caEku !== undefined) {
    for (const purpose of ekuOf(cert) ?? []) if (!caEku.includes(purpose)) problems.push(`the issuing CA does not allow extendedKeyUsage ${purpose}`);
  }
  return problems;
}

/**
 * The standards' problems of a subscriber certificate about to be signed. Which rules apply follows the certificate
 * itself as much as its profile: serverAuth means the TLS BR, emailProtection with a mailbox the S/MIME BR — a profile
 * that forgets to say so is refused, not exempted.
 */
export function standardsProblems(cert: x509.X509Certificate, input: StandardsInput): string[] {
  const { profile } = input;
  const problems = uriSchemeProblems(cert);
  const policies = policiesOf(cert);
  if (policies.includes(ANY_POLICY)) problems.push('anyPolicy is for CA certificates, never a subscriber one (BR §7.1.2.7.9, S/MIME BR §7.1.6.4)');
  const eku = ekuOf(cert) ?? [];
  const mailbox = (cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? []).some((n) => n.type === 'email');
  if (eku.includes(EKU.emailProtection) && mailbox && profile.smime === undefined) {
    problems.push('emailProtection with a mailbox makes an S/MIME certificate (S/MIME BR §1.1): its profile must name an S/MIME generation and validation type');
  }
  if (profile.smime) problems.push(...smimeProblems(cert, profile.smime, input));
  else if (policies.some(isSmimeReserved)) problems.push('an S/MIME BR policy in a certificate whose profile is not S/MIME');
  if (profile.kind === 'tls' || eku.includes(EKU.serverAuth)) problems.push(...tlsProblems(cert, input));
  if (profile.kind === 'person') problems.push(...naturalPersonProblems(cert, profile));
  if (profile.kind === 'seal' || profile.kind === 'server_client') problems.push(...legalPersonProblems(cert, profile));
  problems.push(...qualifiedProblems(cert, profile));
  problems.push(...issuerAllowsProblems(cert, input.issuer));
  return problems;
}
