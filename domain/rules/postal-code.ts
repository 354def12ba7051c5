/**
 * A French postal code (code postal, CEDEX codes alike): 5 digits, the first two (three overseas) those of a
 * department La Poste serves. Organisations are identified by SIRET, so their address is in France.
 */
export type PostalCodeCheck = { ok: true } | { ok: false; reason: string };

/** Metropolitan departments 01–95 (Corsica's 2A and 2B use 20); overseas 971–978 and 984, 986–988. */
const DEPARTMENT = /^(?:0[1-9]|[1-8]\d|9[0-5]|97[1-8]|98[46-8])/;

export function checkPostalCode(value: string): PostalCodeCheck {
  if (!/^\d{5}$/.test(value)) return { ok: false, reason: 'a French postal code is exactly 5 digits, e.g. 75001' };
  if (!DEPARTMENT.test(value)) return { ok: false, reason: 'no French department has postal codes starting so' };
  return { ok: true };
}

export const isPostalCode = (value: string): boolean => checkPostalCode(value).ok;
