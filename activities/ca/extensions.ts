/**
 * Extensions the x509 library does not build for us, and the revocation pointers every certificate below a root
 * carries. QCStatements follow ETSI EN 319 412-5 (over RFC 3739's QCStatements syntax); the ETSI statement bodies
 * are declared here with asn1-schema, applying its decorators as plain functions (the project compiles without
 * legacy decorators).
 */
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { id_pe_qcStatements, QCStatement, QCStatements } from '@peculiar/asn1-x509-qualified';
import type { CaId } from '../../lib/pki/ca-ids.js';
import { caCertificateUrl, caCrlUrl, ocspUrl } from '../../lib/pki/urls.js';
import { x509 } from '../../lib/pki/x509.js';

export const OID_QC_STATEMENTS = id_pe_qcStatements;

/** ETSI EN 319 412-5 §4.2 and §4.3 statement and type identifiers. */
export const ETSI_QCS = {
  /** QcCompliance: an EU qualified certificate. */
  compliance: '0.4.0.1862.1.1',
  /** QcSSCD: the private key is on a qualified signature creation device. */
  sscd: '0.4.0.1862.1.4',
  /** QcPDS: where the PKI disclosure statements are. */
  pds: '0.4.0.1862.1.5',
  /** QcType: what the certificate is for, here an electronic signature (esign). */
  type: '0.4.0.1862.1.6',
  typeEsign: '0.4.0.1862.1.6.1',
} as const;

/** PdsLocation ::= SEQUENCE { url IA5String, language PrintableString (SIZE(2)) } — language per ISO 639-1. */
class PdsLocation {
  url = '';
  language = '';
}
AsnProp({ type: AsnPropTypes.IA5String })(PdsLocation.prototype, 'url');
AsnProp({ type: AsnPropTypes.PrintableString })(PdsLocation.prototype, 'language');

class PdsLocations extends AsnArray<PdsLocation> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: PdsLocation })(PdsLocations);

/** QcType ::= SEQUENCE OF OBJECT IDENTIFIER */
class QcType extends AsnArray<string> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: AsnPropTypes.ObjectIdentifier })(QcType);

export interface QcStatementsContent {
  /** Statement ids in their order. */
  readonly statementIds: readonly string[];
  readonly qcTypes: readonly string[];
  readonly pdsLocations: readonly { readonly url: string; readonly language: string }[];
}

const statement = (statementId: string, info?: ArrayBuffer): QCStatement => {
  const s = new QCStatement();
  s.statementId = statementId;
  // An absent body must not be encoded at all (the class defaults it to an empty buffer).
  if (info === undefined) delete (s as Partial<QCStatement>).statementInfo;
  else s.statementInfo = info;
  return s;
};

/**
 * The English PKI disclosure statement under config's PDS_URL (https://, no trailing slash): ETSI EN 319 412-5 §4.3.4
 * wants an https location. Under the default PUBLIC_BASE_URL/pds it is the API's /pds/en.
 */
export const pdsUrl = (pdsBaseUrl: string): string => `${pdsBaseUrl}/en`;

/** QCStatements of a qualified signature certificate on a QSCD: compliance, SSCD, type esign, the PDS (non-critical). */
export function qualifiedSignatureStatements(pdsBaseUrl: string): x509.Extension {
  const pds = new PdsLocations([Object.assign(new PdsLocation(), { url: pdsUrl(pdsBaseUrl), language: 'en' })]);
  const statements = new QCStatements([
    statement(ETSI_QCS.compliance),
    statement(ETSI_QCS.sscd),
    statement(ETSI_QCS.type, AsnConvert.serialize(new QcType([ETSI_QCS.typeEsign]))),
    statement(ETSI_QCS.pds, AsnConvert.serialize(pds)),
  ]);
  return new x509.Extension(OID_QC_STATEMENTS, false, AsnConvert.serialize(statements));
}

/** What a QCStatements extension says, for the lint; throws when it does not parse. */
export function readQcStatements(extension: x509.Extension): QcStatementsContent {
  const statements = AsnConvert.parse(extension.value, QCStatements);
  const qcTypes: string[] = [];
  const pdsLocations: { url: string; language: string }[] = [];
  for (const s of statements) {
    const info = s.statementInfo as ArrayBuffer | undefined;
    if (s.statementId === ETSI_QCS.type && info !== undefined) qcTypes.push(...AsnConvert.parse(info, QcType));
    if (s.statementId === ETSI_QCS.pds && info !== undefined) {
      for (const location of AsnConvert.parse(info, PdsLocations)) pdsLocations.push({ url: location.url, language: location.language });
    }
  }
  return { statementIds: statements.map((s) => s.statementId), qcTypes, pdsLocations };
}

/**
 * Where to learn whether a certificate signed by `issuerId` is revoked and where its issuer's certificate is: the CRL
 * distribution point and AIA caIssuers, plus the OCSP responder for end-entity certificates (a CA certificate's
 * status is in its root's CRL only). `pkiBaseUrl` is PKI_HTTP_BASE_URL, http:// (BR §7.1.2.11.2, S/MIME BR §7.1.2.3).
 */
export function revocationPointers(pkiBaseUrl: string, issuerId: CaId, opts: { ocsp: boolean }): x509.Extension[] {
  const caIssuers = caCertificateUrl(pkiBaseUrl, issuerId);
  return [
    new x509.CRLDistributionPointsExtension([caCrlUrl(pkiBaseUrl, issuerId)], false),
    new x509.AuthorityInfoAccessExtension(opts.ocsp ? { ocsp: ocspUrl(pkiBaseUrl), caIssuers } : { caIssuers }, false),
  ];
}

/** The URIs of a CRL distribution points extension (full names only). */
export function crlDistributionUrls(extension: x509.CRLDistributionPointsExtension): string[] {
  return extension.distributionPoints.flatMap((point) => (point.distributionPoint?.fullName ?? []).flatMap((name) => (name.uniformResourceIdentifier === undefined ? [] : [name.uniformResourceIdentifier])));
}
