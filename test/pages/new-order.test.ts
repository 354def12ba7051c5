/**
 * The new order wizard (/orders/new) in Debian's chromium, in French, as customers meet it: a personal certificate on a
 * 360 px phone (prices ex-VAT and with VAT following the duration, a partner code's discount, the quote PDF, the terms,
 * one order though its answer was lost); an SSL order (a bad CSR told by its rule beside the field, the openssl line for the
 * names typed, run as shown, its CSR verified with names and key read back); a TLS order refused for the organisation's
 * missing town, in words; an agent ordering for a person it
 * invites; the renewal link of the expiry mail, prefilled; a public administration's purchase order number. Every
 * step passes axe-core and fits a phone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import type { OrderView } from '../../domain/order.js';
import { openssl } from '../ca/support.js';
import { type Account, freshSiret, rgsStarOrder, startTestStack, type TestStack } from '../support.js';
import { DESKTOP, expectAccessible, expectFitsPhone, launchBrowser, openPage, PHONE, poll, screenshot } from './browser.js';

let stack: TestStack;
let browser: Browser;
let admin: Account;

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchBrowser();
  admin = await stack.account('admin');
  return async () => {
    await browser.close();
    await stack.close();
  };
});

const PASSWORD = 'Quetsche-Bergamote-Nancy-54';
const ORDER_PAGE = /\/orders\/([0-9a-f-]{36})$/;

/** Intl writes narrow no-break spaces in amounts: compare texts with plain spaces. */
const plain = (s: string | null): string => (s ?? '').replace(/\s+/g, ' ').trim();

async function checkPage(page: Page, label: string): Promise<void> {
  await expectAccessible(page, label);
  await expectFitsPhone(page, label);
}

