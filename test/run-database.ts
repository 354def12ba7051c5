/** The run's shared Postgres database (test/global-setup.ts) for the tests of one file or block. */
import { afterAll, beforeAll, inject } from 'vitest';
import { openPostgres, type Database, type DatabaseHandle } from '../db/client.js';

/**
 * Opens a pool of `poolSize` connections to the run's database before the tests of the file or `describe` block
 * it is called in, and closes it after them. The tests read `.db` (which throws if the pool is not open).
 */
export function runDatabase(poolSize: number): { readonly db: Database } {
  let handle: DatabaseHandle | undefined;
  beforeAll(() => {
    handle = openPostgres(inject('databaseUrl'), poolSize);
  });
  afterAll(async () => {
    await handle?.close();
  });
  return {
    get db(): Database {
      if (handle === undefined) throw new Error("the run's database is not open here: runDatabase is read inside a test");
      return handle.db;
    },
  };
}
