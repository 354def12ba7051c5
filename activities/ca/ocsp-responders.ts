/**
 * Delegated OCSP responders (RFC 6960 §4.2.2.2): for each CA, a key on the certflow-ocsp token and a certificate
 * the CA issued for it (id-kp-OCSPSigning only, id-pkix-ocsp-nocheck, a year at most), made by the ceremony and
 * renewed by `npm run ceremony -- renew-ocsp`. The API signs OCSP answers with them and so never needs a CA key.
 */
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { ocspResponders } from '../../db/schema.js';
import type { OpenToken } from '../../lib/pkcs11/session.js';
import { tokenSigningKey } from '../../lib/pkcs11/signing.js';
import { checkKeyMatches, wholeSeconds, type CaRecord } from './hierarchy.js';
import type { OcspSigner } from './ocsp.js';
import { x509, type CryptoKey } from '../../lib/pki/x509.js';

/** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): clients do not check the responder certificate's own revocation. */
export const ID_PKIX_OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5';
/** A short life, as nocheck asks (BR §4.9.9): renewed every year by the ceremony. */
export const OCSP_RESPONDER_DAYS = 365;
/** How long a process keeps a responder before reading its row again (a renewal shows within it). */
const RELOAD_MS = 300_000;

/** The extensions of a responder certificate for `publicKey`, issued by `ca`. */
export async function responderExtensions(ca: Pick<CaRecord, 'keyId'>, publicKey: CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.ocspSigning], false),
    // ASN.1 NULL as the extension's value.
    new x509.Extension(ID_PKIX_OCSP_NOCHECK, false, new Uint8Array([0x05, 0x00])),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false),
    new x509.AuthorityKeyIdentifierExtension(ca.keyId, false),
  ];
}

export const responderName = (ca: CaRecord): x509.JsonName => [{ C: ['FR'] }, { O: ['CertFlow'] }, { CN: [`${ca.certificate.subjectName.getField('CN')[0] ?? ca.id} OCSP Responder`] }];

export function responderValidity(now: Date): { notBefore: Date; notAfter: Date } {
  const notBefore = wholeSeconds(now);
  return { notBefore, notAfter: new Date(notBefore.getTime() + OCSP_RESPONDER_DAYS * 86_400_000) };
}

export interface ResponderDeps {
  readonly db: Database;
  /** The certflow-ocsp token, opened with its user PIN. */
  readonly ocspToken: () => OpenToken;
  readonly now: () => Date;
}

/** Each CA's current responder, its row read again every few minutes, its certificate checked against the CA. */
export function createResponders(deps: ResponderDeps): (ca: CaRecord) => Promise<OcspSigner> {
  const cache = new Map<string, { at: number; signer: Promise<OcspSigner> }>();
  async function load(ca: CaRecord): Promise<OcspSigner> {
    const [row] = await deps.db.select().from(ocspResponders).where(eq(ocspResponders.caId, ca.id));
    if (row === undefined) throw new Error(`CA ${ca.id} has no OCSP responder: run \`npm run ceremony -- init\``);
    const certificate = new x509.X509Certificate(row.certificatePem);
    if (!(await certificate.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true }))) throw new Error(`the OCSP responder of ${ca.id} is not certified by it`);
    if (certificate.notAfter.getTime() <= deps.now().getTime()) {
      throw new Error(`the OCSP responder certificate of ${ca.id} expired on ${certificate.notAfter.toISOString()}: run \`npm run ceremony -- renew-ocsp\``);
    }
    const signingKey = await tokenSigningKey(deps.ocspToken(), row.keyLabel);
    await checkKeyMatches(`OCSP responder of ${ca.id}`, signingKey, certificate);
    return { id: `OCSP responder of ${ca.id}`, certificate, signingKey };
  }
  return (ca) => {
    const cached = cache.get(ca.id);
    if (cached !== undefined && Date.now() - cached.at < RELOAD_MS) return cached.signer;
    const signer = load(ca);
    cache.set(ca.id, { at: Date.now(), signer });
    // A failed load is forgotten: the next request tries again (the ceremony may have run since).
    signer.catch(() => cache.delete(ca.id));
    return signer;
  };
}
