/**
 * The persons CA against the run's Postgres and the real openssl CLI: the ceremony's hierarchy whatever the concurrency,
 * CA keys on the token (none in Postgres), PINs sealed at rest, certificates openssl reads and verifies, issuance exactly once per key, the mock token.
 */
import { randomUUID, webcrypto } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createCaWithInternals } from '../../activities/ca/ca.js';
import { PERSONS_FAMILY } from '../../activities/ca/hierarchy.js';
import { CA_POLICY_ARC, createCa, ETSI_POLICY, type Ca, type IssueRequest } from '../../activities/ca/index.js';
import { tokenPinPurpose, tokenSoPinPurpose } from '../../activities/ca/token.js';
import { unseal, type Secrets } from '../../config/secrets.js';
import { openPostgres, type Database, type DatabaseHandle } from '../../db/client.js';
import { certificateAuthorities, certificates, tokens } from '../../db/schema.js';
import { ACME, insertOrder, openssl, pemBlocks, CA_URLS, testSecrets } from './support.js';

const CA_IDS = [PERSONS_FAMILY.root.id, PERSONS_FAMILY.issuing.id];

let handle: DatabaseHandle;
let db: Database;
let ca: Ca;
let secrets: Secrets;

beforeAll(() => {
  secrets = testSecrets();
  handle = openPostgres(inject('databaseUrl'), 4);
  db = handle.db;
  ca = createCa({ db, secrets, ...CA_URLS });
});
afterAll(async () => {
  await handle?.close();
});

const spkiOf = async (key: webcrypto.CryptoKey): Promise<string> => Buffer.from(await webcrypto.subtle.exportKey('spki', key)).toString('base64');

async function ecKey(namedCurve = 'P-256'): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify']);
  return spkiOf(keys.publicKey);
}

async function rsaKey(modulusLength: number): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, [
    'sign',
    'verify',
  ]);
  return spkiOf(keys.publicKey);
}

function request(orderId: string, publicKeySpki: string, overrides: Partial<IssueRequest> = {}): IssueRequest {
  return {
    issuanceKey: `order-${orderId}/issue/1`,
    orderId,
    product: 'ID_RGS_STAR',
    holder: { givenName: 'Camille', surname: 'Durand', email: 'camille.durand@example.test' },
    organisation: ACME,
    publicKeySpki,
    validityDays: 824, // a persons certificate: S/MIME BR §6.3.2, one day under 825
    ...overrides,
  };
}

async function chain(): Promise<{ root: string; issuing: string }> {
  const [issuing, root] = pemBlocks(await ca.chainPem({ caId: 'persons-issuing' }));
  if (issuing === undefined || root === undefined) throw new Error('chain is incomplete');
  return { root, issuing };
}

/** `openssl verify` of a leaf against the stored root, the issuing CA as the untrusted intermediate. */
async function verify(leaf: string) {
  const { root, issuing } = await chain();
  return openssl(['verify', '-CAfile', '{root.pem}', '-untrusted', '{issuing.pem}', '{leaf.pem}'], { 'root.pem': root, 'issuing.pem': issuing, 'leaf.pem': leaf });
}

const text = (pem: string): string => {
  const run = openssl(['x509', '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space', '-in', '{c.pem}'], { 'c.pem': pem });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
};

const rowsOf = (issuanceKey: string) => db.select().from(certificates).where(eq(certificates.issuanceKey, issuanceKey));

