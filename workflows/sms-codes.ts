/**
 * One-time SMS codes (token unlock and unblock): at most 5 a day, each valid for a while, void after 3 wrong entries.
 * Only the keyed digest of a code is ever in workflow state or history. Workflow code: time is workflow time.
 */
import type { Duration } from '@temporalio/common';
import { DAY_MS } from '../domain/time.js';
import { durationMs } from '../domain/deadlines.js';

export const MAX_WRONG_CODE_ATTEMPTS = 3;
export const MAX_CODES_PER_DAY = 5;

/** Kept in the workflow's carried state, so it survives continue-as-new. */
export interface SmsCodeState {
  codesSentAt: string[];
  activeCode: { digest: string; expiresAt: string; wrongAttempts: number } | null;
}

export const noSmsCodes = (): SmsCodeState => ({ codesSentAt: [], activeCode: null });

const sentToday = (state: SmsCodeState): string[] => state.codesSentAt.filter((t) => Date.parse(t) > Date.now() - DAY_MS);

/** Why a new code cannot be sent now, or undefined. */
export function refuseNewCode(state: SmsCodeState): { code: string; message: string } | undefined {
  if (sentToday(state).length >= MAX_CODES_PER_DAY) return { code: 'too-many-codes', message: `At most ${MAX_CODES_PER_DAY} codes a day; try again tomorrow.` };
  return undefined;
}

/**
 * Sends a code through `send` (an activity that derives the code from the key and returns its digest) and makes it
 * the active one. The key names this request, so a retried activity sends the same code.
 */
export async function sendNewCode(
  state: SmsCodeState,
  keyPrefix: string,
  validity: Duration,
  send: (idempotencyKey: string) => Promise<{ digest: string }>,
): Promise<{ expiresAt: string; codesLeftToday: number }> {
  const sentAt = new Date().toISOString();
  state.codesSentAt = [...sentToday(state), sentAt];
  const { digest } = await send(`${keyPrefix}:${state.codesSentAt.length}:${sentAt}`);
  const expiresAt = new Date(Date.now() + durationMs(validity)).toISOString();
  state.activeCode = { digest, expiresAt, wrongAttempts: 0 };
  return { expiresAt, codesLeftToday: MAX_CODES_PER_DAY - state.codesSentAt.length };
}

/** Why a code cannot be checked now (none active, or expired), or undefined. */
export function refuseVerification(state: SmsCodeState): { code: string; message: string } | undefined {
  const code = state.activeCode;
  if (code === null) return { code: 'no-active-code', message: 'No code is active: ask for a new one.' };
  if (Date.parse(code.expiresAt) <= Date.now()) return { code: 'code-expired', message: 'The code has expired: ask for a new one.' };
  return undefined;
}

/** Compares digests; a wrong one counts, and the third voids the code. A right one is used up. */
export function verifyCode(state: SmsCodeState, digest: string): { verified: boolean; attemptsLeft: number } {
  const code = state.activeCode;
  if (code === null) return { verified: false, attemptsLeft: 0 };
  if (code.digest !== digest) {
    const wrong = code.wrongAttempts + 1;
    state.activeCode = wrong >= MAX_WRONG_CODE_ATTEMPTS ? null : { ...code, wrongAttempts: wrong };
    return { verified: false, attemptsLeft: Math.max(0, MAX_WRONG_CODE_ATTEMPTS - wrong) };
  }
  state.activeCode = null;
  return { verified: true, attemptsLeft: 0 };
}
