/** What the holder sees after typing an SMS code: the token's PIN once, or why not. Shared by unlock and unblock. */
import { Problem } from './problem.js';

export async function pinAfterCode(
  result: { verified: boolean; attemptsLeft: number },
  revealPinOnce: () => Promise<string | undefined>,
): Promise<{ unlockPin: string }> {
  if (!result.verified) {
    const detail = result.attemptsLeft > 0 ? `Wrong code; ${result.attemptsLeft} attempt(s) left.` : 'Wrong code; this code is void, ask for a new one.';
    throw Problem.unprocessable('wrong-code', detail, { attemptsLeft: result.attemptsLeft });
  }
  const unlockPin = await revealPinOnce();
  if (unlockPin === undefined) throw Problem.conflict('pin-already-shown', 'The PIN was already shown once.');
  return { unlockPin };
}

/**
 * How often one order's holder may ask for an SMS code or type one, over HTTP (per API process, in memory). The
 * workflow already voids a code after 3 wrong entries and sends at most 5 codes a day; this bounds the rate of
 * Updates a caller can push at the workflow (a flood of verifications is history growth and worker load) and
 * answers 429 with Retry-After. An attempt that did not reach a decision (a dependency down: 5xx) is given back, so
 * a user retrying through an outage is not locked out.
 */
export class CodeAttemptLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Runs `attempt` if `key` has attempts left in its window; a 429 problem (retryAfter, in seconds) otherwise. */
  async run<T>(key: string, attempt: () => Promise<T>, now = Date.now()): Promise<T> {
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    let w = this.windows.get(key);
    if (w === undefined || w.resetAt <= now) {
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    // Taken before the attempt runs, so concurrent requests cannot all slip under the limit.
    if (w.count >= this.limit) throw Problem.rateLimited(Math.max(1, Math.ceil((w.resetAt - now) / 1000)));
    w.count += 1;
    const window = w;
    try {
      return await attempt();
    } catch (err) {
      const decided = err instanceof Problem && err.status < 500;
      if (!decided && this.windows.get(key) === window) window.count = Math.max(0, window.count - 1);
      throw err;
    }
  }
}

/** Per order: codes asked for, and codes typed. Generous for a person (a code lives 10 minutes, 3 tries each). */
export const CODE_REQUESTS_PER_ORDER = { limit: 10, windowMs: 10 * 60_000 } as const;
export const CODE_ENTRIES_PER_ORDER = { limit: 10, windowMs: 10 * 60_000 } as const;
