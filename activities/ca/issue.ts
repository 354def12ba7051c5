/**
 * Issuance, exactly once per issuance key. The certificate row is RESERVED first (serial, subject, validity, key)
 * under the unique issuance key; only then is anything signed, and always from the reserved row, so a retry, a crash
 * after the reservation or a concurrent worker signs the same serial. Of two concurrent signatures only the first
 * UPDATE ... WHERE pem IS NULL lands; the other certificate is dropped, never stored nor returned.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { appendAudit } from '../../db/audit-log.js';
import { certificates } from '../../db/schema.js';
import type { ProductCode } from '../../domain/catalog.js';
import { CA_FAILURE, refuse } from './errors.js';
import { isCaId } from '../../lib/pki/ca-ids.js';
import { CA_SIGNATURE_BYTES, CA_SIGNING_ALGORITHM, wholeSeconds, type Hierarchy } from './hierarchy.js';
import { checkRequestedNames, lintRequest, lintTbs, readSubjectKey } from './lint.js';
import { leafExtensions, notAfterFor, profileFor, type CertificateProfile } from './profiles.js';
import { randomSerial } from './serial.js';
import { subjectFields, subjectString, type SubjectField } from '../../lib/pki/subject.js';
import { x509 } from '../../lib/pki/x509.js';

export interface IssueRequest {
  readonly issuanceKey: string;
  readonly orderId: string;
  readonly product: ProductCode;
  /** Persons: the subject; its e-mail is the SAN. Other products ignore it. */
  readonly holder: { readonly givenName: string; readonly surname: string; readonly email: string };
  /** TLS subjects name the locality (required there); the others ignore it. */
  readonly organisation: { readonly name: string; readonly siret: string; readonly locality: string | null };
  /** Base64 DER SubjectPublicKeyInfo. */
  readonly publicKeySpki: string;
  /** SSL*, SERVER_CLIENT: the SANs, lower-case FQDNs (wildcards only for SSL_WILDCARD); the first is the CN. */
  readonly dnsNames?: readonly string[];
  /** TLS: at most the BR schedule at notBefore (domain/rules/validity.ts), counted inclusively. */
  readonly validityDays: number;
}

export interface IssuedCertificate {
  readonly serial: string;
  readonly pem: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuingCa: string;
  readonly subject: string;
}

type CertificateRow = typeof certificates.$inferSelect;

interface IssuerDeps {
  readonly db: Database;
  readonly now: () => Date;
  readonly hierarchy: () => Promise<Hierarchy>;
  /** PKI_HTTP_BASE_URL (http://) and PDS_URL (https://), both without a trailing slash (CaDeps). */
  readonly pkiBaseUrl: string;
  readonly pdsUrl: string;
}

/** A request read against its profile: the subject and names the certificate will carry. */
interface Prepared {
  readonly profile: CertificateProfile;
  readonly fields: SubjectField[];
  readonly subject: string;
  /** Checked and lower-cased (unchecked ones are refused by the lint before anything is reserved). */
  readonly dnsNames: string[];
}

export function createIssuer(deps: IssuerDeps) {
  /** Checks the request and reserves its row, or finds the row already reserved under its key. */
  async function reserve(req: IssueRequest): Promise<{ row: CertificateRow; prepared: Prepared }> {
    const profile = profileFor(req.product);
    if (profile === undefined) throw refuse(CA_FAILURE.unsupportedProduct, `no certificate profile for ${String(req.product)}`);
    const dnsNames = checkRequestedNames(profile, req.dnsNames ?? []).names;
    const fields = subjectFields(profile.kind, { holder: req.holder, organisation: req.organisation, dnsNames });
    const prepared: Prepared = { profile, fields, subject: subjectString(fields), dnsNames };
    // A retry finds its row without checking again: what was reserved (or issued) stands even if the rules moved since.
    const row = (await findByIssuanceKey(deps.db, req.issuanceKey)) ?? (await reserveNew(req, prepared));
    // The same key must mean the same certificate; a different request under it is a caller's bug, not a retry.
    const spki = Buffer.from(req.publicKeySpki, 'base64').toString('base64');
    if (row.orderId !== req.orderId || row.profile !== profile.product || row.subject !== prepared.subject || row.publicKeySpki !== spki) {
      throw refuse(CA_FAILURE.idempotencyConflict, `issuance key ${req.issuanceKey} was already used for another certificate`);
    }
    return { row, prepared };
  }

  async function reserveNew(req: IssueRequest, { profile, fields, subject }: Prepared): Promise<CertificateRow> {
    const issuing = (await deps.hierarchy()).ca(profile.issuingCa);
    const key = readSubjectKey(req.publicKeySpki);
    if ('problem' in key) throw refuse(CA_FAILURE.lintFailed, `certificate request refused: ${key.problem}`, [key.problem]);
    const notBefore = wholeSeconds(deps.now()); // X.509 times have whole seconds: the row must equal the certificate
    const notAfter = notAfterFor(profile, notBefore, req.validityDays);
    const problems = lintRequest({
      profile,
      fields,
      subjectString: subject,
      siret: req.organisation.siret,
      email: req.holder.email,
      dnsNames: req.dnsNames ?? [],
      validityDays: req.validityDays,
      notBefore,
      notAfter,
      issuing: issuing.certificate,
    });
    if (problems.length > 0) throw refuse(CA_FAILURE.lintFailed, `certificate request refused: ${problems.join('; ')}`, problems);

    await deps.db
      .insert(certificates)
      .values({
        serial: randomSerial(),
        orderId: req.orderId,
        issuanceKey: req.issuanceKey,
        issuingCa: profile.issuingCa,
        profile: profile.product,
        subject,
        publicKeySpki: key.der.toString('base64'),
        notBefore,
        notAfter,
        status: 'reserved',
        pem: null,
      })
      .onConflictDoNothing({ target: certificates.issuanceKey });
    // Reload: a concurrent caller may have reserved first, and then its row is the one.
    const row = await findByIssuanceKey(deps.db, req.issuanceKey);
    if (row === undefined) throw new Error(`reservation ${req.issuanceKey} vanished`);
    return row;
  }

  async function issue(req: IssueRequest): Promise<IssuedCertificate> {
    const { row, prepared } = await reserve(req);
    if (row.pem !== null) return issued(row);

    const pem = await signReserved(row, prepared, { email: req.holder.email, hierarchy: await deps.hierarchy(), pkiBaseUrl: deps.pkiBaseUrl, pdsUrl: deps.pdsUrl });
    // Only the call whose UPDATE lands stored a certificate, and only it appends the issuance to the audit chain.
    await deps.db.transaction(async (tx) => {
      const [landed] = await tx
        .update(certificates)
        .set({ pem, status: 'valid' })
        .where(and(eq(certificates.issuanceKey, req.issuanceKey), isNull(certificates.pem), eq(certificates.status, 'reserved')))
        .returning();
      if (landed === undefined) return;
      await appendAudit(tx, {
        kind: 'certificate',
        orderId: landed.orderId,
        actorRole: 'system',
        action: 'certificate_issued',
        detail: { serial: landed.serial, issuingCa: landed.issuingCa, profile: landed.profile, notBefore: landed.notBefore, notAfter: landed.notAfter },
      });
    });
    const stored = await findByIssuanceKey(deps.db, req.issuanceKey);
    if (stored?.pem == null) throw new Error(`certificate ${row.serial} was signed but is not stored`);
    return issued(stored);
  }

  return { reserve, issue };
}

