/**
 * How a CA is named inside the structures it signs: its subject Name exactly as its certificate encodes it (a CRL's
 * issuer, what an OCSP CertID hashes) and its public key bits (OCSP issuerKeyHash and responderID byKey). Both are
 * read from the certificate's DER so that no re-encoding can change a byte.
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name } from '@peculiar/asn1-x509';
import type { CaRecord } from './hierarchy.js';

type Certified = Pick<CaRecord, 'certificate'>;

export interface CaIdentity {
  readonly subject: Name;
  readonly subjectDer: Buffer;
  /** The subjectPublicKey BIT STRING's value, without tag, length and unused-bits octet (RFC 6960 §4.1.1). */
  readonly publicKeyBits: Buffer;
}

const identities = new WeakMap<Certified, CaIdentity>();

export function caIdentity(ca: Certified): CaIdentity {
  let identity = identities.get(ca);
  if (identity === undefined) {
    const tbs = AsnConvert.parse(ca.certificate.rawData, Certificate).tbsCertificate;
    identity = {
      subject: tbs.subject,
      subjectDer: Buffer.from(AsnConvert.serialize(tbs.subject)),
      publicKeyBits: Buffer.from(tbs.subjectPublicKeyInfo.subjectPublicKey),
    };
    identities.set(ca, identity);
  }
  return identity;
}

export const digest = (algorithm: string, data: Buffer): Buffer => createHash(algorithm).update(data).digest();
