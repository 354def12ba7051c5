/**
 * Single-use links sent by mail (activation, password reset): a 256-bit random token, of which only its SHA-256 is
 * kept. Using one is a single UPDATE … WHERE used_at IS NULL AND expires_at > now(), so two uses at once cannot both
 * succeed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from './client.js';
import { accountTokens } from './schema.js';

export type AccountTokenPurpose = 'activation' | 'password_reset';

export const ACTIVATION_TTL_MS = 7 * 24 * 3_600_000;
export const PASSWORD_RESET_TTL_MS = 3_600_000;

/** The transaction handle drizzle gives `db.transaction`'s callback. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export interface IssuedToken {
  readonly id: string;
  /** In clear: the only time it exists outside the mail. */
  readonly token: string;
  readonly expiresAt: Date;
}

/** A new link for this purpose; the user's earlier unused links for the same purpose stop working. */
export async function issueAccountToken(db: Database, userId: string, purpose: AccountTokenPurpose, ttlMs: number, now = new Date()): Promise<IssuedToken> {
  const token = randomBytes(32).toString('base64url');
  const id = uuidv7();
  const expiresAt = new Date(now.getTime() + ttlMs);
  await db.transaction(async (tx) => {
    await tx
      .update(accountTokens)
      .set({ usedAt: now })
      .where(and(eq(accountTokens.userId, userId), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt)));
    await tx.insert(accountTokens).values({ id, userId, purpose, tokenHash: hashToken(token), expiresAt });
  });
  return { id, token, expiresAt };
}

/**
 * Marks the link used and returns its user, or undefined when it is unknown, used, expired or for another purpose.
 * Run it in the transaction that does what the link allows, so a refusal later in it leaves the link unused.
 */
export async function consumeAccountToken(tx: Tx | Database, token: string, purpose: AccountTokenPurpose, now = new Date()): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const [row] = await tx
    .update(accountTokens)
    .set({ usedAt: now })
    .where(and(eq(accountTokens.tokenHash, hashToken(token)), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt), gt(accountTokens.expiresAt, now)))
    .returning({ userId: accountTokens.userId });
  return row?.userId;
}

/** The user of a link that would be accepted now, without using it (a weak new password is refused before the link is spent). */
export async function peekAccountToken(db: Database, token: string, purpose: AccountTokenPurpose, now = new Date()): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const [row] = await db
    .select({ userId: accountTokens.userId })
    .from(accountTokens)
    .where(and(eq(accountTokens.tokenHash, hashToken(token)), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt), gt(accountTokens.expiresAt, now)));
  return row?.userId;
}
