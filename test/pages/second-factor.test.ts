/**
 * The staff second factor on /login in Debian's chromium, on a 360 px phone: the first sign-in enrols (the QR code and
 * the key in text, a wrong code told beside its field, the recovery codes shown once), the next one asks for the code
 * of the app (a wrong one told beside the field), a recovery code signs in once and says how many are left, and the
 * same code again is refused. French first, English too; every state passes axe-core and fits the phone.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import { startTestStack, type Account, type TestStack } from '../support.js';
import { expectAccessible, expectFitsPhone, launchBrowser, openPage, PHONE, poll, screenshot } from './browser.js';
import { Authenticator } from './second-factor.js';

const PASSWORD = 'Copper-Meadow-Almanac-31';

let stack: TestStack;
let browser: Browser;
const authenticator = new Authenticator();

beforeAll(async () => {
  browser = await launchBrowser();
  stack = await startTestStack();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function staff(role: 'ra_operator' | 'auditor'): Promise<Account> {
  const account = await stack.account(role);
  await setPassword(stack.db, account.user.id, PASSWORD);
  return account;
}

async function check(page: Page, label: string): Promise<void> {
  await expectAccessible(page, label);
  await expectFitsPhone(page, label);
  await screenshot(page, `second-factor-${label.replaceAll(' ', '-')}-360`);
}

async function password(page: Page, email: string): Promise<void> {
  await page.goto(`${stack.baseUrl}/console/`);
  await page.getByLabel('Adresse électronique').fill(email);
  await page.getByLabel('Mot de passe (obligatoire)').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
}

/** Signed in: the console's queue, then signed out again. */
async function inConsoleThenOut(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Dossiers à traiter' }).waitFor();
  await page.getByRole('button', { name: 'Se déconnecter' }).click();
  await page.getByRole('heading', { level: 1, name: 'Se connecter' }).waitFor();
}

/** Types a code on the verification step. */
async function typeCode(page: Page, code: string): Promise<void> {
  await page.getByLabel('Code (obligatoire)').fill(code);
  await page.getByRole('button', { name: 'Vérifier' }).click();
}

const codeError = (page: Page) => page.locator('.field', { has: page.getByLabel('Code (obligatoire)') }).locator('.field-error');
const WRONG = 'Ce code est incorrect, expiré ou déjà utilisé : saisissez le code affiché en ce moment par l’application, ou un code de secours inutilisé.';

describe('staff second factor pages', () => {
  it('enrols on the first sign-in, signs in with a code, and with a recovery code once', async () => {
    const ra = await staff('ra_operator');
    const open = await openPage(browser, { viewport: PHONE });
    const { page } = open;
    try {
      // The first sign-in: the enrolment, with the QR code and the key to type by hand.
      await password(page, ra.user.email);
      await page.getByRole('heading', { level: 2, name: 'Activer la vérification en deux étapes' }).waitFor();
      const qr = page.getByRole('img', { name: /QR code à scanner/ });
      await qr.waitFor();
      expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
      const secret = await authenticator.readKey(page, ra.user.email);
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      // The page's focus moved to the step's heading.
      expect(await page.evaluate('document.activeElement?.id')).toBe('second-factor-title');
      await check(page, 'enrolment');

      // Empty, then wrong: told beside the field and in the summary; nothing opens.
      await page.getByRole('button', { name: 'Activer et me connecter' }).click();
      await poll(() => codeError(page).textContent()).toBe('Ce champ est obligatoire.');
      await page.getByLabel('Code (obligatoire)').fill('000000');
      await page.getByRole('button', { name: 'Activer et me connecter' }).click();
      await poll(() => codeError(page).textContent()).toBe(WRONG);
      expect(await page.getByLabel('Code (obligatoire)').getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByRole('alert').textContent()).toContain(WRONG);
      await check(page, 'enrolment wrong code');

      await page.getByLabel('Code (obligatoire)').fill(await authenticator.code(ra.user.email));
      await page.getByRole('button', { name: 'Activer et me connecter' }).click();
      await page.getByRole('heading', { name: 'Vos codes de secours' }).waitFor();
      const codes = await page.locator('ul.recovery-codes li').allTextContents();
      expect(codes).toHaveLength(10);
      await check(page, 'recovery codes');
      await page.getByRole('link', { name: 'Continuer' }).click();
      await inConsoleThenOut(page);

      // The next sign-in asks for the code; a wrong one is told beside the field.
      await password(page, ra.user.email);
      await page.getByRole('heading', { level: 2, name: 'Vérification en deux étapes' }).waitFor();
      await check(page, 'verify');
      await typeCode(page, '123 456');
      await poll(() => codeError(page).textContent()).toBe(WRONG);
      await check(page, 'verify wrong code');
      await typeCode(page, await authenticator.code(ra.user.email));
      await inConsoleThenOut(page);

      // The phone lost: a recovery code signs in, once, and says how many are left.
      await password(page, ra.user.email);
      await typeCode(page, codes[0] ?? '');
      await poll(() => page.getByRole('status').textContent()).toContain('il vous en reste 9');
      await check(page, 'recovery code used');
      await page.getByRole('link', { name: 'Continuer' }).click();
      await inConsoleThenOut(page);

      await password(page, ra.user.email);
      await typeCode(page, codes[0] ?? '');
      await poll(() => codeError(page).textContent()).toBe(WRONG);
      expect(await page.getByRole('heading', { name: 'Dossiers à traiter' }).count()).toBe(0);
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('reads in English too', async () => {
    const auditor = await staff('auditor');
    const open = await openPage(browser, { viewport: PHONE, locale: 'en-GB' });
    const { page } = open;
    try {
      await page.goto(`${stack.baseUrl}/login?next=%2Fconsole%2F`);
      await page.getByLabel('E-mail address').fill(auditor.user.email);
      await page.getByLabel('Password (required)').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { level: 2, name: 'Turn on two-step verification' }).waitFor();
      await page.getByRole('img', { name: /QR code to scan/ }).waitFor();
      await authenticator.readKey(page, auditor.user.email);
      await page.getByLabel('Code (required)').fill('999999');
      await page.getByRole('button', { name: 'Turn on and sign in' }).click();
      await poll(() => page.locator('.field-error').textContent()).toBe('This code is wrong, expired or already used: type the code the app shows now, or an unused recovery code.');
      await check(page, 'enrolment en');
      await page.getByLabel('Code (required)').fill(await authenticator.code(auditor.user.email));
      await page.getByRole('button', { name: 'Turn on and sign in' }).click();
      await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
      await page.getByRole('link', { name: 'Continue' }).click();
      await page.waitForURL((url) => url.pathname === '/console/');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
