/**
 * @peculiar/x509 signs through one WebCrypto (lib/pki/x509.ts: Node's). A key on a token signs only through the
 * token's WebCrypto, so the provider installed here sends `sign` with a token key to that token's WebCrypto and every
 * other operation (digests, verifications, Node keys) to Node's, unchanged. Certificates, CRLs and OCSP responses then
 * sign with a token key the same way they did with a Node key, and the private key never reaches this process.
 */
import { webcrypto } from 'node:crypto';
import { CryptoKey as TokenCryptoKey } from 'node-webcrypto-p11';
import { x509 } from '../pki/x509.js';
import type { OpenToken } from './session.js';

type CryptoKey = webcrypto.CryptoKey;

const owners = new WeakMap<TokenCryptoKey, OpenToken>();
let installed = false;

/** The token's signing key, recorded so that x509's signatures with it go to its token. */
export async function tokenSigningKey(token: OpenToken, keyLabel: string): Promise<CryptoKey> {
  installTokenSigning();
  const key = await token.signingKey(keyLabel);
  owners.set(key, token);
  // A token key where WebCrypto's CryptoKey is expected: only `sign` ever receives it, and it is routed below.
  return key as unknown as CryptoKey;
}

/** Whether a key lives on a token (and so cannot be exported, whatever happens to this process). */
export const isTokenKey = (key: unknown): key is TokenCryptoKey => key instanceof TokenCryptoKey;

/** Signs with a token key on its token, anything else with Node's WebCrypto: raw r‖s for ECDSA, as WebCrypto gives. */
export async function sign(algorithm: webcrypto.EcdsaParams, key: CryptoKey, data: webcrypto.BufferSource): Promise<ArrayBuffer> {
  if (isTokenKey(key)) {
    const tokenKey = key;
    const token = owners.get(tokenKey);
    if (token === undefined) throw new Error('a token key not opened through tokenSigningKey');
    return token.run(() => token.crypto.subtle.sign(algorithm, tokenKey, data));
  }
  return webcrypto.subtle.sign(algorithm, key, data);
}

/** Installs the routing provider as x509's default, once per process. */
export function installTokenSigning(): void {
  if (installed) return;
  installed = true;
  const subtle = new Proxy(webcrypto.subtle, {
    get(target, property) {
      if (property === 'sign') return sign;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const routed = {
    subtle,
    getRandomValues: <T extends ArrayBufferView | null>(array: T): T => webcrypto.getRandomValues(array as never),
    randomUUID: () => webcrypto.randomUUID(),
  };
  x509.cryptoProvider.set(routed as unknown as webcrypto.Crypto);
}
