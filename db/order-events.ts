/** The audit trail's raw material: every attempt on an order, accepted or refused, and who made it. */
import { asc, eq } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { appendAudit } from './audit-log.js';
import type { Database } from './client.js';
import { orderEvents } from './schema.js';

export type OrderEventRow = typeof orderEvents.$inferSelect;

export async function recordOrderEvent(
  db: Database,
  e: { orderId: string; actorUserId: string | null; actorRole: string; action: string; outcome: 'accepted' | 'refused'; detail?: Record<string, unknown> },
): Promise<void> {
  const id = uuidv7();
  // One transaction: an attempt is in both the events and the audit chain, or in neither.
  await db.transaction(async (tx) => {
    await tx.insert(orderEvents).values({ id, ...e, detail: e.detail ?? {} });
    await appendAudit(tx, {
      kind: e.outcome === 'accepted' ? 'decision' : 'refused',
      orderId: e.orderId,
      actorUserId: e.actorUserId,
      actorRole: e.actorRole,
      action: e.action,
      detail: { eventId: id, ...e.detail },
    });
  });
}

export async function listOrderEvents(db: Database, orderId: string): Promise<OrderEventRow[]> {
  return db.select().from(orderEvents).where(eq(orderEvents.orderId, orderId)).orderBy(asc(orderEvents.createdAt), asc(orderEvents.id));
}
