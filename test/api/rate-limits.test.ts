/**
 * Rate limits shared by every API process (SPEC §10), on the real stack: two API apps on one database, as two
 * processes behind a load balancer would be, count into the same buckets; TRUST_PROXY decides whether
 * X-Forwarded-For tells clients apart; register and forgot-* answer 429 past their limits; and a burst of
 * registrations runs at most N scrypt hashes at once (counted at node:crypto itself), answering 503 beyond its queue.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../api/app.js';
import { Problem } from '../../api/problem.js';
import { RateLimits, type RateLimitOptions } from '../../api/rate-limits.js';
import { closeServer, listen } from '../../api/server.js';
import { openPglite } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { rateLimits } from '../../db/schema.js';
import { httpClient, SIRETS, startTestStack, type HttpResult, type TestStack } from '../support.js';
import { freshEmail, PASSWORD, registration } from './registration.js';
import { appDepsOn } from '../app-deps.js';

let stack: TestStack;
const servers: Server[] = [];

beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);

afterAll(async () => {
  for (const server of servers) await closeServer(server);
  await stack?.close();
});

type Http = TestStack['http'];

/** One more API process: its own Express app and port, on the stack's database. */
async function apiProcess(over: Partial<AppDeps> = {}): Promise<Http> {
  const app = createApp(appDepsOn(stack, over));
  const server = await listen(app, '127.0.0.1', 0);
  servers.push(server);
  return httpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/** Counters of a test's own (the stack's database is the run's). */
const freshLimits = (over: Omit<RateLimitOptions, 'keyPrefix'> = {}): RateLimitOptions => ({ keyPrefix: `rl-test-${randomUUID()}`, sweepExpired: false, ...over });


const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
const post = (http: Http, path: string, json: unknown, ip?: string) => http('POST', path, { json, ...(ip === undefined ? {} : from(ip)) });

/** A 429 as SPEC §8 says: problem+json `rate-limited`, the wait in Retry-After and in the body, within the window. */
function expectRateLimited(res: HttpResult, windowSeconds: number): void {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const body = res.body as { type: string; retryAfter: number };
  expect(body.type).toBe('urn:certflow:problem:rate-limited');
  const wait = Number(res.headers.get('retry-after'));
  expect(wait).toBeGreaterThan(0);
  expect(wait).toBeLessThanOrEqual(windowSeconds);
  expect(body.retryAfter).toBe(wait);
}

describe('two API processes on one database', () => {
  it('count login attempts into one bucket: 10 a minute per address, spread over both, then 429 from either', async () => {
    const limits = freshLimits();
    const [a, b] = [await apiProcess({ rateLimits: limits }), await apiProcess({ rateLimits: limits })];
    const email = freshEmail('partout');
    // Alternately, and through both login routes (the browser sign-in shares login's check): 5 + 5.
    for (let i = 0; i < 10; i++) {
      const res = i % 2 === 0 ? await post(a, '/v1/auth/login', { email, password: `wrong-${i}-Password` }) : await post(b, '/v1/auth/session', { email, password: `wrong-${i}-Password` });
      expect(res.status, `attempt ${i + 1}`).toBe(401);
    }
    expectRateLimited(await post(a, '/v1/auth/login', { email, password: PASSWORD }), 60);
    expectRateLimited(await post(b, '/v1/auth/session', { email, password: PASSWORD }), 60);
    // Another address is not concerned.
    expect((await post(b, '/v1/auth/login', { email: freshEmail(), password: PASSWORD })).status).toBe(401);
    // The shared counters are rows of the database, and hold no address: keys are hashes.
    const rows = await stack.db.select().from(rateLimits).where(like(rateLimits.key, `${limits.keyPrefix}:%`));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.key).not.toContain(email.split('@')[0]);
    expect(rows.find((r) => r.key.startsWith(`${limits.keyPrefix}:login:account:`))?.points).toBeGreaterThanOrEqual(11);
  });

  it('give back an SMS-code attempt that reached no decision (a dependency down), and count refusals', async () => {
    const options = freshLimits({ limits: { 'unlock-code-verify': { order: { points: 2, seconds: 60 } } } });
    const [one, other] = [new RateLimits(stack.db, options), new RateLimits(stack.db, options)];
    const keys = { order: randomUUID(), account: randomUUID(), ip: '192.0.2.1' };
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 5; i++) await expect((i % 2 === 0 ? one : other).run('unlock-code-verify', keys, () => Promise.reject(down))).rejects.toBe(down);
    await expect(one.run('unlock-code-verify', keys, () => Promise.reject(Problem.unprocessable('wrong-code', 'x')))).rejects.toMatchObject({ status: 422 });
    await expect(other.run('unlock-code-verify', keys, () => Promise.resolve('ok'))).resolves.toBe('ok');
    await expect(one.run('unlock-code-verify', keys, () => Promise.resolve('ok'))).rejects.toMatchObject({ status: 429 });
    // Another order has its own count.
    await expect(other.run('unlock-code-verify', { ...keys, order: randomUUID() }, () => Promise.resolve('ok'))).resolves.toBe('ok');
    // Concurrent attempts over both processes cannot all slip under the limit.
    const burst = { ...keys, order: randomUUID() };
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : other).run('unlock-code-verify', burst, () => Promise.resolve(i))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
  });
});

