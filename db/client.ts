/**
 * Opens the database: postgres.js when DATABASE_URL is set, PGlite (embedded Postgres) under DATA_DIR otherwise.
 * Both give the same drizzle API over the same schema and migrations.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema.js';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  readonly db: Database;
  readonly driver: 'postgres' | 'pglite';
  /** The PGlite instance in embedded mode, so the stack can share it with the admin CLI. */
  readonly pglite?: PGlite;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openPostgres(url: string, poolSize = 10): DatabaseHandle {
  // onnotice: migrations print "already exists, skipping" notices that are not worth a log line.
  const client = postgres(url, { max: poolSize, onnotice: () => {} });
  const db = drizzlePostgres(client, { schema }) as unknown as Database;
  return {
    db,
    driver: 'postgres',
    ping: async () => {
      await client`select 1`;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

export const pgliteDir = (dataDir: string): string => join(dataDir, 'pglite');

export async function openPglite(dir: string | undefined): Promise<DatabaseHandle> {
  if (dir !== undefined) mkdirSync(dir, { recursive: true });
  // No dir means in memory (tests of the embedded driver).
  const pglite = await PGlite.create(dir === undefined ? {} : { dataDir: dir });
  const db = drizzlePglite(pglite, { schema }) as unknown as Database;
  return {
    db,
    driver: 'pglite',
    pglite,
    ping: async () => {
      await pglite.query('select 1');
    },
    close: () => pglite.close(),
  };
}

export async function openDatabase(config: {
  DATABASE_URL?: string | undefined;
  DATABASE_POOL_SIZE: number;
  DATA_DIR: string;
}): Promise<DatabaseHandle> {
  return config.DATABASE_URL !== undefined
    ? openPostgres(config.DATABASE_URL, config.DATABASE_POOL_SIZE)
    : openPglite(pgliteDir(config.DATA_DIR));
}
