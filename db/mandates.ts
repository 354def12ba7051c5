/**
 * Agent mandates: granting one makes a customer an `agent` of its organisation, revoking it makes it a customer
 * again. The role and the mandate row change together, in one transaction.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { agentMandates, users } from './schema.js';

export type MandateRow = typeof agentMandates.$inferSelect;

export async function getMandate(db: Database, userId: string): Promise<MandateRow | undefined> {
  const [row] = await db.select().from(agentMandates).where(eq(agentMandates.userId, userId));
  return row;
}

/**
 * Grants the mandate to a customer of an organisation (a revoked mandate is granted again with the new contract).
 * Returns undefined, changing nothing, when the user is not such a customer at the time of the update.
 */
export async function grantMandate(
  db: Database,
  grant: { userId: string; contractSha256: string; contractMediaType: string; grantedByUserId: string },
): Promise<MandateRow | undefined> {
  return db.transaction(async (tx) => {
    // The role check and the change are one statement: a concurrent change of role cannot slip in between.
    const promoted = await tx
      .update(users)
      .set({ role: 'agent' })
      .where(and(eq(users.id, grant.userId), eq(users.role, 'customer'), sql`${users.organisationId} is not null`))
      .returning({ id: users.id });
    if (promoted.length === 0) return undefined;
    const values = {
      contractSha256: grant.contractSha256,
      contractMediaType: grant.contractMediaType,
      grantedByUserId: grant.grantedByUserId,
      grantedAt: new Date(),
      revokedAt: null,
    };
    const [row] = await tx
      .insert(agentMandates)
      .values({ userId: grant.userId, ...values })
      .onConflictDoUpdate({ target: agentMandates.userId, set: values })
      .returning();
    return row;
  });
}

/** Revokes an agent's mandate; undefined, changing nothing, when the user holds no mandate in force. */
export async function revokeMandate(db: Database, userId: string): Promise<MandateRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(agentMandates)
      .set({ revokedAt: new Date() })
      .where(and(eq(agentMandates.userId, userId), isNull(agentMandates.revokedAt)))
      .returning();
    if (row === undefined) return undefined;
    await tx.update(users).set({ role: 'customer' }).where(and(eq(users.id, userId), eq(users.role, 'agent')));
    return row;
  });
}
