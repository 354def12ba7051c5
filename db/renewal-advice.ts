/**
 * Renewal advices (staff asking for early renewal of a set of certificates) and the certificates they match: a
 * certificate is matched when every selector the advice gives holds and it was issued before the advice (the
 * certificates issued after it are the reissue).
 */
import { randomUUID } from 'node:crypto';
import { and, asc, count, eq, gt, isNotNull, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { appendAudit } from './audit-log.js';
import type { Database } from './client.js';
import { certificates, orders, renewalAdvices } from './schema.js';

export type RenewalAdviceRow = typeof renewalAdvices.$inferSelect;

export interface RenewalAdviceInput {
  readonly serials?: readonly string[];
  readonly product?: string;
  readonly issuedBefore?: Date;
  readonly renewBy: Date;
  readonly explanationUrl?: string;
  readonly reason: string;
}

/** Whether the certificate (joined to its order) is one the advice (joined too) selects. */
const matches: SQL = and(
  lte(certificates.createdAt, renewalAdvices.createdAt),
  or(isNull(renewalAdvices.serials), sql`${certificates.serial} = any(${renewalAdvices.serials})`),
  or(isNull(renewalAdvices.product), eq(orders.product, renewalAdvices.product)),
  or(isNull(renewalAdvices.issuedBefore), lt(certificates.notBefore, renewalAdvices.issuedBefore)),
) as SQL;

/** Records the advice and its audit entry; answers it with how many certificates in force (issued, not revoked, not expired) it matches. */
export async function createRenewalAdvice(
  db: Database,
  input: RenewalAdviceInput,
  actor: { readonly userId: string; readonly role: string },
): Promise<{ advice: RenewalAdviceRow; matched: number }> {
  return db.transaction(async (tx) => {
    const [advice] = await tx
      .insert(renewalAdvices)
      .values({
        id: randomUUID(),
        serials: input.serials === undefined ? null : [...input.serials],
        product: input.product ?? null,
        issuedBefore: input.issuedBefore ?? null,
        renewBy: input.renewBy,
        explanationUrl: input.explanationUrl ?? null,
        reason: input.reason,
        createdByUserId: actor.userId,
      })
      .returning();
    const row = advice as RenewalAdviceRow;
    const [counted] = await tx
      .select({ n: count() })
      .from(certificates)
      .innerJoin(orders, eq(orders.id, certificates.orderId))
      .innerJoin(renewalAdvices, eq(renewalAdvices.id, row.id))
      .where(and(matches, eq(certificates.status, 'valid'), isNotNull(certificates.pem), gt(certificates.notAfter, new Date())));
    const matched = counted?.n ?? 0;
    await appendAudit(tx, {
      kind: 'decision',
      actorUserId: actor.userId,
      actorRole: actor.role,
      action: 'renewal-advice',
      detail: {
        adviceId: row.id,
        serials: row.serials,
        product: row.product,
        issuedBefore: row.issuedBefore?.toISOString() ?? null,
        renewBy: row.renewBy.toISOString(),
        explanationUrl: row.explanationUrl,
        reason: row.reason,
        matched,
      },
    });
    return { advice: row, matched };
  });
}

/** The advice in force (renewBy still ahead) that matches the certificate and asks soonest, if any. */
export async function renewalAdviceFor(db: Database, serial: string, now: Date): Promise<RenewalAdviceRow | undefined> {
  const [row] = await db
    .select({ advice: renewalAdvices })
    .from(renewalAdvices)
    .innerJoin(certificates, eq(certificates.serial, serial))
    .innerJoin(orders, eq(orders.id, certificates.orderId))
    .where(
and(gt(renewalAdvices.renewBy, now), matches),
    )
    .orderBy(asc(renewalAdvices.renewBy))
    .limit(1);
  return row?.advice;
}
