/**
 * The customer's certificate request (PKCS#10), checked before an order exists (SPEC §5): its self-signature, its
 * key (BR §6.1.5, §6.1.6, and §6.1.1.3's weak keys) and, for server products, its names (domain/rules/fqdn.ts).
 * Every problem is reported, each under a stable rule slug the API returns. The CA never generates a serverAuth key
 * (BR §6.1.1.3): `opensslReqCommand` is the command a customer runs on their own machine instead.
 */
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CATALOG, type ProductCode } from '../../domain/catalog.js';
import { checkDnsName, type NameRule } from '../../domain/rules/fqdn.js';
import { x509 } from './x509.js';

export interface CsrProblem {
  readonly rule: string;
  readonly message: string;
}

export interface ParsedCsr {
  /** Base64 DER SubjectPublicKeyInfo. */
  publicKeySpki: string;
  keyType: 'rsa' | 'ec';
  /** 'RSA 2048', 'ECDSA P-256'. */
  keyDescription: string;
  subject: string;
  commonName: string | null;
  /** The CN and the SAN dNSNames, lower-case, deduplicated, CN first; empty for products that certify no name. */
  dnsNames: string[];
}

export type CsrCheck = { ok: true; csr: ParsedCsr; names: string[] } | { ok: false; problems: CsrProblem[] };

/** BR §6.1.5: RSA moduli of at least 2048 bits, a whole number of bytes. */
const MIN_RSA_BITS = 2048;
/** BR §6.1.6: an odd exponent in [2^16 + 1, 2^256 - 1]. */
const MIN_RSA_EXPONENT = 65537n;
const MAX_RSA_EXPONENT = 2n ** 256n - 1n;
/** BR §6.1.1.3 (4): factors below 752 and Fermat's method over 100 rounds, as zlint checks them. */
const SMALL_FACTOR_BOUND = 752;
const FERMAT_ROUNDS = 100;
/** A bound on the names (and domain validations) one order carries. */
const MAX_NAMES = 100;

/** The name rules of a product whose certificate carries DNS names (domain/catalog.ts dnsNames); undefined otherwise. */
function nameRulesOf(product: ProductCode): { readonly wildcardAllowed: boolean; readonly wildcardRequired: boolean } | undefined {
  const names = CATALOG[product].dnsNames;
  return names === 'none' ? undefined : { wildcardAllowed: names === 'wildcard', wildcardRequired: names === 'wildcard' };
}