describe('embedded mode', () => {
  it('counts in PGlite the same way (the table from the migrations, no table made at run time)', async () => {
    const embedded = await openPglite(undefined);
    try {
      await migrateDatabase(embedded);
      const options = freshLimits({ limits: { login: { account: { points: 2, seconds: 60 } } } });
      const [one, other] = [new RateLimits(embedded.db, options), new RateLimits(embedded.db, options)];
      const keys = { account: freshEmail(), ip: '192.0.2.9' };
      await one.take('login', keys);
      await other.take('login', keys);
      const refused = await one.take('login', keys).then(() => undefined, (err: unknown) => err);
      expect(refused).toBeInstanceOf(Problem);
      expect(refused).toMatchObject({ status: 429, slug: 'rate-limited' });
      expect((refused as Problem).extra.retryAfter).toBeGreaterThan(0);
      expect((await embedded.db.select().from(rateLimits)).map((r) => r.points).sort()).toEqual([2, 3]);
    } finally {
      await embedded.close();
    }
  });
});

describe('TRUST_PROXY', () => {
  const perIp = { login: { ip: { points: 3, seconds: 60 } } } as const;
  const threeLogins = async (http: Http, ip: string) => {
    for (let i = 0; i < 3; i++) expect((await post(http, '/v1/auth/login', { email: freshEmail(), password: PASSWORD }, ip)).status).toBe(401);
  };

  it('set to the proxy, X-Forwarded-For tells clients apart (over both processes)', async () => {
    const limits = freshLimits({ limits: perIp });
    const [a, b] = [await apiProcess({ rateLimits: limits, trustProxy: ['loopback'] }), await apiProcess({ rateLimits: limits, trustProxy: 1 })];
    await threeLogins(a, '203.0.113.7');
    expectRateLimited(await post(b, '/v1/auth/login', { email: freshEmail(), password: PASSWORD }, '203.0.113.7'), 60);
    expect((await post(b, '/v1/auth/login', { email: freshEmail(), password: PASSWORD }, '203.0.113.8')).status).toBe(401);
  });

  it('unset, the socket address is the client: every X-Forwarded-For shares one bucket', async () => {
    const limits = freshLimits({ limits: perIp });
    const a = await apiProcess({ rateLimits: limits });
    await threeLogins(a, '203.0.113.7');
    expectRateLimited(await post(a, '/v1/auth/login', { email: freshEmail(), password: PASSWORD }, '203.0.113.8'), 60);
  });
});

