/**
 * Rate limits shared by every API process (SPEC §10): counters in Postgres (the `rate_limits` table, created by a
 * migration) through rate-limiter-flexible's Drizzle store, so two processes behind one load balancer count
 * together, in embedded PGlite mode too. Each limited action is counted per client address and per account (and,
 * for the SMS codes, per order); the first count over its limit answers 429 with Retry-After. And a bound on the
 * password work of one process: at most a few scrypt computations (32 MiB each) at once, a short queue, 503 beyond.
 */
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Database } from '../db/client.js';
import { rateLimits } from '../db/schema.js';
import { Problem } from './problem.js';

export interface Limit {
  /** Attempts allowed in one window. */
  readonly points: number;
  /** Length of the window, in seconds (fixed window, starting at the first attempt). */
  readonly seconds: number;
}

/** Who an attempt is counted against: the client address, the account (email or user id), the order, the organisation. */
export type Scope = 'ip' | 'account' | 'order' | 'organisation';

const per = (points: number, seconds: number): Limit => ({ points, seconds });
const MINUTE = 60;
const HOUR = 3600;

/**
 * Every limit, in one place (the README's table copies it). Generous for a person, tight for a script: the account
 * limits stop guessing at one account from many addresses, the address limits stop one client trying many accounts.
 * Register and reset count only requests that reach the password hash (bad input costs nothing).
 */
export const RATE_LIMITS = {
  /** POST /v1/auth/login and POST /v1/auth/session (one check, one count). */
  login: { ip: per(60, MINUTE), account: per(10, MINUTE) },
  register: { ip: per(30, 10 * MINUTE), account: per(5, HOUR) },
  'forgot-username': { ip: per(20, 10 * MINUTE), account: per(5, HOUR) },
  'forgot-password': { ip: per(20, 10 * MINUTE), account: per(5, HOUR) },
  /** Per address, and per account once the link's token names one. */
  'reset-password': { ip: per(20, 10 * MINUTE), account: per(10, 10 * MINUTE) },
  /** Asking for an SMS code (the workflow sends at most 5 a day besides). */
  'unlock-code': { order: per(10, 10 * MINUTE), account: per(20, 10 * MINUTE), ip: per(30, 10 * MINUTE) },
  /** Typing a code: the PIN reveal (the workflow voids a code after 3 wrong entries besides). */
  'unlock-code-verify': { order: per(10, 10 * MINUTE), account: per(20, 10 * MINUTE), ip: per(30, 10 * MINUTE) },
  'unblock-code': { order: per(10, 10 * MINUTE), account: per(20, 10 * MINUTE), ip: per(30, 10 * MINUTE) },
  'unblock-code-verify': { order: per(10, 10 * MINUTE), account: per(20, 10 * MINUTE), ip: per(30, 10 * MINUTE) },
  /**
   * A staff member's second-factor code (TOTP or recovery code) and enrolment confirmation: 3 codes are right at any
   * moment (one step of drift each way), so 10 tries in 10 minutes leave a guesser about 4 chances in 1,000 a day.
   */
  'second-factor': { account: per(10, 10 * MINUTE), ip: per(30, 10 * MINUTE) },
  /** Account mails (activation, username, reset) to one address: beyond it the 202 is answered and nothing is sent. */
  'account-mail': { account: per(5, HOUR) },
  /** ACME newOrder, per ACME account and per organisation (all its accounts together). */
  'acme-new-order': { account: per(300, 3 * HOUR), organisation: per(1000, 3 * HOUR) },
  /** ACME challenges that failed: past the limit, no new challenge is checked until the window ends. */
  'acme-failed-validation': { account: per(30, HOUR), organisation: per(100, HOUR) },
} as const satisfies Record<string, Partial<Record<Scope, Limit>>>;

export type LimitName = keyof typeof RATE_LIMITS;
export type LimitKeys = Partial<Record<Scope, string>>;

/** scrypt computations at once per process (libuv runs 4 at a time anyway), and how many may wait for one. */
export const PASSWORD_WORK = { concurrent: 4, queued: 32 } as const;

export interface RateLimitOptions {
  /** Prepended to every key: tests give each stack its own counters in a shared database. */
  readonly keyPrefix?: string;
  readonly limits?: { readonly [N in LimitName]?: Partial<Record<Scope, Limit>> };
  readonly passwordWork?: { readonly concurrent: number; readonly queued: number };
  /**
   * Whether this process sweeps the table's expired rows every few minutes (default true). A test stack says false: its
   * app outlives its database handle in a test process that other files reuse, and the run's database is dropped.
   */
  readonly sweepExpired?: boolean;
}

/** Counts taken by one attempt, to give back when it reached no decision. */
export interface Taken {
  giveBack(): Promise<void>;
}

