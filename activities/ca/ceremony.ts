/**
 * The key ceremony (scripts/ceremony.ts, `npm run ceremony`): the only code that opens the roots' token. For each
 * family it makes what is missing and nothing else, so a second run changes nothing:
 * - the root: an ECDSA P-384 key generated on certflow-root, its self-signed certificate;
 * - the issuing CA: a key generated on certflow-ca, its certificate signed by the root;
 * - each CA's delegated OCSP responder: a key generated on certflow-ocsp, its certificate signed by that CA;
 * - the first CRL of each CA, and the root's again when it has less than RENEW_ROOT_CRL_DAYS left (the roots being
 *   offline, nothing else signs them).
 * Only certificates and CRLs reach Postgres; keys are made on the tokens, never leave them, and are named in the rows
 * by label. Several ceremonies at once end with one hierarchy: rows are inserted with ON CONFLICT DO NOTHING and read
 * back, so the first writer's CA wins and the loser's keys stay unused on the token.
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { certificateAuthorities, ocspResponders } from '../../db/schema.js';
import { CA_FAMILIES, type CaFamily, type CaId } from '../../lib/pki/ca-ids.js';
import { generateSigningKey } from '../../lib/pkcs11/keys.js';
import type { OpenToken } from '../../lib/pkcs11/session.js';
import { tokenSigningKey } from '../../lib/pkcs11/signing.js';
import { createCrlPublisher, latestCrl, ROOT_CRL_VALIDITY_HOURS } from './crl.js';
import { revocationPointers } from './extensions.js';
import { FAMILIES, type CaSpec, type IssuingCaSpec } from './families.js';
import { CA_KEY_ALGORITHM, CA_SIGNING_ALGORITHM, findCa, wholeSeconds, withTokenKey, type LoadedCa } from './hierarchy.js';
import { responderExtensions, responderName, responderValidity } from './ocsp-responders.js';
import { randomSerial } from './serial.js';
import { subtle, x509, type CryptoKey } from '../../lib/pki/x509.js';

/** A root's CRL is signed again by the ceremony when it has less than this left. */
export const RENEW_ROOT_CRL_DAYS = 30;

export interface CeremonyTokens {
  readonly root: OpenToken;
  readonly ca: OpenToken;
  readonly ocsp: OpenToken;
}

export interface CeremonyDeps {
  readonly db: Database;
  readonly now: () => Date;
  /** PKI_HTTP_BASE_URL: the CRL and caIssuers URLs written into the issuing CAs' certificates. */
  readonly pkiBaseUrl: string;
  readonly tokens: CeremonyTokens;
}

export interface CeremonyOptions {
  /** Replace every CA's OCSP responder (a new key and certificate), even a valid one: `renew-ocsp`. */
  readonly renewOcsp?: boolean;
}

/** Runs the ceremony; returns what it made, one line each (nothing on a second run). */
export async function runCeremony(deps: CeremonyDeps, options: CeremonyOptions = {}): Promise<string[]> {
  const done: string[] = [];
  for (const family of CA_FAMILIES) {
    const spec = FAMILIES[family];
    const root = await ensureCa(deps, family, spec.root, undefined, done);
    const issuing = await ensureCa(deps, family, spec.issuing, root, done);
    for (const ca of [root, issuing]) await ensureResponder(deps, ca, options.renewOcsp === true, done);
    await ensureCrls(deps, root, issuing, done);
  }
  return done;
}

const newKeyLabel = (name: string): string => `${name}.${randomBytes(4).toString('hex')}`;

/** A key pair generated on `token`: the public half as a WebCrypto key, the private half as a token handle. */
async function generateOn(token: OpenToken, label: string): Promise<{ publicKey: CryptoKey; signingKey: CryptoKey }> {
  const spki = await token.run(() => generateSigningKey(token.session, label));
  const publicKey = await subtle.importKey('spki', spki, CA_KEY_ALGORITHM, true, ['verify']);
  return { publicKey, signingKey: await tokenSigningKey(token, label) };
}

async function ensureCa(deps: CeremonyDeps, family: CaFamily, spec: CaSpec | IssuingCaSpec, parent: LoadedCa | undefined, done: string[]): Promise<LoadedCa> {
  const token = parent === undefined ? deps.tokens.root : deps.tokens.ca;
  let row = await findCa(deps.db, spec.id);
  if (row === undefined) {
    await deps.db.insert(certificateAuthorities).values(await newCa(deps, token, family, spec, parent)).onConflictDoNothing({ target: certificateAuthorities.id });
    row = await findCa(deps.db, spec.id);
    if (row === undefined) throw new Error(`CA ${spec.id} vanished right after its insertion`);
    done.push(`created ${spec.id} (key ${row.keyLabel ?? '?'} on ${token.label})`);
  }
  if (row.family !== family || row.parentId !== (parent?.id ?? null)) {
    throw new Error(`CA ${row.id} is stored in family ${row.family} under ${row.parentId ?? 'nothing'}, not ${family} under ${parent?.id ?? 'nothing'}`);
  }
  if (parent !== undefined && !(await row.certificate.verify({ publicKey: parent.certificate.publicKey, signatureOnly: true }))) {
    throw new Error(`CA ${row.id} is not signed by ${parent.id}`);
  }
  return withTokenKey(row, token);
}

