/**
 * The seeds' whole customer path in Debian's chromium, each step where its person would do it: a new customer signs
 * up and activates from the mail, orders an SSL certificate with its own CSR in the wizard, uploads the documents on
 * the order page; the RA opens the order from a console deep link and approves it; the customer proves the domain by
 * the TXT record the page shows (a real DNS server); the RA records the transfer in the console; the customer
 * downloads the certificate, which verifies against the chain. The order is then in GET /v1/orders and its timeline
 * like any other.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import { DOCUMENT_LABELS } from '../../domain/catalog.js';
import type { OrderView } from '../../domain/order.js';
import { openssl, pemBlocks } from '../ca/support.js';
import { minimalPdf } from '../documents/fixtures.js';
import { startFakeDns, type FakeDns } from '../fakes/dns.js';
import { startProvidersStack } from '../fakes/providers.js';
import type { FakeSmtp } from '../fakes/smtp.js';
import { type Account, freshSiret, type TestStack } from '../support.js';
import { expectAccessible, expectFitsPhone, launchBrowser, openPage, PHONE, poll } from './browser.js';
import { Authenticator } from './second-factor.js';

let stack: TestStack;
let smtp: FakeSmtp;
let dns: FakeDns;
let browser: Browser;
let ra: Account;
const PASSWORD = 'Bergamote-Stanislas-Nancy-54';

beforeAll(async () => {
  dns = await startFakeDns();
  const started = await startProvidersStack({ env: { DCV_DNS_SERVERS: dns.server, DCV_TIMEOUT_MS: '3000' } });
  ({ stack, smtp } = started);
  browser = await launchBrowser();
  ra = await stack.account('ra_operator');
  await setPassword(stack.db, ra.user.id, PASSWORD);
  return async () => {
    await browser.close();
    await started.close();
    await dns.close();
  };
}, 60_000);

/** Staff type the code of their authenticator app after the password (enrolling the first time). */
const authenticator = new Authenticator();

