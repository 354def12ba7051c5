/**
 * My organisation's ACME keys in Debian's chromium: the admin of an organisation the RA validated makes a key for a
 * TLS product, reads its kid, HMAC key and certbot command once (focus on them, in an aria-live region), and never
 * again after; revokes it after a confirmation. The admin of an organisation not yet validated is told why it gets
 * none, in English. axe-core at 1280 and 360 px on each state.
 */
import { eq } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { findEabKey, openEabKey } from '../../db/acme.js';
import { setPassword } from '../../db/passwords.js';
import { acmeEabKeys, users } from '../../db/schema.js';
import { validatedOrganisation } from '../acme/support.js';
import { type Account, freshSiret, type TestStack } from '../support.js';
import { checkBothWidths, expectAccessible, openPage, poll, screenshot, startBrowserStack } from './browser.js';

let stack: TestStack;
let browser: Browser;
const PASSWORD = 'Chardon-Bleu-Vosges-2031';

beforeAll(async () => {
  const started = await startBrowserStack();
  ({ stack, browser } = started);
  return started.close;
}, 120_000);

async function signIn(page: Page, account: Account, labels = { email: 'Adresse électronique', password: 'Mot de passe (obligatoire)', submit: 'Se connecter' }): Promise<void> {
  await setPassword(stack.db, account.user.id, PASSWORD);
  await page.goto(`${stack.baseUrl}/login?next=%2Forganisation`);
  await page.getByLabel(labels.email).fill(account.user.email);
  await page.getByLabel(labels.password).fill(PASSWORD);
  await page.getByRole('button', { name: labels.submit }).click();
  await page.waitForURL(`${stack.baseUrl}/organisation`);
}

const activeId = (page: Page): Promise<string> => page.evaluate<string>('document.activeElement?.id ?? ""');

describe('ACME keys on my organisation', () => {
  it('the admin makes a key, sees its HMAC key and certbot command once, then revokes it', async () => {
    const ra = await stack.account('ra_operator');
    const org = await validatedOrganisation(stack, ra, 'Forge Numérique');
    const admin = await stack.account('org_admin', { siret: org.siret, orgName: 'Forge Numérique' });
    const open = await openPage(browser);
    const { page } = open;
    try {
      await signIn(page, admin);
      await page.getByRole('heading', { level: 2, name: 'Clés ACME' }).waitFor();
      await poll(() => page.getByText('Aucune clé ACME pour l’instant.').isVisible()).toBe(true);

      await page.getByLabel('Produit TLS de la clé').selectOption('SSL_WILDCARD');
      await page.getByRole('button', { name: 'Créer la clé' }).click();
      const shown = page.getByRole('group', { name: 'Votre nouvelle clé ACME' });
      await shown.waitFor();
      // The focus is on the new key, in a live region, so that a screen reader says it.
      await poll(() => activeId(page)).toBe('acme-new-key');
      expect(await page.locator('[aria-live="polite"]', { has: shown }).count()).toBe(1);
      const values = await shown.locator('code.txt-value').allTextContents();
      const [kid, hmacKey, directory, command] = values;
      expect(kid).toMatch(/^eab_[A-Za-z0-9_-]+$/);
      // The key shown is the one kept, sealed, for that kid, and the organisation's, for the product chosen.
      const row = await findEabKey(stack.db, kid ?? '');
      expect(row).toMatchObject({ organisationId: org.organisationId, product: 'SSL_WILDCARD', revokedAt: null });
      expect(hmacKey).toBe(openEabKey(stack.services.secrets.derive('acme-eab'), row as NonNullable<typeof row>).toString('base64url'));
      expect(directory).toMatch(/^http:\/\/127\.0\.0\.1(:\d+)?\/acme\/directory$/);
      expect(command).toBe(`certbot certonly --server ${directory} --eab-kid ${kid} --eab-hmac-key ${hmacKey} -d www.votre-domaine.fr`);
      expect(await shown.getByText('elle ne sera plus jamais affichée').isVisible()).toBe(true);
      // The list has it, with its product and no use yet.
      const listed = page.getByRole('row', { name: new RegExp(kid ?? '') });
      await poll(() => listed.textContent()).toContain('Jamais');
      expect(await listed.textContent()).toContain('SSL Wildcard');
      await checkBothWidths(page, 'organisation, new ACME key');
      await screenshot(page, 'organisation-acme-key');

      // Once: gone when dismissed, and after a reload the list has the kid and nothing of the key.
      await page.getByRole('button', { name: 'J’ai noté la clé' }).click();
      await poll(() => shown.count()).toBe(0);
      expect(await activeId(page)).toBe('org-acme');
      await page.reload();
      await poll(() => page.getByRole('row', { name: new RegExp(kid ?? '') }).isVisible()).toBe(true);
      expect(await page.content()).not.toContain(hmacKey);

      // Revocation asks first; "do not revoke" changes nothing.
      await page.getByRole('button', { name: `Révoquer la clé ${kid}` }).click();
      await poll(() => activeId(page)).toBe('acme-revoke-question');
      expect(await page.getByText('Les comptes ACME ouverts avec elle cesseront de fonctionner').isVisible()).toBe(true);
      await checkBothWidths(page, 'organisation, revoking an ACME key');
      await page.getByRole('button', { name: 'Ne pas révoquer' }).click();
      expect((await findEabKey(stack.db, kid ?? ''))?.revokedAt).toBeNull();
      await page.getByRole('button', { name: `Révoquer la clé ${kid}` }).click();
      await page.getByRole('button', { name: 'Oui, révoquer la clé' }).click();
      await poll(() => page.getByRole('status').first().textContent()).toBe(`La clé ${kid} est révoquée.`);
      await poll(() => page.getByRole('row', { name: new RegExp(kid ?? '') }).textContent()).toContain('Révoquée le');
      expect(await page.getByRole('button', { name: `Révoquer la clé ${kid}` }).count()).toBe(0);
      expect((await findEabKey(stack.db, kid ?? ''))?.revokedAt).not.toBeNull();
      await expectAccessible(page, 'organisation, ACME key revoked');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('in English: the admin of an organisation the RA has not validated is told why it gets no key', async () => {
    const admin = await stack.account('org_admin', { siret: freshSiret(), orgName: 'Not Yet Validated' });
    await stack.db.update(users).set({ language: 'en' }).where(eq(users.id, admin.user.id));
    const open = await openPage(browser, { locale: 'en-GB' });
    const { page } = open;
    try {
      await signIn(page, admin, { email: 'E-mail address', password: 'Password', submit: 'Sign in' });
      await page.getByRole('heading', { level: 2, name: 'ACME keys' }).waitFor();
      await poll(() => page.getByText('No ACME key yet.').isVisible()).toBe(true);
      await page.getByRole('button', { name: 'Create the key' }).click();
      await poll(() => page.getByRole('alert').filter({ hasText: 'first order a server certificate' }).count()).toBe(1);
      const orgId = admin.user.organisationId as string;
      expect(await stack.db.select().from(acmeEabKeys).where(eq(acmeEabKeys.organisationId, orgId))).toEqual([]);
      await checkBothWidths(page, 'organisation, ACME key refused (en)');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
