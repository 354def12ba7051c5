/**
 * Passwords: scrypt hashes (`scrypt$N$r$p$salt$hash`, base64), the strength rule of registration and reset, and
 * the failed-login counter behind the lockout.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { users } from './schema.js';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

/** N = 2^15, r = 8: about 32 MiB and tens of milliseconds per hash, OWASP's scrypt floor. */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
// scrypt needs 128·N·r bytes; Node's default ceiling (32 MiB) is exactly that, leave headroom.
const maxmem = (N: number, r: number): number => 128 * N * r * 2;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { ...COST, maxmem: maxmem(COST.N, COST.r) });
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** False for a wrong password and for a stored value that is not a hash of ours. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20) return false;
  const expected = Buffer.from(parts[5] as string, 'base64');
  const key = await scrypt(password.normalize('NFC'), Buffer.from(parts[4] as string, 'base64'), expected.length, { N, r, p, maxmem: maxmem(N, r) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of nothing anyone knows: verified against when the account is unknown, so both cases take as long. */
let dummy: Promise<string> | undefined;
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummy);
  return false;
}

export const MIN_PASSWORD_LENGTH = 12;

/**
 * A small list of passwords that come first in every leaked-password list (and their French favourites); the length
 * rule already rules out most of the rest.
 */
const COMMON_PASSWORDS = new Set([
  '123456789012', '1234567890123', '12345678901234', 'qwertyuiopas', 'azertyuiopqs', 'password1234', 'password12345', 'password123!',
  'motdepasse123', 'motdepasse1234', 'motdepasse!!', 'azerty123456', 'azertyuiop123', 'qwerty123456', 'qwertyuiop123', 'iloveyou1234',
  'administrator', 'administrateur', 'welcome12345', 'bienvenue123', 'bienvenue1234', 'soleil123456', 'changeme1234', 'letmein12345',
  'aaaaaaaaaaaa', '111111111111', '000000000000', 'abcdefghijkl', 'abcd1234abcd', 'passwordpassword', 'motdepassemotdepasse',
  'certflow1234', 'certflow2024', 'certflow2025', 'certflow2026', 'certificat123', 'certificate123',
]);

/** Why a password is refused, or undefined when it is acceptable. */
export function passwordWeakness(password: string, email: string): string | undefined {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `A password has at least ${MIN_PASSWORD_LENGTH} characters.`;
  const lower = password.toLowerCase();
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  // The whole name before the @, and each of its words of 4 letters or more (jeanne.dupont: jeanne, dupont).
  const names = [local, ...local.split(/[._+-]/)].filter((n, i) => (i === 0 ? n.length >= 3 : n.length >= 4));
  if (names.some((n) => lower.includes(n))) return 'A password must not contain the name of your email address.';
  if (COMMON_PASSWORDS.has(lower) || new Set(lower).size <= 2) return 'This password is among the most common ones; choose another.';
  return undefined;
}

/** Sets a user's password (and ends any lockout: the owner proved who they are, or an admin did). */
export async function setPassword(db: Database, userId: string, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  await db.update(users).set({ passwordHash, failedLogins: 0, lockedUntil: null }).where(eq(users.id, userId));
}

export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 15 * 60_000;

/**
 * One more failure, counted in the database (two servers count together); the fifth in a row locks the account. A
 * lock that has run out starts the count again, so one more mistake after it does not lock at once.
 */
export async function recordFailedLogin(db: Database, userId: string, now = new Date()): Promise<void> {
  const at = now.toISOString();
  const expired = sql`(${users.lockedUntil} is not null and ${users.lockedUntil} <= ${at}::timestamptz)`;
  const count = sql`(case when ${expired} then 1 else ${users.failedLogins} + 1 end)`;
  const lockUntil = new Date(now.getTime() + LOCKOUT_MS).toISOString();
  // In an UPDATE's SET, columns read their values from before the update: both expressions see the old row.
  await db
    .update(users)
    .set({
      failedLogins: count,
      lockedUntil: sql`case when ${count} >= ${MAX_FAILED_LOGINS} then ${lockUntil}::timestamptz when ${expired} then null else ${users.lockedUntil} end`,
    })
    .where(eq(users.id, userId));
}

export async function recordSuccessfulLogin(db: Database, userId: string): Promise<void> {
  await db.update(users).set({ failedLogins: 0, lockedUntil: null }).where(eq(users.id, userId));
}
