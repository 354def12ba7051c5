/** What the holder sees after typing an SMS code: the token's PIN once, or why not. Shared by unlock and unblock. */
import { z } from 'zod';
import { unlockCodeDigest } from '../lib/unlock-code.js';
import { Problem } from './problem.js';
import type { LimitName, RateLimits } from './rate-limits.js';

/** The body of a code check: the six digits of the SMS. */
export const SmsCodeBody = z.object({ code: z.string().regex(/^\d{6}$/, 'six digits') }).strict();

/** The answer to asking for an SMS code: until when it is valid, and how many more may be sent today. */
export const codeSentResponse = { description: 'The code is sent', content: { 'application/json': { schema: z.object({ expiresAt: z.iso.datetime(), codesLeftToday: z.number().int() }) } } };

/** The answer to the right code: the token's PIN, shown once (`pinAfterCode`). */
export const pinShownResponse = (description: string) => ({ description, content: { 'application/json': { schema: z.object({ unlockPin: z.string() }) } } });

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

export interface CodeCheckDeps {
  readonly unlockKey: Buffer;
  readonly limits: RateLimits;
  /** Shows the token's PIN once. */
  revealPinOnce(orderId: string): Promise<string | undefined>;
}

/**
 * The holder typed an SMS code: under the rate limit `limit` (per order, account and address), `verify` hands the
 * code's digest to the workflow, and the right code shows the PIN once (`pinAfterCode`).
 */
export function checkCodeThenShowPin(
  deps: CodeCheckDeps,
  limit: LimitName,
  caller: { orderId: string; userId: string; ip: string },
  code: string,
  verify: (digest: string) => Promise<{ verified: boolean; attemptsLeft: number }>,
): Promise<{ unlockPin: string }> {
  const digest = unlockCodeDigest(deps.unlockKey, caller.orderId, code);
  return deps.limits.run(limit, { order: caller.orderId, account: caller.userId, ip: caller.ip }, async () =>
    pinAfterCode(await verify(digest), () => deps.revealPinOnce(caller.orderId)),
  );
}
