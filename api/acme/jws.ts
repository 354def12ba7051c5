/**
 * The JWS of every ACME POST (RFC 8555 §6.2-6.5): flattened JSON serialisation, protected header only, an asymmetric
 * algorithm (ES256, RS256, EdDSA), exactly one of `jwk` (newAccount, revokeCert by the certificate's key) or `kid`
 * (the account URL), a `url` equal to the request's, and a nonce this server issued and nobody used. The signature
 * is checked first, so a forged request burns no nonce; then the nonce is taken, once.
 */
import { calculateJwkThumbprint, flattenedVerify, importJWK, type JWK } from 'jose';
import { consumeNonce, getAcmeAccount, type AcmeAccountRow } from '../../db/acme.js';
import type { Database } from '../../db/client.js';
import { AcmeProblem } from './problem.js';

export const JWS_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
type Alg = (typeof JWS_ALGORITHMS)[number];

export interface FlattenedJws {
  readonly protected: string;
  readonly payload: string;
  readonly signature: string;
}

export interface ProtectedHeader {
  readonly alg: string;
  readonly url?: unknown;
  readonly nonce?: unknown;
  readonly jwk?: unknown;
  readonly kid?: unknown;
}

/** The parts of a flattened JWS and its decoded protected header, or malformed. */
export function parseJws(body: unknown, what = 'The request body'): { jws: FlattenedJws; header: ProtectedHeader } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw AcmeProblem.malformed(`${what} is not a flattened JWS.`);
  const b = body as Record<string, unknown>;
  if (typeof b.protected !== 'string' || typeof b.payload !== 'string' || typeof b.signature !== 'string') {
    throw AcmeProblem.malformed(`${what} is not a flattened JWS (protected, payload and signature).`);
  }
  if ('header' in b) throw AcmeProblem.malformed(`${what} has an unprotected header: every header parameter must be protected.`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(b.protected, 'base64url').toString('utf8'));
  } catch {
    throw AcmeProblem.malformed(`${what}'s protected header is not base64url JSON.`);
  }
  if (typeof header !== 'object' || header === null || typeof (header as ProtectedHeader).alg !== 'string') {
    throw AcmeProblem.malformed(`${what}'s protected header has no alg.`);
  }
  return { jws: { protected: b.protected, payload: b.payload, signature: b.signature }, header: header as ProtectedHeader };
}

export const isPublicJwk = (value: unknown): value is JWK =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as JWK).kty === 'string' && !('d' in value) && !('k' in value);

export const thumbprintOf = (jwk: JWK): Promise<string> => calculateJwkThumbprint(jwk, 'sha256');

/** The public members of a key, as they are stored and compared. */
export function publicJwk(jwk: JWK): Record<string, unknown> {
  const { kty, crv, x, y, n, e } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined));
}

function requireAlg(header: ProtectedHeader): Alg {
  if (!(JWS_ALGORITHMS as readonly string[]).includes(header.alg)) {
    throw new AcmeProblem(400, 'badSignatureAlgorithm', `The JWS algorithm ${header.alg} is not supported.`, { fields: { algorithms: [...JWS_ALGORITHMS] } });
  }
  return header.alg as Alg;
}

/** Checks a JWS's signature under a public key given as a JWK; a key that does not fit the algorithm is badPublicKey. */
export async function verifyWithJwk(jws: FlattenedJws, alg: Alg, jwk: JWK): Promise<Uint8Array> {
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK({ ...publicJwk(jwk), alg }, alg);
  } catch (err) {
    throw new AcmeProblem(400, 'badPublicKey', `The key does not fit ${alg}: ${(err as Error).message}`);
  }
  try {
    return (await flattenedVerify(jws, key, { algorithms: [alg] })).payload;
  } catch (err) {
    // jose refuses an RSA key under 2048 bits here too.
    const message = (err as Error).message;
    if (/modulusLength/.test(message)) throw new AcmeProblem(400, 'badPublicKey', message);
    throw AcmeProblem.malformed('The JWS signature does not verify.');
  }
}

