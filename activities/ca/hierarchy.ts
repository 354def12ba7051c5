/**
 * The persons CA hierarchy: a self-signed root and an issuing CA it signs, made at first use and kept in
 * certificate_authorities with their private keys sealed. Several workers may start at once: each inserts its
 * candidate with ON CONFLICT DO NOTHING and then everyone loads the stored row, so the first writer's CA wins and the
 * issuing CA is always signed by the root that was actually stored.
 */
import { eq } from 'drizzle-orm';
import type { Secrets } from '../../config/secrets.js';
import type { Database } from '../../db/client.js';
import { certificateAuthorities } from '../../db/schema.js';
import { sealPrivateKey, unsealSigningKey } from './sealed-keys.js';
import { randomSerial } from './serial.js';
import { subtle, x509, type CryptoKey } from './x509.js';

/** ECDSA P-384 with SHA-384 for both CAs: the issuing CA signs for years, the stronger curve costs nothing here. */
export const CA_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-384' } as const;
export const CA_SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-384' } as const;
/** Raw r‖s length of a P-384 signature, for the placeholder signature of a to-be-signed certificate. */
export const CA_SIGNATURE_BYTES = 96;

const ANY_POLICY = '2.5.29.32.0';

interface CaSpec {
  readonly id: string;
  readonly name: x509.JsonName;
  readonly years: number;
}

export const PERSONS_FAMILY = {
  family: 'persons',
  root: { id: 'persons-root', name: [{ C: ['FR'] }, { O: ['CertFlow'] }, { CN: ['CertFlow Persons Root CA'] }], years: 20 },
  issuing: { id: 'persons-issuing', name: [{ C: ['FR'] }, { O: ['CertFlow'] }, { CN: ['CertFlow Persons Issuing CA 1'] }], years: 10 },
} as const satisfies { family: string; root: CaSpec; issuing: CaSpec };

export interface LoadedCa {
  readonly id: string;
  readonly certificate: x509.X509Certificate;
  readonly pem: string;
  readonly signingKey: CryptoKey;
  /** Its subject key identifier, which its certificates name as their authority key identifier. */
  readonly keyId: string;
}

export interface Hierarchy {
  readonly root: LoadedCa;
  readonly issuing: LoadedCa;
}

interface HierarchyDeps {
  readonly db: Database;
  readonly secrets: Secrets;
  readonly now: () => Date;
}

/** The AEAD purpose of a CA key: bound to its row, so a sealed key moved to another row does not open. */
export const caKeyPurpose = (caId: string): string => `ca-key:${caId}`;

export const wholeSeconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

export async function ensureHierarchy(deps: HierarchyDeps): Promise<Hierarchy> {
  const sealingKey = deps.secrets.derive('ca-keys');
  const root = await ensureCa(deps, sealingKey, PERSONS_FAMILY.root, undefined);
  const issuing = await ensureCa(deps, sealingKey, PERSONS_FAMILY.issuing, root);
  return { root, issuing };
}

async function ensureCa(deps: HierarchyDeps, sealingKey: Buffer, spec: CaSpec, parent: LoadedCa | undefined): Promise<LoadedCa> {
  let row = await findCa(deps.db, spec.id);
  if (row === undefined) {
    const candidate = await newCa(spec, parent, sealingKey, deps.now());
    await deps.db.insert(certificateAuthorities).values(candidate).onConflictDoNothing({ target: certificateAuthorities.id });
    row = await findCa(deps.db, spec.id);
    if (row === undefined) throw new Error(`CA ${spec.id} vanished right after its insertion`);
  }
  return loadCa(row, sealingKey, parent);
}

async function findCa(db: Database, id: string) {
  const [row] = await db.select().from(certificateAuthorities).where(eq(certificateAuthorities.id, id));
  return row;
}

async function newCa(spec: CaSpec, parent: LoadedCa | undefined, sealingKey: Buffer, now: Date): Promise<typeof certificateAuthorities.$inferInsert> {
  const keys = await subtle.generateKey(CA_KEY_ALGORITHM, true, ['sign', 'verify']);
  const notBefore = wholeSeconds(now);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + spec.years);
  const subject = new x509.Name(spec.name);
  const extensions: x509.Extension[] = [
    // The issuing CA signs end-entity certificates only: no CA below it.
    new x509.BasicConstraintsExtension(true, parent === undefined ? undefined : 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false),
  ];
  if (parent !== undefined) {
    extensions.push(new x509.AuthorityKeyIdentifierExtension(parent.keyId, false), new x509.CertificatePolicyExtension([ANY_POLICY], false));
  }
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: parent?.certificate.subjectName ?? subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: parent?.signingKey ?? keys.privateKey,
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    extensions,
  });
  return {
    id: spec.id,
    family: PERSONS_FAMILY.family,
    parentId: parent?.id ?? null,
    subject: certificate.subject,
    certificatePem: certificate.toString('pem'),
    encryptedPrivateKey: await sealPrivateKey(sealingKey, caKeyPurpose(spec.id), keys.privateKey),
  };
}

async function loadCa(row: typeof certificateAuthorities.$inferSelect, sealingKey: Buffer, parent: LoadedCa | undefined): Promise<LoadedCa> {
  const certificate = new x509.X509Certificate(row.certificatePem);
  const signingKey = await unsealSigningKey(sealingKey, caKeyPurpose(row.id), row.encryptedPrivateKey, CA_KEY_ALGORITHM);
  // Refuse a key that is not the certificate's, or an issuing CA its stored root did not sign: never sign with either.
  const probe = Buffer.from(`certflow:${row.id}:key-check`);
  const signature = await subtle.sign(CA_SIGNING_ALGORITHM, signingKey, probe);
  const verifyKey = await subtle.importKey('spki', certificate.publicKey.rawData, CA_KEY_ALGORITHM, false, ['verify']);
  if (!(await subtle.verify(CA_SIGNING_ALGORITHM, verifyKey, signature, probe))) throw new Error(`CA ${row.id}: the stored key does not match its certificate`);
  if (parent !== undefined && !(await certificate.verify({ publicKey: parent.certificate.publicKey, signatureOnly: true }))) {
    throw new Error(`CA ${row.id} is not signed by ${parent.id}`);
  }
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski === null) throw new Error(`CA ${row.id} has no subject key identifier`);
  return { id: row.id, certificate, pem: certificate.toString('pem'), signingKey, keyId: ski.keyId };
}