const busy = (): Problem =>
  new Problem(503, 'busy', 'Too many requests at once', 'Too many password checks are running; try again in a second.', { retryAfter: 1 });

/** A counting semaphore with a bounded queue: work beyond `concurrent + queued` is refused at once (503). */
export class WorkGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Most pieces of work ever running at once (tests read it). */
  peak = 0;
  constructor(
    readonly concurrent: number,
    readonly queued: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.concurrent) this.active += 1;
    else if (this.waiting.length < this.queued) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else throw busy();
    this.peak = Math.max(this.peak, this.active);
    try {
      return await work();
    } finally {
      // The slot goes to the next in line, or is freed.
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active -= 1;
    }
  }
}

/** `gate.run(work)`, with Retry-After on the 503 when the gate is full (sendProblem sets it for 429s only). */
export async function passwordWork<T>(gate: WorkGate, res: Response | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await gate.run(work);
  } catch (err) {
    if (err instanceof Problem && err.slug === 'busy') res?.setHeader('Retry-After', '1');
    throw err;
  }
}

// Keys are hashed: the table holds no address or email, and every key has one length.
const hashed = (value: string): string => createHash('sha256').update(value.toLowerCase()).digest('base64url').slice(0, 32);

const retryAfterOf = (res: RateLimiterRes): number => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterDrizzle>();
  readonly passwordWork: WorkGate;

  constructor(db: Database, options: RateLimitOptions = {}) {
    const prefix = options.keyPrefix ?? 'rl';
    let first = true;
    for (const [name, scopes] of Object.entries(RATE_LIMITS) as [LimitName, Partial<Record<Scope, Limit>>][]) {
      for (const [scope, base] of Object.entries(scopes) as [Scope, Limit][]) {
        const limit = options.limits?.[name]?.[scope] ?? base;
        const limiter = new RateLimiterDrizzle({
          storeClient: db,
          schema: rateLimits,
          keyPrefix: `${prefix}:${name}:${scope}`,
          points: limit.points,
          duration: limit.seconds,
          // One sweeper of expired rows is enough for the whole table.
          clearExpiredByTimeout: first && options.sweepExpired !== false,
          // The database down: each process counts on its own meanwhile rather than letting everything through.
          insuranceLimiter: new RateLimiterMemory({ points: limit.points, duration: limit.seconds }),
        });
        first = false;
        this.limiters.set(`${name}:${scope}`, limiter);
      }
    }
    const work = options.passwordWork ?? PASSWORD_WORK;
    this.passwordWork = new WorkGate(work.concurrent, work.queued);
  }

  /**
   * Counts one attempt against each key given (in the order order, account, ip); a 429 problem with the wait of the
   * first limit that is over. Counts taken before a refusal stay taken: a refused flood keeps its window full.
   */
  async take(name: LimitName, keys: LimitKeys): Promise<Taken> {
    const taken: { limiter: RateLimiterDrizzle; key: string }[] = [];
    for (const scope of ['order', 'account', 'organisation', 'ip'] as const) {
      const value = keys[scope];
      const limiter = this.limiters.get(`${name}:${scope}`);
      if (value === undefined || limiter === undefined) continue;
      const key = hashed(value);
      try {
        await limiter.consume(key);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw Problem.rateLimited(retryAfterOf(err));
        throw err;
      }
      taken.push({ limiter, key });
    }
    return {
      giveBack: async () => {
        await Promise.all(taken.map(({ limiter, key }) => limiter.reward(key, 1).catch(() => undefined)));
      },
    };
  }

  /** Without counting: a 429 problem when a key has used up its limit already (failures counted apart, by `allow`). */
  async refuseIfSpent(name: LimitName, keys: LimitKeys): Promise<void> {
    for (const [scope, value] of Object.entries(keys) as [Scope, string | undefined][]) {
      const limiter = this.limiters.get(`${name}:${scope}`);
      if (value === undefined || limiter === undefined) continue;
      const used = await limiter.get(hashed(value));
      if (used !== null && used.consumedPoints >= limiter.points) throw Problem.rateLimited(retryAfterOf(used));
    }
  }

  /** Whether one more attempt is allowed, counting it; false instead of a 429 (for the silent limits). */
  async allow(name: LimitName, keys: LimitKeys): Promise<boolean> {
    try {
      await this.take(name, keys);
      return true;
    } catch (err) {
      if (err instanceof Problem && err.status === 429) return false;
      throw err;
    }
  }

  /**
   * Runs `attempt` once its counts are taken. An attempt that reached no decision (a dependency down: not a problem
   * below 500) is given back, so a user retrying through an outage is not locked out.
   */
  async run<T>(name: LimitName, keys: LimitKeys, attempt: () => Promise<T>): Promise<T> {
    const taken = await this.take(name, keys);
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof Problem && err.status < 500)) await taken.giveBack();
      throw err;
    }
  }
}
