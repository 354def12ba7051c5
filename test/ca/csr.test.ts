/**
 * Customer CSRs made by the real openssl CLI (and, for keys openssl will not make, by @peculiar/x509 from hand-built
 * RSA keys) against checkCsr; the openssl command we hand out, run by a shell; duplicate and compromised keys in the
 * run's Postgres.
 */
import { spawnSync } from 'node:child_process';
import { checkPrimeSync, generateKeyPairSync, generatePrimeSync, randomBytes, randomUUID, webcrypto, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { checkCsr, checkPublicKey, CsrCommandError, opensslReqCommand, type CsrCheck } from '../../lib/pki/csr.js';
import { x509 } from '../../lib/pki/x509.js';
import { keyInUse } from '../../db/certificates.js';
import { openPostgres, type Database, type DatabaseHandle } from '../../db/client.js';
import { certificates } from '../../db/schema.js';
import type { ProductCode } from '../../domain/catalog.js';
import { seedOrder } from '../orders.js';
import { openssl } from './support.js';

const RSA_2048 = ['-newkey', 'rsa:2048'];
const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

/** A CSR from `openssl req -new -newkey …`; the key goes to a temporary file that is deleted. */
function opensslCsr(newkey: readonly string[], opts: { subj?: string; san?: string } = {}): string {
  const args = ['req', '-new', ...newkey, '-nodes', '-keyout', '{key.pem}', '-subj', opts.subj ?? '/CN=www.example.com'];
  if (opts.san) args.push('-addext', `subjectAltName=${opts.san}`);
  const run = openssl(args);
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toContain('-----BEGIN CERTIFICATE REQUEST-----');
  return run.stdout;
}

/** What `openssl req -verify` says of the self-signature (OpenSSL 3.0 exits 0 either way). */
function opensslVerdict(pem: string): string {
  const run = openssl(['req', '-in', '{csr.pem}', '-noout', '-verify'], { 'csr.pem': pem });
  return /self-signature verify failure/.test(run.stdout + run.stderr) ? 'self-signature verify failure' : /verify OK/.test(run.stdout + run.stderr) ? 'verify OK' : run.stderr;
}

const rulesOf = (check: CsrCheck): string[] => (check.ok ? [] : check.problems.map((p) => p.rule));

function accepted(check: CsrCheck): Extract<CsrCheck, { ok: true }> {
  if (!check.ok) throw new Error(`refused: ${JSON.stringify(check.problems)}`);
  return check;
}

const derOf = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
const flipBit = (buffer: Buffer, at: number): void => {
  buffer.writeUInt8(buffer.readUInt8(at) ^ 0x01, at);
};
const pemOf = (der: Buffer): string => `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;

// ---------------------------------------------------------------------------------------------------------------
// RSA keys openssl will not make: two close primes (Fermat), or a tiny factor.

const b64url = (n: bigint): string => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
};

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

const nextPrime = (from: bigint): bigint => {
  let candidate = from % 2n === 0n ? from + 1n : from;
  while (!checkPrimeSync(candidate)) candidate += 2n;
  return candidate;
};

/** A CSR signed by the RSA key with primes p and q, made with @peculiar/x509 from a JWK. */
async function rsaCsrFromPrimes(p: bigint, q: bigint, name: string): Promise<string> {
  const e = 65537n;
  const n = p * q;
  const d = modInverse(e, (p - 1n) * (q - 1n));
  const jwk = { kty: 'RSA', n: b64url(n), e: b64url(e) };
  const privateJwk = { ...jwk, d: b64url(d), p: b64url(p), q: b64url(q), dp: b64url(d % (p - 1n)), dq: b64url(d % (q - 1n)), qi: b64url(modInverse(q, p)) };
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const keys = {
    privateKey: await webcrypto.subtle.importKey('jwk', privateJwk, algorithm, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('jwk', jwk, algorithm, true, ['verify']),
  };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }])],
  });
  return csr.toString('pem');
}

// ---------------------------------------------------------------------------------------------------------------

describe('checkCsr accepts', () => {
  it('an RSA 2048 CSR with SANs: key, subject and names shown back, CN first, lower-case, deduplicated', async () => {
    const pem = opensslCsr(RSA_2048, { subj: '/C=FR/O=ACME/CN=WWW.Example.com', san: 'DNS:www.example.com,DNS:api.example.com,DNS:API.example.com' });
    const { csr, names } = accepted(await checkCsr(pem, { product: 'SSL' }));
    expect(csr.keyType).toBe('rsa');
    expect(csr.keyDescription).toBe('RSA 2048');
    expect(csr.subject).toBe('C=FR, O=ACME, CN=WWW.Example.com');
    expect(csr.commonName).toBe('WWW.Example.com');
    expect(csr.dnsNames).toEqual(['www.example.com', 'api.example.com']);
    expect(names).toEqual(['www.example.com', 'api.example.com']);
    // The SPKI is the key openssl sees in the request.
    const pubkey = openssl(['req', '-in', '{csr.pem}', '-noout', '-pubkey'], { 'csr.pem': pem });
    expect(derOf(pubkey.stdout).toString('base64')).toBe(csr.publicKeySpki);
  });

  it('RSA 3072, P-256 and P-384 CSRs', async () => {
    const cases: [readonly string[], string][] = [
      [['-newkey', 'rsa:3072'], 'RSA 3072'],
      [P256, 'ECDSA P-256'],
      [['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'ECDSA P-384'],
      [['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'], 'ECDSA P-521'],
    ];
    for (const [newkey, description] of cases) {
      const pem = opensslCsr(newkey, { subj: '/CN=shop.example.fr', san: 'DNS:shop.example.fr,DNS:www.shop.example.fr' });
      const { csr, names } = accepted(await checkCsr(pem, { product: 'SSL_RGS_STAR' }));
      expect(csr.keyDescription).toBe(description);
      expect(csr.keyType).toBe(description.startsWith('RSA') ? 'rsa' : 'ec');
      expect(names).toEqual(['shop.example.fr', 'www.shop.example.fr']);
    }
  });

  it('a compressed EC point, an RSA-PSS signature and a CSR in bare base64 DER', async () => {
    const compressed = opensslCsr([...P256, '-pkeyopt', 'ec_param_enc:named_curve', '-pkeyopt', 'point-format:compressed'], { san: 'DNS:www.example.com' });
    expect(accepted(await checkCsr(compressed, { product: 'SSL' })).csr.keyDescription).toBe('ECDSA P-256');
    const pss = opensslCsr([...RSA_2048, '-sigopt', 'rsa_padding_mode:pss'], { san: 'DNS:www.example.com' });
    accepted(await checkCsr(pss, { product: 'SSL' }));
    accepted(await checkCsr(derOf(pss).toString('base64'), { product: 'SSL' }));
  });

  it('adds extra SANs after the CSR names, deduplicated', async () => {
    const pem = opensslCsr(P256, { san: 'DNS:www.example.com' });
    const check = accepted(await checkCsr(pem, { product: 'SSL', extraSans: ['Mail.Example.com', 'www.example.com', 'mail.example.com'] }));
    expect(check.csr.dnsNames).toEqual(['www.example.com']);
    expect(check.names).toEqual(['www.example.com', 'mail.example.com']);
  });

  it('a CSR without names when the extra SANs bring them', async () => {
    const pem = opensslCsr(P256, { subj: '/O=ACME' });
    const check = accepted(await checkCsr(pem, { product: 'SERVER_CLIENT', extraSans: ['client.example.com'] }));
    expect(check.csr.commonName).toBeNull();
    expect(check.names).toEqual(['client.example.com']);
  });

  it('wildcards on SSL_WILDCARD', async () => {
    const pem = opensslCsr(P256, { subj: '/CN=*.example.com', san: 'DNS:*.example.com,DNS:example.com' });
    expect(accepted(await checkCsr(pem, { product: 'SSL_WILDCARD' })).names).toEqual(['*.example.com', 'example.com']);
  });

  it('ignores names for SERVER_SEAL and the personal products delivered as software: the key alone counts', async () => {
    const pem = opensslCsr(P256, { subj: '/O=ACME/CN=ACME invoices seal', san: 'IP:192.0.2.1,email:seal@example.com' });
    for (const product of ['SERVER_SEAL', 'ID_RGS_STAR', 'ENCRYPTION'] as const) {
      const check = accepted(await checkCsr(pem, { product }));
      expect(check.csr.commonName).toBe('ACME invoices seal');
      expect(check.csr.dnsNames).toEqual([]);
      expect(check.names).toEqual([]);
    }
  });
});

describe('checkCsr refuses', () => {
  it.each<[string, readonly string[], string]>([
    ['RSA 1024', ['-newkey', 'rsa:1024'], 'rsa-key-too-small'],
    ['RSA 2050 bits', ['-newkey', 'rsa:2050'], 'rsa-key-size-not-multiple-of-8'],
    ['RSA exponent 3', [...RSA_2048, '-pkeyopt', 'rsa_keygen_pubexp:3'], 'rsa-exponent-not-allowed'],
    ['ECDSA secp256k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'], 'key-algorithm-not-allowed'],
    ['Ed25519', ['-newkey', 'ed25519'], 'key-algorithm-not-allowed'],
    ['explicit EC parameters', [...P256, '-pkeyopt', 'ec_param_enc:explicit'], 'key-algorithm-not-allowed'],
    ['an id-RSASSA-PSS key', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048'], 'key-algorithm-not-allowed'],
  ])('%s: %s', async (_label, newkey, rule) => {
    const pem = opensslCsr(newkey, { san: 'DNS:www.example.com' });
    const check = await checkCsr(pem, { product: 'SSL' });
    expect(check.ok).toBe(false);
    expect(rulesOf(check)).toEqual([rule]);
  });

  it('says what is wrong with the key in words', async () => {
    const check = await checkCsr(opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']), { product: 'SERVER_SEAL' });
    expect(check).toEqual({
      ok: false,
      problems: [{ rule: 'key-algorithm-not-allowed', message: 'ECDSA secp256k1 keys are not accepted; use RSA (at least 2048 bits) or ECDSA P-256/P-384/P-521' }],
    });
    const small = await checkCsr(opensslCsr(['-newkey', 'rsa:1024']), { product: 'SERVER_SEAL' });
    expect(small).toEqual({ ok: false, problems: [{ rule: 'rsa-key-too-small', message: 'the RSA key has 1024 bits; at least 2048 are required' }] });
  });

  it('a signature that does not match (one byte of it flipped)', async () => {
    const pem = opensslCsr(P256, { san: 'DNS:www.example.com' });
    accepted(await checkCsr(pem, { product: 'SSL' }));
    const der = derOf(pem);
    // The signature BIT STRING ends the request: its last byte is one of s's.
    flipBit(der, der.length - 1);
    expect(opensslVerdict(pemOf(der))).toBe('self-signature verify failure');
    expect(rulesOf(await checkCsr(pemOf(der), { product: 'SSL' }))).toEqual(['csr-signature-invalid']);
  });

  it('a request altered after signing (a name changed)', async () => {
    const pem = opensslCsr(RSA_2048, { san: 'DNS:www.example.com' });
    const der = derOf(pem);
    const at = der.indexOf('www.example.com');
    der.write('wwx', at, 'latin1');
    const check = await checkCsr(pemOf(der), { product: 'SSL' });
    expect(rulesOf(check)).toEqual(['csr-signature-invalid']);
  });

  it.each([
    ['garbage', 'not a certificate request'],
    ['-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgQ1NS\n-----END CERTIFICATE REQUEST-----\n', 'PEM of something else'],
    ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'a certificate'],
    ['', 'nothing'],
  ])('garbage: %j (%s)', async (pem) => {
    expect(rulesOf(await checkCsr(pem, { product: 'SSL' }))).toEqual(['csr-unreadable']);
  });

  it('a private key pasted instead of the CSR, without echoing it', async () => {
    const key = openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).stdout;
    const check = await checkCsr(key, { product: 'SSL' });
    expect(rulesOf(check)).toEqual(['csr-unreadable']);
    expect(JSON.stringify(check)).toContain('private key');
    expect(JSON.stringify(check)).not.toContain(key.split('\n')[1]);
  });

  it('an EC point that is not on its curve', async () => {
    const pem = opensslCsr(P256, { san: 'DNS:www.example.com' });
    const spki = Buffer.from(accepted(await checkCsr(pem, { product: 'SSL' })).csr.publicKeySpki, 'base64');
    const der = derOf(pem);
    const at = der.indexOf(spki);
    // The uncompressed point ends the SPKI: change y.
    flipBit(der, at + spki.length - 1);
    const check = await checkCsr(pemOf(der), { product: 'SSL' });
    expect(check).toEqual({ ok: false, problems: [{ rule: 'weak-key', message: 'the EC public key is not a point on the curve P-256' }] });
  });

  it("an RSA modulus Fermat's method factors (two close primes)", async () => {
    const p = generatePrimeSync(1024, { bigint: true });
    const q = nextPrime(p + 2n);
    const pem = await rsaCsrFromPrimes(p, q, 'weak.example.com');
    expect(opensslVerdict(pem)).toBe('verify OK');
    const check = await checkCsr(pem, { product: 'SSL' });
    expect(check).toEqual({
      ok: false,
      problems: [{ rule: 'weak-key', message: "the RSA modulus factors by Fermat's method in 1 round (its primes are too close)" }],
    });
  });

  it('an RSA modulus with a small prime factor', async () => {
    // OpenSSL sets the top two bits of its primes: 1.5 · 2^2037 ≤ q < 2^2038, so n = 751 q has 2048 bits.
    const q = generatePrimeSync(2038, { bigint: true });
    const pem = await rsaCsrFromPrimes(751n, q, 'weak.example.com');
    const check = await checkCsr(pem, { product: 'SSL' });
    expect(check).toEqual({ ok: false, problems: [{ rule: 'weak-key', message: 'the RSA modulus is divisible by 751' }] });
  });

  it.each<[string, ProductCode, string, string]>([
    ['internal name', 'SSL', '/CN=intranet.corp', 'name-internal'],
    ['internal SAN', 'SSL', '/CN=www.example.com', 'name-internal'],
    ['IP SAN', 'SSL', '/CN=www.example.com', 'name-ip-address'],
    ['trailing dot', 'SSL', '/CN=www.example.com.', 'name-trailing-dot'],
    ['wildcard on a public suffix', 'SSL_WILDCARD', '/CN=*.co.uk', 'wildcard-on-public-suffix'],
    ['mid-label wildcard', 'SSL_WILDCARD', '/CN=w*.example.com', 'wildcard-not-leftmost'],
    ['wildcard on SSL', 'SSL', '/CN=*.example.com', 'wildcard-not-allowed'],
    ['wildcard on SERVER_CLIENT', 'SERVER_CLIENT', '/CN=*.example.com', 'wildcard-not-allowed'],
    ['wildcard product without a wildcard', 'SSL_WILDCARD', '/CN=www.example.com', 'wildcard-required'],
    ['a public suffix', 'SSL', '/CN=co.uk', 'name-public-suffix'],
    ['an e-mail SAN', 'SSL', '/CN=www.example.com', 'san-type-not-allowed'],
    ['no name at all', 'SSL', '/O=ACME', 'no-names'],
  ])('%s on %s', async (label, product, subj, rule) => {
    const san = { 'internal SAN': 'DNS:host.lan', 'IP SAN': 'IP:192.0.2.1', 'an e-mail SAN': 'email:webmaster@example.com' }[label];
    const check = await checkCsr(opensslCsr(P256, { subj, san }), { product });
    expect(rulesOf(check)).toEqual([rule]);
    if (!check.ok) expect(check.problems[0]?.message).toMatch(/\S{3,}/);
  });

  it('extra SANs by the same rules', async () => {
    const pem = opensslCsr(P256, { san: 'DNS:www.example.com' });
    const check = await checkCsr(pem, { product: 'SSL', extraSans: ['server.local', '10.0.0.1', 'ok.example.com', '*.example.com'] });
    expect(rulesOf(check)).toEqual(['name-internal', 'name-ip-address', 'wildcard-not-allowed']);
    expect(check.ok || check.problems[0]?.message).toBe('extra SAN server.local is an internal name: .local is not a public top-level domain');
    expect(rulesOf(await checkCsr(pem, { product: 'SERVER_SEAL', extraSans: ['www.example.com'] }))).toEqual(['sans-not-allowed']);
  });

  it('every problem at once, not just the first', async () => {
    const pem = opensslCsr(['-newkey', 'rsa:1024', '-pkeyopt', 'rsa_keygen_pubexp:3'], { subj: '/CN=server.local', san: 'DNS:server.local,IP:192.0.2.1,DNS:*.example.com' });
    const check = await checkCsr(pem, { product: 'SSL', extraSans: ['www.example.com.'] });
    expect(rulesOf(check).sort()).toEqual(
      ['rsa-key-too-small', 'rsa-exponent-not-allowed', 'name-internal', 'name-ip-address', 'wildcard-not-allowed', 'name-trailing-dot'].sort(),
    );
  });

  it('a CSR for a product whose key is made on the token', async () => {
    const pem = opensslCsr(P256);
    expect(rulesOf(await checkCsr(pem, { product: 'ID_RGS_2STAR' }))).toEqual(['csr-not-accepted']);
  });
});

describe('checkPublicKey (a key without its CSR)', () => {
  const spkiOf = (key: KeyObject): string => key.export({ type: 'spki', format: 'der' }).toString('base64');
  const ec = (namedCurve: string): string => spkiOf(generateKeyPairSync('ec', { namedCurve }).publicKey);
  const rsa = (modulusLength: number): string => spkiOf(generateKeyPairSync('rsa', { modulusLength }).publicKey);

  it('takes the same key rules', () => {
    expect(checkPublicKey(ec('P-384'))).toEqual({ ok: true, keyType: 'ec', keyDescription: 'ECDSA P-384' });
    expect(checkPublicKey(rsa(2048))).toEqual({ ok: true, keyType: 'rsa', keyDescription: 'RSA 2048' });
    // 2050 bits: a DER modulus of 257 bytes, which a byte count would take for 2056 bits.
    expect(checkPublicKey(rsa(2050))).toMatchObject({ ok: false, problems: [{ rule: 'rsa-key-size-not-multiple-of-8' }] });
    expect(checkPublicKey(ec('secp256k1'))).toMatchObject({ ok: false, problems: [{ rule: 'key-algorithm-not-allowed' }] });
    expect(checkPublicKey('bm90IGEga2V5')).toMatchObject({ ok: false, problems: [{ rule: 'key-unreadable' }] });
    expect(checkPublicKey('not base64!')).toMatchObject({ ok: false, problems: [{ rule: 'key-unreadable' }] });
  });
});

describe('opensslReqCommand', () => {
  /** Runs the command in a fresh folder with sh, as a customer would, and returns the CSR it wrote. */
  function runCommand(command: string, csrFile: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'certflow-csr-'));
    try {
      const run = spawnSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      return readFileSync(join(dir, csrFile), 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('gives the exact command, RSA 3072 by default', () => {
    expect(opensslReqCommand({ product: 'SSL', commonName: 'WWW.example.com', sans: ['api.example.com', 'www.example.com'] })).toBe(
      "openssl req -new -newkey rsa:3072 -nodes -keyout www.example.com.key -out www.example.com.csr -subj '/CN=www.example.com' -addext 'subjectAltName=DNS:www.example.com,DNS:api.example.com'",
    );
  });

  it.each<[ProductCode, string, string[], 'rsa' | 'ec' | undefined, string]>([
    ['SSL', 'www.example.com', ['api.example.com'], undefined, 'RSA 3072'],
    ['SSL_RGS_STAR', 'shop.example.fr', [], 'ec', 'ECDSA P-256'],
    ['SSL_WILDCARD', '*.example.com', ['example.com'], 'ec', 'ECDSA P-256'],
    ['SERVER_CLIENT', 'client.example.com', [], 'ec', 'ECDSA P-256'],
  ])('%s %s: the CSR it makes is accepted with the same names', async (product, commonName, sans, keyType, description) => {
    const command = opensslReqCommand({ product, commonName, sans, keyType });
    const csrFile = `${commonName.replace('*.', 'wildcard.')}.csr`;
    const { csr, names } = accepted(await checkCsr(runCommand(command, csrFile), { product }));
    expect(names).toEqual([commonName, ...sans]);
    expect(csr.commonName).toBe(commonName);
    expect(csr.keyDescription).toBe(description);
  });

  it('quotes a free-text common name (seal) so that the shell and openssl keep it whole', async () => {
    const commonName = "ACME's /invoices+seal \\ été";
    const command = opensslReqCommand({ product: 'SERVER_SEAL', commonName, keyType: 'ec' });
    const { csr } = accepted(await checkCsr(runCommand(command, 'acme-s-invoices-seal-ete.csr'), { product: 'SERVER_SEAL' }));
    expect(csr.commonName).toBe(commonName);
  });

  it.each<[ProductCode, string, string[], string]>([
    ['SSL', 'server.local', [], 'name-internal'],
    ['SSL', 'www.example.com', ['192.0.2.1'], 'name-ip-address'],
    ['SSL', "www.example.com'; rm -rf ~; '", [], 'name-invalid'],
    ['SSL', '*.example.com', [], 'wildcard-not-allowed'],
    ['SSL_WILDCARD', '*.co.uk', [], 'wildcard-on-public-suffix'],
    ['SSL_WILDCARD', 'www.example.com', [], 'wildcard-required'],
    ['SERVER_SEAL', 'ACME seal', ['www.example.com'], 'sans-not-allowed'],
    ['SERVER_SEAL', 'bad\nname', [], 'subject-invalid'],
    ['ID_RGS_3STAR', 'Camille Durand', [], 'csr-not-accepted'],
  ])('%s %j: refused (%s)', (product, commonName, sans, rule) => {
    const attempt = (): string => opensslReqCommand({ product, commonName, sans });
    expect(attempt).toThrow(CsrCommandError);
    expect(attempt).toThrow(expect.objectContaining({ rule }) as Error);
  });
});

describe('keyInUse', () => {
  let handle: DatabaseHandle;
  let db: Database;
  beforeAll(() => {
    handle = openPostgres(inject('databaseUrl'), 2);
    db = handle.db;
  });
  afterAll(async () => {
    await handle?.close();
  });

  async function certify(orderId: string, publicKeySpki: string, revocation?: { reason: string }): Promise<string> {
    const serial = randomBytes(16).toString('hex').replace(/^./, '1');
    const now = new Date();
    await db.insert(certificates).values({
      serial,
      orderId,
      issuanceKey: `order-${orderId}/issue/${serial}`,
      issuingCa: 'tls-issuing',
      profile: 'SSL',
      subject: 'CN=www.example.com',
      publicKeySpki,
      notBefore: now,
      notAfter: new Date(now.getTime() + 90 * 86_400_000),
      pem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
      status: revocation ? 'revoked' : 'valid',
      revokedAt: revocation ? now : null,
      revocationReason: revocation?.reason ?? null,
    });
    return serial;
  }

  const spkiOfNewCsr = async (): Promise<string> => accepted(await checkCsr(opensslCsr(P256, { san: 'DNS:www.example.com' }), { product: 'SSL' })).csr.publicKeySpki;

  it('a key certified for another order is in use; on its own order it is not', async () => {
    const spki = await spkiOfNewCsr();
    const { orderId } = await seedOrder(db, 'csr-dup');
    const other = await seedOrder(db, 'csr-dup');
    expect(await keyInUse(db, spki)).toBeUndefined();
    const serial = await certify(orderId, spki);
    expect(await keyInUse(db, spki, { exceptOrderId: other.orderId })).toEqual({ orderId, serial, reason: 'in_use' });
    expect(await keyInUse(db, spki)).toEqual({ orderId, serial, reason: 'in_use' });
    expect(await keyInUse(db, spki, { exceptOrderId: orderId })).toBeUndefined();
    // Another key is free.
    expect(await keyInUse(db, await spkiOfNewCsr(), { exceptOrderId: other.orderId })).toBeUndefined();
  });

  it('a key revoked for keyCompromise is blocked forever, even on its own order', async () => {
    const spki = await spkiOfNewCsr();
    const { orderId } = await seedOrder(db, 'csr-compromised');
    await certify(orderId, spki);
    const serial = await certify(orderId, spki, { reason: 'keyCompromise' });
    expect(await keyInUse(db, spki, { exceptOrderId: orderId })).toEqual({ orderId, serial, reason: 'compromised' });
    expect(await keyInUse(db, spki, { exceptOrderId: randomUUID() })).toEqual({ orderId, serial, reason: 'compromised' });
  });

  it('a key revoked for another reason on the same order may be certified again', async () => {
    const spki = await spkiOfNewCsr();
    const { orderId } = await seedOrder(db, 'csr-superseded');
    await certify(orderId, spki, { reason: 'superseded' });
    expect(await keyInUse(db, spki, { exceptOrderId: orderId })).toBeUndefined();
  });
});
