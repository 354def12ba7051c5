/**
 * Staff second factor (issue 16 item 6): each staff account's TOTP enrolment, its single-use recovery codes, and
 * whether an admin allowed its API keys. Secrets arrive here sealed and codes hashed (api/second-factor.ts does the
 * cryptography); every change an admin makes, and every enrolment and recovery code used, goes into the audit chain
 * in the same transaction.
 */
import { and, count, eq, isNull, lt, or } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { Principal } from '../domain/roles.js';
import { appendAudit } from './audit-log.js';
import type { Database } from './client.js';
import { staffRecoveryCodes, staffSecondFactors, users } from './schema.js';

export type SecondFactorRow = typeof staffSecondFactors.$inferSelect;

/** Who made a change: an admin's principal, or the admin command line (no account). */
export type Actor = Pick<Principal, 'userId' | 'role'> | { readonly userId: null; readonly role: 'cli' };

export async function getSecondFactor(db: Database, userId: string): Promise<SecondFactorRow | undefined> {
  const [row] = await db.select().from(staffSecondFactors).where(eq(staffSecondFactors.userId, userId));
  return row;
}

/**
 * Keeps a new secret for an enrolment not yet confirmed (replacing one shown before); false when the account is
 * already enrolled (only an admin's reset lets it enrol again).
 */
export async function startEnrolment(db: Database, userId: string, sealedSecret: string): Promise<boolean> {
  const rows = await db
    .insert(staffSecondFactors)
    .values({ userId, sealedSecret })
    .onConflictDoUpdate({ target: staffSecondFactors.userId, set: { sealedSecret, lastTimeStep: null }, where: isNull(staffSecondFactors.enrolledAt) })
    .returning({ userId: staffSecondFactors.userId });
  return rows.length === 1;
}

/**
 * The first code was right: the enrolment holds from now, `step` is the last one used, and the recovery codes are
 * these (any earlier ones are gone). False when the enrolment was confirmed meanwhile or its secret replaced.
 */
export async function confirmEnrolment(db: Database, userId: string, sealedSecret: string, step: number, recoveryCodeHashes: readonly string[]): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(staffSecondFactors)
      .set({ enrolledAt: new Date(), lastTimeStep: step })
      .where(and(eq(staffSecondFactors.userId, userId), isNull(staffSecondFactors.enrolledAt), eq(staffSecondFactors.sealedSecret, sealedSecret)))
      .returning({ userId: staffSecondFactors.userId });
    if (rows.length === 0) return false;
    await tx.delete(staffRecoveryCodes).where(eq(staffRecoveryCodes.userId, userId));
    await tx.insert(staffRecoveryCodes).values(recoveryCodeHashes.map((codeHash) => ({ id: uuidv7(), userId, codeHash })));
    const [user] = await tx.select({ role: users.role }).from(users).where(eq(users.id, userId));
    await appendAudit(tx, { kind: 'decision', actorUserId: userId, actorRole: user?.role ?? null, action: 'second_factor_enrolled', detail: { userId, recoveryCodes: recoveryCodeHashes.length } });
    return true;
  });
}

/** Takes the time step of a right code, once: false when this step (or a later one) was already used. */
export async function takeTimeStep(db: Database, userId: string, step: number): Promise<boolean> {
  const rows = await db
    .update(staffSecondFactors)
    .set({ lastTimeStep: step })
    .where(
      and(
        eq(staffSecondFactors.userId, userId),
        or(isNull(staffSecondFactors.lastTimeStep), lt(staffSecondFactors.lastTimeStep, step)),
      ),
    )
    .returning({ userId: staffSecondFactors.userId });
  return rows.length === 1;
}

/** Uses a recovery code, once: the number of codes left, or undefined when the code is unknown or used. */
export async function useRecoveryCode(db: Database, userId: string, codeHash: string): Promise<number | undefined> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(staffRecoveryCodes)
      .set({ usedAt: new Date() })
      .where(and(eq(staffRecoveryCodes.userId, userId), eq(staffRecoveryCodes.codeHash, codeHash), isNull(staffRecoveryCodes.usedAt)))
      .returning({ id: staffRecoveryCodes.id });
    if (rows.length === 0) return undefined;
    const [left] = await tx
      .select({ n: count() })
      .from(staffRecoveryCodes)
      .where(and(eq(staffRecoveryCodes.userId, userId), isNull(staffRecoveryCodes.usedAt)));
    const [user] = await tx.select({ role: users.role }).from(users).where(eq(users.id, userId));
    await appendAudit(tx, { kind: 'decision', actorUserId: userId, actorRole: user?.role ?? null, action: 'second_factor_recovery_code_used', detail: { userId, left: left?.n ?? 0 } });
    return left?.n ?? 0;
  });
}

/** An admin's reset: the enrolment and its recovery codes are gone, the next sign-in enrols again. False: nothing to reset. */
export async function resetSecondFactor(db: Database, userId: string, actor: Actor): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.delete(staffRecoveryCodes).where(eq(staffRecoveryCodes.userId, userId));
    const rows = await tx.delete(staffSecondFactors).where(eq(staffSecondFactors.userId, userId)).returning({ enrolledAt: staffSecondFactors.enrolledAt });
    if (rows.length === 0) return false;
    await appendAudit(tx, { kind: 'decision', actorUserId: actor.userId, actorRole: actor.role, action: 'second_factor_reset', detail: { userId, wasEnrolled: rows[0]?.enrolledAt != null } });
    return true;
  });
}

/** Whether a staff account's API keys work (an admin allowed it). */
export async function staffApiAccessOf(db: Database, userId: string): Promise<boolean> {
  const [row] = await db.select({ allowed: users.staffApiAccess }).from(users).where(eq(users.id, userId));
  return row?.allowed === true;
}

/** Allows or stops a staff account's API keys, audited with who did it; undefined when no such account. */
export async function setStaffApiAccess(db: Database, userId: string, allowed: boolean, actor: Actor): Promise<{ readonly from: boolean; readonly to: boolean } | undefined> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select({ allowed: users.staffApiAccess }).from(users).where(eq(users.id, userId)).for('update');
    if (before === undefined) return undefined;
    await tx.update(users).set({ staffApiAccess: allowed }).where(eq(users.id, userId));
    await appendAudit(tx, {
      kind: 'decision',
      actorUserId: actor.userId,
      actorRole: actor.role,
      action: allowed ? 'staff_api_access_granted' : 'staff_api_access_revoked',
      detail: { userId, from: before.allowed, to: allowed },
    });
    return { from: before.allowed, to: allowed };
  });
}
