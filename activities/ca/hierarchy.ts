/**
 * The CA hierarchies: three families (TLS, persons, seals), each a root and the issuing CA it signs. Their keys live
 * on PKCS#11 tokens and never leave them; certificate_authorities holds the certificates and each key's label. The
 * roots are offline: only the ceremony (ceremony.ts, `npm run ceremony`) opens their token to make them and sign
 * the issuing CAs. A running worker loads the issuing CAs with their keys from the certflow-ca token and never makes
 * a CA; the API loads none (view.ts). The persons ids predate the other families: databases that hold them keep them.
 */
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { certificateAuthorities } from '../../db/schema.js';
import { CA_FAMILIES, isCaId, type CaFamily, type CaId } from '../../lib/pki/ca-ids.js';
import type { OpenToken } from '../../lib/pkcs11/session.js';
import { sign, tokenSigningKey } from '../../lib/pkcs11/signing.js';
import { FAMILIES } from './families.js';
import { subtle, x509, type CryptoKey } from '../../lib/pki/x509.js';

export { FAMILIES, PERSONS_FAMILY, type FamilySpec } from './families.js';

/** ECDSA P-384 with SHA-384 for every CA: the issuing CAs sign for years, the stronger curve costs nothing here. */
export const CA_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-384' } as const;
export const CA_SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-384' } as const;
/** Raw r‖s length of a P-384 signature, for the placeholder signature of a to-be-signed certificate. */
export const CA_SIGNATURE_BYTES = 96;

/** A CA as its certificate shows it, no key: what OCSP and the read-only view need. */
export interface CaRecord {
  readonly id: CaId;
  readonly family: CaFamily;
  readonly parentId: CaId | null;
  readonly certificate: x509.X509Certificate;
  readonly pem: string;
  /** Its subject key identifier (hex), which its certificates name as their authority key identifier. */
  readonly keyId: string;
  /** The label of its private key on its token; null on a CA made before the keys moved to the token. */
  readonly keyLabel: string | null;
}

/** A CA that signs: its key is a handle to a private key on a PKCS#11 token (lib/pkcs11/signing.ts). */
export interface LoadedCa extends CaRecord {
  readonly signingKey: CryptoKey;
}

/** The issuing CAs, with their keys: what the worker signs certificates and CRLs with. Roots are not in it. */
export interface Hierarchy {
  readonly cas: ReadonlyMap<CaId, LoadedCa>;
  ca(id: CaId): LoadedCa;
}

export interface HierarchyDeps {
  readonly db: Database;
  /** The certflow-ca token, opened with its user PIN. */
  readonly caToken: () => OpenToken;
}

export const wholeSeconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

export const NO_HIERARCHY = 'the CA hierarchy is not created yet: run `npm run ceremony -- init` (`npm start` runs it at first start)';

/** Every stored CA, no key: an unknown row or an incomplete hierarchy is refused. */
export async function storedCas(db: Database): Promise<Map<CaId, CaRecord>> {
  const rows = await db.select().from(certificateAuthorities);
  const cas = new Map<CaId, CaRecord>();
  for (const row of rows) {
    if (!isCaId(row.id) || !(CA_FAMILIES as readonly string[]).includes(row.family) || (row.parentId !== null && !isCaId(row.parentId))) {
      throw new Error(`certificate_authorities holds an unknown CA ${row.id} (${row.family} under ${row.parentId ?? 'nothing'})`);
    }
    cas.set(row.id, caRecord(row));
  }
  return cas;
}

export function caRecord(row: typeof certificateAuthorities.$inferSelect): CaRecord {
  const certificate = new x509.X509Certificate(row.certificatePem);
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski === null) throw new Error(`CA ${row.id} has no subject key identifier`);
  return {
    id: row.id as CaId,
    family: row.family as CaFamily,
    parentId: row.parentId as CaId | null,
    certificate,
    // The PEM as the x509 library writes it, whatever line breaks the row was stored with.
    pem: certificate.toString('pem'),
    keyId: ski.keyId,
    keyLabel: row.keyLabel,
  };
}

export async function findCa(db: Database, id: CaId): Promise<CaRecord | undefined> {
  const [row] = await db.select().from(certificateAuthorities).where(eq(certificateAuthorities.id, id));
  return row === undefined ? undefined : caRecord(row);
}

/**
 * The issuing CAs with their keys on the certflow-ca token, each checked: signed by its stored root, its key the
 * certificate's (a probe signed on the token verifies under the certificate). Never creates a CA.
 */
export async function loadHierarchy(deps: HierarchyDeps): Promise<Hierarchy> {
  const stored = await storedCas(deps.db);
  const loaded = await Promise.all(
    CA_FAMILIES.map(async (family) => {
      const spec = FAMILIES[family];
      const root = stored.get(spec.root.id);
      const issuing = stored.get(spec.issuing.id);
      if (root === undefined || issuing === undefined) throw new Error(NO_HIERARCHY);
      if (issuing.parentId !== root.id || issuing.family !== family || root.family !== family || root.parentId !== null) {
        throw new Error(`CA ${issuing.id} is stored in family ${issuing.family} under ${issuing.parentId ?? 'nothing'}, not ${family} under ${root.id}`);
      }
      if (!(await issuing.certificate.verify({ publicKey: root.certificate.publicKey, signatureOnly: true }))) throw new Error(`CA ${issuing.id} is not signed by ${root.id}`);
      return withTokenKey(issuing, deps.caToken());
    }),
  );
  const cas = new Map<CaId, LoadedCa>(loaded.map((ca) => [ca.id, ca]));
  return {
    cas,
    ca(id) {
      const ca = cas.get(id);
      if (ca === undefined) throw new Error(`no issuing CA ${id} in the hierarchy`);
      return ca;
    },
  };
}

/** The CA with its key from `token`, refused unless the key is the certificate's. */
export async function withTokenKey(ca: CaRecord, token: OpenToken): Promise<LoadedCa> {
  if (ca.keyLabel === null) {
    throw new Error(
      `CA ${ca.id} was created before CA keys moved to the PKCS#11 token: its key was sealed in the database and is gone since migration 0009. ` +
        'This database cannot sign any more: start from a fresh database (embedded: remove DATA_DIR/pglite) and run `npm run ceremony -- init`',
    );
  }
  const signingKey = await tokenSigningKey(token, ca.keyLabel);
  await checkKeyMatches(ca.id, signingKey, ca.certificate);
  return { ...ca, signingKey };
}

/** A probe signed with `key` (on its token) must verify under the certificate's public key. */
export async function checkKeyMatches(what: string, key: CryptoKey, certificate: x509.X509Certificate): Promise<void> {
  const probe = Buffer.from(`certflow:${what}:key-check`);
  const signature = await sign(CA_SIGNING_ALGORITHM, key, probe);
  const verifyKey = await subtle.importKey('spki', certificate.publicKey.rawData, CA_KEY_ALGORITHM, false, ['verify']);
  if (!(await subtle.verify(CA_SIGNING_ALGORITHM, verifyKey, signature, probe))) throw new Error(`${what}: the key on the token does not match its certificate`);
}