describe('the persons hierarchy', () => {
  it('is the ceremony’s, loaded and never created by workers that ensure it five times at once', async () => {
    const before = await db.select().from(certificateAuthorities).where(inArray(certificateAuthorities.id, CA_IDS));
    const a = createCa({ db, secrets, ...CA_URLS });
    const b = createCa({ db, secrets, ...CA_URLS });
    await Promise.all([a.ensureHierarchy(), b.ensureHierarchy(), a.ensureHierarchy(), b.ensureHierarchy(), a.ensureHierarchy()]);

    const rows = await db.select().from(certificateAuthorities).where(inArray(certificateAuthorities.id, CA_IDS));
    expect(rows.map((r) => r.id).sort()).toEqual([...CA_IDS].sort());
    expect(rows).toEqual(expect.arrayContaining(before));
    expect(rows.find((r) => r.id === 'persons-issuing')?.parentId).toBe('persons-root');
    // Both instances (and a third, fresh one) serve the stored hierarchy, not a candidate of their own.
    const chains = await Promise.all([a, b, createCa({ db, secrets, ...CA_URLS })].map((x) => x.chainPem({ caId: 'persons-issuing' })));
    expect(new Set(chains).size).toBe(1);
    expect(pemBlocks(chains[0] ?? '')).toHaveLength(2);
  });

  it('chains: a self-signed P-384 root, an issuing CA it signed that may not sign CAs', async () => {
    const { root, issuing } = await chain();
    expect(openssl(['verify', '-CAfile', '{root.pem}', '{root.pem}'], { 'root.pem': root }).stdout).toMatch(/: OK/);
    expect(openssl(['verify', '-CAfile', '{root.pem}', '{issuing.pem}'], { 'root.pem': root, 'issuing.pem': issuing }).stdout).toMatch(/: OK/);
    const rootText = text(root);
    expect(rootText).toMatch(/Subject: C ?= ?FR, O ?= ?CertFlow, CN ?= ?CertFlow Persons Root CA/);
    expect(rootText).toContain('NIST CURVE: P-384');
    expect(rootText).toMatch(/CA:TRUE/);
    const issuingText = text(issuing);
    expect(issuingText).toContain('ecdsa-with-SHA384');
    expect(issuingText).toMatch(/CA:TRUE, pathlen:0/);
    expect(issuingText).toMatch(/Certificate Sign, CRL Sign/);
  });

  it('keeps no private key in Postgres: each row holds the certificate and the label of its key on the token', async () => {
    const rows = await db.select().from(certificateAuthorities).where(inArray(certificateAuthorities.id, CA_IDS));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['certificatePem', 'createdAt', 'family', 'id', 'keyLabel', 'parentId', 'subject']);
      expect(JSON.stringify(row)).not.toMatch(/PRIVATE KEY|"v1\./);
      expect(row.keyLabel).toMatch(new RegExp(`^${row.id}\\.[0-9a-f]{8}$`));
    }
  });
});

