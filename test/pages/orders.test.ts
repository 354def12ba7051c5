/**
 * "Mes commandes" and the order page in Debian's chromium, in French, as a customer meets them: an ID RGS* order's
 * documents uploaded from the page (file input and a real drop), refused and re-uploaded, approved and paid by staff
 * while the page follows by itself, accepted, unlocked by SMS with the PIN shown once; an SSL order's domain proved by
 * the TXT record the page shows (in a real DNS server), paid, downloaded; both in the list with their status words.
 * Every state seen passes axe-core and fits a 360 px phone.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import { DOCUMENT_LABELS, CATALOG, type DocumentType } from '../../domain/catalog.js';
import type { OrderView } from '../../domain/order.js';
import { openssl, pemBlocks } from '../ca/support.js';
import { fakeExe, minimalPdf, pdfOfSize, PNG_1X1 } from '../documents/fixtures.js';
import { startFakeDns, type FakeDns } from '../fakes/dns.js';
import type { FakeTwilio } from '../fakes/twilio.js';
import { startProvidersStack } from '../fakes/providers.js';
import type { Account, TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';
import { checkBothWidths, expectAccessible, expectFitsPhone, launchBrowser, openPage, PHONE, poll, screenshot, signInAt, type OpenPage } from './browser.js';

let stack: TestStack;
let twilio: FakeTwilio;
let dns: FakeDns;
let browser: Browser;
let holder: Account;
let driver: Driver;
const PASSWORD = 'Quetsche-Lanterne-Moselle-42';
/** Filled by the first two tests, listed by the third. */
const made: { rgs?: OrderView; ssl?: OrderView } = {};

beforeAll(async () => {
  dns = await startFakeDns();
  const started = await startProvidersStack({ env: { DCV_DNS_SERVERS: dns.server, DCV_TIMEOUT_MS: '3000' } });
  ({ stack, twilio } = started);
  browser = await launchBrowser();
  holder = await stack.account('customer', { locality: 'Paris' });
  await setPassword(stack.db, holder.user.id, PASSWORD);
  driver = new Driver(stack, { holder, ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator') });
  return async () => {
    await browser.close();
    await started.close();
    await dns.close();
  };
}, 60_000);

const fr = (type: DocumentType): string => DOCUMENT_LABELS[type].fr;
const frDate = (iso: string): string => new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'Europe/Paris' }).format(new Date(iso));

const signIn = (page: Page, next: string): Promise<void> => signInAt(page, stack.baseUrl, { email: holder.user.email, password: PASSWORD }, next);

const checkState = checkBothWidths;

const statusOf = (page: Page) => page.locator('.summary-card .badge').textContent();
const docCard = (page: Page, type: DocumentType) => page.locator(`#doc-${type}`);

