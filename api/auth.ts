/** Bearer authentication with API keys; the principal is then checked against each route's roles. */
import type { RequestHandler, Response } from 'express';
import type { Database } from '../db/client.js';
import { principalForApiKey } from '../db/accounts.js';
import type { Principal } from '../domain/roles.js';
import { Problem } from './problem.js';

export function authenticate(db: Database): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    if (header === undefined) throw Problem.unauthorized('Send an API key as `Authorization: Bearer <key>`.');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match?.[1] === undefined ? undefined : await principalForApiKey(db, match[1]);
    if (principal === undefined) throw Problem.unauthorized('The key is unknown, revoked or malformed.');
    res.locals.principal = principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (p === undefined) throw Problem.unauthorized('Authentication required.');
  return p;
}
