/**
 * What every page test needs: Debian's chromium (found or installed by the global set-up) driven by playwright-core,
 * a page that records script errors and CSP refusals, axe-core run inside the page (WCAG 2.1 A and AA rules), and a
 * check that nothing is wider than a 360 px phone.
 */
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { startProvidersStack, type ProvidersStack } from '../fakes/providers.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** A test artifact (git-ignored), kept for whoever reviews the run. */
export const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));

/** The flags this closed network needs: without the background ones, Chromium keeps dialling out and is refused. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: inject('chromiumPath'), headless: true, args: FLAGS });
}

/** A providers stack (fake SMTP and SMS, test/fakes/providers.ts) and a browser; `close` closes the browser, then the stack. */
export async function startBrowserStack(opts: Parameters<typeof startProvidersStack>[0] = {}): Promise<ProvidersStack & { readonly browser: Browser }> {
  const started = await startProvidersStack(opts);
  const browser = await launchBrowser();
  return {
    ...started,
    browser,
    close: async () => {
      await browser.close();
      await started.close();
    },
  };
}

/** A page answers after a round trip or two through the API and the workflow: more than vitest's 1 s default. */
export const poll = <T>(fn: () => T | Promise<T>, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

export interface OpenPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught script errors and Content-Security-Policy refusals seen so far: a page test ends with none. */
  readonly errors: string[];
  close(): Promise<void>;
}

export const PHONE = { width: 360, height: 740 } as const;
export const DESKTOP = { width: 1280, height: 900 } as const;

export async function openPage(browser: Browser, opts: { viewport?: { width: number; height: number }; locale?: string } = {}): Promise<OpenPage> {
  const context = await browser.newContext({ viewport: opts.viewport ?? DESKTOP, locale: opts.locale ?? 'fr-FR' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy/i.test(msg.text())) errors.push(msg.text());
  });
  return { context, page, errors, close: () => context.close() };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is now; serious and critical findings fail the test, with
 * each rule and the elements it names.
 */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  // Page-side code as text: the test's own type checking knows Node, not the DOM.
  const loaded = await page.evaluate<boolean>('typeof window.axe !== "undefined"');
  // Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') rightly does not let a <script> do.
  if (!loaded) await page.evaluate(`${AXE_SOURCE};undefined`);
  const violations = await page.evaluate<AxeViolation[]>(`(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  })()`);
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    blocking.map((v) => `${label}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    `axe-core on ${label}`,
  ).toEqual([]);
}

/** At 360 px nothing may need a sideways scroll: the document is no wider than the window. */
export async function expectFitsPhone(page: Page, label: string): Promise<void> {
  const { scroll, client } = await page.evaluate<{ scroll: number; client: number }>(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
  );
  expect(scroll, `${label} is ${scroll} px wide in a ${client} px window`).toBeLessThanOrEqual(client);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: `${RESULTS}${name}.png`, fullPage: true });
}

/** axe-core at 1280 px, then axe-core and the width check at 360 px, back to 1280 px. */
export async function checkBothWidths(page: Page, label: string): Promise<void> {
  await expectAccessible(page, `${label} (1280 px)`);
  await page.setViewportSize(PHONE);
  await expectAccessible(page, `${label} (360 px)`);
  await expectFitsPhone(page, label);
  await page.setViewportSize(DESKTOP);
}

/** Signs in through the login page with an email and a password, and waits to land on `next`. */
export async function signInAt(page: Page, baseUrl: string, account: { email: string; password: string }, next: string): Promise<void> {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Adresse électronique').fill(account.email);
  await page.getByLabel('Mot de passe (obligatoire)').fill(account.password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${baseUrl}${next}`);
}