describe('register and forgot-*', () => {
  it('answer 429 past 5 an hour for one address (whether or not it has an account)', async () => {
    const a = await apiProcess({ rateLimits: freshLimits() });
    const email = freshEmail('oubli');
    for (let i = 0; i < 5; i++) expect((await post(a, '/v1/auth/forgot-password', { email })).status).toBe(202);
    expectRateLimited(await post(a, '/v1/auth/forgot-password', { email }), 3600);
    for (let i = 0; i < 5; i++) expect((await post(a, '/v1/auth/forgot-username', { siret: SIRETS.acme, email })).status).toBe(202);
    expectRateLimited(await post(a, '/v1/auth/forgot-username', { siret: SIRETS.acme, email }), 3600);
    const again = freshEmail('inscrit');
    for (let i = 0; i < 5; i++) expect((await post(a, '/v1/auth/register', registration({ email: again }))).status).toBe(202);
    expectRateLimited(await post(a, '/v1/auth/register', registration({ email: again })), 3600);
  });

  it('answer 429 past 20 (forgot-*) or 30 (register) in 10 minutes from one client address, other clients unaffected', async () => {
    const a = await apiProcess({ rateLimits: freshLimits(), trustProxy: ['loopback'] });
    for (let i = 0; i < 20; i++) expect((await post(a, '/v1/auth/forgot-password', { email: freshEmail() }, '198.51.100.1')).status).toBe(202);
    expectRateLimited(await post(a, '/v1/auth/forgot-password', { email: freshEmail() }, '198.51.100.1'), 600);
    expect((await post(a, '/v1/auth/forgot-password', { email: freshEmail() }, '198.51.100.2')).status).toBe(202);

    for (let i = 0; i < 20; i++) expect((await post(a, '/v1/auth/forgot-username', { siret: SIRETS.acme, email: freshEmail() }, '198.51.100.3')).status).toBe(202);
    expectRateLimited(await post(a, '/v1/auth/forgot-username', { siret: SIRETS.acme, email: freshEmail() }, '198.51.100.3'), 600);

    const statuses = await Promise.all(Array.from({ length: 30 }, () => post(a, '/v1/auth/register', registration(), '198.51.100.4').then((r) => r.status)));
    expect(statuses).toEqual(Array(30).fill(202));
    expectRateLimited(await post(a, '/v1/auth/register', registration(), '198.51.100.4'), 600);
    // Bad input costs no hash and is not counted: still its own answer.
    expect((await post(a, '/v1/auth/register', registration({ password: 'court' }), '198.51.100.4')).status).toBe(422);
    expect((await post(a, '/v1/auth/register', registration(), '198.51.100.5')).status).toBe(202);
  }, 60_000);
});

describe('registration work', () => {
  it('a burst runs at most N scrypt hashes at once (counted at node:crypto), queues a few and answers 503 beyond', async () => {
    // Every scrypt call of this process goes through the counter (db/passwords.ts imports node:crypto's binding).
    const crypto = createRequire(import.meta.url)('node:crypto') as { scrypt: (...args: unknown[]) => void };
    const original = crypto.scrypt;
    let running = 0;
    let peak = 0;
    crypto.scrypt = (...args: unknown[]) => {
      const done = args.pop() as (err: Error | null, key: Buffer) => void;
      running += 1;
      peak = Math.max(peak, running);
      original(...args, (err: Error | null, key: Buffer) => {
        running -= 1;
        done(err, key);
      });
    };
    syncBuiltinESMExports();
    try {
      const a = await apiProcess({ rateLimits: freshLimits({ passwordWork: { concurrent: 2, queued: 3 } }), trustProxy: ['loopback'] });
      // Many clients at once (one address each, so no address limit is what stops them).
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => post(a, '/v1/auth/register', registration(), `10.9.0.${i + 1}`)));
      const statuses = results.map((r) => r.status);
      expect(statuses.every((s) => s === 202 || s === 503), statuses.join(',')).toBe(true);
      expect(peak).toBe(2);
      // The two running and the three waiting are served; the rest are told to come back.
      expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(5);
      const busy = results.filter((r) => r.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      for (const r of busy) {
        expect(r.headers.get('content-type')).toContain('application/problem+json');
        expect((r.body as { type: string }).type).toBe('urn:certflow:problem:busy');
        expect(r.headers.get('retry-after')).toBe('1');
      }
      // Once the burst is over, registering works again.
      expect((await post(a, '/v1/auth/register', registration(), '10.9.1.1')).status).toBe(202);
      expect(running).toBe(0);
    } finally {
      crypto.scrypt = original;
      syncBuiltinESMExports();
    }
  }, 60_000);
});
