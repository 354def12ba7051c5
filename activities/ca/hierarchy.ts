/**
 * The CA hierarchies: three families (TLS, persons, seals), each a self-signed root and an issuing CA it signs, made
 * at first use and kept in certificate_authorities with their private keys sealed. Several workers may start at once:
 * each inserts its candidate with ON CONFLICT DO NOTHING and then everyone loads the stored row, so the first writer's
 * CA wins and an issuing CA is always signed by the root that was actually stored. The persons ids predate the other
 * families: databases that already hold them keep them.
 */
import { eq } from 'drizzle-orm';
import type { Secrets } from '../../config/secrets.js';
import type { Database } from '../../db/client.js';
import { certificateAuthorities } from '../../db/schema.js';
import { CA_FAMILIES, type CaFamily, type CaId } from '../../lib/pki/ca-ids.js';
import { revocationPointers } from './extensions.js';
import { FAMILIES, type CaSpec, type IssuingCaSpec } from './families.js';
import { sealPrivateKey, unsealSigningKey } from './sealed-keys.js';
import { randomSerial } from './serial.js';
import { subtle, x509, type CryptoKey } from '../../lib/pki/x509.js';

export { FAMILIES, PERSONS_FAMILY, type FamilySpec } from './families.js';

/** ECDSA P-384 with SHA-384 for every CA: the issuing CAs sign for years, the stronger curve costs nothing here. */
export const CA_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-384' } as const;
export const CA_SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-384' } as const;
/** Raw r‖s length of a P-384 signature, for the placeholder signature of a to-be-signed certificate. */
export const CA_SIGNATURE_BYTES = 96;

export interface LoadedCa {
  readonly id: CaId;
  readonly family: CaFamily;
  readonly parentId: CaId | null;
  readonly certificate: x509.X509Certificate;
  readonly pem: string;
  readonly signingKey: CryptoKey;
  /** Its subject key identifier (hex), which its certificates name as their authority key identifier. */
  readonly keyId: string;
}

export interface Hierarchy {
  readonly cas: ReadonlyMap<CaId, LoadedCa>;
  ca(id: CaId): LoadedCa;
}

export interface HierarchyDeps {
  readonly db: Database;
  readonly secrets: Secrets;
  readonly now: () => Date;
  /** Written into the issuing CAs' CRL distribution point and AIA when they are created. */
  readonly publicBaseUrl: string;
}

/** The AEAD purpose of a CA key: bound to its row, so a sealed key moved to another row does not open. */
export const caKeyPurpose = (caId: string): string => `ca-key:${caId}`;

export const wholeSeconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

/** The hierarchy, its missing CAs created first (a worker at its start). */
export const ensureHierarchy = (deps: HierarchyDeps): Promise<Hierarchy> => buildHierarchy(deps, true);

/**
 * The stored hierarchy, its keys unsealed, never creating a CA: for a process that signs only what the hierarchy
 * already certifies (OCSP answers, CRL refreshes) and must not race the worker into making one.
 */
export const loadHierarchy = (deps: Pick<HierarchyDeps, 'db' | 'secrets'>): Promise<Hierarchy> =>
  buildHierarchy({ ...deps, now: () => new Date(), publicBaseUrl: '' }, false);

async function buildHierarchy(deps: HierarchyDeps, create: boolean): Promise<Hierarchy> {
  const sealingKey = deps.secrets.derive('ca-keys');
  const loaded = await Promise.all(
    CA_FAMILIES.map(async (family) => {
      const spec = FAMILIES[family];
      const root = await ensureCa(deps, sealingKey, family, spec.root, undefined, create);
      const issuing = await ensureCa(deps, sealingKey, family, spec.issuing, root, create);
      return [root, issuing];
    }),
  );
  return hierarchyOf(loaded.flat());
}

function hierarchyOf(list: readonly LoadedCa[]): Hierarchy {
  const cas = new Map<CaId, LoadedCa>(list.map((ca) => [ca.id, ca]));
  return {
    cas,
    ca(id) {
      const ca = cas.get(id);
      if (ca === undefined) throw new Error(`no CA ${id} in the hierarchy`);
      return ca;
    },
  };
}

