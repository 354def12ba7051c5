/** A customer's self-registration (POST /v1/auth/register) for the API tests: a fresh SIRET and address each time. */
import { randomUUID } from 'node:crypto';
import { freshSiret } from '../support.js';

export const freshEmail = (name = 'camille'): string => `${name}.${randomUUID().slice(0, 8)}@example.test`;
export const PASSWORD = 'Tournesol-Vert-42!';
export const ADDRESS = { street: '4 rue de la Paix', postalCode: '75002', locality: 'Paris' };

/** A valid registration body; `over` replaces any field. */
export const registration = (over: Record<string, unknown> = {}) => ({
  siret: freshSiret(),
  organisationName: 'Boulangerie Martin',
  organisationAddress: ADDRESS,
  givenName: 'Camille',
  surname: 'Martin',
  email: freshEmail(),
  phone: '+33612345678',
  language: 'fr',
  password: PASSWORD,
  ...over,
});
