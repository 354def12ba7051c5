/** OCSP responses without a body (RFC 6960 §4.2.1): what a responder answers when it signs nothing. */
import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPResponse, OCSPResponseStatus } from '@peculiar/asn1-ocsp';

export const encodeOcspResponse = (response: OCSPResponse): Uint8Array => new Uint8Array(AsnConvert.serialize(response));

/** An unsuccessful response: a status and no body. */
export const ocspStatusOnly = (status: OCSPResponseStatus): Uint8Array => encodeOcspResponse(new OCSPResponse({ responseStatus: status }));

/** For a transport that failed to reach the responder's answer (a database error): internalError, unsigned. */
export const ocspInternalErrorResponse = (): Uint8Array => ocspStatusOnly(OCSPResponseStatus.internalError);
