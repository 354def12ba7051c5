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