describe('issuance', () => {
  it('issues a certificate openssl reads and verifies: subject, e-mail, usages, policies', async () => {
    const orderId = await insertOrder(db);
    const token = await ca.personaliseToken({ personalisationKey: `order-${orderId}/token`, orderId });
    const cert = await ca.issueCertificate(request(orderId, token.publicKeySpki));

    expect(cert.issuingCa).toBe('persons-issuing');
    // S/MIME BR §7.1.4.2.5 (sponsor-validated): no OU, which may only name a verified Affiliate.
    expect(cert.subject).toBe('C=FR, O=ACME, 2.5.4.97=NTRFR-732829320, SN=DURAND, G=Camille, CN=Camille DURAND');
    expect(new Date(cert.notAfter).getTime() - new Date(cert.notBefore).getTime()).toBe(824 * 86_400_000);

    const out = text(cert.pem);
    expect(out).toContain('Subject: C=FR, O=ACME, organizationIdentifier=NTRFR-732829320, SN=DURAND, GN=Camille, CN=Camille DURAND');
    expect(out).toContain('email:camille.durand@example.test');
    expect(out).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(out).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
    expect(out).toMatch(/X509v3 Extended Key Usage:\s+E-mail Protection, TLS Web Client Authentication/);
    expect(out).toContain('Policy: 2.23.140.1.5.3.2');
    expect(out).toContain(`Policy: ${CA_POLICY_ARC}.1.1`);
    expect(out).toContain(`Policy: ${ETSI_POLICY.lcp}`);
    expect(out).toContain('X509v3 Subject Key Identifier');
    expect(out).toContain('X509v3 Authority Key Identifier');
    expect(out).toContain('ecdsa-with-SHA384');
    expect(out).toContain('NIST CURVE: P-256');

    const verified = await verify(cert.pem);
    expect(verified.stdout.trim(), verified.stderr).toMatch(/leaf\.pem: OK$/);

    // The stored row is the certificate: same serial, validity, subject and key as openssl reads them.
    const [row] = await rowsOf(request(orderId, '').issuanceKey);
    expect(row).toMatchObject({ serial: cert.serial, status: 'valid', pem: cert.pem, publicKeySpki: token.publicKeySpki, profile: 'ID_RGS_STAR' });
    const serial = openssl(['x509', '-noout', '-serial', '-in', '{c.pem}'], { 'c.pem': cert.pem }).stdout.trim();
    expect(serial).toBe(`serial=${cert.serial.toUpperCase()}`);
    const dates = openssl(['x509', '-noout', '-startdate', '-enddate', '-dateopt', 'iso_8601', '-in', '{c.pem}'], { 'c.pem': cert.pem });
    if (dates.status === 0) expect(dates.stdout).toContain(cert.notBefore.replace('T', ' ').replace('.000Z', 'Z'));
    // The full chain of the order: its certificate, the issuing CA, the root.
    const full = pemBlocks(await ca.chainPem({ serial: cert.serial }));
    expect(full).toHaveLength(3);
    expect(full[0]?.trim()).toBe(cert.pem.trim());
  });

  it('draws serials positive and of at least 64 bits (16 random bytes, top bit clear)', async () => {
    const serials: string[] = [];
    for (let i = 0; i < 5; i++) {
      const orderId = await insertOrder(db);
      serials.push((await ca.issueCertificate(request(orderId, await ecKey()))).serial);
    }
    expect(new Set(serials).size).toBe(serials.length);
    for (const serial of serials) {
      expect(serial).toMatch(/^[4-7][0-9a-f]{31}$/);
      expect(BigInt(`0x${serial}`) >= 2n ** 64n).toBe(true);
    }
  });

  it('gives one certificate for ten concurrent calls with the same issuance key on two workers', async () => {
    const orderId = await insertOrder(db);
    const req = request(orderId, await ecKey());
    const a = createCa({ db, secrets, ...CA_URLS });
    const b = createCa({ db, secrets, ...CA_URLS });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).issueCertificate(req)));
    expect(new Set(results.map((r) => r.serial)).size).toBe(1);
    expect(new Set(results.map((r) => r.pem)).size).toBe(1);
    const rows = await rowsOf(req.issuanceKey);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.pem).toBe(results[0]?.pem);
    expect(await db.select().from(certificates).where(eq(certificates.orderId, orderId))).toHaveLength(1);
    // A later retry still returns the stored certificate.
    expect(await ca.issueCertificate(req)).toEqual(results[0]);
  });

  it('completes a reservation left unsigned by a dying worker with the reserved serial, validity and key', async () => {
    const orderId = await insertOrder(db);
    const req = request(orderId, await ecKey());
    const reservedAt = new Date();
    const reservedSecond = Math.floor(reservedAt.getTime() / 1000) * 1000; // X.509 keeps whole seconds: so does the reservation
    const dying = createCaWithInternals({ db, secrets, now: () => reservedAt, ...CA_URLS });
    const reservation = await dying.reserveCertificate(req);
    expect(reservation).toMatchObject({ status: 'reserved', pem: null });

    // The retry runs an hour later on another worker: it signs what was reserved, not a new serial or period.
    const later = createCa({ db, secrets, now: () => new Date(reservedAt.getTime() + 3_600_000), ...CA_URLS });
    const cert = await later.issueCertificate(req);
    expect(cert.serial).toBe(reservation.serial);
    expect(cert.notBefore).toBe(new Date(reservedSecond).toISOString());
    expect(reservation.notBefore.toISOString()).toBe(cert.notBefore);
    expect(cert.notAfter).toBe(reservation.notAfter.toISOString());
    const [row] = await rowsOf(req.issuanceKey);
    expect(row).toMatchObject({ serial: reservation.serial, status: 'valid', pem: cert.pem });
    expect((await verify(cert.pem)).stdout).toMatch(/: OK/);
  });

  it('gives encryption certificates key agreement (EC) or key encipherment (RSA), e-mail protection only', async () => {
    const ec = await ca.issueCertificate(request(await insertOrder(db), await ecKey(), { product: 'ENCRYPTION' }));
    const ecText = text(ec.pem);
    expect(ecText).toMatch(/X509v3 Key Usage: critical\s+Key Agreement\n/);
    expect(ecText).toMatch(/X509v3 Extended Key Usage:\s+E-mail Protection\n/);
    expect(ecText).toContain(`Policy: ${CA_POLICY_ARC}.1.4`);

    const rsa = await ca.issueCertificate(request(await insertOrder(db), await rsaKey(2048), { product: 'ENCRYPTION' }));
    const rsaText = text(rsa.pem);
    // Key encipherment alone: ETSI EN 319 412-2 table 1 has no type with dataEncipherment.
    expect(rsaText).toMatch(/X509v3 Key Usage: critical\s+Key Encipherment\n/);
    expect((await verify(rsa.pem)).stdout).toMatch(/: OK/);
  });

  it('puts each product under its own policy, the qualified one under QCP-n-qscd', async () => {
    const expected = { ID_RGS_2STAR: ['2', ETSI_POLICY.ncpPlus], ID_RGS_3STAR: ['3', ETSI_POLICY.ncpPlus], EIDAS_QUALIFIED: ['5', ETSI_POLICY.qcpNQscd] } as const;
    for (const [product, [n, etsi]] of Object.entries(expected)) {
      const cert = await ca.issueCertificate(request(await insertOrder(db), await ecKey(), { product: product as IssueRequest['product'] }));
      const out = text(cert.pem);
      expect(out).toContain(`Policy: ${CA_POLICY_ARC}.1.${n}`);
      expect(out).toContain(`Policy: ${etsi}`);
      expect(out).toMatch(/Digital Signature, Non Repudiation/);
    }
  });

  it('keeps awkward names intact through the reservation', async () => {
    const orderId = await insertOrder(db);
    const cert = await ca.issueCertificate(
      request(orderId, await ecKey('P-384'), {
        holder: { givenName: '  Zoé  Marie ', surname: "d'Alembert-Lefèvre", email: 'zoe@example.test' },
        organisation: { name: 'Dupont, "Fils" + Cie; Société', siret: '44306184100047', locality: null },
      }),
    );
    const out = text(cert.pem);
    expect(out).toContain('O=Dupont, "Fils" + Cie; Société, organizationIdentifier=NTRFR-443061841');
    expect(out).toContain("CN=Zoé Marie D'ALEMBERT-LEFÈVRE");
    expect(out).toContain('organizationIdentifier=NTRFR-443061841');
    expect((await verify(cert.pem)).stdout).toMatch(/: OK/);
  });

  it('refuses what its profiles do not allow, before reserving anything', async () => {
    const orderId = await insertOrder(db);
    const key = await ecKey();
    await expect(ca.issueCertificate(request(orderId, key, { product: 'CODE_SIGNING' as IssueRequest['product'] }))).rejects.toMatchObject({
      type: 'CaUnsupportedProduct',
      nonRetryable: true,
    });
    // A person's certificate names no host.
    await expect(ca.issueCertificate(request(orderId, key, { dnsNames: ['www.example.com'] }))).rejects.toMatchObject({ type: 'CaLintFailed' });
    await expect(ca.issueCertificate(request(orderId, await rsaKey(1024)))).rejects.toMatchObject({ type: 'CaLintFailed', nonRetryable: true });
    await expect(ca.issueCertificate(request(orderId, 'bm90IGEga2V5'))).rejects.toMatchObject({ type: 'CaLintFailed' });
    await expect(ca.issueCertificate(request(orderId, key, { validityDays: 2000 }))).rejects.toMatchObject({ type: 'CaLintFailed' });
    await expect(ca.issueCertificate(request(orderId, key, { holder: { givenName: 'A', surname: 'B', email: 'not-an-address' } }))).rejects.toMatchObject({
      type: 'CaLintFailed',
    });
    await expect(ca.issueCertificate(request(orderId, key, { organisation: { name: 'X', siret: '12345678901234', locality: null } }))).rejects.toMatchObject({ type: 'CaLintFailed' });
    expect(await db.select().from(certificates).where(eq(certificates.orderId, orderId))).toHaveLength(0);
  });

  it('refuses another certificate under an issuance key already used', async () => {
    const orderId = await insertOrder(db);
    await ca.issueCertificate(request(orderId, await ecKey()));
    await expect(ca.issueCertificate(request(orderId, await ecKey()))).rejects.toMatchObject({ type: 'CaIdempotencyConflict', nonRetryable: true });
  });
});

