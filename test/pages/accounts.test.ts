/**
 * The account pages in Debian's chromium, as a new customer meets them: sign up (French first, errors beside their
 * fields, nothing typed lost), the activation link from the mail, sign in to a session cookie, sign out; the
 * forgotten password's round trip; the forgotten username; English one click away. Every page passes axe-core and
 * fits a 360 px phone.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import type { FakeSmtp, ReceivedMail } from '../fakes/smtp.js';
import { freshSiret, type TestStack } from '../support.js';
import { expectAccessible, expectFitsPhone, openPage, PHONE, poll, screenshot, startBrowserStack, type OpenPage } from './browser.js';

let stack: TestStack;
let smtp: FakeSmtp;
let browser: Browser;

beforeAll(async () => {
  const started = await startBrowserStack();
  ({ stack, smtp, browser } = started);
  return started.close;
});

const PASSWORD = 'Mirabelle-Carillon-Lorraine-7';

const templateOf = (m: ReceivedMail): string | undefined => m.parsed.headers.get('x-certflow-template') as string | undefined;
/** The link of a mail's text to that page, pointed at the test's server. */
async function linkIn(to: string, template: string, page: string): Promise<string> {
  const mail = await smtp.waitFor((m) => m.envelope.to.includes(to.toLowerCase()) && templateOf(m) === template);
  const match = new RegExp(`https?://[^\\s/]+(/${page}\\?token=[A-Za-z0-9_-]+)`).exec(mail.parsed.text ?? '');
  if (match?.[1] === undefined) throw new Error(`no ${page} link in the ${template} mail`);
  return stack.baseUrl + match[1];
}

/** axe-core and the 360 px check on the page as it is now. */
async function checkPage(page: Page, label: string): Promise<void> {
  await expectAccessible(page, label);
  await expectFitsPhone(page, label);
}

const errorOf = (page: Page, label: string) => page.locator('.field', { has: page.getByLabel(label, { exact: false }) }).locator('.field-error');

