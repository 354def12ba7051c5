/**
 * A CA's (or its OCSP responder's) signature over a DER to-be-signed structure other than a certificate (a CRL's TBSCertList, an OCSP
 * ResponseData), and the serial number conversions those structures need.
 */
import type { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { sign } from '../../lib/pkcs11/signing.js';
import { CA_SIGNING_ALGORITHM } from './hierarchy.js';
import { x509, type CryptoKey } from '../../lib/pki/x509.js';

/** The AlgorithmIdentifier of CA signatures (ecdsa-with-SHA384), written in the TBS and beside the signature. */
export function caSignatureAlgorithm(): AlgorithmIdentifier {
  const algorithm = new x509.EcAlgorithm().toAsnAlgorithm(CA_SIGNING_ALGORITHM);
  if (algorithm === null) throw new Error(`no algorithm identifier for ${CA_SIGNING_ALGORITHM.name} ${CA_SIGNING_ALGORITHM.hash}`);
  return algorithm;
}

/**
 * The signature value as X.509 carries it: for ECDSA a DER Ecdsa-Sig-Value, where WebCrypto gives raw r‖s. The key
 * is a CA's or an OCSP responder's, on its token: the signature is made there (lib/pkcs11/signing.ts).
 */
export async function signTbs(signer: { readonly id: string; readonly signingKey: CryptoKey }, tbs: ArrayBuffer): Promise<ArrayBuffer> {
  const raw = await sign(CA_SIGNING_ALGORITHM, signer.signingKey, tbs);
  // The formatter needs the curve to split r‖s: it comes with the key.
  const value = new x509.AsnEcSignatureFormatter().toAsnSignature({ ...CA_SIGNING_ALGORITHM, ...signer.signingKey.algorithm }, raw);
  if (value === null) throw new Error(`${signer.id}: cannot encode a ${signer.signingKey.algorithm.name} signature`);
  return value;
}

/** A DER INTEGER's content for a hex serial: big-endian, a leading zero when the top bit would make it negative. */
export function serialBytes(serial: string): ArrayBuffer {
  const hex = serial.length % 2 === 0 ? serial : `0${serial}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes.length === 0 || (bytes.readUInt8(0) & 0x80) !== 0) bytes = Buffer.concat([Buffer.alloc(1), bytes]);
  return new Uint8Array(bytes).buffer;
}

/** The lower-case hex serial our rows store, from a DER INTEGER's content (leading zero octets dropped). */
export function serialHex(integer: ArrayBuffer): string {
  const bytes = Buffer.from(integer);
  let start = 0;
  while (start < bytes.length - 1 && bytes.readUInt8(start) === 0) start++;
  return bytes.subarray(start).toString('hex');
}