async function newCa(
  deps: CeremonyDeps,
  token: OpenToken,
  family: CaFamily,
  spec: CaSpec | IssuingCaSpec,
  parent: LoadedCa | undefined,
): Promise<typeof certificateAuthorities.$inferInsert> {
  const keyLabel = newKeyLabel(spec.id);
  const keys = await generateOn(token, keyLabel);
  const notBefore = wholeSeconds(deps.now());
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + spec.years);
  const subject = new x509.Name(spec.name);
  const extensions: x509.Extension[] = [
    // An issuing CA signs end-entity certificates only: no CA below it.
    new x509.BasicConstraintsExtension(true, parent === undefined ? undefined : 0, true),
    // No digitalSignature: OCSP answers are signed by delegated responders (ocsp-responders.ts), never by a CA.
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false),
  ];
  if (parent !== undefined && 'policies' in spec) {
    extensions.push(
      new x509.AuthorityKeyIdentifierExtension(parent.keyId, false),
      new x509.CertificatePolicyExtension([...spec.policies], false),
      ...revocationPointers(deps.pkiBaseUrl, parent.id, { ocsp: false }),
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
    // A root signs itself with its own new key, on the root token; an issuing CA is signed by its root there.
    signingKey: parent?.signingKey ?? keys.signingKey,
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    extensions,
  });
  return { id: spec.id, family, parentId: parent?.id ?? null, subject: certificate.subject, certificatePem: certificate.toString('pem'), keyLabel };
}

async function ensureResponder(deps: CeremonyDeps, ca: LoadedCa, renew: boolean, done: string[]): Promise<void> {
  const [current] = await deps.db.select({ notAfter: ocspResponders.notAfter }).from(ocspResponders).where(eq(ocspResponders.caId, ca.id));
  if (current !== undefined && !renew) return;
  const keyLabel = newKeyLabel(`${ca.id}-ocsp`);
  const keys = await generateOn(deps.tokens.ocsp, keyLabel);
  const { notBefore, notAfter } = responderValidity(deps.now());
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: new x509.Name(responderName(ca)),
    issuer: ca.certificate.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    extensions: await responderExtensions(ca, keys.publicKey),
  });
  const values = { caId: ca.id, keyLabel, certificatePem: certificate.toString('pem'), notAfter };
  if (current === undefined) {
    const inserted = await deps.db.insert(ocspResponders).values(values).onConflictDoNothing({ target: ocspResponders.caId }).returning({ caId: ocspResponders.caId });
    if (inserted.length > 0) done.push(`created the OCSP responder of ${ca.id} (key ${keyLabel} on ${deps.tokens.ocsp.label}, until ${notAfter.toISOString()})`);
  } else {
    // The old key stays on the token: a process that still holds it signs until it reads the new row (minutes).
    await deps.db.update(ocspResponders).set({ keyLabel, certificatePem: values.certificatePem, notAfter, createdAt: new Date() }).where(eq(ocspResponders.caId, ca.id));
    done.push(`renewed the OCSP responder of ${ca.id} (key ${keyLabel}, until ${notAfter.toISOString()})`);
  }
}

async function ensureCrls(deps: CeremonyDeps, root: LoadedCa, issuing: LoadedCa, done: string[]): Promise<void> {
  const rootCrl = await latestCrl(deps.db, root.id);
  const renewBefore = deps.now().getTime() + RENEW_ROOT_CRL_DAYS * 86_400_000;
  if (rootCrl === undefined || new Date(rootCrl.nextUpdate).getTime() < renewBefore) {
    const crl = await createCrlPublisher({ db: deps.db, now: deps.now, ca: signer(root), validityHours: ROOT_CRL_VALIDITY_HOURS }).publish(root.id);
    done.push(`signed CRL ${crl.crlNumber} of ${root.id} (next update ${crl.nextUpdate})`);
  }
  // The worker publishes the issuing CAs' CRLs from now on; the first one is here so the API has one at once.
  if ((await latestCrl(deps.db, issuing.id)) === undefined) {
    const crl = await createCrlPublisher({ db: deps.db, now: deps.now, ca: signer(issuing) }).publish(issuing.id);
    done.push(`signed CRL ${crl.crlNumber} of ${issuing.id}`);
  }
}

const signer =
  (ca: LoadedCa) =>
  (id: CaId): Promise<LoadedCa> => {
    if (id !== ca.id) throw new Error(`asked to sign a CRL of ${id} with the key of ${ca.id}`);
    return Promise.resolve(ca);
  };