/** A real drop on the document's zone: the file and its DataTransfer are made inside the page. */
async function dropFile(page: Page, type: DocumentType, bytes: Buffer, name: string, mime: string): Promise<void> {
  await page.evaluate(`(() => {
    const bytes = Uint8Array.from(atob(${JSON.stringify(bytes.toString('base64'))}), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], ${JSON.stringify(name)}, { type: ${JSON.stringify(mime)} }));
    const zone = document.querySelector('#doc-${type} .dropzone');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
}

async function expectUploaded(page: Page, type: DocumentType): Promise<void> {
  await poll(() => docCard(page, type).getByRole('status').textContent()).toBe(`« ${fr(type)} » est déposée.`);
  expect(await docCard(page, type).locator('progress').getAttribute('value')).toBe('1');
  await poll(() => docCard(page, type).locator('.badge').textContent()).toBe('Déposée');
}

function newCsr(name: string): string {
  const run = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{key.pem}', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], {});
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

describe('the order page', () => {
  it('an ID RGS* order: upload (input and drop), refusal seen live, re-upload, approval seen live, acceptance, SMS unlock and the PIN once', async () => {
    const order = await driver.create('ID_RGS_STAR');
    made.rgs = order;
    const open: OpenPage = await openPage(browser, { locale: 'fr-FR' });
    const { page } = open;
    try {
      await signIn(page, `/orders/${order.id}`);
      await page.getByRole('heading', { level: 1, name: 'Ma commande' }).waitFor();
      await poll(() => statusOf(page)).toBe('Pièces justificatives attendues');
      expect(await page.locator('.summary-card').textContent()).toContain('Attend : vous');
      // The next deadline, with the days left (the order abandons after 90 days without action).
      expect(await page.locator('.summary-card').textContent()).toMatch(/Abandon de la commande sans action de votre part : .* \(dans (89|90) jours\)/);
      expect(await page.getByRole('heading', { level: 2, name: 'Bon de commande à signer' }).isVisible()).toBe(true);
      // Transfer: the CA's bank account and the reference to quote.
      const payment = page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Paiement' }) });
      await poll(() => payment.textContent()).toContain('FR76 9999 9000 0100 0123 4567 809');
      expect(await payment.textContent()).toContain(order.id);
      await checkState(page, 'order page (documents to upload)');

      // The order form PDF, from a blob: URL.
      const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Télécharger le bon de commande (PDF)' }).click()]);
      expect(readFileSync(await pdf.path()).subarray(0, 5).toString()).toBe('%PDF-');

      // A wrong file is refused beside its document, and nothing else changes.
      await page.getByLabel(`Choisir le fichier : ${fr('holder_identity')}`).setInputFiles({ name: 'virus.pdf', mimeType: 'application/pdf', buffer: fakeExe() });
      await poll(() => docCard(page, 'holder_identity').locator('.field-error').textContent()).toContain('ni un PDF, ni une image PNG ou JPEG');
      expect(await page.getByLabel(`Choisir le fichier : ${fr('holder_identity')}`).getAttribute('aria-invalid')).toBe('true');
      await checkState(page, 'order page (upload refused)');
      await page.getByLabel(`Choisir le fichier : ${fr('organisation_registration')}`).setInputFiles({ name: 'kbis-600dpi.pdf', mimeType: 'application/pdf', buffer: pdfOfSize(10 * 1024 * 1024 + 1) });
      await poll(() => docCard(page, 'organisation_registration').locator('.field-error').textContent()).toBe('Ce fichier dépasse 10 Mo : réduisez-le (scan en 150 ou 200 dpi) puis déposez-le de nouveau.');

      // Submitting early is told before anything is sent.
      await page.getByRole('button', { name: 'Envoyer mon dossier pour vérification' }).click();
      await poll(() => page.locator('#submit-error').textContent()).toBe('Déposez d’abord toutes les pièces à déposer ou refusées.');

      await page.getByLabel(`Choisir le fichier : ${fr('holder_identity')}`).setInputFiles({ name: 'identite.png', mimeType: 'image/png', buffer: PNG_1X1 });
      await expectUploaded(page, 'holder_identity');
      await page.getByLabel(`Choisir le fichier : ${fr('organisation_registration')}`).setInputFiles({ name: 'kbis.pdf', mimeType: 'application/pdf', buffer: minimalPdf() });
      await expectUploaded(page, 'organisation_registration');
      await dropFile(page, 'signed_order_form', minimalPdf(), 'bon-signe.pdf', 'application/pdf');
      await expectUploaded(page, 'signed_order_form');
      expect((await driver.get(order.id)).checklist.map((c) => c.status)).toEqual(['uploaded', 'uploaded', 'uploaded']);

      await page.getByRole('button', { name: 'Envoyer mon dossier pour vérification' }).click();
      await poll(() => statusOf(page)).toBe('En cours de vérification');
      expect(await page.locator('.summary-card').textContent()).toContain('Attend : l’autorité d’enregistrement');
      await checkState(page, 'order page (under review)');

      // The RA refuses the identity document: the page shows it by itself, with the reason, and says so politely.
      const reason = 'La pièce d’identité est expirée depuis mars.';
      await driver.reject(order.id, 'holder_identity', reason);
      await poll(() => docCard(page, 'holder_identity').textContent()).toContain(reason);
      await poll(() => page.locator('#order-updates').textContent()).toBe('La commande a changé d’état : Pièces justificatives attendues.');
      expect(await docCard(page, 'holder_identity').locator('.badge').textContent()).toBe('Refusée');
      expect(await docCard(page, 'organisation_registration').locator('.badge').textContent()).toBe('Acceptée');
      // Only the refused document asks for a file again.
      expect(await page.locator('input[type="file"]').count()).toBe(1);
      await checkState(page, 'order page (document refused)');
      await screenshot(page, 'order-page');

      await page.getByLabel(`Remplacer le fichier : ${fr('holder_identity')}`).setInputFiles({ name: 'identite-2026.pdf', mimeType: 'application/pdf', buffer: minimalPdf() });
      await expectUploaded(page, 'holder_identity');
      await page.getByRole('button', { name: 'Envoyer mon dossier pour vérification' }).click();
      await poll(() => statusOf(page)).toBe('En cours de vérification');

      // Approved and paid by staff: the page moves on by itself to the certificate to accept.
      await driver.approve(order.id);
      await driver.pay(order.id);
      await poll(() => statusOf(page), 45_000).toBe('Certificat à accepter');
      const acceptance = page.locator('#acceptance-title').locator('..');
      await poll(() => acceptance.textContent()).toContain(holder.user.email);
      expect(await acceptance.textContent()).toMatch(/Valide jusqu’au/);
      await checkState(page, 'order page (certificate to accept)');

      await page.getByRole('button', { name: 'J’accepte le certificat' }).click();
      expect(await page.getByText('Confirmez-vous que le contenu de ce certificat est exact ?').isVisible()).toBe(true);
      await checkState(page, 'order page (confirm acceptance)');
      await page.getByRole('button', { name: 'Oui, j’accepte' }).click();
      await poll(() => statusOf(page)).toBe('Support à déverrouiller');

      // The SMS code: a malformed one is told beside the field, a wrong one says the attempts left, the right one shows the PIN.
      const before = twilio.messages.length;
      await page.getByRole('button', { name: 'M’envoyer le code par SMS' }).click();
      await poll(() => page.locator('#unlock-title').locator('..').getByRole('status').textContent()).toContain('Code envoyé par SMS');
      const sms = await twilio.waitFor((m) => twilio.messages.indexOf(m) >= before && /\b\d{6}\b/.test(m.body));
      const code = /\b(\d{6})\b/.exec(sms.body)?.[1] ?? '';
      await page.getByLabel('Code reçu par SMS').fill('12ab');
      await page.getByRole('button', { name: 'Valider le code' }).click();
      await poll(() => page.locator('#f-code-error').textContent()).toBe('Le code a 6 chiffres.');
      await checkState(page, 'order page (code refused)');
      const wrong = code === '000000' ? '111111' : '000000';
      await page.getByLabel('Code reçu par SMS').fill(wrong);
      await page.getByRole('button', { name: 'Valider le code' }).click();
      await poll(() => page.locator('#f-code-error').textContent()).toBe('Ce code n’est pas le bon : encore 2 essai(s).');
      expect(await page.getByLabel('Code reçu par SMS').inputValue()).toBe(wrong);
      await page.getByLabel('Code reçu par SMS').fill(code);
      await page.getByRole('button', { name: 'Valider le code' }).click();
      await page.getByRole('heading', { level: 3, name: 'Votre code PIN' }).waitFor();
      const pin = (await page.locator('.pin-value').textContent()) ?? '';
      expect(pin).toMatch(/^\S{4,}$/);
      expect(await page.locator('.pin').textContent()).toContain('il ne sera plus jamais affiché');
      await poll(() => statusOf(page)).toBe('Terminée');
      await checkState(page, 'order page (PIN shown)');

      // Shown once: after a reload the PIN is nowhere.
      await page.reload();
      await poll(() => statusOf(page)).toBe('Terminée');
      expect(await page.getByRole('heading', { name: 'Votre code PIN' }).count()).toBe(0);
      expect(await page.content()).not.toContain(pin);
      expect(await page.getByRole('link', { name: 'Renouveler ce certificat' }).getAttribute('href')).toBe(`/orders/new?renew=${order.id}`);
      const revoke = page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Révoquer le certificat' }) });
      await revoke.waitFor();
      await checkState(page, 'order page (completed)');

      // Revocation: the reason in words, and a confirmation asked beside its box.
      await revoke.getByLabel('Motif de la révocation').selectOption({ label: 'Clé privée compromise (support perdu, volé, clé divulguée)' });
      await revoke.getByRole('button', { name: 'Révoquer le certificat' }).click();
      await poll(() => revoke.locator('.field.check .field-error').textContent()).toBe('Ce champ est obligatoire.');
      expect(await revoke.getByLabel('Motif de la révocation').inputValue()).toBe('keyCompromise');
      await checkState(page, 'order page (revocation not confirmed)');
      await revoke.getByLabel('Je confirme vouloir révoquer ce certificat.').check();
      await revoke.getByRole('button', { name: 'Révoquer le certificat' }).click();
      await poll(() => revoke.getByRole('status').textContent(), 30_000).toMatch(/^Certificat révoqué le .* \(Clé privée compromise/);
      await checkState(page, 'order page (revoked)');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  }, 180_000);

  it('an SSL order: the TXT record to publish, "check now", validated; paid; PEM and chain downloaded and parsed', async () => {
    const name = `www.pages-${randomUUID().slice(0, 8)}.fr`;
    const created = await driver.post<OrderView>(holder.key, '/v1/orders', { product: 'SSL', durationYears: 1, os: 'other', payment: { method: 'cheque' }, termsAccepted: true, csr: newCsr(name) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const order = created.body as unknown as OrderView;
    made.ssl = order;
    const open = await openPage(browser, { locale: 'fr-FR' });
    const { page } = open;
    try {
      await signIn(page, `/orders/${order.id}`);
      const domains = page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Contrôle des noms de domaine' }) });
      await domains.waitFor();
      expect(await domains.getByRole('heading', { level: 3, name }).isVisible()).toBe(true);
      // Cheque: the payee and the postal address.
      await poll(() => page.locator('section', { has: page.getByRole('heading', { name: 'Paiement' }) }).textContent()).toContain('99999 Démoville');

      await domains.getByLabel('Méthode de vérification').selectOption('dns');
      await domains.getByRole('button', { name: 'Obtenir les valeurs à publier' }).click();
      const value = domains.locator('.txt-value');
      await value.waitFor();
      const txt = (await value.textContent()) ?? '';
      const recordName = (await domains.locator('dd code').first().textContent()) ?? '';
      expect(recordName).toBe(`_certflow-challenge.${name}`);
      expect(txt.length).toBeGreaterThan(20);
      await checkState(page, 'order page (TXT record to publish)');

      // Checked before it is published: what the CA saw is shown, and the name stays to validate.
      await domains.getByRole('button', { name: 'Vérifier maintenant' }).click();
      await poll(() => domains.locator('.warning').textContent()).toContain('Dernière vérification');
      expect(await domains.locator('.badge').textContent()).toBe('À vérifier');
      await checkState(page, 'order page (check failed)');

      dns.set(recordName, 'TXT', txt);
      await domains.getByRole('button', { name: 'Vérifier maintenant' }).click();
      await poll(() => domains.locator('.badge').textContent()).toBe('Vérifié');
      expect(await domains.getByRole('status').textContent()).toBe('Vérification faite : 1 nom(s) vérifié(s) sur 1.');
      await checkState(page, 'order page (domain validated)');

      // The file by the API (the first test did it through the page); the RA approves and records the cheque.
      await driver.completeAndSubmit(await driver.get(order.id));
      await driver.approve(order.id);
      await driver.pay(order.id, `CHQ-${order.id.slice(-6)}`);
      await poll(() => statusOf(page), 45_000).toBe('Certificat à accepter');
      const acceptance = page.locator('#acceptance-title').locator('..');
      await poll(() => acceptance.textContent()).toContain(name);
      await checkState(page, 'order page (TLS certificate to accept)');

      const [pem] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Certificat (PEM)', exact: true }).click()]);
      const leaf = readFileSync(await pem.path(), 'utf8');
      const parsed = openssl(['x509', '-noout', '-ext', 'subjectAltName', '-in', '{c.pem}'], { 'c.pem': leaf });
      expect(parsed.status, parsed.stderr).toBe(0);
      expect(parsed.stdout).toContain(`DNS:${name}`);
      const [chainFile] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Chaîne de certification complète (PEM)' }).click()]);
      const chain = pemBlocks(readFileSync(await chainFile.path(), 'utf8'));
      expect(chain).toHaveLength(3);
      for (const block of chain) expect(openssl(['x509', '-noout', '-in', '{c.pem}'], { 'c.pem': block }).status).toBe(0);
      expect(chain[0]?.trim()).toBe(leaf.trim());
      const verified = openssl(['verify', '-CAfile', '{root.pem}', '-untrusted', '{issuing.pem}', '{leaf.pem}'], { 'root.pem': chain[2] ?? '', 'issuing.pem': chain[1] ?? '', 'leaf.pem': chain[0] ?? '' });
      expect(verified.stdout, verified.stderr).toContain('OK');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  }, 180_000);

  it('"Mes commandes" lists both orders with their status words and links; a new customer sees the empty state', async () => {
    const { rgs, ssl } = made;
    if (rgs === undefined || ssl === undefined) throw new Error('the first two tests did not create their orders');
    const open = await openPage(browser, { locale: 'fr-FR' });
    const { page } = open;
    try {
      await signIn(page, '/orders');
      await page.getByRole('heading', { level: 1, name: 'Mes commandes' }).waitFor();
      const rgsLink = page.getByRole('link', { name: `Commande ${CATALOG.ID_RGS_STAR.name.fr} du ${frDate(rgs.createdAt)}`, exact: true });
      const sslLink = page.getByRole('link', { name: `Commande ${CATALOG.SSL.name.fr} du ${frDate(ssl.createdAt)}`, exact: true });
      await rgsLink.waitFor();
      const item = (link: typeof rgsLink) => page.locator('li.order-item', { has: link });
      expect(await item(rgsLink).locator('.badge').textContent()).toBe('Terminée');
      expect(await item(rgsLink).textContent()).toContain('Rien à faire');
      expect(await item(sslLink).locator('.badge').textContent()).toBe('Certificat à accepter');
      expect(await item(sslLink).textContent()).toContain('Attend : vous');
      expect(await item(sslLink).textContent()).toMatch(/Date limite pour accepter le certificat \(sinon révocation\) : .* \(dans (29|30) jours\)/);
      // Newest first.
      expect(await page.locator('li.order-item h2').allTextContents()).toEqual([`Commande ${CATALOG.SSL.name.fr} du ${frDate(ssl.createdAt)}`, `Commande ${CATALOG.ID_RGS_STAR.name.fr} du ${frDate(rgs.createdAt)}`]);
      await checkState(page, 'my orders');
      await screenshot(page, 'my-orders');
      await sslLink.click();
      await page.waitForURL(`${stack.baseUrl}/orders/${ssl.id}`);
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }

    const newcomer = await stack.account('customer');
    const email = newcomer.user.email;
    await setPassword(stack.db, newcomer.user.id, PASSWORD);
    const second = await openPage(browser, { viewport: PHONE, locale: 'fr-FR' });
    try {
      await second.page.goto(`${stack.baseUrl}/login?next=%2Forders`);
      await second.page.getByLabel('Adresse électronique').fill(email);
      await second.page.getByLabel('Mot de passe (obligatoire)').fill(PASSWORD);
      await second.page.getByRole('button', { name: 'Se connecter' }).click();
      await second.page.waitForURL(`${stack.baseUrl}/orders`);
      await second.page.getByText('Vous n’avez encore passé aucune commande.').waitFor();
      expect(await second.page.getByRole('link', { name: 'Commander un certificat' }).getAttribute('href')).toBe('/orders/new');
      await expectAccessible(second.page, 'my orders (empty)');
      await expectFitsPhone(second.page, 'my orders (empty)');
      expect(second.errors).toEqual([]);
    } finally {
      await second.close();
    }
  }, 120_000);
});
