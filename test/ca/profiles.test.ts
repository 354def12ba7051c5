/**
 * Every product's certificate as openssl sees it: it chains to its family's root, carries its profile's key usage,
 * extended key usage, policies, names and revocation pointers; and what a profile does not allow is refused before
 * anything is reserved or signed.
 */
import { webcrypto } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createCaWithInternals } from '../../activities/ca/ca.js';
import { lintTbs, readSubjectKey } from '../../activities/ca/lint.js';
import { SMIME_POLICY } from '../../activities/ca/policies.js';
import type { CaId } from '../../lib/pki/ca-ids.js';
import { x509 } from '../../lib/pki/x509.js';
import {
  CA_POLICY_ARC,
  CABF_POLICY,
  ETSI_POLICY,
  OWN_POLICY,
  PROFILES,
  profileFor,
  type Ca,
  type IssueRequest,
  type IssuedCertificate,
} from '../../activities/ca/index.js';
import { certificates } from '../../db/schema.js';
import { PRODUCT_CODES, type ProductCode } from '../../domain/catalog.js';
import { caForFile, ACME, CA_URLS, insertOrder, openssl, PDS_URL, pemBlocks, PKI_BASE_URL, testSecrets } from './support.js';

const run = caForFile();

const spkiOf = async (key: webcrypto.CryptoKey): Promise<string> => Buffer.from(await webcrypto.subtle.exportKey('spki', key)).toString('base64');
const ecKey = async (): Promise<string> => spkiOf((await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])).publicKey);
const rsaKey = async (): Promise<string> =>
  spkiOf(
    (await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']))
      .publicKey,
  );

/** A request for the product as the workflow would send it, on a fresh order (certificates reference orders). */
async function request(product: ProductCode, publicKeySpki: string, overrides: Partial<IssueRequest> = {}): Promise<IssueRequest> {
  const orderId = await insertOrder(run.db);
  const profile = PROFILES[product];
  const names = profile.san === 'dns-wildcard' ? ['*.acme-example.fr', 'acme-example.fr'] : ['www.acme-example.fr', 'api.acme-example.fr'];
  return {
    issuanceKey: `order-${orderId}/issue/1`,
    orderId,
    product,
    holder: { givenName: 'Camille', surname: 'Durand', email: 'camille.durand@example.test' },
    organisation: ACME,
    publicKeySpki,
    ...(profile.san === 'dns' || profile.san === 'dns-wildcard' ? { dnsNames: names } : {}),
    validityDays: profile.validity.kind === 'br-schedule' ? 90 : 365,
    ...overrides,
  };
}

async function chainOf(caId: CaId): Promise<{ issuing: string; root: string }> {
  const [issuing, root, ...rest] = pemBlocks(await run.ca.chainPem({ caId }));
  if (issuing === undefined || root === undefined || rest.length > 0) throw new Error(`chain of ${caId} is not issuing + root`);
  return { issuing, root };
}

/** `openssl verify` of the leaf under its family's root, at the leaf's notBefore (some start in the future here). */
async function verify(cert: IssuedCertificate, purpose?: string) {
  const { issuing, root } = await chainOf(cert.issuingCa as CaId);
  const at = String(Date.parse(cert.notBefore) / 1000);
  return openssl(['verify', '-attime', at, ...(purpose ? ['-purpose', purpose] : []), '-CAfile', '{root.pem}', '-untrusted', '{issuing.pem}', '{leaf.pem}'], {
    'root.pem': root,
    'issuing.pem': issuing,
    'leaf.pem': cert.pem,
  });
}

const text = (pem: string): string => {
  const run = openssl(['x509', '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space', '-in', '{c.pem}'], { 'c.pem': pem });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
};

/** The extension's block of `openssl x509 -text`: its header line and the indented lines under it. */
const block = (out: string, header: string): string | undefined => out.match(new RegExp(`${header}:[^\\n]*\\n((?: {16,}[^\\n]*\\n)*)`))?.[0];

/** Issues nothing and reserves nothing; the failure names the problem. */
async function refused(req: IssueRequest, problem: RegExp, by: Ca = run.ca): Promise<void> {
  const failure = await by.issueCertificate(req).then(
    () => undefined,
    (err: unknown) => err as { type?: string; message?: string; nonRetryable?: boolean },
  );
  expect(failure?.type).toBe('CaLintFailed');
  expect(failure?.nonRetryable).toBe(true);
  expect(failure?.message).toMatch(problem);
  expect(await run.db.select().from(certificates).where(eq(certificates.orderId, req.orderId))).toHaveLength(0);
}

interface Expected {
  readonly issuingCa: CaId;
  readonly keyUsage: { ec: string; rsa: string };
  /** undefined: no extendedKeyUsage extension. */
  readonly eku?: string;
  readonly policies: readonly string[];
  readonly subject: string;
  /** What the SAN lists; undefined: no SAN. */
  readonly san?: string;
}

// BR §7.1.2.7.11: digitalSignature alone, for RSA as for EC (keyEncipherment only serves RSA key exchange).
const TLS_KU = { ec: 'Digital Signature', rsa: 'Digital Signature' };
const TLS_SUBJECT = 'C=FR, L=Paris, O=ACME, CN=www.acme-example.fr';
// S/MIME BR §7.1.4.2.5 (sponsor-validated): no OU, which could only be a verified Affiliate's name.
const PERSON_SUBJECT = 'C=FR, O=ACME, organizationIdentifier=NTRFR-732829320, SN=DURAND, GN=Camille, CN=Camille DURAND';
const SIGNATURE_KU = { ec: 'Digital Signature, Non Repudiation', rsa: 'Digital Signature, Non Repudiation' };

const EXPECTED: Readonly<Record<ProductCode, Expected>> = {
  SSL: {
    issuingCa: 'tls-issuing',
    keyUsage: TLS_KU,
    eku: 'TLS Web Server Authentication',
    policies: [CABF_POLICY.organizationValidated, `${CA_POLICY_ARC}.2.1`, ETSI_POLICY.ovcp],
    subject: TLS_SUBJECT,
    san: 'DNS:www.acme-example.fr, DNS:api.acme-example.fr',
  },
  SSL_RGS_STAR: {
    issuingCa: 'tls-issuing',
    keyUsage: TLS_KU,
    eku: 'TLS Web Server Authentication',
    policies: [CABF_POLICY.organizationValidated, `${CA_POLICY_ARC}.2.2`, ETSI_POLICY.ovcp],
    subject: TLS_SUBJECT,
    san: 'DNS:www.acme-example.fr, DNS:api.acme-example.fr',
  },
  SSL_WILDCARD: {
    issuingCa: 'tls-issuing',
    keyUsage: TLS_KU,
    eku: 'TLS Web Server Authentication',
    policies: [CABF_POLICY.organizationValidated, `${CA_POLICY_ARC}.2.3`, ETSI_POLICY.ovcp],
    subject: 'C=FR, L=Paris, O=ACME, CN=*.acme-example.fr',
    san: 'DNS:*.acme-example.fr, DNS:acme-example.fr',
  },
  SERVER_CLIENT: {
    issuingCa: 'seals-issuing',
    keyUsage: { ec: 'Digital Signature', rsa: 'Digital Signature' },
    eku: 'TLS Web Client Authentication',
    policies: [`${CA_POLICY_ARC}.3.1`, ETSI_POLICY.ncp],
    subject: 'C=FR, O=ACME, organizationIdentifier=NTRFR-732829320, CN=www.acme-example.fr',
    san: 'DNS:www.acme-example.fr, DNS:api.acme-example.fr',
  },
  SERVER_SEAL: {
    issuingCa: 'seals-issuing',
    keyUsage: SIGNATURE_KU,
    policies: [`${CA_POLICY_ARC}.3.2`, ETSI_POLICY.ncp],
    subject: 'C=FR, O=ACME, OU=0002 73282932000074, organizationIdentifier=NTRFR-732829320, CN=ACME',
  },
  ID_RGS_STAR: {
    issuingCa: 'persons-issuing',
    keyUsage: SIGNATURE_KU,
    eku: 'E-mail Protection, TLS Web Client Authentication',
    policies: [SMIME_POLICY.sponsoredMultipurpose, `${CA_POLICY_ARC}.1.1`, ETSI_POLICY.lcp],
    subject: PERSON_SUBJECT,
    san: 'email:camille.durand@example.test',
  },
  ID_RGS_2STAR: {
    issuingCa: 'persons-issuing',
    keyUsage: SIGNATURE_KU,
    eku: 'E-mail Protection, TLS Web Client Authentication',
    policies: [SMIME_POLICY.sponsoredMultipurpose, `${CA_POLICY_ARC}.1.2`, ETSI_POLICY.ncpPlus],
    subject: PERSON_SUBJECT,
    san: 'email:camille.durand@example.test',
  },
  ID_RGS_3STAR: {
    issuingCa: 'persons-issuing',
    keyUsage: SIGNATURE_KU,
    eku: 'E-mail Protection, TLS Web Client Authentication',
    policies: [SMIME_POLICY.sponsoredMultipurpose, `${CA_POLICY_ARC}.1.3`, ETSI_POLICY.ncpPlus],
    subject: PERSON_SUBJECT,
    san: 'email:camille.durand@example.test',
  },
  ENCRYPTION: {
    issuingCa: 'persons-issuing',
    keyUsage: { ec: 'Key Agreement', rsa: 'Key Encipherment' },
    eku: 'E-mail Protection',
    policies: [SMIME_POLICY.sponsoredMultipurpose, `${CA_POLICY_ARC}.1.4`, ETSI_POLICY.lcp],
    subject: PERSON_SUBJECT,
    san: 'email:camille.durand@example.test',
  },
  EIDAS_QUALIFIED: {
    issuingCa: 'persons-issuing',
    keyUsage: SIGNATURE_KU,
    eku: 'E-mail Protection',
    policies: [SMIME_POLICY.sponsoredMultipurpose, `${CA_POLICY_ARC}.1.5`, ETSI_POLICY.qcpNQscd],
    subject: PERSON_SUBJECT,
    san: 'email:camille.durand@example.test',
  },
};

describe('the three hierarchies', () => {
  it('lists six CAs, roots first, each issuing CA under its own family root', async () => {
    const cas = await run.ca.caCertificates();
    expect(cas.map((c) => c.id)).toEqual(['tls-root', 'persons-root', 'seals-root', 'tls-issuing', 'persons-issuing', 'seals-issuing']);
    for (const family of ['tls', 'persons', 'seals'] as const) {
      const issuing = cas.find((c) => c.id === `${family}-issuing`);
      expect(issuing).toMatchObject({ family, parentId: `${family}-root` });
      expect(cas.find((c) => c.id === `${family}-root`)).toMatchObject({ family, parentId: null });
      const { root, issuing: issuingPem } = await chainOf(`${family}-issuing`);
      expect(issuingPem.trim()).toBe(issuing?.pem.trim());
      expect(openssl(['verify', '-CAfile', '{root.pem}', '{issuing.pem}'], { 'root.pem': root, 'issuing.pem': issuingPem }).stdout).toMatch(/: OK/);
    }
    // The roots are distinct keys: a TLS leaf cannot chain to the persons root.
    expect(new Set(cas.filter((c) => c.parentId === null).map((c) => c.pem)).size).toBe(3);
  });

  it('gives the TLS issuing CA serverAuth and the OV policy, the others emailProtection, and every issuing CA its root http CRL and certificate URLs', async () => {
    const tls = text((await chainOf('tls-issuing')).issuing);
    expect(tls).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
    expect(tls).toContain(`Policy: ${CABF_POLICY.organizationValidated}`);
    expect(tls).toMatch(/CA:TRUE, pathlen:0/);
    for (const family of ['tls', 'persons', 'seals'] as const) {
      const out = text((await chainOf(`${family}-issuing`)).issuing);
      // Delegated responders sign the OCSP answers (ocsp-responders.ts): the CA bits only.
      expect(block(out, 'X509v3 Key Usage')).toMatch(/critical\s+Certificate Sign, CRL Sign\n/);
      // The ceremony made the run's hierarchy with its own base: any http one (BR §7.1.2.11.2, S/MIME BR §7.1.2.2 b).
      expect(block(out, 'X509v3 CRL Distribution Points')).toMatch(new RegExp(`URI:http://[^/\\s]+/v1/ca/${family}-root/crl`));
      expect(block(out, 'Authority Information Access')).toMatch(new RegExp(`CA Issuers - URI:http://[^/\\s]+/v1/ca/${family}-root/certificate`));
    }
    // S/MIME BR §7.1.2.2 g: the persons and seals issuing CAs are S/MIME subordinates.
    for (const family of ['persons', 'seals'] as const) {
      expect(text((await chainOf(`${family}-issuing`)).issuing)).toMatch(/X509v3 Extended Key Usage:\s+E-mail Protection, TLS Web Client Authentication\n/);
    }
  });
});

describe('a certificate of every product', () => {
  for (const product of PRODUCT_CODES) {
    const keyTypes = PROFILES[product].kind === 'tls' ? (['rsa', 'ec'] as const) : (['ec'] as const);
    for (const keyType of keyTypes) {
      it(`${product} (${keyType === 'rsa' ? 'RSA 2048' : 'P-256'}) verifies and carries its profile`, async () => {
        const expected = EXPECTED[product];
        const cert = await run.ca.issueCertificate(await request(product, keyType === 'rsa' ? await rsaKey() : await ecKey()));
        expect(cert.issuingCa).toBe(expected.issuingCa);

        const verified = await verify(cert);
        expect(verified.stdout.trim(), verified.stderr).toMatch(/leaf\.pem: OK$/);

        const out = text(cert.pem);
        expect(out).toContain(`Subject: ${expected.subject}\n`);
        expect(out).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
        expect(block(out, 'X509v3 Key Usage')).toMatch(new RegExp(`critical\\s+${expected.keyUsage[keyType]}\\n`));
        if (expected.eku === undefined) expect(out).not.toContain('X509v3 Extended Key Usage');
        else expect(block(out, 'X509v3 Extended Key Usage')).toMatch(new RegExp(`:\\s+${expected.eku}\\n`));
        const policies = [...(block(out, 'X509v3 Certificate Policies') ?? '').matchAll(/Policy: (\S+)/g)].map((m) => m[1]);
        expect(policies).toEqual(expected.policies);
        if (expected.san === undefined) expect(out).not.toContain('Subject Alternative Name');
        else expect(block(out, 'X509v3 Subject Alternative Name')).toMatch(new RegExp(`:\\s+${expected.san.replace(/[.*]/g, '\\$&')}\\n`));
        expect(block(out, 'X509v3 CRL Distribution Points')).toContain(`URI:${PKI_BASE_URL}/v1/ca/${expected.issuingCa}/crl`);
        const aia = block(out, 'Authority Information Access');
        expect(aia).toContain(`OCSP - URI:${PKI_BASE_URL}/v1/ocsp`);
        expect(aia).toContain(`CA Issuers - URI:${PKI_BASE_URL}/v1/ca/${expected.issuingCa}/certificate`);
        expect(out).toContain('X509v3 Authority Key Identifier');
        // BR §7.1.2.7.6: no subject key identifier in a subscriber TLS certificate; the others keep theirs.
        expect(out.includes('X509v3 Subject Key Identifier')).toBe(PROFILES[product].kind !== 'tls');
        expect(out.includes('qcStatements')).toBe(product === 'EIDAS_QUALIFIED');

        if (PROFILES[product].kind === 'tls') {
          const server = await verify(cert, 'sslserver');
          expect(server.stdout.trim(), server.stderr).toMatch(/leaf\.pem: OK$/);
        }
        // The full chain of the order comes from the certificate's own family.
        const full = pemBlocks(await run.ca.chainPem({ serial: cert.serial }));
        const { issuing, root } = await chainOf(expected.issuingCa);
        expect(full.map((p) => p.trim())).toEqual([cert.pem.trim(), issuing.trim(), root.trim()]);
      });
    }
  }

  it('writes the ETSI QCStatements of a qualified signature: compliance, QSCD, type esign, the English PDS', async () => {
    const cert = await run.ca.issueCertificate(await request('EIDAS_QUALIFIED', await ecKey()));
    const parsed = openssl(['asn1parse', '-in', '{c.pem}'], { 'c.pem': cert.pem });
    expect(parsed.status, parsed.stderr).toBe(0);
    // OpenSSL names 1.3.6.1.5.5.7.1.3 qcStatements; its value is the OCTET STRING right after, parsed on its own.
    const offset = parsed.stdout.match(/OBJECT\s+:qcStatements\n\s*(\d+):d=\d+\s+hl=\d+\s+l=\s*\d+\s+prim: OCTET STRING/)?.[1];
    expect(offset).toBeDefined();
    const inner = openssl(['asn1parse', '-i', '-strparse', offset ?? '', '-in', '{c.pem}'], { 'c.pem': cert.pem });
    expect(inner.status, inner.stderr).toBe(0);
    const asn1 = inner.stdout;
    // The ETSI ids print as numbers, in the order written.
    const etsi = [...asn1.matchAll(/OBJECT\s+:(0\.4\.0\.1862\.[\d.]+)/g)].map((m) => m[1]);
    expect(etsi).toEqual(['0.4.0.1862.1.1', '0.4.0.1862.1.4', '0.4.0.1862.1.6', '0.4.0.1862.1.6.1', '0.4.0.1862.1.5']);
    expect(asn1).toMatch(new RegExp(`IA5STRING\\s+:${PDS_URL}/en\\n`));
    expect(asn1).toMatch(/PRINTABLESTRING\s+:en\n/);
    const oid = new x509.X509Certificate(cert.pem).extensions.find((e) => e.type === '1.3.6.1.5.5.7.1.3');
    expect(oid?.critical).toBe(false);
  });

  it('makes a client-authentication certificate that a TLS server accepts and a browser does not', async () => {
    const cert = await run.ca.issueCertificate(await request('SERVER_CLIENT', await rsaKey()));
    expect((await verify(cert, 'sslclient')).stdout).toMatch(/leaf\.pem: OK/);
    expect((await verify(cert, 'sslserver')).stdout).not.toMatch(/leaf\.pem: OK/);
  });
});

describe('TLS validity', () => {
  /** A CA whose clock reads 2027-04-01, when the BR allow 100 days. */
  const caOn = (at: string): Ca => createCaWithInternals({ db: run.db, secrets: testSecrets(), ...CA_URLS, now: () => new Date(at) }).ca;

  it('follows the BR schedule at notBefore: on 2027-04-01, 99 and 100 days pass and 101 is refused', async () => {
    const later = caOn('2027-04-01T10:00:00Z');
    const ninetyNine = await later.issueCertificate(await request('SSL', await ecKey(), { validityDays: 99 }));
    expect(ninetyNine.notBefore).toBe('2027-04-01T10:00:00.000Z');
    const hundred = await later.issueCertificate(await request('SSL', await ecKey(), { validityDays: 100 }));
    // BR §1.6.1 counts both ends: 100 days are 8 640 000 seconds from the first to the last one.
    expect(hundred.notAfter).toBe('2027-07-10T09:59:59.000Z');
    expect((await verify(hundred, 'sslserver')).stdout).toMatch(/leaf\.pem: OK/);

    await refused(await request('SSL', await ecKey(), { validityDays: 101 }), /a TLS certificate issued on 2027-04-01 lives 1 to 100 days/, later);
  });

  it('allows 200 days before 2027-03-15 and 47 from 2029-03-15', async () => {
    expect((await caOn('2027-03-14T23:00:00Z').issueCertificate(await request('SSL_WILDCARD', await ecKey(), { validityDays: 200 }))).notAfter).toBe(
      '2027-09-30T22:59:59.000Z',
    );
    await expect(caOn('2029-03-15T00:00:00Z').issueCertificate(await request('SSL', await ecKey(), { validityDays: 48 }))).rejects.toMatchObject({ type: 'CaLintFailed' });
  });
});

describe('pre-issuance lint', () => {
  it('refuses a wildcard outside the wildcard product, and the wildcard product without one', async () => {
    await refused(await request('SSL', await ecKey(), { dnsNames: ['*.acme-example.fr'] }), /wildcard-not-allowed/);
    await refused(await request('SSL_RGS_STAR', await ecKey(), { dnsNames: ['www.acme-example.fr', '*.acme-example.fr'] }), /wildcard-not-allowed/);
    await refused(await request('SERVER_CLIENT', await ecKey(), { dnsNames: ['*.acme-example.fr'] }), /wildcard-not-allowed/);
    await refused(await request('SSL_WILDCARD', await ecKey(), { dnsNames: ['www.acme-example.fr'] }), /at least one wildcard name/);
    await refused(await request('SSL_WILDCARD', await ecKey(), { dnsNames: ['*.fr'] }), /wildcard-on-public-suffix/);
  });

  it('refuses a TLS certificate for an organisation without a locality', async () => {
    await refused(await request('SSL', await ecKey(), { organisation: { ...ACME, locality: null } }), /no locality/);
    await refused(await request('SSL_WILDCARD', await ecKey(), { organisation: { ...ACME, locality: '   ' } }), /no locality/);
    // The other products do not name the city: the same organisation gets its seal.
    const seal = await run.ca.issueCertificate(await request('SERVER_SEAL', await ecKey(), { organisation: { ...ACME, locality: null } }));
    expect(seal.subject).not.toContain('L=');
  });

  it('refuses names that are not public FQDNs, duplicates, and TLS without names', async () => {
    await refused(await request('SSL', await ecKey(), { dnsNames: ['intranet'] }), /name-not-fqdn/);
    await refused(await request('SSL', await ecKey(), { dnsNames: ['www.acme-example.fr', 'server.local'] }), /name-internal/);
    await refused(await request('SSL', await ecKey(), { dnsNames: ['192.0.2.10'] }), /name-ip-address/);
    await refused(await request('SERVER_CLIENT', await ecKey(), { dnsNames: ['www.acme-example.fr.'] }), /name-trailing-dot/);
    await refused(await request('SSL', await ecKey(), { dnsNames: ['www.acme-example.fr', 'WWW.acme-example.fr'] }), /listed twice/);
    await refused(await request('SSL', await ecKey(), { dnsNames: [] }), /at least one DNS name/);
    await refused(await request('SERVER_SEAL', await ecKey(), { dnsNames: ['www.acme-example.fr'] }), /carry no DNS names/);
    // A host name longer than a common name may be cannot be the CN.
    await refused(await request('SSL', await ecKey(), { dnsNames: [`${'a'.repeat(60)}.acme-example.fr`] }), /common name longer than 64/);
  });

  it('refuses keys a profile cannot certify', async () => {
    const small = await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, [
      'sign',
      'verify',
    ]);
    await refused(await request('SSL', await spkiOf(small.publicKey)), /at least 2048/);
    const ed = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    await refused(await request('SERVER_SEAL', await spkiOf((ed as webcrypto.CryptoKeyPair).publicKey)), /Ed25519 keys are not accepted/);
  });

  it('refuses, in its second pass, a to-be-signed certificate that strays from its profile', async () => {
    const req = await request('SSL', await rsaKey());
    const cert = new x509.X509Certificate((await run.ca.issueCertificate(req)).pem);
    const [row] = await run.db.select().from(certificates).where(eq(certificates.issuanceKey, req.issuanceKey));
    const key = readSubjectKey(req.publicKeySpki);
    if (row === undefined || 'problem' in key) throw new Error('no certificate to check');
    const issuing = (await run.internals.hierarchy()).ca('tls-issuing');
    const expected = {
      profile: PROFILES.SSL,
      keyType: key.keyType,
      serial: row.serial,
      subject: row.subject,
      spki: key.der,
      email: req.holder.email,
      dnsNames: ['www.acme-example.fr', 'api.acme-example.fr'],
      notBefore: row.notBefore,
      notAfter: row.notAfter,
      issuing,
      ...CA_URLS,
    };
    // What was signed passes; the same certificate under other expectations does not.
    expect(lintTbs(cert, expected)).toEqual([]);
    expect(lintTbs(cert, { ...expected, dnsNames: ['www.acme-example.fr'] })).toContain('subjectAltName differs from the requested names');
    const keyEncipherment = { ...PROFILES.SSL, keyUsage: { ...PROFILES.SSL.keyUsage, rsa: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment } };
    expect(lintTbs(cert, { ...expected, profile: keyEncipherment })).toContain('keyUsage does not match the profile');
    expect(lintTbs(cert, { ...expected, pkiBaseUrl: 'http://elsewhere.example' })).toEqual(
      expect.arrayContaining(['CRL distribution point must be the CRL of tls-issuing', 'AIA must name the OCSP responder']),
    );
    const wildcard = profileFor('SSL_WILDCARD');
    if (wildcard === undefined) throw new Error('no wildcard profile');
    expect(lintTbs(cert, { ...expected, profile: wildcard })).toEqual(
      expect.arrayContaining(['certificatePolicies do not match the profile', 'a wildcard certificate needs a wildcard name']),
    );
    expect(lintTbs(cert, { ...expected, profile: PROFILES.SERVER_CLIENT, issuing: (await run.internals.hierarchy()).ca('seals-issuing') })).toEqual(
      expect.arrayContaining(['issuer is not the issuing CA', 'extendedKeyUsage does not match the profile', `missing extension 2.5.29.14`]),
    );
  });

  it('names a profile for every product and no other', () => {
    for (const product of PRODUCT_CODES) expect(profileFor(product)?.product).toBe(product);
    expect(profileFor('CODE_SIGNING')).toBeUndefined();
    expect(OWN_POLICY.SSL).toBe(`${CA_POLICY_ARC}.2.1`);
  });
});
