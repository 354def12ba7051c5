/**
 * My organisation in Debian's chromium: the org admin completes the address TLS orders need (a wrong postal code is
 * told beside its field), reads the people, invites a future holder who gets the activation mail; a customer of the
 * same organisation reads the profile and cannot change it. axe-core and 360 px on each state.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import type { FakeSmtp } from '../fakes/smtp.js';
import { type Account, freshSiret, type TestStack } from '../support.js';
import { expectAccessible, expectFitsPhone, openPage, PHONE, poll, screenshot, startBrowserStack } from './browser.js';

let stack: TestStack;
let smtp: FakeSmtp;
let browser: Browser;
const PASSWORD = 'Chardon-Bleu-Vosges-2031';

beforeAll(async () => {
  const started = await startBrowserStack();
  ({ stack, smtp, browser } = started);
  return started.close;
});

async function signIn(page: Page, account: Account): Promise<void> {
  await setPassword(stack.db, account.user.id, PASSWORD);
  await page.goto(`${stack.baseUrl}/login?next=%2Forganisation`);
  await page.getByLabel('Adresse électronique').fill(account.user.email);
  await page.getByLabel('Mot de passe (obligatoire)').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${stack.baseUrl}/organisation`);
}

const errorOf = (page: Page, label: string) => page.locator('.field', { has: page.getByLabel(label) }).locator('.field-error');

describe('my organisation', () => {
  it('the admin completes the address, reads the people and invites a future holder', async () => {
    const siret = freshSiret();
    const admin = await stack.account('org_admin', { siret, orgName: 'Atelier Nguyễn' });
    const member = await stack.account('agent', { siret });
    const open = await openPage(browser, { viewport: PHONE });
    const { page } = open;
    try {
      await signIn(page, admin);
      await page.getByRole('heading', { level: 1, name: 'Mon organisation' }).waitFor();
      await poll(() => page.getByText('Adresse non renseignée').isVisible()).toBe(true);
      // The people, the mandate in force (the agent), each in words.
      await poll(() => page.getByRole('cell', { name: member.user.email }).isVisible()).toBe(true);
      expect(await page.getByText('Mandat en vigueur : Camille Durand.').isVisible()).toBe(true);
      await expectAccessible(page, 'organisation');
      await expectFitsPhone(page, 'organisation');

      await page.getByRole('button', { name: 'Corriger le profil' }).click();
      await page.getByLabel('Adresse (numéro et voie)').fill('8 boulevard de la Liberté');
      await page.getByLabel('Code postal').fill('5900');
      await page.getByLabel('Commune').fill('Lille');
      await page.getByRole('button', { name: 'Enregistrer' }).click();
      await poll(() => errorOf(page, 'Code postal').textContent()).toBe('Un code postal français a 5 chiffres.');
      expect(await page.getByLabel('Commune').inputValue()).toBe('Lille');
      await expectAccessible(page, 'organisation (error)');
      await page.getByLabel('Code postal').fill('59000');
      await page.getByRole('button', { name: 'Enregistrer' }).click();
      await poll(() => page.getByRole('status').first().textContent()).toBe('Le profil est enregistré.');
      expect(await page.getByText('8 boulevard de la Liberté, 59000 Lille').isVisible()).toBe(true);
      const stored = await stack.http<{ address: unknown }>('GET', `/v1/organisations/${admin.user.organisationId}`, { key: admin.key });
      expect(stored.body.address).toEqual({ street: '8 boulevard de la Liberté', postalCode: '59000', locality: 'Lille' });

      // An invitation: a taken address is told beside its field; a new one gets its activation mail.
      await page.getByLabel('Prénom').fill('Minh');
      await page.getByLabel('Nom (obligatoire)', { exact: true }).fill('Nguyễn Thị');
      await page.getByLabel('Adresse électronique').fill(member.user.email);
      await page.getByRole('button', { name: 'Envoyer l’invitation' }).click();
      await poll(() => errorOf(page, 'Adresse électronique').textContent()).toBe('Cette adresse a déjà un compte.');
      const invitee = `minh.${randomUUID().slice(0, 8)}@example.test`;
      await page.getByLabel('Adresse électronique').fill(invitee);
      await page.getByRole('button', { name: 'Envoyer l’invitation' }).click();
      await poll(() => page.getByText(`Invitation envoyée à ${invitee}.`).isVisible()).toBe(true);
      await poll(() => page.getByRole('cell', { name: invitee }).isVisible()).toBe(true);
      const mail = await smtp.waitFor((m) => m.envelope.to.includes(invitee));
      expect(mail.parsed.text).toMatch(/\/activate\?token=/);
      await screenshot(page, 'organisation-360');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('a customer of the organisation reads the profile and has nothing to change', async () => {
    const customer = await stack.account('customer', { siret: freshSiret() });
    const open = await openPage(browser);
    const { page } = open;
    try {
      await signIn(page, customer);
      await poll(() => page.getByText('Seul l’administrateur de l’organisation peut corriger ce profil.').isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Corriger le profil' }).count()).toBe(0);
      expect(await page.getByRole('heading', { name: 'Inviter un futur porteur' }).count()).toBe(0);
      await expectAccessible(page, 'organisation (customer)');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
