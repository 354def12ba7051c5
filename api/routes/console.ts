/**
 * The staff console (SPEC §1: RA and DRA operators, auditors): static files under /console/, no build step. The page
 * calls the same HTTP API as everyone else with the operator's bearer token; the server gives it nothing more.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

/**
 * Next to this module when run from the sources; compiled into dist/api/routes/, the files are not copied by tsc, so
 * they are read from the repository's layout (api/console/ beside dist/, as db/migrations/ is for the migrations).
 */
const CONSOLE_DIR = [new URL('../console/', import.meta.url), new URL('../../../api/console/', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(`${dir}index.html`)) ?? fileURLToPath(new URL('../console/', import.meta.url));

/**
 * Only the console's own files run: no inline script or style, no other origin. Evidence is fetched with the token
 * and shown from blob: URLs (an <img>, or the browser's PDF viewer in a frame), which is all blob: is allowed for.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "frame-src 'self' blob:",
  "object-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function consoleRoutes(): Router {
  const router = express.Router();
  router.use('/console', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    // The token never reaches the server in a URL, but a page of the console is nobody else's referrer either.
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-cache');
    next();
  });
  // `/console` redirects to `/console/`, so that the page's relative module imports resolve under it.
  router.use('/console', express.static(CONSOLE_DIR, { index: 'index.html', dotfiles: 'ignore', fallthrough: true, redirect: true }));
  return router;
}
