/**
 * The OCSP responder (RFC 6960). Each CA answers for the certificates it issued and signs its responses itself
 * (§2.2 case 1: no delegated responder certificate to manage), naming itself by key hash. A request is DER in, a
 * response is DER out, whatever the input: garbage gets a malformedRequest response, a CertID of no CA of ours an
 * unauthorized one (§2.3). The transport (POST body, GET base64 path, content types) is the caller's business.
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
import { caSignatureAlgorithm, serialHex, signWithCa } from './ca-signature.js';
import { wholeSeconds, type LoadedCa } from './hierarchy.js';
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

export interface OcspResponderDeps {
  readonly db: Database;
  readonly now: () => Date;
  readonly cas: () => Promise<readonly LoadedCa[]>;
}

type Status = { kind: 'good' } | { kind: 'unknown' } | { kind: 'revoked'; at: Date; reasonCode: number };

export function createOcspResponder(deps: OcspResponderDeps): OcspResponder {
  /** The status of each serial as `ca` issued it: its certificates table rows, and the CAs it certified. */
  async function statuses(ca: LoadedCa, serials: readonly string[], cas: readonly LoadedCa[]): Promise<Map<string, Status>> {
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
      const signer = issuers[0];
      // One response has one signer: every CertID must name the same CA of ours.
      if (signer === undefined || issuers.some((ca) => ca !== signer)) return ocspStatusOnly(OCSPResponseStatus.unauthorized);

      const serials = certIds.map((certId) => serialHex(certId.serialNumber));
      const known = await statuses(signer, serials, cas);
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

      const signature = await signWithCa(signer, AsnConvert.serialize(tbsResponseData));
      const basic = new BasicOCSPResponse({
        tbsResponseData,
        signatureAlgorithm: caSignatureAlgorithm(),
        signature,
        // The signer's certificate, so a client holding only the root can check the signature too.
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
function issued(ca: LoadedCa, certId: CertID): boolean {
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

