/**
 * What a throw-away stack (the test run's global setup, the end-to-end tests, the benchmarks) makes for itself on
 * this machine: a free loopback port, a fresh Postgres database with the migrations applied, dropped at the end.
 */
import { createServer } from 'node:net';
import postgres from 'postgres';
import { openPostgres } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';

/** A loopback port nobody listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function asAdmin(adminUrl: string, statement: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(statement);
  } finally {
    await admin.end();
  }
}

/**
 * Creates the database `name` on the server of `adminUrl` (a role allowed to create databases) and applies the
 * migrations; returns its URL. A database whose migrations fail is dropped again.
 */
export async function createMigratedDatabase(adminUrl: string, name: string): Promise<string> {
  await asAdmin(adminUrl, `create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = openPostgres(url.toString(), 1);
  try {
    await migrateDatabase(handle);
  } catch (err) {
    await handle.close();
    await dropDatabase(adminUrl, name);
    throw err;
  }
  await handle.close();
  return url.toString();
}

/** Drops the database `name`, closing whatever connections it still has. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await asAdmin(adminUrl, `drop database if exists ${name} with (force)`);
}
