/**
 * Browser sessions (SPEC §9): after a password sign-in on a page, the session token lives in an HttpOnly cookie
 * (Secure behind TLS, SameSite=Lax) that scripts cannot read. A cookie is sent by the browser by itself, so every
 * state-changing request it authenticates must also carry the CSRF token of the page (header X-CSRF-Token, double
 * submit bound to the session by csrf-csrf). Bearer tokens and API keys stay as they were for API callers.
 *
 * Staff sign in in two steps (issue 16 item 6): the right password gives no session but a second-factor cookie
 * (HttpOnly, 10 minutes, its own JWT audience) that the second-factor routes alone read; the session cookie comes
 * once the code is right, its token marked as issued after a second factor (api/auth.ts refuses a staff session
 * without it).
 */
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import { accessTokens, SECOND_FACTOR_TTL_SECONDS, SESSION_TTL_SECONDS, type AccessTokens } from './auth.js';
import { Problem } from './problem.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface BrowserSessions {
  readonly cookieName: string;
  readonly tokens: AccessTokens;
  /** The CSRF token a page embeds (and its cookie, set on the answer). */
  csrfToken(req: Request, res: Response): string;
  /** Refuses a cookie-authenticated change without the page's CSRF token (403 csrf-token-invalid). */
  readonly csrfCheck: RequestHandler;
  /** Throws 403 csrf-token-invalid unless the request carries the page's CSRF token (routes a cookie opens on its own). */
  requireCsrf(req: Request): void;
  /** `secondFactor`: a staff member who gave the code too; the second-factor cookie, if any, is cleared. */
  start(res: Response, userId: string, opts?: { secondFactor?: boolean }): Promise<void>;
  end(res: Response): void;
  /** A staff member's right password: the second-factor cookie (and no session: an earlier one is ended). */
  startSecondFactor(res: Response, userId: string): Promise<void>;
  /** The user whose password was right a moment ago, waiting for the second factor; undefined otherwise. */
  secondFactorUser(req: Request): Promise<string | undefined>;
}

/** `secure`: the public URL is https, so cookies get Secure and the __Host- prefix (no Domain, Path=/). */
export function browserSessions(deriveKey: (purpose: string) => Uint8Array, secure: boolean): BrowserSessions {
  const prefix = secure ? '__Host-' : '';
  const cookieName = `${prefix}certflow_session`;
  const secondFactorCookie = `${prefix}certflow_second_factor`;
  const tokens = accessTokens(deriveKey('jwt'), 'session');
  const secondFactorTokens = accessTokens(deriveKey('jwt'), 'second-factor');
  const cookieOptions: CookieOptions = { httpOnly: true, secure, sameSite: 'lax', path: '/' };
  const csrfSecret = Buffer.from(deriveKey('csrf')).toString('hex');
  const { generateCsrfToken, validateRequest } = doubleCsrf({
    getSecret: () => csrfSecret,
    getSessionIdentifier: (req) => (req.cookies as Record<string, string> | undefined)?.[cookieName] ?? '',
    cookieName: `${prefix}certflow_csrf`,
    cookieOptions: { sameSite: 'lax', secure, path: '/', httpOnly: true },
    getCsrfTokenFromRequest: (req) => req.headers['x-csrf-token'],
  });

  const csrfRefused = (): Problem =>
    Problem.forbidden('This change came without the page\'s CSRF token (X-CSRF-Token): reload the page and try again.', 'csrf-token-invalid');
  return {
    cookieName,
    tokens,
    csrfToken: (req, res) => generateCsrfToken(req, res, { overwrite: false, validateOnReuse: false }),
    csrfCheck: (req, res, next) => {
      if (res.locals.viaSession === true && !SAFE_METHODS.has(req.method) && !validateRequest(req)) throw csrfRefused();
      next();
    },
    requireCsrf(req) {
      if (!validateRequest(req)) throw csrfRefused();
    },
    async start(res, userId, opts = {}) {
      const { accessToken } = await tokens.issue(userId, opts);
      res.cookie(cookieName, accessToken, { ...cookieOptions, maxAge: SESSION_TTL_SECONDS * 1000 });
      res.clearCookie(secondFactorCookie, cookieOptions);
    },
    end(res) {
      res.clearCookie(cookieName, cookieOptions);
      res.clearCookie(secondFactorCookie, cookieOptions);
    },
    async startSecondFactor(res, userId) {
      const { accessToken } = await secondFactorTokens.issue(userId);
      res.clearCookie(cookieName, cookieOptions);
      res.cookie(secondFactorCookie, accessToken, { ...cookieOptions, maxAge: SECOND_FACTOR_TTL_SECONDS * 1000 });
    },
    async secondFactorUser(req) {
      const cookie = (req.cookies as Record<string, string> | undefined)?.[secondFactorCookie];
      return cookie === undefined ? undefined : secondFactorTokens.verify(cookie);
    },
  };
}