describe('revocation', () => {
  it('sets status and reason once; a retry or a second request changes nothing', async () => {
    const orderId = await insertOrder(db);
    const cert = await ca.issueCertificate(request(orderId, await ecKey()));
    await ca.revokeCertificate({ serial: cert.serial, reason: 'superseded' });
    const [first] = await db.select().from(certificates).where(eq(certificates.serial, cert.serial));
    expect(first).toMatchObject({ status: 'revoked', revocationReason: 'superseded' });
    expect(first?.revokedAt).toBeInstanceOf(Date);

    await ca.revokeCertificate({ serial: cert.serial, reason: 'superseded' });
    await ca.revokeCertificate({ serial: cert.serial, reason: 'keyCompromise' });
    const [again] = await db.select().from(certificates).where(eq(certificates.serial, cert.serial));
    expect(again).toMatchObject({ status: 'revoked', revocationReason: 'superseded', revokedAt: first?.revokedAt });
    // A revoked certificate is still the one a retried issuance returns, never a new one.
    expect((await ca.issueCertificate(request(orderId, again?.publicKeySpki ?? ''))).serial).toBe(cert.serial);
  });

  it('refuses unknown reasons and unknown serials', async () => {
    const cert = await ca.issueCertificate(request(await insertOrder(db), await ecKey()));
    await expect(ca.revokeCertificate({ serial: cert.serial, reason: 'removeFromCRL' })).rejects.toMatchObject({ type: 'CaBadRevocationReason', nonRetryable: true });
    await expect(ca.revokeCertificate({ serial: cert.serial, reason: 'bored' })).rejects.toMatchObject({ type: 'CaBadRevocationReason' });
    await expect(ca.revokeCertificate({ serial: '7f'.repeat(16), reason: 'unspecified' })).rejects.toMatchObject({ type: 'CaCertificateNotFound' });
    const [row] = await db.select().from(certificates).where(eq(certificates.serial, cert.serial));
    expect(row?.status).toBe('valid');
  });
});

