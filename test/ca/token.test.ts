/**
 * The token unblock flow (mock token): a PIN reset draws a new PIN, sealed like the first, which the holder can see
 * once more; a retry under the same reset key draws nothing new.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createMockTokenAdapter, tokenKeyPurpose, tokenPinPurpose, type TokenAdapter } from '../../activities/ca/token.js';
import { unseal, type Secrets } from '../../config/secrets.js';
import { openPostgres, type Database, type DatabaseHandle } from '../../db/client.js';
import { tokens } from '../../db/schema.js';
import { insertOrder, testSecrets } from './support.js';

let handle: DatabaseHandle;
let db: Database;
let secrets: Secrets;
let adapter: TokenAdapter;

beforeAll(() => {
  handle = openPostgres(inject('databaseUrl'), 4);
  db = handle.db;
  secrets = testSecrets();
  adapter = createMockTokenAdapter({ db, secrets, now: () => new Date() });
});
afterAll(async () => {
  await handle?.close();
});

async function personalised(): Promise<{ orderId: string; tokenId: string }> {
  const orderId = await insertOrder(db);
  const { tokenId } = await adapter.personaliseToken({ personalisationKey: `order-${orderId}/token`, orderId });
  return { orderId, tokenId };
}

const rowOf = async (tokenId: string) => {
  const [row] = await db.select().from(tokens).where(eq(tokens.id, tokenId));
  if (row === undefined) throw new Error(`no token ${tokenId}`);
  return row;
};
const storedPin = async (tokenId: string) => unseal(secrets.derive('tokens'), (await rowOf(tokenId)).encryptedPin, tokenPinPurpose(tokenId)).toString('utf8');

describe('PIN reset', () => {
  it('draws a new PIN that is revealed once more, then never again', async () => {
    const { orderId, tokenId } = await personalised();
    const first = await adapter.revealPinOnce({ orderId });
    expect(first).toMatch(/^\d{8}$/);
    expect(await adapter.revealPinOnce({ orderId })).toBeUndefined();

    await adapter.resetPin({ orderId, resetKey: `order-${orderId}/unblock/1` });
    const second = await adapter.revealPinOnce({ orderId });
    expect(second).toMatch(/^\d{8}$/);
    expect(second).not.toBe(first);
    expect(second).toBe(await storedPin(tokenId));
    expect(await adapter.revealPinOnce({ orderId })).toBeUndefined();

    // A second unblock, later, under its own key: yet another PIN.
    await adapter.resetPin({ orderId, resetKey: `order-${orderId}/unblock/2` });
    const third = await adapter.revealPinOnce({ orderId });
    expect(third).toMatch(/^\d{8}$/);
    expect(third).not.toBe(second);
  });

  it('does not reset again on a retry under the same key, even five at once on two workers', async () => {
    const { orderId, tokenId } = await personalised();
    const resetKey = `order-${orderId}/unblock/1`;
    const other = createMockTokenAdapter({ db, secrets, now: () => new Date() });
    await Promise.all(Array.from({ length: 5 }, (_, i) => (i % 2 === 0 ? adapter : other).resetPin({ orderId, resetKey })));
    const sealed = (await rowOf(tokenId)).encryptedPin;
    const pin = await adapter.revealPinOnce({ orderId });
    expect(pin).toBe(unseal(secrets.derive('tokens'), sealed, tokenPinPurpose(tokenId)).toString('utf8'));

    // The retry after the reveal changes nothing: same sealed PIN, still revealed.
    await adapter.resetPin({ orderId, resetKey });
    expect((await rowOf(tokenId)).encryptedPin).toBe(sealed);
    expect(await adapter.revealPinOnce({ orderId })).toBeUndefined();
  });

  it('replaces a PIN never shown, and keeps it sealed as the first one was', async () => {
    const { orderId, tokenId } = await personalised();
    const before = await storedPin(tokenId);
    const keyBefore = (await rowOf(tokenId)).encryptedPrivateKey;
    await adapter.resetPin({ orderId, resetKey: `order-${orderId}/unblock/1` });

    const row = await rowOf(tokenId);
    const after = await storedPin(tokenId);
    expect(after).toMatch(/^\d{8}$/);
    expect(after).not.toBe(before);
    expect(row.encryptedPin).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(after);
    // Bound to this token's PIN purpose only; the token's key pair is untouched.
    expect(() => unseal(secrets.derive('tokens'), row.encryptedPin, tokenKeyPurpose(tokenId))).toThrow();
    expect(row.encryptedPrivateKey).toBe(keyBefore);
    expect(row.pinRevealedAt).toBeNull();
    expect(await adapter.revealPinOnce({ orderId })).toBe(after);
  });

  it('refuses an order without a token', async () => {
    await expect(adapter.resetPin({ orderId: randomUUID(), resetKey: 'nothing/unblock/1' })).rejects.toMatchObject({ type: 'CaTokenNotFound', nonRetryable: true });
  });
});
