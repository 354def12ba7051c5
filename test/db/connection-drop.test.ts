/**
 * A connection that drops while postgres.js reads its array types (the first statement on every new connection)
 * must fail only the caller's query, never reject where no one listens: in the API or the worker an unhandled
 * rejection ends the process (porsager/postgres#1192, fixed in patches/postgres+3.4.9.patch). A TCP proxy in front
 * of the real Postgres resets the connection as soon as the driver sends that query, the way a database restart or
 * a load balancer's cut does.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openPostgres } from '../../db/client.js';
import { sql } from 'drizzle-orm';

let proxy: Server;
let port = 0;
let cuts = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  const real = new URL(inject('databaseUrl'));
  proxy = createServer((client) => {
    const upstream = connect(Number(real.port || 5432), real.hostname);
    sockets.add(client).add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes('pg_catalog.pg_type')) {
        cuts += 1;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  port = (proxy.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => proxy.close(resolve));
});

describe('a connection cut while the driver reads its types', () => {
  it('fails the query that asked, with no unhandled rejection', async () => {
    const unheard: unknown[] = [];
    const listen = (reason: unknown): void => void unheard.push(reason);
    process.on('unhandledRejection', listen);
    const url = new URL(inject('databaseUrl'));
    url.port = String(port);
    const handle = openPostgres(url.href, 1);
    try {
      const outcome = await handle.db.execute(sql`select 1 as one`).then(
        () => 'answered',
        (err: unknown) => (err as { code?: string }).code ?? String(err),
      );
      // Let a dropped promise surface: Node reports unhandled rejections after the microtask queue drains.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(cuts, 'the proxy saw the types query and cut it').toBeGreaterThanOrEqual(1);
      expect(outcome).not.toBe('answered');
      expect(unheard.map(String)).toEqual([]);
    } finally {
      process.off('unhandledRejection', listen);
      await handle.close();
    }
  });
});