/** Short Weierstrass curves y² = x³ - 3x + b over GF(p) (FIPS 186-4 D.1.2); all three have p ≡ 3 (mod 4). */
const NIST_CURVES = {
  'P-256': {
    bytes: 32,
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  'P-384': {
    bytes: 48,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  'P-521': {
    bytes: 66,
    p: 2n ** 521n - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
} as const;
type NistCurve = keyof typeof NIST_CURVES;
const isNistCurve = (name: string | undefined): name is NistCurve => name !== undefined && Object.hasOwn(NIST_CURVES, name);

const SMALL_PRIMES: readonly bigint[] = (() => {
  const composite = new Uint8Array(SMALL_FACTOR_BOUND);
  const primes: bigint[] = [];
  for (let i = 2; i < SMALL_FACTOR_BOUND; i++) {
    if (composite[i]) continue;
    primes.push(BigInt(i));
    for (let j = i * i; j < SMALL_FACTOR_BOUND; j += i) composite[j] = 1;
  }
  return primes;
})();

// ---------------------------------------------------------------------------------------------------------------
// DER: just enough to take a CSR apart into the signed bytes, the signature and the key's bit string.

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

function readTlv(der: Uint8Array, start: number, limit: number): Tlv {
  if (start + 2 > limit) throw new Error('truncated DER');
  const tag = der[start] as number;
  let length = der[start + 1] as number;
  let contentStart = start + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || contentStart + octets > limit) throw new Error('bad DER length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[contentStart + i] as number);
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error('truncated DER');
  return { tag, start, contentStart, end };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readTlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const BIT_STRING = 0x03;

/** A BIT STRING's bytes (whole bytes only, as signatures and keys are). */
function bitStringBytes(der: Uint8Array, tlv: Tlv): Uint8Array {
  if (tlv.tag !== BIT_STRING || tlv.end <= tlv.contentStart || der[tlv.contentStart] !== 0) throw new Error('bad BIT STRING');
  return der.subarray(tlv.contentStart + 1, tlv.end);
}

interface CsrParts {
  readonly der: Uint8Array;
  /** certificationRequestInfo, the signed bytes. */
  readonly tbs: Uint8Array;
  readonly signature: Uint8Array;
  readonly spki: Uint8Array;
}

function splitCsr(der: Uint8Array): CsrParts {
  const outer = readTlv(der, 0, der.length);
  if (outer.tag !== SEQUENCE || outer.end !== der.length) throw new Error('not one DER SEQUENCE');
  const [info, sigAlg, sig, ...rest] = children(der, outer);
  if (!info || !sigAlg || !sig || rest.length > 0 || info.tag !== SEQUENCE || sigAlg.tag !== SEQUENCE) throw new Error('not a CertificationRequest');
  // certificationRequestInfo: version, subject, subjectPKInfo, [0] attributes.
  const spkiTlv = children(der, info)[2];
  if (spkiTlv?.tag !== SEQUENCE) throw new Error('no SubjectPublicKeyInfo');
  return { der, tbs: der.subarray(info.start, info.end), signature: bitStringBytes(der, sig), spki: der.subarray(spkiTlv.start, spkiTlv.end) };
}

/** The subjectPublicKey BIT STRING's bytes of an SPKI: the EC point, or the RSAPublicKey. */
function subjectPublicKeyBytes(spki: Uint8Array): Uint8Array {
  const outer = readTlv(spki, 0, spki.length);
  const bits = outer.tag === SEQUENCE && outer.end === spki.length ? children(spki, outer)[1] : undefined;
  if (!bits) throw new Error('not a SubjectPublicKeyInfo');
  return bitStringBytes(spki, bits);
}

/** PEM (CERTIFICATE REQUEST or NEW CERTIFICATE REQUEST) or bare base64 DER; one request only. */
function decodeCsr(text: string): Uint8Array | { problem: string } {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    return { problem: 'this is a private key, not a certificate request: keep it secret; a key sent to anyone must be replaced by a new one' };
  }
  const blocks = [...text.matchAll(/-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END \1?CERTIFICATE REQUEST-----/g)];
  if (blocks.length > 1) return { problem: 'the text holds several certificate requests; send exactly one' };
  const body = blocks.length === 1 ? (blocks[0]?.[2] ?? '') : text.includes('-----') ? null : text;
  if (body === null) return { problem: 'expected a PEM block "-----BEGIN CERTIFICATE REQUEST-----"' };
  const base64 = body.replace(/\s+/g, '');
  if (base64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return { problem: 'the request is not PEM or base64 DER' };
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

// ---------------------------------------------------------------------------------------------------------------
// Keys.

const bigintOf = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`));

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/** ⌊√n⌋ by Newton's method. */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << (BigInt(n.toString(2).length + 1) >> 1n);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** Why an RSA modulus is weak (BR §6.1.1.3 (4)), or null. */
function rsaWeakness(n: bigint): string | null {
  for (const p of SMALL_PRIMES) if (n % p === 0n) return `the RSA modulus is divisible by ${p}`;
  // Fermat: n = a² - b² = (a - b)(a + b) when p and q are close; try a = ⌈√n⌉ and the next 99.
  let a = isqrt(n);
  if (a * a < n) a += 1n;
  for (let round = 0; round < FERMAT_ROUNDS; round++, a += 1n) {
    const b2 = a * a - n;
    const b = isqrt(b2);
    if (b * b === b2) return `the RSA modulus factors by Fermat's method in ${round + 1} round${round === 0 ? '' : 's'} (its primes are too close)`;
  }
  return null;
}

/** Whether an uncompressed or compressed SEC 1 point lies on the curve (cofactor 1: on the curve is in the group). */
function onCurve(curve: NistCurve, point: Uint8Array): boolean {
  const { bytes, p, b } = NIST_CURVES[curve];
  const rhs = (x: bigint): bigint => (((x * x * x - 3n * x + b) % p) + p) % p;
  const x = bigintOf(point.subarray(1, 1 + bytes));
  if (point[0] === 0x04 && point.length === 1 + 2 * bytes) {
    const y = bigintOf(point.subarray(1 + bytes));
    return x < p && y < p && (y * y) % p === rhs(x);
  }
  if ((point[0] === 0x02 || point[0] === 0x03) && point.length === 1 + bytes) {
    // x is on the curve when x³ - 3x + b is a square mod p; p ≡ 3 (mod 4) gives the root directly.
    const r = rhs(x);
    const y = modPow(r, (p + 1n) / 4n, p);
    return x < p && (y * y) % p === r;
  }
  return false;
}

const EC_PUBLIC_KEY_OID = '1.2.840.10045.2.1';
/** Names for the refused key types Node recognises. */
const KEY_TYPE_LABELS: Readonly<Record<string, string>> = {
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
  dsa: 'DSA',
  dh: 'Diffie-Hellman',
  'rsa-pss': 'RSASSA-PSS (id-RSASSA-PSS; use an rsaEncryption key)',
};

interface KeyFindings {
  readonly problems: CsrProblem[];
  readonly keyType?: 'rsa' | 'ec';
  readonly description?: string;
  /** Null when the key cannot be imported (the signature cannot be verified then). */
  readonly keyObject: KeyObject | null;
}

function checkKey(spki: Uint8Array): KeyFindings {
  const problems: CsrProblem[] = [];
  let alg: { name: string; namedCurve?: string };
  let keyBits: Uint8Array;
  try {
    keyBits = subjectPublicKeyBytes(spki);
  } catch {
    return { problems: [{ rule: 'key-unreadable', message: 'the public key is not a SubjectPublicKeyInfo' }], keyObject: null };
  }
  try {
    alg = new x509.PublicKey(spki).algorithm as typeof alg;
  } catch {
    return { problems: [{ rule: 'key-algorithm-not-allowed', message: 'the key algorithm is not known; use RSA (at least 2048 bits) or ECDSA P-256/P-384/P-521' }], keyObject: null };
  }
  let keyObject: KeyObject | null = null;
  try {
    keyObject = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    // An EC point off its curve is not importable: onCurve below says so. Anything else is unreadable.
  }

  if (alg.name === 'ECDSA' && isNistCurve(alg.namedCurve)) {
    if (!onCurve(alg.namedCurve, keyBits)) {
      problems.push({ rule: 'weak-key', message: `the EC public key is not a point on the curve ${alg.namedCurve}` });
      return { problems, keyObject: null };
    }
    if (!keyObject) return { problems: [{ rule: 'key-unreadable', message: 'the EC public key cannot be read' }], keyObject: null };
    return { problems, keyType: 'ec', description: `ECDSA ${alg.namedCurve}`, keyObject };
  }

  // rsaEncryption keys only (BR §7.1.3.1.1): an id-RSASSA-PSS key is refused like any other algorithm.
  if (alg.name === 'RSASSA-PKCS1-v1_5' && keyObject?.asymmetricKeyType === 'rsa') {
    const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
    const exponent = keyObject.asymmetricKeyDetails?.publicExponent ?? 0n;
    if (bits < MIN_RSA_BITS) problems.push({ rule: 'rsa-key-too-small', message: `the RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required` });
    if (bits % 8 !== 0) problems.push({ rule: 'rsa-key-size-not-multiple-of-8', message: `the RSA key has ${bits} bits, not a multiple of 8 (use 2048, 3072 or 4096)` });
    if (exponent % 2n === 0n || exponent < MIN_RSA_EXPONENT || exponent > MAX_RSA_EXPONENT) {
      problems.push({ rule: 'rsa-exponent-not-allowed', message: `the RSA public exponent is ${exponent}; it must be odd, from 65537 to 2^256 - 1 (use 65537)` });
    }
    const { n } = keyObject.export({ format: 'jwk' });
    const weakness = rsaWeakness(bigintOf(Buffer.from(n ?? '', 'base64url')));
    if (weakness) problems.push({ rule: 'weak-key', message: weakness });
    return { problems, keyType: 'rsa', description: `RSA ${bits}`, keyObject };
  }

  if (alg.name === 'RSASSA-PKCS1-v1_5') return { problems: [{ rule: 'key-unreadable', message: 'the RSA public key cannot be read' }], keyObject: null };
  // id-ecPublicKey with explicit parameters: @peculiar/x509 then names the key by its OID.
  if (alg.name === EC_PUBLIC_KEY_OID || (alg.name === 'ECDSA' && !alg.namedCurve)) {
    problems.push({ rule: 'key-algorithm-not-allowed', message: 'EC keys with explicit curve parameters are not accepted; use the named curve P-256, P-384 or P-521' });
    return { problems, keyObject };
  }
  const what =
    alg.name === 'ECDSA'
      ? `ECDSA ${keyObject?.asymmetricKeyDetails?.namedCurve ?? alg.namedCurve ?? 'on an unknown curve'}`
      : (KEY_TYPE_LABELS[keyObject?.asymmetricKeyType ?? ''] ?? alg.name);
  problems.push({ rule: 'key-algorithm-not-allowed', message: `${what} keys are not accepted; use RSA (at least 2048 bits) or ECDSA P-256/P-384/P-521` });
  return { problems, keyObject };
}

/**
 * The key rules alone, for a key that comes without a CSR (base64 DER SubjectPublicKeyInfo): the same rules and
 * slugs as checkCsr's.
 */
export function checkPublicKey(publicKeySpki: string): { ok: true; keyType: 'rsa' | 'ec'; keyDescription: string } | { ok: false; problems: CsrProblem[] } {
  const der = Buffer.from(publicKeySpki, 'base64');
  if (der.length === 0 || der.toString('base64') !== publicKeySpki.replace(/\s+/g, '')) {
    return { ok: false, problems: [{ rule: 'key-unreadable', message: 'the public key is not base64 DER' }] };
  }
  const key = checkKey(new Uint8Array(der));
  if (key.problems.length > 0 || !key.keyType || !key.description) {
    return { ok: false, problems: key.problems };
  }
  return { ok: true, keyType: key.keyType, keyDescription: key.description };
}

/** DSA signature algorithms have no WebCrypto name: @peculiar/x509 reports their OID. */
const DSA_HASHES: Readonly<Record<string, string>> = {
  '1.2.840.10040.4.3': 'sha1',
  '2.16.840.1.101.3.4.3.1': 'sha224',
  '2.16.840.1.101.3.4.3.2': 'sha256',
};

/** Proof of possession: the request is signed by the private key of the key it carries. */
function signatureValid(csr: x509.Pkcs10CertificateRequest, parts: CsrParts, key: KeyObject): boolean {
  try {
    const alg = csr.signatureAlgorithm as { name: string; hash?: { name: string }; saltLength?: number };
    const hash = alg.hash ? alg.hash.name.replace('-', '').toLowerCase() : (DSA_HASHES[alg.name] ?? null);
    switch (alg.name) {
      case 'RSASSA-PKCS1-v1_5':
      case 'ECDSA':
        return verify(hash, parts.tbs, key, parts.signature);
      case 'RSA-PSS':
        return verify(hash, parts.tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength ?? 20 }, parts.signature);
      case 'Ed25519':
      case 'Ed448':
        return verify(null, parts.tbs, key, parts.signature);
      default:
        return hash !== null && verify(hash, parts.tbs, key, parts.signature);
    }
  } catch {
    // An unknown signature algorithm, one that does not fit the key, or a malformed signature.
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Names.

interface NamedSource {
  readonly source: 'common name' | 'subjectAltName' | 'extra SAN';
  readonly value: string;
}

function csrNames(csr: x509.Pkcs10CertificateRequest, problems: CsrProblem[]): NamedSource[] {
  const names: NamedSource[] = csr.subjectName.getField('CN').map((value) => ({ source: 'common name', value }));
  for (const ext of csr.getExtensions('2.5.29.17')) {
    for (const general of new x509.SubjectAlternativeNameExtension(ext.rawData).names.toJSON()) {
      if (general.type === 'dns') names.push({ source: 'subjectAltName', value: general.value });
      else if (general.type === 'ip') problems.push({ rule: 'name-ip-address', message: `subjectAltName IP:${general.value}: only DNS names are certified` });
      else problems.push({ rule: 'san-type-not-allowed', message: `subjectAltName ${general.type}:${general.value}: only DNS names are certified` });
    }
  }
  return names;
}

/**
 * The names that pass the name rules, lower-case and deduplicated, each with its source; the others become
 * problems, one per distinct name (a CN repeated in the SANs is reported once).
 */
function acceptNames(names: readonly NamedSource[], wildcardAllowed: boolean, problems: CsrProblem[]): NamedSource[] {
  const seen = new Set<string>();
  const accepted: NamedSource[] = [];
  for (const { source, value } of names) {
    if (seen.has(value.toLowerCase())) continue;
    seen.add(value.toLowerCase());
    const check = checkDnsName(value, { wildcardAllowed });
    if (check.ok) accepted.push({ source, value: check.name });
    else problems.push({ rule: check.rule, message: `${source} ${check.message}` });
  }
  return accepted;
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Checks a customer's CSR for `product` and the extra SANs ordered with it. Names count only for the TLS products
 * and SERVER_CLIENT; SERVER_SEAL and the personal products delivered as software take the key only.
 */
export function checkCsr(pem: string, opts: { product: ProductCode; extraSans?: readonly string[] }): Promise<CsrCheck> {
  // Asynchronous by contract, so that a later check may ask a service (a list of compromised keys, say).
  return Promise.resolve(inspectCsr(pem, opts));
}

function inspectCsr(pem: string, opts: { product: ProductCode; extraSans?: readonly string[] }): CsrCheck {
  const problems: CsrProblem[] = [];
  if (CATALOG[opts.product].keyOrigin === 'token') {
    problems.push({ rule: 'csr-not-accepted', message: `${opts.product} keys are generated on the token; this product takes no certificate request` });
  }
  const decoded = decodeCsr(pem);
  if (!(decoded instanceof Uint8Array)) return { ok: false, problems: [...problems, { rule: 'csr-unreadable', message: decoded.problem }] };
  let csr: x509.Pkcs10CertificateRequest;
  let parts: CsrParts;
  try {
    parts = splitCsr(decoded);
    csr = new x509.Pkcs10CertificateRequest(decoded);
  } catch {
    return { ok: false, problems: [...problems, { rule: 'csr-unreadable', message: 'the text is not a PKCS#10 certificate request' }] };
  }

  const key = checkKey(parts.spki);
  problems.push(...key.problems);
  if (key.keyObject && !signatureValid(csr, parts, key.keyObject)) {
    problems.push({ rule: 'csr-signature-invalid', message: 'the request is not signed by the key it carries (altered after signing?)' });
  }

  const nameRules = nameRulesOf(opts.product);
  const commonName = csr.subjectName.getField('CN')[0] ?? null;
  const extraSans = opts.extraSans ?? [];
  let dnsNames: string[] = [];
  let names: string[] = [];
  if (nameRules) {
    const fromCsr = csrNames(csr, problems);
    const extra = extraSans.map((value): NamedSource => ({ source: 'extra SAN', value }));
    const accepted = acceptNames([...fromCsr, ...extra], nameRules.wildcardAllowed, problems);
    names = accepted.map((name) => name.value);
    dnsNames = accepted.filter((name) => name.source !== 'extra SAN').map((name) => name.value);
    if (nameRules.wildcardRequired && names.length > 0 && !names.some((name) => name.startsWith('*.'))) {
      problems.push({ rule: 'wildcard-required', message: 'a wildcard certificate needs at least one name of the form *.example.com' });
    }
    if (names.length > MAX_NAMES) problems.push({ rule: 'too-many-names', message: `${names.length} names; at most ${MAX_NAMES} per certificate` });
    if (fromCsr.length === 0 && extraSans.length === 0) {
      problems.push({
        rule: 'no-names',
        message: `a ${opts.product} certificate needs at least one DNS name: put it in the CSR (CN or subjectAltName) or add it as an extra SAN`,
      });
    }
  } else if (extraSans.length > 0) {
    problems.push({ rule: 'sans-not-allowed', message: `${opts.product} certificates carry no DNS names; remove the extra SANs` });
  }

  if (problems.length > 0 || !key.keyType || !key.description) return { ok: false, problems };
  return {
    ok: true,
    csr: {
      publicKeySpki: Buffer.from(parts.spki).toString('base64'),
      keyType: key.keyType,
      keyDescription: key.description,
      subject: csr.subject,
      commonName,
      dnsNames,
    },
    names,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The command a customer runs to make their key and CSR.

export type CsrCommandRule = NameRule | 'wildcard-required' | 'too-many-names' | 'sans-not-allowed' | 'csr-not-accepted' | 'subject-invalid';

/** Why no command can be given: the rule slug is the one checkCsr would report for the resulting CSR. */
export class CsrCommandError extends Error {
  constructor(
    readonly rule: CsrCommandRule,
    message: string,
  ) {
    super(message);
    this.name = 'CsrCommandError';
  }
}

/** RFC 5280 ub-common-name. */
const UB_COMMON_NAME = 64;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** POSIX shells and PowerShell read a single-quoted word literally; a quote inside is closed, escaped, reopened. */
const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
/** openssl's -subj syntax: "/" separates attributes, "+" joins multi-valued RDNs, "\" escapes. */
const subjValue = (value: string): string => value.replace(/[\\/+]/g, (c) => `\\${c}`);

/**
 * The `openssl req` command that makes a new key (RSA 3072 by default, or EC P-256) and its CSR on the customer's
 * machine, in files named after the common name. For the named products the CN and SANs pass the same name rules as
 * checkCsr (the CN comes first in the SANs); for the others the CN is free text and no SAN is written. Throws a
 * CsrCommandError when the request would be refused anyway.
 */
export function opensslReqCommand(opts: { product: ProductCode; commonName: string; sans?: readonly string[]; keyType?: 'rsa' | 'ec' }): string {
  if (CATALOG[opts.product].keyOrigin === 'token') throw new CsrCommandError('csr-not-accepted', `${opts.product} keys are generated on the token`);
  const nameRules = nameRulesOf(opts.product);
  const sans = opts.sans ?? [];
  let commonName: string;
  let fileBase: string;
  const args = ['openssl', 'req', '-new'];
  args.push(...(opts.keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:3072']));
  let addext: string | null = null;
  if (nameRules) {
    const names: string[] = [];
    for (const value of [opts.commonName, ...sans]) {
      const check = checkDnsName(value, { wildcardAllowed: nameRules.wildcardAllowed });
      if (!check.ok) throw new CsrCommandError(check.rule, check.message);
      if (!names.includes(check.name)) names.push(check.name);
    }
    if (nameRules.wildcardRequired && !names.some((name) => name.startsWith('*.'))) {
      throw new CsrCommandError('wildcard-required', 'a wildcard certificate needs at least one name of the form *.example.com');
    }
    if (names.length > MAX_NAMES) throw new CsrCommandError('too-many-names', `${names.length} names; at most ${MAX_NAMES} per certificate`);
    commonName = names[0] as string;
    if (commonName.length > UB_COMMON_NAME) throw new CsrCommandError('name-too-long', `a common name has at most ${UB_COMMON_NAME} characters; put a shorter name first`);
    fileBase = commonName.replace(/^\*\./, 'wildcard.');
    addext = `subjectAltName=${names.map((name) => `DNS:${name}`).join(',')}`;
  } else {
    if (sans.length > 0) throw new CsrCommandError('sans-not-allowed', `${opts.product} certificates carry no DNS names`);
    commonName = opts.commonName.trim();
    if (commonName === '' || commonName.length > UB_COMMON_NAME || CONTROL.test(commonName)) {
      throw new CsrCommandError('subject-invalid', `the common name must be 1 to ${UB_COMMON_NAME} printable characters`);
    }
    fileBase = commonName.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'request';
  }
  // -nodes rather than OpenSSL 3's -noenc: OpenSSL 1.1.1 knows only -nodes, and a server reads its key unattended.
  args.push('-nodes', '-keyout', `${fileBase}.key`, '-out', `${fileBase}.csr`);
  // -utf8: without it openssl reads the subject as Latin-1 and mangles accents.
  if (/[^\x20-\x7e]/.test(commonName)) args.push('-utf8');
  args.push('-subj', shellQuote(`/CN=${subjValue(commonName)}`));
  if (addext) args.push('-addext', shellQuote(addext));
  return args.join(' ');
}
