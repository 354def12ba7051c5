/**
 * The OCSP responder (RFC 6960). Each CA's answers are signed by its delegated responder (§2.2 case 3, §4.2.2.2): a
 * key of the certflow-ocsp token certified by that CA for id-kp-OCSPSigning, never by the CA's own key, so the API
 * answers OCSP holding no CA key. The responder names itself by key hash and sends its certificate in the response.
 * A request is DER in, a response is DER out, whatever the input: garbage gets a malformedRequest response, a CertID
 * of no CA of ours an unauthorized one (§2.3). The transport (POST body, GET base64 path, content types) is the
 * caller's business.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  BasicOCSPResponse,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  type CertID,
} from '@peculiar/asn1-ocsp';
import { Certificate, CRLReason, Extension } from '@peculiar/asn1-x509';
import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { certificates } from '../../db/schema.js';
import { isRevocationReason, REVOCATION_REASON_CODES } from '../../domain/revocation.js';
import { caIdentity, digest } from './ca-identity.js';
import { caSignatureAlgorithm, serialHex, signTbs } from './ca-signature.js';
import { wholeSeconds, type CaRecord } from './hierarchy.js';
import type { CryptoKey, x509 } from '../../lib/pki/x509.js';
import { encodeOcspResponse, ocspStatusOnly } from '../../lib/pki/ocsp-status.js';

/** How long a response may be cached: a day, well within the BR's bound (§4.9.10: at most 10 days). */
export const OCSP_VALIDITY_MS = 86_400_000;

/** CertID hash algorithms we recognise (SHA-1 is what most clients still send, SHA-256 what newer ones do). */
const CERT_ID_HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface OcspResponder {
  /** A DER OCSPResponse for a DER OCSPRequest; never throws on what the client sent. */
  respond(requestDer: Uint8Array): Promise<Uint8Array>;
}

/** A CA's delegated responder: its certificate (issued by the CA) and its key on the certflow-ocsp token. */
export interface OcspSigner {
  readonly id: string;
  readonly certificate: x509.X509Certificate;
  readonly signingKey: CryptoKey;
}

export interface OcspResponderDeps {
  readonly db: Database;
  readonly now: () => Date;
  /** Every CA, no key: whose CertIDs are recognised. */
  readonly cas: () => Promise<readonly CaRecord[]>;
  /** The CA's current delegated responder. */
  readonly responder: (ca: CaRecord) => Promise<OcspSigner>;
}

type Status = { kind: 'good' } | { kind: 'unknown' } | { kind: 'revoked'; at: Date; reasonCode: number };

export function createOcspResponder(deps: OcspResponderDeps): OcspResponder {
  /** The status of each serial as `ca` issued it: its certificates table rows, and the CAs it certified. */
  async function statuses(ca: CaRecord, serials: readonly string[], cas: readonly CaRecord[]): Promise<Map<string, Status>> {
    const rows = await deps.db
      .select({ serial: certificates.serial, status: certificates.status, revokedAt: certificates.revokedAt, reason: certificates.revocationReason })
      .from(certificates)
      .where(and(eq(certificates.issuingCa, ca.id), inArray(certificates.serial, [...new Set(serials)])));
    const found = new Map<string, Status>();
    for (const row of rows) found.set(row.serial, statusOf(row));
    // A root answers for the issuing CA it signed: CAs are never revoked here.
    for (const child of cas) {
      if (child.parentId === ca.id) found.set(child.certificate.serialNumber.toLowerCase(), { kind: 'good' });
    }
    return found;
  }

  return {
    async respond(requestDer) {
      let request: OCSPRequest;
      try {
        request = AsnConvert.parse(requestDer, OCSPRequest);
      } catch {
        return ocspStatusOnly(OCSPResponseStatus.malformedRequest);
      }
      const certIds = request.tbsRequest.requestList.map((r) => r.reqCert);
      if (certIds.length === 0) return ocspStatusOnly(OCSPResponseStatus.malformedRequest);

      const cas = await deps.cas();
      const issuers = certIds.map((certId) => cas.find((ca) => issued(ca, certId)));
      const issuer = issuers[0];
      // One response has one signer: every CertID must name the same CA of ours.
      if (issuer === undefined || issuers.some((ca) => ca !== issuer)) return ocspStatusOnly(OCSPResponseStatus.unauthorized);

      const serials = certIds.map((certId) => serialHex(certId.serialNumber));
      const [known, signer] = await Promise.all([statuses(issuer, serials, cas), deps.responder(issuer)]);
      const thisUpdate = wholeSeconds(deps.now());
      const nextUpdate = new Date(thisUpdate.getTime() + OCSP_VALIDITY_MS);
      const tbsResponseData = new ResponseData({
        responderID: new ResponderID({ byKey: new OctetString(digest('sha1', caIdentity(signer).publicKeyBits)) }),
        producedAt: thisUpdate,
        responses: certIds.map(
          (certID, i) => new SingleResponse({ certID, certStatus: certStatus(known.get(serials[i] ?? '') ?? { kind: 'unknown' }), thisUpdate, nextUpdate }),
        ),
      });
      const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
      if (nonce !== undefined) tbsResponseData.responseExtensions = [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: nonce.extnValue })];

      const signature = await signTbs(signer, AsnConvert.serialize(tbsResponseData));
      const basic = new BasicOCSPResponse({
        tbsResponseData,
        signatureAlgorithm: caSignatureAlgorithm(),
        signature,
        // The responder's certificate (§4.2.2.2): the client checks it was issued by the CA its request named.
        certs: [AsnConvert.parse(signer.certificate.rawData, Certificate)],
      });
      return encodeOcspResponse(
        new OCSPResponse({
          responseStatus: OCSPResponseStatus.successful,
          responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
        }),
      );
    },
  };
}

/** Whether the CertID names this CA: its name and key hashed with the CertID's own algorithm. */
function issued(ca: CaRecord, certId: CertID): boolean {
  const hash = CERT_ID_HASHES[certId.hashAlgorithm.algorithm];
  if (hash === undefined) return false;
  const identity = caIdentity(ca);
  return (
    digest(hash, identity.subjectDer).equals(Buffer.from(certId.issuerNameHash.buffer)) &&
    digest(hash, identity.publicKeyBits).equals(Buffer.from(certId.issuerKeyHash.buffer))
  );
}

function statusOf(row: { serial: string; status: string; revokedAt: Date | null; reason: string | null }): Status {
  switch (row.status) {
    case 'valid':
      return { kind: 'good' };
    case 'revoked':
    case 'held': {
      if (row.revokedAt === null || row.reason === null || !isRevocationReason(row.reason)) {
        throw new Error(`certificate ${row.serial} is ${row.status} without a proper time and reason`);
      }
      return { kind: 'revoked', at: row.revokedAt, reasonCode: REVOCATION_REASON_CODES[row.reason] };
    }
    default:
      // Only reserved: no certificate was signed under that serial.
      return { kind: 'unknown' };
  }
}

function certStatus(status: Status): CertStatus {
  switch (status.kind) {
    case 'good':
      return new CertStatus({ good: null });
    case 'unknown':
      return new CertStatus({ unknown: null });
    case 'revoked':
      return new CertStatus({
        revoked: new RevokedInfo({
          revocationTime: wholeSeconds(status.at),
          // As in the CRL: no reason for unspecified (BR §7.2.2).
          revocationReason: status.reasonCode === REVOCATION_REASON_CODES.unspecified ? undefined : new CRLReason(status.reasonCode),
        }),
      });
  }
}

