/**
 * Private keys at rest: PKCS#8 sealed (AES-256-GCM, config/secrets.ts) with the row's own purpose string as associated
 * data, so a sealed key copied into another row does not open there. In memory they become non-extractable CryptoKeys.
 */
import { seal, unseal } from '../../config/secrets.js';
import { subtle, type CryptoKey } from '../../lib/pki/x509.js';

export async function sealPrivateKey(sealingKey: Buffer, purpose: string, privateKey: CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', privateKey));
  try {
    return seal(sealingKey, pkcs8, purpose);
  } finally {
    // Best effort: the clear key should not linger in a buffer the GC may keep for a while.
    pkcs8.fill(0);
  }
}

export async function unsealSigningKey(
  sealingKey: Buffer,
  purpose: string,
  sealed: string,
  algorithm: { name: 'ECDSA'; namedCurve: string },
): Promise<CryptoKey> {
  let pkcs8: Buffer;
  try {
    pkcs8 = unseal(sealingKey, sealed, purpose);
  } catch (err) {
    // GCM fails closed: the usual cause is a MASTER_KEY other than the one the key was sealed under.
    throw new Error(`cannot unseal the private key of ${purpose}: is MASTER_KEY the one it was created with?`, { cause: err });
  }
  try {
    return await subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
  } finally {
    pkcs8.fill(0);
  }
}
