/** A DER OCSP request for a certificate as its issuer issued it (SHA-1 CertID, as openssl sends). */
import { createHash } from 'node:crypto';
import { CertID, OCSPRequest, Request, TBSRequest } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { x509 } from '../../lib/pki/x509.js';

export function ocspRequestFor(subject: x509.X509Certificate | string, issuer: x509.X509Certificate | string): Uint8Array {
  const cert = typeof subject === 'string' ? new x509.X509Certificate(subject) : subject;
  const ca = typeof issuer === 'string' ? new x509.X509Certificate(issuer) : issuer;
  const sha1 = (data: ArrayBuffer) => new OctetString(createHash('sha1').update(Buffer.from(data)).digest());
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: null }),
    issuerNameHash: sha1(ca.subjectName.toArrayBuffer()),
    issuerKeyHash: sha1(AsnConvert.parse(ca.publicKey.rawData, SubjectPublicKeyInfo).subjectPublicKey),
    serialNumber: Uint8Array.from(Buffer.from(cert.serialNumber, 'hex')).buffer,
  });
  return new Uint8Array(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })));
}
