/** Every activity of the worker, built from its dependencies; workflows import only the type. */
import type { Database } from '../db/client.js';
import { createOrderDbActivities } from './orders-db.js';

export interface ActivityDeps {
  readonly db: Database;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createOrderDbActivities(deps.db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
