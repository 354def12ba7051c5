/**
 * A bare ACME client for the tests, JWS by hand with jose: each request can be bent (another url, a used nonce, a
 * broken signature) to see the server refuse it the way RFC 8555 says.
 */
import { calculateJwkThumbprint, exportJWK, FlattenedSign, generateKeyPair, type JWK } from 'jose';

export interface AcmeKey {
  readonly alg: 'ES256' | 'RS256' | 'EdDSA';
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  readonly jwk: JWK;
}

export async function newAcmeKey(alg: AcmeKey['alg'] = 'ES256'): Promise<AcmeKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true });
  return { alg, privateKey, jwk: await exportJWK(publicKey) };
}

export interface AcmeAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T & { type?: string; detail?: string };
}

export interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder?: string;
  revokeCert?: string;
  keyChange: string;
  renewalInfo?: string;
  meta: { externalAccountRequired: boolean };
}

export interface PostOptions {
  /** Sign with the key as jwk (newAccount), not the account's kid. */
  readonly jwk?: boolean;
  readonly nonce?: string;
  readonly url?: string;
  /** Flip a bit of the signature. */
  readonly badSignature?: boolean;
  readonly key?: AcmeKey;
  readonly contentType?: string;
}

const text = new TextEncoder();

export async function signJws(key: AcmeKey, header: Record<string, unknown>, payload: unknown): Promise<{ protected: string; payload: string; signature: string }> {
  const bytes = payload === '' ? new Uint8Array(0) : text.encode(JSON.stringify(payload));
  const jws = await new FlattenedSign(bytes).setProtectedHeader({ alg: key.alg, ...header }).sign(key.privateKey);
  return { protected: jws.protected as string, payload: jws.payload, signature: jws.signature };
}

/** The externalAccountBinding member of newAccount (RFC 8555 §7.3.4). */
export async function eabBinding(kid: string, hmacKey: string, accountJwk: JWK, url: string): Promise<{ protected: string; payload: string; signature: string }> {
  const jws = await new FlattenedSign(text.encode(JSON.stringify(accountJwk))).setProtectedHeader({ alg: 'HS256', kid, url }).sign(Buffer.from(hmacKey, 'base64url'));
  return { protected: jws.protected as string, payload: jws.payload, signature: jws.signature };
}

export class AcmeTestClient {
  kid: string | undefined;
  private nonce: string | undefined;
  directory!: Directory;

  constructor(
    readonly directoryUrl: string,
    public key: AcmeKey,
  ) {}

  async init(): Promise<this> {
    const res = await fetch(this.directoryUrl);
    this.directory = (await res.json()) as Directory;
    return this;
  }

  async freshNonce(): Promise<string> {
    const res = await fetch(this.directory.newNonce, { method: 'HEAD' });
    const nonce = res.headers.get('replay-nonce');
    if (nonce === null) throw new Error('newNonce gave no Replay-Nonce');
    return nonce;
  }

  /** One signed POST (payload '' is a POST-as-GET); the answer's Replay-Nonce is kept for the next one. */
  async post<T = Record<string, unknown>>(url: string, payload: unknown, opts: PostOptions = {}): Promise<AcmeAnswer<T>> {
    const key = opts.key ?? this.key;
    const nonce = opts.nonce ?? this.nonce ?? (await this.freshNonce());
    this.nonce = undefined;
    const header: Record<string, unknown> = { nonce, url: opts.url ?? url };
    if (opts.jwk === true || this.kid === undefined) header.jwk = key.jwk;
    else header.kid = this.kid;
    const jws = await signJws(key, header, payload);
    if (opts.badSignature === true) {
      const sig = Buffer.from(jws.signature, 'base64url');
      sig[0] = (sig[0] ?? 0) ^ 1;
      jws.signature = sig.toString('base64url');
    }
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': opts.contentType ?? 'application/jose+json' }, body: JSON.stringify(jws) });
    this.nonce = res.headers.get('replay-nonce') ?? undefined;
    const bodyText = await res.text();
    const body = (/json/.test(res.headers.get('content-type') ?? '') && bodyText !== '' ? JSON.parse(bodyText) : bodyText) as AcmeAnswer<T>['body'];
    return { status: res.status, headers: res.headers, body };
  }

  /** As a client library does: a badNonce answer is retried once with the nonce it carried. */
  async postRetryingNonce<T = Record<string, unknown>>(url: string, payload: unknown, opts: PostOptions = {}): Promise<AcmeAnswer<T>> {
    const first = await this.post<T>(url, payload, opts);
    if (first.status !== 400 || first.body.type !== 'urn:ietf:params:acme:error:badNonce') return first;
    return this.post<T>(url, payload, { ...opts, nonce: undefined });
  }

  async newAccount(eab: { kid: string; hmacKey: string } | undefined, extra: Record<string, unknown> = {}): Promise<AcmeAnswer> {
    const url = this.directory.newAccount;
    const payload = { termsOfServiceAgreed: true, contact: ['mailto:ops@example.test'], ...extra, ...(eab ? { externalAccountBinding: await eabBinding(eab.kid, eab.hmacKey, this.key.jwk, url) } : {}) };
    const res = await this.post(url, payload, { jwk: true });
    if (res.status === 201 || res.status === 200) this.kid = res.headers.get('location') ?? undefined;
    return res;
  }

  thumbprint(): Promise<string> {
    return calculateJwkThumbprint(this.key.jwk, 'sha256');
  }
}
