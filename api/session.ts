/**
 * Browser sessions (SPEC §9): after a password sign-in on a page, the session token lives in an HttpOnly cookie
 * (Secure behind TLS, SameSite=Lax) that scripts cannot read. A cookie is sent by the browser by itself, so every
 * state-changing request it authenticates must also carry the CSRF token of the page (header X-CSRF-Token, double
 * submit bound to the session by csrf-csrf). Bearer tokens and API keys stay as they were for API callers.
 */
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import { accessTokens, SESSION_TTL_SECONDS, type AccessTokens } from './auth.js';
import { Problem } from './problem.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface BrowserSessions {
  readonly cookieName: string;
  readonly tokens: AccessTokens;
  /** The CSRF token a page embeds (and its cookie, set on the answer). */
  csrfToken(req: Request, res: Response): string;
  /** Refuses a cookie-authenticated change without the page's CSRF token (403 csrf-token-invalid). */
  readonly csrfCheck: RequestHandler;
  start(res: Response, userId: string): Promise<void>;
  end(res: Response): void;
}

/** `secure`: the public URL is https, so cookies get Secure and the __Host- prefix (no Domain, Path=/). */
export function browserSessions(deriveKey: (purpose: string) => Uint8Array, secure: boolean): BrowserSessions {
  const prefix = secure ? '__Host-' : '';
  const cookieName = `${prefix}certflow_session`;
  const tokens = accessTokens(deriveKey('jwt'), 'session');
  const cookieOptions: CookieOptions = { httpOnly: true, secure, sameSite: 'lax', path: '/' };
  const csrfSecret = Buffer.from(deriveKey('csrf')).toString('hex');
  const { generateCsrfToken, validateRequest } = doubleCsrf({
    getSecret: () => csrfSecret,
    getSessionIdentifier: (req) => (req.cookies as Record<string, string> | undefined)?.[cookieName] ?? '',
    cookieName: `${prefix}certflow_csrf`,
    cookieOptions: { sameSite: 'lax', secure, path: '/', httpOnly: true },
    getCsrfTokenFromRequest: (req) => req.headers['x-csrf-token'],
  });

  return {
    cookieName,
    tokens,
    csrfToken: (req, res) => generateCsrfToken(req, res, { overwrite: false, validateOnReuse: false }),
    csrfCheck: (req, res, next) => {
      if (res.locals.viaSession === true && !SAFE_METHODS.has(req.method) && !validateRequest(req)) {
        throw Problem.forbidden('This change came without the page\'s CSRF token (X-CSRF-Token): reload the page and try again.', 'csrf-token-invalid');
      }
      next();
    },
    async start(res, userId) {
      const { accessToken } = await tokens.issue(userId);
      res.cookie(cookieName, accessToken, { ...cookieOptions, maxAge: SESSION_TTL_SECONDS * 1000 });
    },
    end(res) {
      res.clearCookie(cookieName, cookieOptions);
    },
  };
}