async function signIn(page: Page, email: string, next: string, opts: { staff?: boolean } = {}): Promise<void> {
  await page.getByLabel('Adresse électronique').fill(email);
  await page.getByLabel('Mot de passe (obligatoire)').fill(PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  if (opts.staff === true) await authenticator.pass(page, email);
  await page.waitForURL(`${stack.baseUrl}${next}`);
}

async function checkPage(page: Page, label: string): Promise<void> {
  await expectAccessible(page, label);
  await expectFitsPhone(page, label);
}

describe('the customer path of the seeds', () => {
  it('sign up → activation → SSL order with a CSR → documents → RA approval → domain validation → payment → download', async () => {
    const email = `emile.${randomUUID().slice(0, 8)}@example.test`;
    const domain = `www.walk-${randomUUID().slice(0, 8)}.fr`;
    const customer = await openPage(browser, { viewport: PHONE });
    const staff = await openPage(browser);
    const page = customer.page;
    try {
      // Sign up, on a phone.
      await page.goto(`${stack.baseUrl}/signup`);
      await page.getByLabel('SIRET de l’organisation').fill(freshSiret());
      await page.getByLabel('Raison sociale').fill('Bergamotes de Nancy');
      await page.getByLabel('Adresse (numéro et voie)').fill('5 place Stanislas');
      await page.getByLabel('Code postal').fill('54000');
      await page.getByLabel('Commune').fill('Nancy');
      await page.getByLabel('Prénom').fill('Émile');
      await page.getByLabel('Nom (obligatoire)', { exact: true }).fill('Gallé');
      await page.getByLabel('Adresse électronique').fill(email);
      await page.getByLabel('Téléphone mobile').fill('+33612345678');
      await page.getByLabel('Mot de passe (obligatoire)', { exact: true }).fill(PASSWORD);
      await page.getByLabel('Confirmez le mot de passe').fill(PASSWORD);
      await page.getByRole('button', { name: 'Créer mon compte' }).click();
      await poll(() => page.getByRole('status').textContent()).toContain('un courriel vient de lui être envoyé');

      // The activation link of the mail, then sign in: the customer lands on the new order page it asked for.
      const mail = await smtp.waitFor((m) => m.envelope.to.includes(email) && m.parsed.headers.get('x-certflow-template') === 'account_activation');
      const link = /https?:\/\/[^\s/]+(\/activate\?token=[A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '')?.[1];
      expect(link).toBeDefined();
      await page.goto(`${stack.baseUrl}${link}`);
      await page.getByRole('button', { name: 'Activer mon compte' }).click();
      await poll(() => page.getByRole('status').textContent()).toContain('Votre compte est actif');
      await page.goto(`${stack.baseUrl}/orders/new`);
      await signIn(page, email, '/orders/new');

      // The wizard: SSL for a year, the customer's own CSR verified, a transfer, the terms.
      await page.getByRole('radio', { name: /^SSL \(OV TLS\)/ }).check();
      await page.getByRole('radio', { name: /^1 an/ }).check();
      await page.getByRole('button', { name: 'Continuer' }).click();
      const csr = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{key.pem}', '-subj', `/CN=${domain}`, '-addext', `subjectAltName=DNS:${domain}`]);
      expect(csr.status, csr.stderr).toBe(0);
      await page.getByLabel('CSR (format PEM)').fill(csr.stdout);
      await page.getByRole('button', { name: 'Vérifier la demande' }).click();
      await page.getByTestId('csr-verified').waitFor();
      await checkPage(page, 'wizard (CSR verified)');
      await page.getByRole('button', { name: 'Continuer' }).click();
      await page.getByRole('radio', { name: 'Virement' }).check();
      await page.getByLabel('J’accepte les conditions générales').check();
      await page.getByRole('button', { name: 'Commander' }).click();
      await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
      const orderId = new URL(page.url()).pathname.split('/').pop() as string;

      // The documents, from the order page; then the file goes to the RA.
      const checklist = (await stack.http<OrderView>('GET', `/v1/orders/${orderId}`, { key: ra.key })).body.checklist.map((c) => c.documentType);
      expect(checklist.length).toBeGreaterThan(0);
      for (const type of checklist) {
        await page.getByLabel(`Choisir le fichier : ${DOCUMENT_LABELS[type].fr}`).setInputFiles({ name: `${type}.pdf`, mimeType: 'application/pdf', buffer: minimalPdf() });
        await poll(() => page.locator(`#doc-${type}`).getByRole('status').textContent()).toBe(`« ${DOCUMENT_LABELS[type].fr} » est déposée.`);
      }
      await checkPage(page, 'order page (documents uploaded)');
      await page.getByRole('button', { name: 'Envoyer mon dossier pour vérification' }).click();
      await poll(() => page.locator('.summary-card .badge').textContent()).toBe('En cours de vérification');

      // The RA follows a deep link to the order, signs in, lands on it, approves.
      await staff.page.goto(`${stack.baseUrl}/console/#/orders/${orderId}`);
      await signIn(staff.page, ra.user.email, `/console/#/orders/${orderId}`, { staff: true });
      await staff.page.getByRole('heading', { name: `Commande ${orderId}` }).waitFor();
      await staff.page.getByRole('button', { name: 'Approuver le dossier' }).click();
      await poll(() => staff.page.getByRole('status').first().textContent()).toBe('Dossier approuvé.');

      // The customer's page follows by itself: the domain to prove, by a TXT record in the DNS.
      const domains = page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Contrôle des noms de domaine' }) });
      await domains.getByLabel('Méthode de vérification').selectOption('dns');
      await domains.getByRole('button', { name: 'Obtenir les valeurs à publier' }).click();
      await domains.locator('.txt-value').waitFor();
      dns.set(`_certflow-challenge.${domain}`, 'TXT', (await domains.locator('.txt-value').textContent()) ?? '');
      await domains.getByRole('button', { name: 'Vérifier maintenant' }).click();
      await poll(() => domains.locator('.badge').textContent()).toBe('Vérifié');
      await checkPage(page, 'order page (domain validated)');

      // The transfer arrives: the RA records it in the console.
      await poll(async () => {
        await staff.page.reload();
        return staff.page.getByRole('button', { name: 'Enregistrer le paiement' }).count();
        // A reload a try: on a loaded two-core machine, with other files beside this one, a try may take seconds.
      }, 60_000).toBe(1);
      await staff.page.getByLabel('Référence du paiement').fill(`VIR-${orderId.slice(-6)}`);
      await staff.page.getByRole('button', { name: 'Enregistrer le paiement' }).click();

      // Issued: the customer downloads the certificate and its chain, which verify.
      await poll(() => page.locator('.summary-card .badge').textContent(), 60_000).toBe('Certificat à accepter');
      const [pem] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Certificat (PEM)', exact: true }).click()]);
      const [chainFile] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Chaîne de certification complète (PEM)' }).click()]);
      const leaf = readFileSync(await pem.path(), 'utf8');
      const chain = pemBlocks(readFileSync(await chainFile.path(), 'utf8'));
      const verified = openssl(['verify', '-CAfile', '{root.pem}', '-untrusted', '{issuing.pem}', '{leaf.pem}'], { 'root.pem': chain[2] ?? '', 'issuing.pem': chain[1] ?? '', 'leaf.pem': leaf });
      expect(verified.stdout, verified.stderr).toContain('OK');
      expect(openssl(['x509', '-noout', '-ext', 'subjectAltName', '-in', '{c.pem}'], { 'c.pem': leaf }).stdout).toContain(`DNS:${domain}`);

      // Like any other order: in the RA's list and with its timeline.
      const listed = await stack.http<{ items: OrderView[] }>('GET', `/v1/orders?product=SSL&limit=200`, { key: ra.key });
      expect(listed.body.items.find((o) => o.id === orderId)).toMatchObject({ status: 'awaiting_acceptance', product: 'SSL' });
      const timeline = await stack.http<{ items: { text: string }[] }>('GET', `/v1/orders/${orderId}/timeline`, { key: ra.key });
      expect(timeline.status).toBe(200);
      expect(timeline.body.items.length).toBeGreaterThan(5);
      expect(customer.errors).toEqual([]);
      expect(staff.errors).toEqual([]);
    } finally {
      await customer.close();
      await staff.close();
    }
  }, 240_000);
});
