/** The audit trail's raw material: every attempt on an order, accepted or refused, and who made it. */
import { asc, eq } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from './client.js';
import { orderEvents } from './schema.js';

export type OrderEventRow = typeof orderEvents.$inferSelect;

export async function recordOrderEvent(
  db: Database,
  e: { orderId: string; actorUserId: string | null; actorRole: string; action: string; outcome: 'accepted' | 'refused'; detail?: Record<string, unknown> },
): Promise<void> {
  await db.insert(orderEvents).values({ id: uuidv7(), ...e, detail: e.detail ?? {} });
}

export async function listOrderEvents(db: Database, orderId: string): Promise<OrderEventRow[]> {
  return db.select().from(orderEvents).where(eq(orderEvents.orderId, orderId)).orderBy(asc(orderEvents.createdAt), asc(orderEvents.id));
}
