/**
 * What the staff console's browser tests share (console.test.ts in French, console-en.test.ts in English): the pages'
 * stack with a customer and RA and DRA operators who sign in with a password and a second factor, sign-in in either
 * language (the labels read from its catalogue, api/web/i18n/), the axe-core and 360 px checks of a page, and an
 * order the CA refused, read by an RA operator on the console's order page.
 */
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import type { OrderView } from '../../domain/order.js';
import { catalogue, formatDateTime, type Lang } from '../../api/web/i18n/index.js';
import { openssl } from '../ca/support.js';
import { DESKTOP, expectAccessible, expectFitsPhone, launchBrowser, PHONE, poll, screenshot } from '../pages/browser.js';
import { Authenticator } from '../pages/second-factor.js';
import { startTestStack, type Account, type TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';

export const PASSWORD = 'Tall-Ledger-Window-42';

/** The staff members' authenticator apps (one per test file: each file has its own accounts). */
export const authenticator = new Authenticator();

export interface ConsoleStack {
  readonly stack: TestStack;
  readonly browser: Browser;
  readonly customer: Account;
  /** An RA operator with the password PASSWORD (the second factor is enrolled at the first sign-in). */
  readonly ra: Account;
  /** Drives orders over HTTP for the customer, that RA operator and a DRA operator (with PASSWORD too). */
  readonly driver: Driver;
  /** Closes the browser, then the stack. */
  close(): Promise<void>;
}

export async function startConsoleStack(): Promise<ConsoleStack> {
  // The global set-up found or installed the browser (scripts/browser.ts): it is never missing here.
  const browser = await launchBrowser();
  // The first reminder to a customer who does nothing comes after a second: the auditor's order shows it fired.
  const stack = await startTestStack({ deadlines: { ...DEFAULT_DEADLINES, inactivityReminders: ['1 second', '14 days'] } });
  const customer = await stack.account('customer');
  const ra = await stack.account('ra_operator');
  await setPassword(stack.db, ra.user.id, PASSWORD);
  const dra = await stack.account('dra_operator');
  await setPassword(stack.db, dra.user.id, PASSWORD);
  const driver = new Driver(stack, { holder: customer, ra, dra });
  return {
    stack,
    browser,
    customer,
    ra,
    driver,
    close: async () => {
      await browser.close();
      await stack.close();
    },
  };
}

/** The sign-in form (in `lang`) the console sends a signed-out reader to: address, password, sign in. */
export async function signIn(page: Page, email: string, lang: Lang = 'fr', password = PASSWORD): Promise<void> {
  const t = catalogue(lang);
  await page.getByLabel(t.auth.fields.email).fill(email);
  await page.getByLabel(`${t.auth.fields.password} (${t.required})`).fill(password);
  await page.getByRole('button', { name: t.auth.login.submit, exact: true }).click();
}

/** A staff member's sign-in: the password, then the second factor (enrolment the first time). */
export async function staffSignIn(page: Page, email: string, lang: Lang = 'fr'): Promise<void> {
  await signIn(page, email, lang);
  await authenticator.pass(page, email, lang);
}

/** axe-core, then the same page in a 360 px window: nothing wider than the phone. */
export async function checkPage(page: Page, label: string): Promise<void> {
  await expectAccessible(page, label);
  await page.setViewportSize(PHONE);
  await expectFitsPhone(page, label);
  await screenshot(page, `console-${label.replaceAll(' ', '-')}-360`);
  await page.setViewportSize(DESKTOP);
}

/**
 * Two server orders on one key (a CSR for `name`): the CA certifies the first; for the second it refuses the key,
 * already certified, and the order waits on the RA in needs_attention.
 */
export async function orderTheCaRefuses(driver: Driver, name: string): Promise<{ certified: OrderView; waiting: OrderView }> {
  const request = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{key.pem}', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`]);
  expect(request.status, request.stderr).toBe(0);
  const [first, second] = (await Promise.all([0, 1].map(() => driver.create('SERVER_CLIENT', { csr: request.stdout })))) as [OrderView, OrderView];
  for (const order of [first, second]) await driver.approve((await driver.completeAndSubmit(order)).id);
  await driver.pay(first.id);
  const certified = await driver.until(first.id, (o) => o.status === 'awaiting_acceptance');
  await driver.pay(second.id);
  return { certified, waiting: await driver.until(second.id, (o) => o.status === 'needs_attention') };
}

/**
 * The RA operator signs in on the console (in `lang`), opens the waiting order from the queue and reads in its
 * summary what stopped: the step, the CA's own words and since when (a date in `lang`); the page passes axe-core
 * and fits a phone.
 */
export async function readWhyItNeedsAttention(page: Page, setup: ConsoleStack, refused: { certified: OrderView; waiting: OrderView }, lang: Lang = 'fr'): Promise<void> {
  const c = catalogue(lang).console;
  const { id, attention } = refused.waiting;
  expect(attention).toBeDefined();
  const since = attention?.since ?? '';
  if (lang !== 'fr') {
    // Each text looked for is the language's own: one left as a copy of the French would pass on a French page.
    const checked = (l: Lang) => {
      const o = catalogue(l).console;
      return [o.queue.title, o.queue.open(id), o.order.title(id), o.order.facts.attentionStep, o.order.facts.attentionSince, formatDateTime(l, since)];
    };
    const french = checked('fr');
    checked(lang).forEach((text, i) => {
      expect(text.trim(), `the ${lang} text of "${french[i]}"`).not.toBe('');
      expect(text, `the ${lang} text of "${french[i]}"`).not.toBe(french[i]);
    });
  }
  await page.goto(`${setup.stack.baseUrl}/console/`);
  await staffSignIn(page, setup.ra.user.email, lang);
  await page.getByRole('heading', { name: c.queue.title }).waitFor();
  await page.getByRole('link', { name: c.queue.open(id) }).click();
  await page.getByRole('heading', { name: c.order.title(id) }).waitFor();
  const summary = page.locator('section[aria-labelledby="summary-title"] dl.facts');
  await poll(() => summary.textContent()).toContain(c.order.facts.attentionStep);
  const text = (await summary.textContent()) ?? '';
  expect(text).toContain('issueCertificate');
  expect(text).toContain(`already certified for order ${refused.certified.id}`);
  expect(text).toContain(c.order.facts.attentionSince);
  expect(text).toContain(formatDateTime(lang, since));
  await checkPage(page, lang === 'fr' ? 'needs attention' : `needs attention ${lang}`);
}