async function signIn(page: Page, account: Account): Promise<void> {
  await setPassword(stack.db, account.user.id, PASSWORD);
  await page.goto(`${stack.baseUrl}/login`);
  await page.getByLabel('Adresse électronique').fill(account.user.email);
  await page.getByLabel('Mot de passe (obligatoire)', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${stack.baseUrl}/orders`);
}

async function openWizard(page: Page, query = ''): Promise<void> {
  await page.goto(`${stack.baseUrl}/orders/new${query}`);
  await page.getByRole('heading', { level: 1, name: 'Nouvelle commande' }).waitFor();
  await page.getByRole('heading', { level: 2, name: /Étape 1 sur/ }).waitFor();
}

const stepHeading = (page: Page) => page.getByRole('heading', { level: 2 });
const errorOf = (page: Page, label: string) => page.locator('.field', { has: page.getByLabel(label, { exact: false }) }).locator('.field-error');
const groupError = (page: Page, legend: string) => page.locator('fieldset', { has: page.locator('legend', { hasText: legend }) }).locator(':scope > .field-error');
const price = (page: Page) => page.getByTestId('price');

async function ordersOf(account: Account): Promise<OrderView[]> {
  return (await stack.http<{ items: OrderView[] }>('GET', '/v1/orders?limit=200', { key: account.key })).body.items;
}

/** A fresh key and its CSR, made by openssl as a customer would. */
function csrWith(subject: string, names: string[], key: string[]): string {
  const san = names.length > 0 ? ['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`] : [];
  const run = openssl(['req', '-new', ...key, '-nodes', '-keyout', '{key.pem}', '-subj', subject, ...san]);
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

/** Runs the command the page shows, as the customer would on their server, and reads the CSR it wrote. */
function runShownCommand(command: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'certflow-wizard-'));
  try {
    const run = spawnSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const csrFile = readdirSync(dir).find((f) => f.endsWith('.csr'));
    expect(csrFile).toBeDefined();
    return readFileSync(join(dir, csrFile as string), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the new order wizard', () => {
  it('a customer orders a Pack ID RGS* on a phone: prices ex-VAT and with VAT, a partner discount, the quote PDF, the terms, one order though its answer was lost', async () => {
    const customer = await stack.account('customer', { siret: freshSiret(), orgName: 'Mirabelles de Lorraine' });
    const code = `PAGES${randomUUID().slice(0, 6).toUpperCase()}`;
    expect((await stack.http('POST', '/v1/admin/partner-codes', { key: admin.key, json: { code, name: 'Revendeur', products: ['ID_RGS_STAR', 'ENCRYPTION'], discountPercent: 10 } })).status).toBe(201);
    const open = await openPage(browser, { viewport: PHONE });
    const { page } = open;
    try {
      await signIn(page, customer);
      await openWizard(page);
      await checkPage(page, 'wizard step 1 (empty)');

      // Nothing chosen: the step says so beside the product list.
      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => groupError(page, 'Certificat').textContent()).toBe('Choisissez une des valeurs proposées.');

      await page.getByRole('radio', { name: /^Pack ID RGS\* Pièces/ }).check();
      await page.getByRole('radio', { name: /^1 an/ }).check();
      // The catalog's 55 € ex-VAT for a year, VAT 20 %.
      await poll(async () => plain(await price(page).textContent())).toBe('55,00 € HT + TVA 20 % (11,00 €) = 66,00 € TTC');
      await page.getByRole('radio', { name: /^3 ans/ }).check();
      await poll(async () => plain(await price(page).textContent())).toBe('105,00 € HT + TVA 20 % (21,00 €) = 126,00 € TTC');
      expect(await page.locator('.price-box').getAttribute('aria-live')).toBe('polite');
      expect(plain(await page.locator('label[for="f-durationYears-2"]').textContent())).toBe('2 ans85,00 € HT, soit 102,00 € TTC');

      // A wrong partner code is told beside its field; the right one shows its discount.
      await page.getByLabel('Code partenaire').fill('NOPE-0000');
      await page.getByRole('button', { name: 'Appliquer le code' }).click();
      await poll(() => errorOf(page, 'Code partenaire').textContent()).toBe('Ce code partenaire est inconnu ou n’est plus valable.');
      await page.getByLabel('Code partenaire').fill(code.toLowerCase());
      await page.getByRole('button', { name: 'Appliquer le code' }).click();
      await poll(() => page.getByRole('status').first().textContent()).toBe(`Code partenaire ${code} appliqué : remise de 10 % sur les prix.`);
      await poll(async () => plain(await price(page).textContent())).toBe('94,50 € HT + TVA 20 % (18,90 €) = 113,40 € TTC');
      expect(plain(await page.locator('.price-box').textContent())).toContain('Remise partenaire de 10 % incluse (prix catalogue : 105,00 € HT).');
      // The code opens two products only.
      expect(await page.getByRole('radio', { name: /^SSL/ }).count()).toBe(0);
      await checkPage(page, 'wizard step 1 (partner code)');
      await screenshot(page, 'new-order-step1-360');

      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => stepHeading(page).textContent()).toBe('Étape 2 sur 2 : Paiement et conditions');
      await checkPage(page, 'wizard payment step');
      expect(plain(await page.locator('.card.tint').textContent())).toContain('94,50 € HT');

      // The quote: a PDF of the same amounts, numbered.
      await page.getByRole('button', { name: 'Obtenir le devis (PDF)' }).click();
      const link = page.getByTestId('quote-link');
      await link.waitFor();
      const number = /D-\d{4}-\d{6,}/.exec((await link.textContent()) ?? '')?.[0];
      expect(number).toBeDefined();
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const pdf = readFileSync(await download.path());
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(download.suggestedFilename()).toBe(`devis-${number}.pdf`);
      const quote = await stack.http<Record<string, unknown>>('GET', `/v1/quotes/${number}`, { key: customer.key });
      expect(quote.body).toMatchObject({ product: 'ID_RGS_STAR', durationYears: 3, quantity: 1, partnerCode: code, discountPercent: 10, totalExVatCents: 9450, totalInclVatCents: 11340 });

      // The terms: refused by the API until accepted, told beside the box; the statement is one link away.
      expect(await page.getByRole('link', { name: 'Lire la déclaration de l’autorité (PDS)' }).getAttribute('href')).toBe('/pds/fr');
      await page.getByRole('button', { name: 'Commander' }).click();
      await poll(() => page.locator('.field.check .field-error').textContent()).toBe('Acceptez les conditions pour commander.');
      expect(await ordersOf(customer)).toHaveLength(0);
      await checkPage(page, 'wizard payment step (terms refused)');
      await page.getByLabel('J’accepte les conditions générales').check();
      // The order reaches the server but its answer is lost on the way back: ordering again (the same wizard, the same
      // Idempotency-Key) finds that order instead of placing a second one.
      let lost = false;
      await page.route('**/v1/orders', async (route) => {
        if (route.request().method() !== 'POST' || lost) return route.continue();
        lost = true;
        await route.fetch();
        await route.abort('connectionreset');
      });
      await page.getByRole('button', { name: 'Commander' }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain('Le serveur ne répond pas');
      await poll(async () => (await ordersOf(customer)).length).toBe(1);
      await page.getByRole('button', { name: 'Commander' }).click();
      await page.waitForURL(ORDER_PAGE);
      const id = ORDER_PAGE.exec(page.url())?.[1];
      const orders = await ordersOf(customer);
      expect(orders.map((o) => o.id)).toEqual([id]);
      expect(orders[0]).toMatchObject({ product: 'ID_RGS_STAR', durationYears: 3, os: 'windows', partnerCode: code, payment: { method: 'transfer', priceCents: 9450 } });
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('an SSL order: a bad CSR is told by its rule, the openssl line for the names typed, a good CSR verified with its names and key', async () => {
    const customer = await stack.account('customer', { siret: freshSiret(), orgName: 'Quiches de Metz', locality: 'Metz' });
    const open = await openPage(browser, { viewport: PHONE });
    const { page } = open;
    try {
      await signIn(page, customer);
      await openWizard(page);
      await page.getByRole('radio', { name: /^SSL \(OV TLS\)/ }).check();
      await page.getByRole('radio', { name: /^1 an/ }).check();
      expect(plain(await price(page).textContent())).toBe('190,00 € HT + TVA 20 % (38,00 €) = 228,00 € TTC');
      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => stepHeading(page).textContent()).toBe('Étape 2 sur 3 : Clé et noms de domaine');
      await checkPage(page, 'wizard key step');

      // Not verified: no way on.
      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => errorOf(page, 'CSR (format PEM)').textContent()).toBe('Ce certificat est émis pour votre propre clé : collez sa CSR.');

      // A 1024-bit RSA key, then a CSR without any name: each rule in words beside the field.
      await page.getByLabel('CSR (format PEM)').fill(csrWith('/CN=www.quiches-metz.fr', [], ['-newkey', 'rsa:1024']));
      await page.getByRole('button', { name: 'Vérifier la demande' }).click();
      await poll(() => errorOf(page, 'CSR (format PEM)').textContent()).toContain('La clé RSA est trop courte : au moins 2048 bits sont exigés');
      expect(await page.getByLabel('CSR (format PEM)').getAttribute('aria-invalid')).toBe('true');
      await checkPage(page, 'wizard key step (bad CSR)');
      await screenshot(page, 'new-order-bad-csr-360');
      await page.getByLabel('CSR (format PEM)').fill(csrWith('/O=Quiches de Metz', [], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']));
      await page.getByRole('button', { name: 'Vérifier la demande' }).click();
      await poll(() => errorOf(page, 'CSR (format PEM)').textContent()).toBe(
        'La demande ne contient aucun nom de domaine : mettez-le dans le nom commun (CN) ou ajoutez-le comme nom supplémentaire.',
      );

      // The command for the names typed; an internal name is refused first.
      await page.getByRole('radio', { name: 'Générer une nouvelle CSR sur votre serveur (commande openssl)' }).check();
      await page.getByLabel('Nom de domaine principal (FQDN)').fill('intranet');
      await page.getByRole('button', { name: 'Obtenir la commande openssl' }).click();
      await poll(() => errorOf(page, 'Nom de domaine principal (FQDN)').textContent()).toBe(
        'Saisissez un nom de domaine complet (« sousdomaine.domaine.tld », par exemple www.exemple.fr).',
      );
      await page.getByLabel('Nom de domaine principal (FQDN)').fill('www.quiches-metz.fr');
      await page.getByLabel('Noms de domaine supplémentaires').fill('boutique.quiches-metz.fr');
      await page.getByRole('button', { name: 'Obtenir la commande openssl' }).click();
      const command = (await page.getByTestId('openssl-command').textContent()) ?? '';
      expect(command).toBe(
        "openssl req -new -newkey rsa:3072 -nodes -keyout www.quiches-metz.fr.key -out www.quiches-metz.fr.csr -subj '/CN=www.quiches-metz.fr' -addext 'subjectAltName=DNS:www.quiches-metz.fr,DNS:boutique.quiches-metz.fr'",
      );
      await checkPage(page, 'wizard key step (openssl command)');

      // The command run as shown; its CSR verifies and shows what it carries.
      await page.getByLabel('CSR (format PEM)').fill(runShownCommand(command));
      await page.getByRole('button', { name: 'Vérifier la demande' }).click();
      const verified = page.getByTestId('csr-verified');
      await verified.waitFor();
      expect(await verified.locator('li').allTextContents()).toEqual(['www.quiches-metz.fr', 'boutique.quiches-metz.fr']);
      expect(plain(await verified.textContent())).toContain('CléRSA 3072');
      expect(await errorOf(page, 'CSR (format PEM)').count()).toBe(0);
      await checkPage(page, 'wizard key step (verified)');
      await screenshot(page, 'new-order-csr-verified-360');

      // The domains belong to someone else: their owner is named.
      await page.getByRole('radio', { name: 'Une autre personne ou organisation' }).check();
      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => errorOf(page, 'Nom du propriétaire des noms de domaine').textContent()).toBe('Ce champ est obligatoire.');
      await page.getByLabel('Nom du propriétaire des noms de domaine').fill('SCI des Remparts');
      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => stepHeading(page).textContent()).toBe('Étape 3 sur 3 : Paiement et conditions');
      expect(plain(await page.locator('.card.tint').textContent())).toContain('www.quiches-metz.fr, boutique.quiches-metz.fr');
      await page.getByRole('radio', { name: 'Chèque' }).check();
      await page.getByLabel('J’accepte les conditions générales').check();
      await page.getByRole('button', { name: 'Commander' }).click();
      await page.waitForURL(ORDER_PAGE);
      const [order] = await ordersOf(customer);
      expect(order).toMatchObject({ product: 'SSL', durationYears: 1, keyOrigin: 'customer_csr', payment: { method: 'cheque' } });
      expect(order?.domains.items.map((d) => d.name)).toEqual(['www.quiches-metz.fr', 'boutique.quiches-metz.fr']);
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('a TLS order of an organisation without its town on file is refused in words that say where to complete it', async () => {
    const customer = await stack.account('customer', { siret: freshSiret(), orgName: 'Bergamotes sans adresse', locality: '' });
    const open = await openPage(browser, { viewport: PHONE });
    const { page } = open;
    try {
      await signIn(page, customer);
      await openWizard(page);
      await page.getByRole('radio', { name: /^SSL \(OV TLS\)/ }).check();
      await page.getByRole('button', { name: 'Continuer' }).click();
      await page.getByLabel('CSR (format PEM)').fill(csrWith('/CN=www.bergamotes.fr', [], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']));
      await page.getByRole('button', { name: 'Vérifier la demande' }).click();
      await page.getByTestId('csr-verified').waitFor();
      await page.getByRole('button', { name: 'Continuer' }).click();
      await page.getByLabel('J’accepte les conditions générales').check();
      await page.getByRole('button', { name: 'Commander' }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain(
        'Un certificat TLS indique la commune de votre organisation, qui n’est pas renseignée : complétez l’adresse dans « Mon organisation », puis commandez.',
      );
      expect(await ordersOf(customer)).toHaveLength(0);
      await checkPage(page, 'wizard payment step (locality missing)');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('an agent orders for a new person of its organisation, whom it invites', async () => {
    const agent = await stack.account('agent', { siret: freshSiret(), orgName: 'Cabinet Stanislas' });
    const email = `paulette.${randomUUID().slice(0, 8)}@example.test`;
    // What the page stands on: an agent reads its organisation's people and creates a holder's account.
    const people = await stack.http('GET', `/v1/organisations/${agent.user.organisationId}/users`, { key: agent.key });
    expect(people.status, 'GET /v1/organisations/{id}/users must let an agent in (api/routes/organisations.ts)').toBe(200);
    const open = await openPage(browser, { viewport: PHONE });
    const { page } = open;
    try {
      await signIn(page, agent);
      await openWizard(page);
      await page.getByRole('radio', { name: /^Chiffrement/ }).check();
      await page.getByRole('radio', { name: /^2 ans/ }).check();
      await page.getByRole('radio', { name: 'macOS' }).check();
      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => stepHeading(page).textContent()).toBe('Étape 2 sur 3 : Titulaire du certificat');
      await checkPage(page, 'wizard holder step');

      await page.getByRole('radio', { name: 'Pour une nouvelle personne de mon organisation' }).check();
      await page.getByLabel('Prénom').fill('Paulette');
      await page.getByLabel('Nom (obligatoire)', { exact: true }).fill('Héré');
      await page.getByLabel('Adresse électronique').fill(email);
      // Encryption is unlocked by SMS: the mobile is needed.
      await page.getByRole('button', { name: 'Créer le compte et le choisir' }).click();
      await poll(() => errorOf(page, 'Téléphone mobile').textContent()).toBe('Ce champ est obligatoire.');
      await page.getByLabel('Téléphone mobile').fill('+33 6 11 22 33 44');
      await page.getByRole('button', { name: 'Créer le compte et le choisir' }).click();
      await poll(() => page.getByRole('status').first().textContent()).toBe(`Compte créé pour Paulette Héré : un courriel d’activation est parti à ${email}.`);
      expect(await page.getByRole('radio', { name: 'Pour un membre de mon organisation' }).isChecked()).toBe(true);
      expect(await page.getByLabel('Membre de l’organisation').locator('option:checked').textContent()).toBe('Paulette Héré (compte à activer)');
      await checkPage(page, 'wizard holder step (invited)');
      await screenshot(page, 'new-order-agent-invite-360');

      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => stepHeading(page).textContent()).toBe('Étape 3 sur 3 : Paiement et conditions');
      expect(plain(await page.locator('.card.tint').textContent())).toContain(`Paulette Héré (${email})`);
      await page.getByLabel('J’accepte les conditions générales').check();
      await page.getByRole('button', { name: 'Commander' }).click();
      await page.waitForURL(ORDER_PAGE);
      const [order] = await ordersOf(agent);
      expect(order).toMatchObject({ product: 'ENCRYPTION', durationYears: 2, os: 'macos', orderedByUserId: agent.user.id });
      expect(order?.holderUserId).not.toBe(agent.user.id);
      // The mandate is asked for: the agent ordered for someone else.
      expect(order?.checklist.map((c) => c.documentType)).toContain('agent_mandate');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('the renewal link of the expiry mail opens the wizard prefilled from the order, a server asking for a new CSR', async () => {
    const customer = await stack.account('customer', { siret: freshSiret(), orgName: 'Madeleines de Commercy', locality: 'Commercy' });
    const earlier = await stack.http<OrderView>('POST', '/v1/orders', {
      key: customer.key,
      json: rgsStarOrder({ durationYears: 2, os: 'macos', payment: { method: 'cheque' } }),
    });
    expect(earlier.status).toBe(201);
    const csr = csrWith('/CN=www.madeleines.fr', ['www.madeleines.fr', 'shop.madeleines.fr'], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    const server = await stack.http<OrderView>('POST', '/v1/orders', {
      key: customer.key,
      json: { product: 'SSL_RGS_STAR', durationYears: 3, os: 'other', payment: { method: 'transfer' }, termsAccepted: true, csr },
    });
    expect(server.status).toBe(201);
    const open = await openPage(browser, { viewport: PHONE });
    const { page } = open;
    try {
      await signIn(page, customer);
      await openWizard(page, `?renew=${earlier.body.id}`);
      await poll(() => page.locator('.notice').first().textContent()).toContain('Renouvellement de votre certificat Pack ID RGS*');
      expect(await page.getByRole('radio', { name: /^Pack ID RGS\* Pièces/ }).isChecked()).toBe(true);
      expect(await page.getByRole('radio', { name: /^2 ans/ }).isChecked()).toBe(true);
      expect(await page.getByRole('radio', { name: 'macOS' }).isChecked()).toBe(true);
      expect(plain(await price(page).textContent())).toBe('85,00 € HT + TVA 20 % (17,00 €) = 102,00 € TTC');
      await checkPage(page, 'wizard renewal');
      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => stepHeading(page).textContent()).toBe('Étape 2 sur 2 : Paiement et conditions');
      expect(await page.getByRole('radio', { name: 'Chèque' }).isChecked()).toBe(true);

      await openWizard(page, `?renew=${server.body.id}`);
      await poll(() => page.locator('.notice').first().textContent()).toContain('une nouvelle demande (CSR) est nécessaire');
      expect(await page.getByRole('radio', { name: /^SSL RGS\*/ }).isChecked()).toBe(true);
      expect(await page.getByRole('radio', { name: /^3 ans/ }).isChecked()).toBe(true);
      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => stepHeading(page).textContent()).toBe('Étape 2 sur 3 : Clé et noms de domaine');
      expect(await page.getByLabel('Nom de domaine principal (FQDN)').inputValue()).toBe('www.madeleines.fr');
      expect(await page.getByLabel('Noms de domaine supplémentaires').inputValue()).toBe('shop.madeleines.fr');
      expect(await page.getByLabel('CSR (format PEM)').inputValue()).toBe('');
      await checkPage(page, 'wizard renewal (server)');

      // Someone else's order is not read: the wizard starts from scratch.
      const stranger = await stack.account('customer', { siret: freshSiret() });
      await signIn(page, stranger);
      await openWizard(page, `?renew=${earlier.body.id}`);
      await poll(() => page.locator('.warning').first().textContent()).toBe('La commande à renouveler est introuvable : la commande part de zéro.');
      expect(await page.getByRole('radio', { checked: true }).count()).toBe(0);
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('a public administration pays by purchase order and must give its number (told beside the field)', async () => {
    const customer = await stack.account('customer', { siret: freshSiret(), orgName: 'Mairie de Lunéville', publicAdministration: true });
    const open = await openPage(browser, { viewport: DESKTOP });
    const { page } = open;
    try {
      await signIn(page, customer);
      await openWizard(page);
      await page.getByRole('radio', { name: /^Pack ID RGS\*\*\* / }).check();
      await page.getByRole('radio', { name: /^1 an/ }).check();
      // The face-to-face fee is in the price: 150 € + 50 €.
      expect(plain(await price(page).textContent())).toContain('200,00 € HT + TVA 20 % (40,00 €) = 240,00 € TTC');
      await page.getByRole('button', { name: 'Continuer' }).click();
      await poll(() => stepHeading(page).textContent()).toBe('Étape 2 sur 2 : Paiement et conditions');
      expect(await page.getByRole('radio').count()).toBe(1);
      expect(await page.getByRole('radio', { name: 'Bon de commande (administration)' }).isChecked()).toBe(true);
      expect(await page.getByText('Votre organisation est une administration publique : elle paie par bon de commande.').isVisible()).toBe(true);
      await page.getByLabel('J’accepte les conditions générales').check();
      await page.getByRole('button', { name: 'Commander' }).click();
      await poll(() => errorOf(page, 'Numéro du bon de commande').textContent()).toBe('Indiquez le numéro du bon de commande.');
      expect(await page.getByLabel('Numéro du bon de commande').getAttribute('aria-invalid')).toBe('true');
      await poll(() => page.getByRole('alert').textContent()).toContain('Numéro du bon de commande : Indiquez le numéro du bon de commande.');
      await checkPage(page, 'wizard payment step (purchase order refused)');
      await screenshot(page, 'new-order-purchase-order-1280');
      await page.getByLabel('Numéro du bon de commande').fill('BC-2026-0457');
      await page.getByRole('button', { name: 'Commander' }).click();
      await page.waitForURL(ORDER_PAGE);
      const [order] = await ordersOf(customer);
      expect(order).toMatchObject({ product: 'ID_RGS_3STAR', payment: { method: 'purchase_order', purchaseOrderNumber: 'BC-2026-0457' } });
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
