/** Who the caller is, as GET /v1/me answers it and as the pages' boot data (api/web/boot.ts) carries it. */
import type { User } from '../db/accounts.js';
import type { Principal } from '../domain/roles.js';
import type { BootUser } from './web/boot.js';

/** The account behind a key, token or session: the role is the principal's (the one it signed in with). */
export const callerOf = (user: User, principal: Principal): BootUser => ({
  userId: user.id,
  role: principal.role,
  organisationId: user.organisationId,
  email: user.email,
  givenName: user.givenName,
  surname: user.surname,
});
