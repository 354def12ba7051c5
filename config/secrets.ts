/**
 * The master key and what is derived from it. Everything CertFlow keeps secret at rest (CA private keys, token keys
 * and PINs) is sealed with AES-256-GCM under a key derived (HKDF-SHA-256) from MASTER_KEY for its purpose.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './index.js';

export interface Secrets {
  /** A 32-byte key for one purpose ('ca-keys', 'tokens', 'unlock-codes', …). */
  derive(purpose: string): Buffer;
  /** The payment provider's HMAC secret. */
  readonly paymentWebhookSecret: string;
  /** Temporal payload keys by id (each derived for `payload-codec:<id>`): `current` encrypts, `previous` only decrypt. */
  readonly payloadKeyIds: { readonly current: string; readonly previous: readonly string[] };
}

const decodeKey = (b64: string, where: string): Buffer => {
  const key = Buffer.from(b64.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${where} must be the base64 of exactly 32 bytes`);
  return key;
};

/** Embedded mode keeps its key under DATA_DIR (made at first start, mode 0600); production must set MASTER_KEY. */
export function loadSecrets(
  config: Pick<Config, 'MASTER_KEY' | 'DATA_DIR' | 'embeddedDatabase' | 'PAYMENT_WEBHOOK_SECRET'> & Partial<Pick<Config, 'CODEC_KEY_ID' | 'CODEC_PREVIOUS_KEY_IDS'>>,
): Secrets {
  let master: Buffer;
  if (config.MASTER_KEY !== undefined) {
    master = decodeKey(config.MASTER_KEY, 'MASTER_KEY');
  } else if (config.embeddedDatabase) {
    const dir = join(config.DATA_DIR, 'secrets');
    const file = join(dir, 'master.key');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // wx: two processes starting at once never overwrite each other's key.
      try {
        writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      chmodSync(file, 0o600);
    }
    master = decodeKey(readFileSync(file, 'utf8'), file);
  } else {
    throw new Error('MASTER_KEY is required when DATABASE_URL is set (production): base64 of 32 random bytes');
  }
  const derive = (purpose: string): Buffer => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `certflow:${purpose}`, 32));
  return {
    derive,
    paymentWebhookSecret: config.PAYMENT_WEBHOOK_SECRET ?? derive('payment-webhook').toString('base64url'),
    payloadKeyIds: { current: config.CODEC_KEY_ID ?? 'k1', previous: config.CODEC_PREVIOUS_KEY_IDS ?? [] },
  };
}

const SEALED_PREFIX = 'v1.';

/** AES-256-GCM: `v1.` + base64url(iv ‖ tag ‖ ciphertext). The purpose is bound as associated data. */
export function seal(key: Buffer, plaintext: Buffer | string, purpose: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(purpose));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function unseal(key: Buffer, sealed: string, purpose: string): Buffer {
  if (!sealed.startsWith(SEALED_PREFIX)) throw new Error('not a sealed value');
  const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(purpose));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
}
