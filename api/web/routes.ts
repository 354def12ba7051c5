/**
 * The customer area and the console's pages (SPEC §9), served by the API process on the same origin. Each page is a
 * small HTML frame written here (language, title, navigation, the CSRF token) and a Preact view bundled from
 * api/web/client/ that talks to the same /v1 API as every other caller, with the session cookie.
 */
import type { Request, Response, Router } from 'express';
import express from 'express';
import { getUser } from '../../db/accounts.js';
import type { Database } from '../../db/client.js';
import { PAGES, PUBLIC_PAGES, type PageId } from '../../domain/pages.js';
import { STAFF_ROLES, type Principal } from '../../domain/roles.js';
import { callerOf } from '../caller.js';
import type { BrowserSessions } from '../session.js';
import { asset } from './assets.js';
import type { Boot, BootUser } from './boot.js';
import { catalogue, isLang, negotiate, type Lang } from './i18n/index.js';

export const LANG_COOKIE = 'certflow_lang';

/** Only the bundle's own files run; evidence and PDFs are shown from blob: URLs the page made itself. */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "frame-src 'self' blob:",
  "object-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface WebDeps {
  readonly db: Database;
  readonly sessions: BrowserSessions;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** A JSON island cannot be closed early by a `</script>` inside a value. */
const jsonIsland = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

async function bootUser(db: Database, principal: Principal | undefined): Promise<(BootUser & { language: string }) | null> {
  if (principal === undefined) return null;
  const user = await getUser(db, principal.userId);
  if (user === undefined) return null;
  return { ...callerOf(user, principal), language: user.language };
}

/** The reader's explicit choice, else the account's language, else the browser's, else French. */
function languageOf(req: Request, account: string | undefined): Lang {
  const chosen = (req.cookies as Record<string, string> | undefined)?.[LANG_COOKIE];
  if (isLang(chosen)) return chosen;
  if (isLang(account)) return account;
  return negotiate(req.headers['accept-language']);
}

function frame(boot: Boot, title: string, user: BootUser | null, switchHref: string): string {
  const t = catalogue(boot.lang);
  const other: Lang = boot.lang === 'fr' ? 'en' : 'fr';
  const isStaff = user !== null && STAFF_ROLES.has(user.role);
  const links: [string, string][] =
    user === null
      ? [
          [PAGES.login, t.nav.signIn],
          [PAGES.signup, t.nav.signUp],
        ]
      : isStaff
        ? [[PAGES.console, t.nav.console]]
        : [
            [PAGES.orders, t.nav.orders],
            [PAGES.newOrder, t.nav.newOrder],
            ...(user.organisationId !== null ? ([[PAGES.organisation, t.nav.organisation]] as [string, string][]) : []),
          ];
  const current = PAGES[boot.page];
  const nav = links
    .map(([href, text]) => `<li><a href="${href}"${href === current ? ' aria-current="page"' : ''}>${escapeHtml(text)}</a></li>`)
    .join('');
  const session =
    user === null
      ? ''
      : `<p class="who">${escapeHtml(t.nav.signedInAs(`${user.givenName} ${user.surname}`.trim() || user.email))}</p>` +
        `<button type="button" class="link" id="sign-out">${escapeHtml(t.nav.signOut)}</button>`;
  return `<!doctype html>
<html lang="${boot.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(t.appName)}</title>
<link rel="stylesheet" href="/assets/styles.css">
<script type="module" src="/assets/main.js"></script>
</head>
<body>
<a class="skip" href="#main">${escapeHtml(t.skipToContent)}</a>
<header class="site">
<div class="bar">
<a class="brand" href="/">${escapeHtml(t.appName)} <span>${escapeHtml(isStaff ? t.staffAreaName : t.areaName)}</span></a>
<a class="lang" href="${escapeHtml(switchHref)}" lang="${other}" hreflang="${other}" aria-label="${escapeHtml(t.languageSwitchLabel)}">${escapeHtml(t.languageSwitch)}</a>
</div>
<nav aria-label="${escapeHtml(t.nav.label)}"><ul>${nav}</ul>${session}</nav>
</header>
<main id="main" tabindex="-1">
<h1>${escapeHtml(title)}</h1>
<div id="app"><noscript><p class="problem">${escapeHtml(t.noScript)}</p></noscript></div>
</main>
<script type="application/json" id="boot">${jsonIsland(boot)}</script>
</body>
</html>`;
}

/** The page title, from the catalogue. */
export function pageTitle(lang: Lang, page: PageId): string {
  return catalogue(lang).titles[page];
}

export function webRoutes(deps: WebDeps): Router {
  const router = express.Router();

  router.get(/^\/assets\/(.+)$/, async (req, res) => {
    const found = await asset((req.params as Record<string, string>)[0] ?? '');
    if (found === undefined) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    res.setHeader('Cache-Control', found.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    res.type(found.contentType).send(found.body);
  });

  const serve = (page: PageId) => async (req: Request, res: Response) => {
    // ?lang=en: the reader's choice is kept (a year) and the address loses the parameter.
    const asked = req.query.lang;
    if (isLang(asked)) {
      res.cookie(LANG_COOKIE, asked, { sameSite: 'lax', path: '/', maxAge: 365 * 86_400_000, httpOnly: true, secure: req.secure });
      const url = new URL(req.originalUrl, 'http://x');
      url.searchParams.delete('lang');
      res.redirect(303, url.pathname + url.search);
      return;
    }
    const principal = res.locals.principal as Principal | undefined;
    if (principal === undefined && !PUBLIC_PAGES.includes(page)) {
      res.redirect(303, `${PAGES.login}?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    const user = await bootUser(deps.db, principal);
    if (page === 'home') {
      res.redirect(303, user === null ? PAGES.login : STAFF_ROLES.has(user.role) ? PAGES.console : PAGES.orders);
      return;
    }
    const lang = languageOf(req, user?.language);
    const { language: _language, ...shown } = user ?? { language: undefined };
    const bootUserShown = user === null ? null : (shown as BootUser);
    const boot: Boot = { page, lang, csrfToken: deps.sessions.csrfToken(req, res), user: bootUserShown, params: req.params as Record<string, string> };
    const switchUrl = new URL(req.originalUrl, 'http://x');
    switchUrl.searchParams.set('lang', lang === 'fr' ? 'en' : 'fr');
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    // Account links carry their token in the address: no page tells another site where it was.
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Language', lang);
    res.setHeader('Vary', 'Cookie, Accept-Language');
    res.type('html').send(frame(boot, pageTitle(lang, page), bootUserShown, switchUrl.pathname + switchUrl.search));
  };

  // /orders/new before /orders/:id.
  const order: PageId[] = ['home', 'signup', 'activate', 'login', 'forgotUsername', 'forgotPassword', 'resetPassword', 'orders', 'newOrder', 'order', 'organisation', 'console'];
  for (const page of order) router.get(PAGES[page], serve(page));
  return router;
}
