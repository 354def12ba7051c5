/**
 * The order page when CAA forbids issuance (BR §3.2.2.8), in French, against a real DNS server on loopback: an SSL
 * order whose domain's CAA names another CA is refused right before signing; its page says why per name, where the
 * records were found, what they are and the exact record to add; "Vérifier à nouveau" while the record stays is told
 * beside the section (role=alert) and nothing is lost; once the record names this CA, the same button lets the order
 * go on to its certificate. Every state passes axe-core and fits a 360 px phone.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import type { OrderView } from '../../domain/order.js';
import { openssl } from '../ca/support.js';
import { startFakeDns, type FakeDns } from '../fakes/dns.js';
import type { Account, TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';
import { checkBothWidths, openPage, poll, signInAt, startBrowserStack } from './browser.js';

let stack: TestStack;
let dns: FakeDns;
let browser: Browser;
let holder: Account;
let driver: Driver;
const PASSWORD = 'Mirabelle-Autorisation-Caa-57';
const OURS = 'pki.caa-pages.example';

beforeAll(async () => {
  dns = await startFakeDns();
  const started = await startBrowserStack({ env: { DCV_DNS_SERVERS: dns.server, DCV_TIMEOUT_MS: '3000', CAA_IDENTIFIERS: OURS } });
  ({ stack, browser } = started);
  holder = await stack.account('customer', { locality: 'Metz' });
  await setPassword(stack.db, holder.user.id, PASSWORD);
  driver = new Driver(stack, { holder, ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator') });
  return async () => {
    await started.close();
    await dns.close();
  };
}, 60_000);

function newCsr(name: string): string {
  const run = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{key.pem}', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], {});
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

const signIn = (page: Page, next: string): Promise<void> => signInAt(page, stack.baseUrl, { email: holder.user.email, password: PASSWORD }, next);
const checkState = checkBothWidths;

/** An SSL order whose name is proved by a TXT record, its file approved and paid: CAA is checked before signing. */
async function paidOrder(name: string): Promise<OrderView> {
  const created = await driver.post<OrderView>(holder.key, '/v1/orders', { product: 'SSL', durationYears: 1, os: 'other', payment: { method: 'transfer' }, termsAccepted: true, csr: newCsr(name) });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const order = created.body as unknown as OrderView;
  const checked = await driver.proveByDnsTxt(order.id, dns, holder.key);
  expect(checked.status, JSON.stringify(checked.body)).toBe(200);
  await driver.completeAndSubmit(await driver.get(order.id));
  await driver.approve(order.id);
  await driver.pay(order.id);
  return order;
}

describe('the order page when CAA forbids issuance', () => {
  it('says why and the record to add in French; "Vérifier à nouveau" tells a refusal beside it, then lets the order go on', async () => {
    const zone = `caa-${randomUUID().slice(0, 8)}.fr`;
    const name = `www.${zone}`;
    dns.set(zone, 'CAA', '0 issue "other-ca.example"', '0 iodef "mailto:securite@example.fr"');
    const order = await paidOrder(name);
    await driver.until(order.id, (o) => o.caa?.last.permitted === false);

    const open = await openPage(browser, { locale: 'fr-FR' });
    const { page } = open;
    try {
      await signIn(page, `/orders/${order.id}`);
      const caa = page.getByRole('group', { name: 'Autorisation CAA : émission refusée' });
      await caa.waitFor();
      const card = caa.locator('li.caa-name', { has: page.getByRole('heading', { level: 4, name }) });
      expect(await card.locator('.warning').textContent()).toBe(`Les enregistrements CAA de ${zone} n’autorisent que other-ca.example à émettre des certificats.`);
      expect(await card.locator('dt').allTextContents()).toEqual(['Enregistrements trouvés sur', 'Enregistrements CAA actuels', 'Enregistrement à ajouter']);
      expect(await card.locator('dd').first().textContent()).toBe(zone);
      expect(await card.locator('dd').nth(1).locator('code').allTextContents()).toEqual(['0 issue "other-ca.example"', '0 iodef "mailto:securite@example.fr"']);
      expect(await card.locator('.caa-add').allTextContents()).toEqual([`0 issue "${OURS}"`]);
      expect(await card.textContent()).toContain(`Dans la zone DNS de ${zone}, type CAA :`);
      await checkState(page, 'order page (CAA forbids issuance)');

      // Checked again while the record stays: the refusal is said beside the section, the advice stays.
      await caa.getByRole('button', { name: 'Vérifier à nouveau' }).click();
      await poll(() => caa.getByRole('alert').textContent()).toContain('Les enregistrements CAA interdisent toujours l’émission par notre autorité');
      expect(await card.locator('.caa-add').allTextContents()).toEqual([`0 issue "${OURS}"`]);
      await checkState(page, 'order page (CAA still forbids)');

      // The customer names this CA: the same button lets the order go on, and the certificate comes.
      dns.set(zone, 'CAA', `0 issue "${OURS}"`);
      await caa.getByRole('button', { name: 'Vérifier à nouveau' }).click();
      // Said at once (until the certificate is signed and the domains' section gives way to it), no alert left.
      await poll(async () => (await caa.count()) === 0 || (await caa.getByRole('status').textContent()) === 'Les enregistrements CAA autorisent désormais l’émission : votre certificat va être émis.').toBe(true);
      expect(await caa.getByRole('alert').count()).toBe(0);
      await poll(() => page.locator('.summary-card .badge').textContent(), 45_000).toBe('Certificat à accepter');
      expect(await caa.count()).toBe(0);
      expect((await driver.get(order.id)).caa?.last.permitted).toBe(true);
      await checkState(page, 'order page (CAA permits, certificate to accept)');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  }, 180_000);
});
