/**
 * The holder's token. A physical token cannot exist here, so this is a mock behind the interface a real token adapter
 * (a PKCS#11 personalisation station) would have: the key pair is made "on the token" and only its public key leaves;
 * the private key and the unlock PIN are kept sealed (secrets.derive('tokens')) as the token would keep them.
 */
import { randomInt } from 'node:crypto';
import { and, desc, eq, isNull, ne, or } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { seal, unseal, type Secrets } from '../../config/secrets.js';
import type { Database } from '../../db/client.js';
import { tokens } from '../../db/schema.js';
import { CA_FAILURE, refuse } from './errors.js';
import { sealPrivateKey } from './sealed-keys.js';
import { subtle, toBase64 } from '../../lib/pki/x509.js';

export interface TokenAdapter {
  /** Generates the token's key pair and unlock PIN; a retry under the same key returns the same token. */
  personaliseToken(req: { personalisationKey: string; orderId: string }): Promise<{ tokenId: string; publicKeySpki: string }>;
  /** The order's token PIN, the first time only; undefined once it was shown. */
  revealPinOnce(req: { orderId: string }): Promise<string | undefined>;
  /**
   * Unblocks the order's token: a new random PIN replaces the old one and can be revealed once more. Idempotent on
   * resetKey: a retry under the key of the last reset changes nothing (the PIN it drew stands, revealed or not).
   */
  resetPin(req: { orderId: string; resetKey: string }): Promise<void>;
}

export const PIN_DIGITS = 8;
const TOKEN_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** AEAD purposes bound to the token row, so a sealed PIN cannot be passed off as another token's, nor as its key. */
export const tokenKeyPurpose = (tokenId: string): string => `token-key:${tokenId}`;
export const tokenPinPurpose = (tokenId: string): string => `token-pin:${tokenId}`;

/** Uniform over 00000000–99999999 (randomInt has no modulo bias). */
const randomPin = (): string => randomInt(0, 10 ** PIN_DIGITS).toString().padStart(PIN_DIGITS, '0');

type TokenRow = typeof tokens.$inferSelect;

/** The order's token in the holder's hands: the latest one, should a replacement ever be made. */
const latestToken = (db: Database, orderId: string) =>
  db.select({ id: tokens.id }).from(tokens).where(eq(tokens.orderId, orderId)).orderBy(desc(tokens.createdAt), desc(tokens.id)).limit(1);

async function findToken(db: Database, personalisationKey: string): Promise<TokenRow | undefined> {
  const [row] = await db.select().from(tokens).where(eq(tokens.personalisationKey, personalisationKey));
  return row;
}

export function createMockTokenAdapter(deps: { readonly db: Database; readonly secrets: Secrets; readonly now: () => Date }): TokenAdapter {
  const sealingKey = (): Buffer => deps.secrets.derive('tokens');

  async function personaliseNew(req: { personalisationKey: string; orderId: string }): Promise<TokenRow> {
    const id = uuidv7();
    const keys = await subtle.generateKey(TOKEN_KEY_ALGORITHM, true, ['sign', 'verify']);
    await deps.db
      .insert(tokens)
      .values({
        id,
        orderId: req.orderId,
        personalisationKey: req.personalisationKey,
        publicKeySpki: toBase64(await subtle.exportKey('spki', keys.publicKey)),
        encryptedPrivateKey: await sealPrivateKey(sealingKey(), tokenKeyPurpose(id), keys.privateKey),
        encryptedPin: seal(sealingKey(), randomPin(), tokenPinPurpose(id)),
      })
      .onConflictDoNothing({ target: tokens.personalisationKey });
    // Whoever inserted first, everyone returns the stored token; a losing candidate is simply dropped.
    const row = await findToken(deps.db, req.personalisationKey);
    if (row === undefined) throw new Error(`token ${req.personalisationKey} vanished`);
    return row;
  }

  return {
    async personaliseToken(req) {
      const row = (await findToken(deps.db, req.personalisationKey)) ?? (await personaliseNew(req));
      if (row.orderId !== req.orderId) throw refuse(CA_FAILURE.idempotencyConflict, `personalisation key ${req.personalisationKey} belongs to another order`);
      return { tokenId: row.id, publicKeySpki: row.publicKeySpki };
    },

    async revealPinOnce(req) {
      // One statement marks and returns, so two concurrent reveals cannot both get the PIN.
      const [row] = await deps.db
        .update(tokens)
        .set({ pinRevealedAt: deps.now() })
        .where(and(eq(tokens.id, latestToken(deps.db, req.orderId)), isNull(tokens.pinRevealedAt)))
        .returning({ id: tokens.id, encryptedPin: tokens.encryptedPin });
      if (row === undefined) return undefined;
      return unseal(sealingKey(), row.encryptedPin, tokenPinPurpose(row.id)).toString('utf8');
    },

    async resetPin(req) {
      const [token] = await latestToken(deps.db, req.orderId);
      if (token === undefined) throw refuse(CA_FAILURE.tokenNotFound, `order ${req.orderId} has no token to unblock`);
      // Conditioned on the key, so of a retry and its original (or two concurrent retries) only one draws a PIN.
      await deps.db
        .update(tokens)
        .set({ encryptedPin: seal(sealingKey(), randomPin(), tokenPinPurpose(token.id)), pinRevealedAt: null, pinResetKey: req.resetKey })
        .where(and(eq(tokens.id, token.id), or(isNull(tokens.pinResetKey), ne(tokens.pinResetKey, req.resetKey))));
    },
  };
}
