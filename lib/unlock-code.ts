/**
 * SMS unlock codes without ever storing or logging them: the code is derived from its request's idempotency key
 * under a server key (so a retried send re-sends the same code), and only a keyed digest of it travels through
 * the workflow. The API digests what the holder typed the same way.
 */
import { createHmac } from 'node:crypto';

const CODE_SPACE = 1_000_000;

/** A 6-digit code, uniformly spread (the 2^-32 modulo bias is negligible), unpredictable without the key. */
export function unlockCodeFor(key: Buffer, idempotencyKey: string): string {
  const mac = createHmac('sha256', key).update(`code:${idempotencyKey}`).digest();
  return String(mac.readUInt32BE(0) % CODE_SPACE).padStart(6, '0');
}

export function unlockCodeDigest(key: Buffer, orderId: string, code: string): string {
  return createHmac('sha256', key).update(`digest:${orderId}:${code}`).digest('base64url');
}
