/**
 * Bearer authentication: API keys (machine callers, staff) and the short-lived access tokens of password login
 * (JWT, HS256). Both resolve to the same Principal; the principal is then checked against each route's roles.
 * Only active accounts authenticate: a pending or disabled user's keys and tokens are refused.
 */
import type { RequestHandler, Response } from 'express';
import { SignJWT, jwtVerify } from 'jose';
import type { Database } from '../db/client.js';
import { principalForApiKey, principalForUser } from '../db/accounts.js';
import type { Principal } from '../domain/roles.js';
import { Problem } from './problem.js';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const ISSUER = 'certflow';
const AUDIENCE = 'certflow-api';

/** A browser session lasts a working day; its token is only ever in an HttpOnly cookie (api/session.ts). */
export const SESSION_TTL_SECONDS = 8 * 3600;
const SESSION_AUDIENCE = 'certflow-session';

export interface AccessToken {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
}

export interface AccessTokens {
  issue(userId: string): Promise<AccessToken>;
  /** The user a valid, unexpired token names; undefined for anything else. */
  verify(token: string): Promise<string | undefined>;
}

/**
 * `key`: 32 bytes, `secrets.derive('jwt')`. The token carries only the user id: role and status are read per request.
 * `kind` 'session' makes the browser session's token: another audience and lifetime, so that neither kind of token
 * is accepted where the other is expected.
 */
export function accessTokens(key: Uint8Array, kind: 'access' | 'session' = 'access'): AccessTokens {
  const audience = kind === 'access' ? AUDIENCE : SESSION_AUDIENCE;
  const ttl = kind === 'access' ? ACCESS_TOKEN_TTL_SECONDS : SESSION_TTL_SECONDS;
  return {
    async issue(userId) {
      const accessToken = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ttl}s`)
        .sign(key);
      return { accessToken, tokenType: 'Bearer', expiresIn: ttl };
    },
    async verify(token) {
      try {
        // The algorithm is pinned: a token claiming `none` or another algorithm is refused.
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: audience });
        return typeof payload.sub === 'string' ? payload.sub : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

const bearer = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
};
const looksLikeJwt = (token: string): boolean => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

/**
 * Runs before the routes: a valid access token of an active user becomes the request's principal; so does a browser
 * session's cookie when the request carries no Authorization header (`res.locals.viaSession` then tells the CSRF
 * check that a cookie, which a browser sends by itself, authenticated it). Anything else is left to `authenticate`,
 * which answers 401 on the routes that need a caller (public routes ignore a bad token).
 */
export function acceptAccessTokens(db: Database, tokens: AccessTokens, sessions?: { cookieName: string; tokens: AccessTokens }): RequestHandler {
  return async (req, res, next) => {
    const token = bearer(req.headers.authorization);
    if (token !== undefined && looksLikeJwt(token)) {
      const userId = await tokens.verify(token);
      const principal = userId === undefined ? undefined : await principalForUser(db, userId);
      if (principal !== undefined) res.locals.principal = principal;
    } else if (req.headers.authorization === undefined && sessions !== undefined) {
      const cookie = (req.cookies as Record<string, string> | undefined)?.[sessions.cookieName];
      if (cookie !== undefined && looksLikeJwt(cookie)) {
        const userId = await sessions.tokens.verify(cookie);
        const principal = userId === undefined ? undefined : await principalForUser(db, userId);
        if (principal !== undefined) {
          res.locals.principal = principal;
          res.locals.viaSession = true;
        }
      }
    }
    next();
  };
}

export function authenticate(db: Database): RequestHandler {
  return async (req, res, next) => {
    // An access token already resolved by `acceptAccessTokens`.
    if (res.locals.principal !== undefined) {
      next();
      return;
    }
    const header = req.headers.authorization;
    if (header === undefined) throw Problem.unauthorized('Send an API key or an access token as `Authorization: Bearer <key>`.');
    const token = bearer(header);
    const principal = token === undefined || looksLikeJwt(token) ? undefined : await principalForApiKey(db, token);
    if (principal === undefined) throw Problem.unauthorized('The key or token is unknown, expired, revoked or malformed, or its account is not active.');
    res.locals.principal = principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (p === undefined) throw Problem.unauthorized('Authentication required.');
  return p;
}
