import type { Database } from '../db/client.js';
import { upsertOrderView } from '../db/orders.js';
import type { OrderView } from '../domain/order.js';

export function createOrderDbActivities(db: Database) {
  return {
    /** Records the order's current view in the read model; safe to retry (idempotent, never goes backwards). */
    async recordOrderView(workflowId: string, view: OrderView): Promise<void> {
      await upsertOrderView(db, workflowId, view);
    },
  };
}
