/**
 * SIREN of La Poste: its establishments' SIRETs do not follow Luhn; INSEE makes their digit sum a multiple of 5
 * instead (the head office, 356 000 000 00048, passes Luhn as well).
 */
const LA_POSTE_SIREN = '356000000';

export type SiretCheck = { ok: true } | { ok: false; reason: string };

const luhnSum = (digits: string): number => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum;
};

/** A SIRET is 14 digits: the 9-digit SIREN then a 5-digit establishment number, checked by Luhn. */
export function checkSiret(value: string): SiretCheck {
  if (!/^\d{14}$/.test(value)) return { ok: false, reason: 'a SIRET is exactly 14 digits' };
  if (value.startsWith(LA_POSTE_SIREN)) {
    const digitSum = [...value].reduce((s, c) => s + Number(c), 0);
    return digitSum % 5 === 0 || luhnSum(value) % 10 === 0
      ? { ok: true }
      : { ok: false, reason: 'La Poste SIRET: the digit sum must be a multiple of 5' };
  }
  return luhnSum(value) % 10 === 0 ? { ok: true } : { ok: false, reason: 'the SIRET check digit (Luhn) is wrong' };
}