/** Builds the certificate from the reserved row, lints the to-be-signed form, then signs that very TBS. */
async function signReserved(
  row: CertificateRow,
  { profile, dnsNames }: Prepared,
  { email, hierarchy, pkiBaseUrl, pdsUrl }: { email: string; hierarchy: Hierarchy; pkiBaseUrl: string; pdsUrl: string },
): Promise<string> {
  // The CA the reservation names signs: the profile's today, but a row is signed as it was reserved.
  if (!isCaId(row.issuingCa)) throw new Error(`reservation ${row.serial} names an unknown issuing CA ${row.issuingCa}`);
  const issuing = hierarchy.ca(row.issuingCa);
  const key = readSubjectKey(row.publicKeySpki);
  if ('problem' in key) throw refuse(CA_FAILURE.lintFailed, `reserved key refused: ${key.problem}`, [key.problem]);
  const params = {
    serialNumber: row.serial,
    subject: new x509.Name(row.subject),
    issuer: issuing.certificate.subjectName,
    notBefore: row.notBefore,
    notAfter: row.notAfter,
    publicKey: key.publicKey,
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    extensions: await leafExtensions(profile, { keyType: key.keyType, publicKey: key.publicKey, email, dnsNames, issuing, pkiBaseUrl, pdsUrl }),
  };
  // A placeholder signature gives the exact TBS to check before the CA key touches it.
  const tbs = await x509.X509CertificateGenerator.create({ ...params, signature: new Uint8Array(CA_SIGNATURE_BYTES) });
  const problems = lintTbs(tbs, {
    profile,
    keyType: key.keyType,
    serial: row.serial,
    subject: row.subject,
    spki: key.der,
    email,
    dnsNames,
    notBefore: row.notBefore,
    notAfter: row.notAfter,
    issuing,
    pkiBaseUrl,
    pdsUrl,
  });
  if (problems.length > 0) throw refuse(CA_FAILURE.lintFailed, `to-be-signed certificate ${row.serial} refused: ${problems.join('; ')}`, problems);

  const certificate = await x509.X509CertificateGenerator.create({ ...params, signingKey: issuing.signingKey });
  if (!tbsBytes(certificate).equals(tbsBytes(tbs))) throw new Error(`certificate ${row.serial}: the signed TBS is not the linted one`);
  if (!(await certificate.verify({ publicKey: issuing.certificate.publicKey, signatureOnly: true }))) {
    throw new Error(`certificate ${row.serial}: signature does not verify`);
  }
  return certificate.toString('pem');
}

/** The DER of the TBSCertificate: the first element of the Certificate SEQUENCE (the library keeps its own private). */
function tbsBytes(certificate: x509.X509Certificate): Buffer {
  const der = Buffer.from(certificate.rawData);
  const contentStart = (offset: number): number => {
    const first = der.readUInt8(offset + 1);
    return offset + 2 + (first < 0x80 ? 0 : first & 0x7f);
  };
  const lengthAt = (offset: number): number => {
    const first = der.readUInt8(offset + 1);
    return first < 0x80 ? first : der.readUIntBE(offset + 2, first & 0x7f);
  };
  const tbsStart = contentStart(0);
  return der.subarray(tbsStart, contentStart(tbsStart) + lengthAt(tbsStart));
}

async function findByIssuanceKey(db: Database, issuanceKey: string): Promise<CertificateRow | undefined> {
  const [row] = await db.select().from(certificates).where(eq(certificates.issuanceKey, issuanceKey));
  return row;
}

const issued = (row: CertificateRow): IssuedCertificate => ({
  serial: row.serial,
  pem: row.pem ?? '',
  notBefore: row.notBefore.toISOString(),
  notAfter: row.notAfter.toISOString(),
  issuingCa: row.issuingCa,
  subject: row.subject,
});