// The token itself on PKCS#11 (key attributes, PINs on the token, retries): test/ca/token.test.ts.
describe('the holder token, through the CA', () => {
  it('is personalised once per key, whatever the retries', async () => {
    const orderId = await insertOrder(db);
    const req = { personalisationKey: `order-${orderId}/token`, orderId };
    const other = createCa({ db, secrets, ...CA_URLS });
    const racing = await Promise.all([ca.personaliseToken(req), other.personaliseToken(req), ca.personaliseToken(req), other.personaliseToken(req)]);
    const first = racing[0];
    for (const result of racing) expect(result).toEqual(first);
    expect(await ca.personaliseToken(req)).toEqual(first);
    expect(await db.select().from(tokens).where(eq(tokens.orderId, orderId))).toHaveLength(1);
    await expect(ca.personaliseToken({ ...req, orderId: await insertOrder(db) })).rejects.toMatchObject({ type: 'CaIdempotencyConflict' });
    if (first === undefined) throw new Error('no token');
    // An ECDSA P-256 key, as the certificate will certify it.
    const key = await webcrypto.subtle.importKey('spki', Buffer.from(first.publicKeySpki, 'base64'), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
    expect(key.type).toBe('public');
  });

  it('reveals its 8-digit PIN once, then never again, even to concurrent callers', async () => {
    const orderId = await insertOrder(db);
    const token = await ca.personaliseToken({ personalisationKey: `order-${orderId}/token`, orderId });
    const reveals = await Promise.all([ca.revealPinOnce({ orderId }), ca.revealPinOnce({ orderId }), createCa({ db, secrets, ...CA_URLS }).revealPinOnce({ orderId })]);
    const pins = reveals.filter((pin): pin is string => pin !== undefined);
    expect(pins).toHaveLength(1);
    expect(pins[0]).toMatch(/^\d{8}$/);
    expect(await ca.revealPinOnce({ orderId })).toBeUndefined();
    const [row] = await db.select().from(tokens).where(eq(tokens.id, token.tokenId));
    expect(row?.pinRevealedAt).toBeInstanceOf(Date);
    expect(await ca.revealPinOnce({ orderId: randomUUID() })).toBeUndefined();
  });

  it('keeps neither the PIN nor the private key in clear', async () => {
    const orderId = await insertOrder(db);
    const token = await ca.personaliseToken({ personalisationKey: `order-${orderId}/token`, orderId });
    const [row] = await db.select().from(tokens).where(eq(tokens.id, token.tokenId));
    if (row === undefined) throw new Error('no token row');
    const pin = unseal(secrets.derive('tokens'), row.encryptedPin, tokenPinPurpose(row.id)).toString('utf8');
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(pin);
    expect(stored).not.toContain('PRIVATE KEY');
    // The private key stays on the token: the row has none, sealed or not.
    expect(row.encryptedPrivateKey).toBeNull();
    expect(row.encryptedPin).toMatch(/^v1\./);
    // The sealed PIN opens only as this token's PIN.
    expect(() => unseal(secrets.derive('tokens'), row.encryptedPin, tokenSoPinPurpose(row.id))).toThrow();
    expect(await ca.revealPinOnce({ orderId })).toBe(pin);
  });
});