describe('account pages', () => {
  it('a new customer signs up in French on a phone, activates from the mail, signs in and out', async () => {
    const email = `zoe.${randomUUID().slice(0, 8)}@example.test`;
    const open: OpenPage = await openPage(browser, { viewport: PHONE, locale: 'fr-FR' });
    const { page } = open;
    try {
      await page.goto(`${stack.baseUrl}/signup`);
      await page.getByRole('heading', { level: 1, name: 'Créer un compte' }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('fr');
      await checkPage(page, 'signup (empty)');

      // Sent empty: every required field says so beside itself, and the summary lists them.
      await page.getByRole('button', { name: 'Créer mon compte' }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain('Ce qui doit être corrigé');
      expect(await errorOf(page, 'SIRET de l’organisation').textContent()).toBe('Ce champ est obligatoire.');
      await checkPage(page, 'signup (errors)');

      await page.getByLabel('SIRET de l’organisation').fill('73282932000075');
      await page.getByLabel('Raison sociale').fill('Boulangerie Łódź & Fils');
      await page.getByLabel('Adresse (numéro et voie)').fill('12 rue des Écoles');
      await page.getByLabel('Code postal').fill('750');
      await page.getByLabel('Commune').fill('Paris');
      await page.getByLabel('Prénom').fill('Zoé');
      await page.getByLabel('Nom (obligatoire)', { exact: true }).fill('Łukasiewicz');
      await page.getByLabel('Adresse électronique').fill(email);
      await page.getByLabel('Téléphone mobile').fill('+33 6 12 34 56 78');
      await page.getByLabel('Mot de passe (obligatoire)', { exact: true }).fill(PASSWORD);
      // The meter reads the password as it is typed.
      await poll(() => page.locator('#f-password-meter').textContent()).toMatch(/Robustesse du mot de passe : (Bon|Excellent)/);
      await page.getByLabel('Confirmez le mot de passe').fill(`${PASSWORD}x`);
      await page.getByRole('button', { name: 'Créer mon compte' }).click();
      await poll(() => errorOf(page, 'Confirmez le mot de passe').textContent()).toBe('Les deux mots de passe ne sont pas identiques.');

      // The server's refusals, one at a time, beside their fields; what was typed stays.
      await page.getByLabel('Confirmez le mot de passe').fill(PASSWORD);
      await page.getByRole('button', { name: 'Créer mon compte' }).click();
      await poll(() => errorOf(page, 'Code postal').textContent()).toBe('Un code postal français a 5 chiffres.');
      expect(await page.getByLabel('Raison sociale').inputValue()).toBe('Boulangerie Łódź & Fils');
      await page.getByLabel('Code postal').fill('75005');
      await page.getByRole('button', { name: 'Créer mon compte' }).click();
      await poll(() => errorOf(page, 'SIRET de l’organisation').textContent()).toBe('Ce SIRET n’est pas valide : vérifiez les 14 chiffres.');
      expect(await page.getByLabel('SIRET de l’organisation').getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByLabel('Mot de passe (obligatoire)', { exact: true }).inputValue()).toBe(PASSWORD);
      await checkPage(page, 'signup (server refusal)');

      await page.getByLabel('SIRET de l’organisation').fill(freshSiret());
      await page.getByRole('button', { name: 'Créer mon compte' }).click();
      await poll(() => page.getByRole('status').textContent()).toContain('un courriel vient de lui être envoyé');
      await screenshot(page, 'signup-done-360');

      // The mail's link opens the activation page.
      await page.goto(await linkIn(email, 'account_activation', 'activate'));
      await page.getByRole('heading', { level: 1, name: 'Activer mon compte' }).waitFor();
      await checkPage(page, 'activate');
      await page.getByRole('button', { name: 'Activer mon compte' }).click();
      await poll(() => page.getByRole('status').textContent()).toContain('Votre compte est actif');

      // Signing in: a wrong password is told and nothing is lost; then the session cookie, HttpOnly.
      await page.getByRole('link', { name: 'Se connecter' }).first().click();
      await page.getByRole('heading', { level: 1, name: 'Se connecter' }).waitFor();
      await checkPage(page, 'login');
      await page.getByLabel('Adresse électronique').fill(email);
      await page.getByLabel('Mot de passe').fill('pas-le-bon-mot-de-passe');
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain('L’adresse ou le mot de passe est incorrect');
      expect(await page.getByLabel('Adresse électronique').inputValue()).toBe(email);
      await page.getByLabel('Mot de passe').fill(PASSWORD);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.waitForURL(`${stack.baseUrl}/orders`);
      const cookie = (await open.context.cookies()).find((c) => c.name === 'certflow_session');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      expect(await page.getByText('Connecté : Zoé Łukasiewicz').isVisible()).toBe(true);

      await page.getByRole('button', { name: 'Se déconnecter' }).click();
      await page.waitForURL(/\/login\?signedOut=1$/);
      await poll(() => page.getByRole('status').textContent()).toBe('Vous êtes déconnecté.');
      expect((await open.context.cookies()).find((c) => c.name === 'certflow_session')).toBeUndefined();
      // Signed out, a customer page sends to the sign-in page and back afterwards.
      await page.goto(`${stack.baseUrl}/orders`);
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe(`/login?next=${encodeURIComponent('/orders')}`);
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('a forgotten password: the mail, the reset page, the new password works', async () => {
    const email = `jiri.${randomUUID().slice(0, 8)}@example.test`;
    const registered = await stack.http('POST', '/v1/auth/register', {
      json: {
        siret: freshSiret(),
        organisationName: 'Řeznictví Šťastný',
        organisationAddress: { street: '3 place du Marché', postalCode: '67000', locality: 'Strasbourg' },
        givenName: 'Jiří',
        surname: 'Dvořák',
        email,
        phone: '+33612345678',
        language: 'en',
        password: PASSWORD,
      },
    });
    expect(registered.status).toBe(202);
    expect((await fetch(await linkIn(email, 'account_activation', 'activate'))).status).toBe(200);
    const token = new URL(await linkIn(email, 'account_activation', 'activate')).searchParams.get('token');
    expect((await stack.http('POST', '/v1/auth/activate', { json: { token } })).status).toBe(200);

    const open = await openPage(browser, { locale: 'en-GB' });
    const { page } = open;
    try {
      // Before sign-in, the browser's language decides: English here.
      await page.goto(`${stack.baseUrl}/forgot-password`);
      await page.getByRole('heading', { level: 1, name: 'Forgotten password' }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      await checkPage(page, 'forgot-password');
      await page.getByLabel('E-mail address').fill(email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await poll(() => page.getByRole('status').textContent()).toContain('a link to choose a new password has just been sent');

      await page.goto(await linkIn(email, 'password_reset', 'reset-password'));
      await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
      await checkPage(page, 'reset-password');
      // A weak password is refused beside its field, and the link still works afterwards.
      await page.getByLabel('New password').fill('short');
      await page.getByLabel('Confirm the password').fill('short');
      await page.getByRole('button', { name: 'Save the password' }).click();
      await poll(() => errorOf(page, 'New password').textContent()).toBe('This password is too easy to guess: choose a longer one, without your name or address.');
      const fresh = 'Quartz-Lantern-Meadow-19';
      await page.getByLabel('New password').fill(fresh);
      await page.getByLabel('Confirm the password').fill(fresh);
      await page.getByRole('button', { name: 'Save the password' }).click();
      await poll(() => page.getByRole('status').textContent()).toContain('Your new password is saved');

      await page.goto(`${stack.baseUrl}/login`);
      await page.getByLabel('E-mail address').fill(email);
      await page.getByLabel('Password').fill(fresh);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${stack.baseUrl}/orders`);
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('the forgotten username page answers the same whatever the address; English and French are one click apart', async () => {
    const open = await openPage(browser, { viewport: PHONE, locale: 'fr-FR' });
    const { page } = open;
    try {
      await page.goto(`${stack.baseUrl}/forgot-username`);
      await page.getByRole('heading', { level: 1, name: 'Identifiant oublié' }).waitFor();
      await checkPage(page, 'forgot-username');
      await page.getByLabel('SIRET de l’organisation').fill('12345678901234');
      await page.getByLabel('Adresse électronique').fill('personne@example.test');
      await page.getByRole('button', { name: 'Recevoir mon identifiant' }).click();
      await poll(() => errorOf(page, 'SIRET de l’organisation').textContent()).toBe('Ce SIRET n’est pas valide : vérifiez les 14 chiffres.');
      await page.getByLabel('SIRET de l’organisation').fill(freshSiret());
      await page.getByRole('button', { name: 'Recevoir mon identifiant' }).click();
      await poll(() => page.getByRole('status').textContent()).toContain('son identifiant vient de lui être envoyé');

      await page.getByRole('link', { name: 'Read this page in English' }).click();
      await page.getByRole('heading', { level: 1, name: 'Forgotten username' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/forgot-username');
      await checkPage(page, 'forgot-username (en)');
      // The choice is kept from page to page.
      await page.goto(`${stack.baseUrl}/login`);
      await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
      await page.getByRole('link', { name: 'Lire cette page en français' }).click();
      await page.getByRole('heading', { level: 1, name: 'Se connecter' }).waitFor();
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('a change authenticated by the session cookie needs the page’s CSRF token', async () => {
    const open = await openPage(browser);
    const { page } = open;
    try {
      const customer = await stack.account('customer');
      await setPassword(stack.db, customer.user.id, PASSWORD);
      await page.goto(`${stack.baseUrl}/login`);
      await page.getByLabel('Adresse électronique').fill(customer.user.email);
      await page.getByLabel('Mot de passe').fill(PASSWORD);
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.waitForURL(`${stack.baseUrl}/orders`);
      // The cookie alone reads (GET) but changes nothing; with the page's token it does.
      const attempt = (withToken: boolean) =>
        page.evaluate<{ me: number; status: number; type: string }>(`(async () => {
          const token = JSON.parse(document.getElementById('boot').textContent).csrfToken;
          const headers = { 'content-type': 'application/json' };
          if (${withToken}) headers['x-csrf-token'] = token;
          const me = await fetch('/v1/me');
          const res = await fetch('/v1/orders', { method: 'POST', headers, body: JSON.stringify({}) });
          return { me: me.status, status: res.status, type: (await res.json()).type };
        })()`);
      expect(await attempt(false)).toEqual({ me: 200, status: 403, type: 'urn:certflow:problem:csrf-token-invalid' });
      // With the token the request reaches the route, whose body check answers.
      expect(await attempt(true)).toMatchObject({ me: 200, status: 400, type: 'urn:certflow:problem:bad-request' });
    } finally {
      await open.close();
    }
  });
});