export interface VerifiedPost {
  /** The parsed payload; null for a POST-as-GET (an empty payload). */
  readonly payload: unknown;
  readonly header: ProtectedHeader;
  readonly alg: Alg;
  /** With `jwk`: the key and its thumbprint. */
  readonly jwk?: JWK;
  readonly thumbprint?: string;
  /** With `kid`: the account it names, which is valid. */
  readonly account?: AcmeAccountRow;
}

export interface VerifyOptions {
  /** The URL the request was sent to, as the client wrote it in `url`. */
  readonly url: string;
  /** Which key form the resource takes. */
  readonly key: 'jwk' | 'kid' | 'either';
  /** The account id of an account URL of this server, or undefined. */
  readonly accountIdOf: (kid: string) => string | undefined;
}

/** Verifies an ACME POST and takes its nonce; the problem the RFC names otherwise. */
export async function verifyPost(db: Database, body: unknown, opts: VerifyOptions): Promise<VerifiedPost> {
  const { jws, header } = parseJws(body);
  const alg = requireAlg(header);
  const hasJwk = header.jwk !== undefined;
  const hasKid = header.kid !== undefined;
  if (hasJwk === hasKid) throw AcmeProblem.malformed('The protected header must hold exactly one of jwk and kid.');
  if (opts.key === 'jwk' && !hasJwk) throw AcmeProblem.malformed('This resource takes a JWS signed with jwk, not kid.');
  if (opts.key === 'kid' && !hasKid) throw AcmeProblem.malformed('This resource takes a JWS signed with an account kid, not jwk.');
  if (typeof header.url !== 'string') throw AcmeProblem.malformed('The protected header has no url.');
  if (header.url !== opts.url) throw AcmeProblem.unauthorized(`The JWS url ${header.url} is not the URL requested, ${opts.url}.`);
  if (typeof header.nonce !== 'string' || header.nonce === '') throw AcmeProblem.badNonce('The protected header has no nonce.');

  let account: AcmeAccountRow | undefined;
  let jwk: JWK | undefined;
  let payloadBytes: Uint8Array;
  if (hasJwk) {
    if (!isPublicJwk(header.jwk)) throw AcmeProblem.malformed('The jwk is not a public key.');
    jwk = header.jwk;
    payloadBytes = await verifyWithJwk(jws, alg, jwk);
  } else {
    const id = typeof header.kid === 'string' ? opts.accountIdOf(header.kid) : undefined;
    account = id === undefined ? undefined : await getAcmeAccount(db, id);
    if (account === undefined) throw new AcmeProblem(400, 'accountDoesNotExist', 'The kid names no account of this server.');
    // The account's key does not fit the algorithm: not signed by that key.
    payloadBytes = await verifyWithJwk(jws, alg, account.jwk).catch((err: unknown) => {
      throw err instanceof AcmeProblem && err.type === 'badPublicKey' ? AcmeProblem.malformed("The JWS signature does not verify under the account's key.") : err;
    });
    if (account.status !== 'valid') throw AcmeProblem.unauthorized(`The account is ${account.status}.`);
  }
  if (!(await consumeNonce(db, header.nonce))) throw AcmeProblem.badNonce('The nonce was not issued by this server, has expired or was used already.');

  let payload: unknown = null;
  if (jws.payload !== '') {
    try {
      payload = JSON.parse(Buffer.from(payloadBytes).toString('utf8'));
    } catch {
      throw AcmeProblem.malformed('The JWS payload is not JSON.');
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw AcmeProblem.malformed('The JWS payload is not a JSON object.');
  }
  return { payload, header, alg, ...(jwk !== undefined ? { jwk, thumbprint: await thumbprintOf(jwk) } : {}), ...(account !== undefined ? { account } : {}) };
}