async function ensureCa(
  deps: HierarchyDeps,
  sealingKey: Buffer,
  family: CaFamily,
  spec: CaSpec | IssuingCaSpec,
  parent: LoadedCa | undefined,
  create: boolean,
): Promise<LoadedCa> {
  let row = await findCa(deps.db, spec.id);
  if (row === undefined && !create) throw new Error(`CA ${spec.id} is not created yet (the worker creates the hierarchy at its first start)`);
  if (row === undefined) {
    const candidate = await newCa(deps, sealingKey, family, spec, parent);
    await deps.db.insert(certificateAuthorities).values(candidate).onConflictDoNothing({ target: certificateAuthorities.id });
    row = await findCa(deps.db, spec.id);
    if (row === undefined) throw new Error(`CA ${spec.id} vanished right after its insertion`);
  }
  if (row.family !== family || row.parentId !== (parent?.id ?? null)) {
    throw new Error(`CA ${row.id} is stored in family ${row.family} under ${row.parentId ?? 'nothing'}, not ${family} under ${parent?.id ?? 'nothing'}`);
  }
  return loadCa(row, family, sealingKey, parent);
}

async function findCa(db: Database, id: string) {
  const [row] = await db.select().from(certificateAuthorities).where(eq(certificateAuthorities.id, id));
  return row;
}

async function newCa(
  deps: HierarchyDeps,
  sealingKey: Buffer,
  family: CaFamily,
  spec: CaSpec | IssuingCaSpec,
  parent: LoadedCa | undefined,
): Promise<typeof certificateAuthorities.$inferInsert> {
  const keys = await subtle.generateKey(CA_KEY_ALGORITHM, true, ['sign', 'verify']);
  const notBefore = wholeSeconds(deps.now());
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + spec.years);
  const subject = new x509.Name(spec.name);
  const extensions: x509.Extension[] = [
    // An issuing CA signs end-entity certificates only: no CA below it.
    new x509.BasicConstraintsExtension(true, parent === undefined ? undefined : 0, true),
    // digitalSignature: each CA signs the OCSP responses about what it issued itself (ocsp.ts; BR §7.1.2.10.7).
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false),
  ];
  if (parent !== undefined && 'policies' in spec) {
    extensions.push(
      new x509.AuthorityKeyIdentifierExtension(parent.keyId, false),
      new x509.CertificatePolicyExtension([...spec.policies], false),
      ...revocationPointers(deps.publicBaseUrl, parent.id, { ocsp: false }),
    );
    if (spec.extendedKeyUsage !== undefined) extensions.push(new x509.ExtendedKeyUsageExtension([...spec.extendedKeyUsage], false));
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
    family,
    parentId: parent?.id ?? null,
    subject: certificate.subject,
    certificatePem: certificate.toString('pem'),
    encryptedPrivateKey: await sealPrivateKey(sealingKey, caKeyPurpose(spec.id), keys.privateKey),
  };
}

async function loadCa(row: typeof certificateAuthorities.$inferSelect, family: CaFamily, sealingKey: Buffer, parent: LoadedCa | undefined): Promise<LoadedCa> {
  const id = row.id as CaId; // ensureCa found it under one of our ids
  const certificate = new x509.X509Certificate(row.certificatePem);
  const signingKey = await unsealSigningKey(sealingKey, caKeyPurpose(id), row.encryptedPrivateKey, CA_KEY_ALGORITHM);
  // Refuse a key that is not the certificate's, or an issuing CA its stored root did not sign: never sign with either.
  const probe = Buffer.from(`certflow:${id}:key-check`);
  const signature = await subtle.sign(CA_SIGNING_ALGORITHM, signingKey, probe);
  const verifyKey = await subtle.importKey('spki', certificate.publicKey.rawData, CA_KEY_ALGORITHM, false, ['verify']);
  if (!(await subtle.verify(CA_SIGNING_ALGORITHM, verifyKey, signature, probe))) throw new Error(`CA ${id}: the stored key does not match its certificate`);
  if (parent !== undefined && !(await certificate.verify({ publicKey: parent.certificate.publicKey, signatureOnly: true }))) {
    throw new Error(`CA ${id} is not signed by ${parent.id}`);
  }
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski === null) throw new Error(`CA ${id} has no subject key identifier`);
  return { id, family, parentId: parent?.id ?? null, certificate, pem: certificate.toString('pem'), signingKey, keyId: ski.keyId };
}
