/**
 * Bearer authentication: API keys (machine callers, staff) and the short-lived access tokens of password login
 * (JWT, HS256). Both resolve to the same Principal; the principal is then checked against each route's roles.
 * Only active accounts authenticate: a pending or disabled user's keys and tokens are refused.
 *
 * Staff (ra_operator, dra_operator, auditor, admin) authenticate with two factors (issue 16 item 6): a token or
 * session of a staff account counts only if it was issued after the second factor (its `amr` claim says so), and a
 * staff account's API keys work only where an admin allowed them (403 staff-api-key-not-allowed otherwise).
 */
import type { RequestHandler, Response } from 'express';
import { SignJWT, jwtVerify } from 'jose';
import type { Database } from '../db/client.js';
import { principalForApiKey, principalForUser } from '../db/accounts.js';
import { staffApiAccessOf } from '../db/second-factor.js';
import { STAFF_ROLES, type Principal } from '../domain/roles.js';
import { Problem } from './problem.js';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const ISSUER = 'certflow';
const AUDIENCE = 'certflow-api';

/** A browser session lasts a working day; its token is only ever in an HttpOnly cookie (api/session.ts). */
export const SESSION_TTL_SECONDS = 8 * 3600;
const SESSION_AUDIENCE = 'certflow-session';
/** Between a staff password and the second factor: long enough to open an app and type a code, or enrol. */
export const SECOND_FACTOR_TTL_SECONDS = 10 * 60;
const SECOND_FACTOR_AUDIENCE = 'certflow-second-factor';
/** RFC 8176's method reference for a one-time password: the token's `amr` after the second factor. */
const OTP_AMR = 'otp';

export interface AccessToken {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
}

export interface AccessTokens {
  /** `secondFactor`: the holder also gave a one-time code (staff tokens count only then). */
  issue(userId: string, opts?: { secondFactor?: boolean }): Promise<AccessToken>;
  /** The user a valid, unexpired token names; undefined for anything else. */
  verify(token: string): Promise<string | undefined>;
  /** The user and whether the token was issued after a second factor. */
  claims(token: string): Promise<{ readonly userId: string; readonly secondFactor: boolean } | undefined>;
}

/**
 * `key`: 32 bytes, `secrets.derive('jwt')`. The token carries only the user id: role and status are read per request.
 * `kind` 'session' makes the browser session's token: another audience and lifetime, so that neither kind of token
 * is accepted where the other is expected. 'second-factor' is a staff member's between the password and the code
 * (api/session.ts): it opens nothing but the second-factor routes.
 */
export function accessTokens(key: Uint8Array, kind: 'access' | 'session' | 'second-factor' = 'access'): AccessTokens {
  const audience = kind === 'access' ? AUDIENCE : kind === 'session' ? SESSION_AUDIENCE : SECOND_FACTOR_AUDIENCE;
  const ttl = kind === 'access' ? ACCESS_TOKEN_TTL_SECONDS : kind === 'session' ? SESSION_TTL_SECONDS : SECOND_FACTOR_TTL_SECONDS;
  const claims = async (token: string) => {
    try {
      // The algorithm is pinned: a token claiming `none` or another algorithm is refused.
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: audience });
      if (typeof payload.sub !== 'string') return undefined;
      return { userId: payload.sub, secondFactor: Array.isArray(payload.amr) && payload.amr.includes(OTP_AMR) };
    } catch {
      return undefined;
    }
  };
  return {
    async issue(userId, opts = {}) {
      const accessToken = await new SignJWT(opts.secondFactor === true ? { amr: ['pwd', OTP_AMR] } : {})
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
      return (await claims(token))?.userId;
    },
    claims,
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
  /** The active user a token names; a staff account's only when the token came after its second factor. */
  const principalOf = async (verified: { userId: string; secondFactor: boolean } | undefined): Promise<Principal | undefined> => {
    const principal = verified === undefined ? undefined : await principalForUser(db, verified.userId);
    if (principal === undefined || (STAFF_ROLES.has(principal.role) && verified?.secondFactor !== true)) return undefined;
    return principal;
  };
  return async (req, res, next) => {
    const token = bearer(req.headers.authorization);
    if (token !== undefined && looksLikeJwt(token)) {
      const principal = await principalOf(await tokens.claims(token));
      if (principal !== undefined) res.locals.principal = principal;
    } else if (req.headers.authorization === undefined && sessions !== undefined) {
      const cookie = (req.cookies as Record<string, string> | undefined)?.[sessions.cookieName];
      if (cookie !== undefined && looksLikeJwt(cookie)) {
        const principal = await principalOf(await sessions.tokens.claims(cookie));
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
    if (STAFF_ROLES.has(principal.role) && !(await staffApiAccessOf(db, principal.userId))) {
      throw Problem.forbidden(
        'API keys of staff accounts work only where an admin allowed them (PATCH /v1/admin/users/{id} with staffApiAccess, or the CLI\'s --api-access); sign in in the browser with your second factor instead.',
        'staff-api-key-not-allowed',
      );
    }
    res.locals.principal = principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (p === undefined) throw Problem.unauthorized('Authentication required.');
  return p;
}
