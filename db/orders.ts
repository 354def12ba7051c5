/** The orders read model (written only by the workflows' activity) and the idempotency keys of order creation. */
import { and, desc, eq, lt, or, sql, type SQL } from 'drizzle-orm';
import type { OrderStatus, OrderView, WaitingOn } from '../domain/order.js';
import type { Database } from './client.js';
import { idempotencyKeys, orders } from './schema.js';

export type OrderRow = typeof orders.$inferSelect;

/**
 * Writes an order's view. Idempotent and monotonic: replaying the same write changes nothing, and a write older than
 * the row (a retried activity that lost a race) never overwrites a newer one.
 */
export async function upsertOrderView(db: Database, workflowId: string, view: OrderView): Promise<void> {
  const values = {
    id: view.id,
    workflowId,
    product: view.product,
    status: view.status,
    waitingOn: view.waitingOn,
    holderUserId: view.holderUserId,
    orderedByUserId: view.orderedByUserId,
    organisationId: view.organisationId,
    view,
    version: view.version,
    createdAt: new Date(view.createdAt),
    updatedAt: new Date(view.updatedAt),
  };
  await db
    .insert(orders)
    .values(values)
    .onConflictDoUpdate({
      target: orders.id,
      set: {
        status: values.status,
        waitingOn: values.waitingOn,
        view: values.view,
        version: values.version,
        updatedAt: values.updatedAt,
      },
      setWhere: sql`${orders.version} < ${values.version}`,
    });
}

export async function getOrderRow(db: Database, id: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id));
  return row;
}

export interface OrderListFilter {
  /** Tenant scope, already decided by the caller's role. */
  scope: { organisationId?: string; userId?: string };
  status?: OrderStatus;
  product?: string;
  waitingOn?: WaitingOn;
  organisationId?: string;
  /** Keyset cursor: the (createdAt, id) of the last row of the previous page. */
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** Newest first, keyset-paginated on (created_at, id) so pages stay stable while orders are added. */
export async function listOrderRows(db: Database, f: OrderListFilter): Promise<OrderRow[]> {
  const where: SQL[] = [];
  if (f.scope.organisationId !== undefined) where.push(eq(orders.organisationId, f.scope.organisationId));
  if (f.scope.userId !== undefined) {
    const mine = or(eq(orders.holderUserId, f.scope.userId), eq(orders.orderedByUserId, f.scope.userId));
    if (mine !== undefined) where.push(mine);
  }
  if (f.status !== undefined) where.push(eq(orders.status, f.status));
  if (f.product !== undefined) where.push(eq(orders.product, f.product));
  if (f.waitingOn !== undefined) where.push(eq(orders.waitingOn, f.waitingOn));
  if (f.organisationId !== undefined) where.push(eq(orders.organisationId, f.organisationId));
  if (f.after !== undefined) {
    const older = or(
      lt(orders.createdAt, f.after.createdAt),
      and(eq(orders.createdAt, f.after.createdAt), lt(orders.id, f.after.id)),
    );
    if (older !== undefined) where.push(older);
  }
  return db
    .select()
    .from(orders)
    .where(and(...where))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(f.limit);
}

export type IdempotencyClaim =
  | { kind: 'new'; resourceId: string }
  | { kind: 'replay'; resourceId: string }
  | { kind: 'conflict' };

/**
 * Claims an Idempotency-Key for a caller. The first request wins the key for its resource id; a retry with the same
 * body gets that id back (and finishes whatever the first one may not have); another body under the key is a conflict.
 */
export async function claimIdempotencyKey(
  db: Database,
  claim: { userId: string; key: string; requestHash: string; resourceId: string },
): Promise<IdempotencyClaim> {
  const inserted = await db.insert(idempotencyKeys).values(claim).onConflictDoNothing().returning();
  if (inserted.length === 1) return { kind: 'new', resourceId: claim.resourceId };
  const [existing] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.userId, claim.userId), eq(idempotencyKeys.key, claim.key)));
  if (existing === undefined) throw new Error('idempotency key vanished between insert and select');
  return existing.requestHash === claim.requestHash
    ? { kind: 'replay', resourceId: existing.resourceId }
    : { kind: 'conflict' };
}
