/**
 * The staff console in a real browser (Debian's chromium driven by playwright-core), on the pages' stack: an RA
 * operator signs in on /login, finds a file in the review queue, reads the identity document inline, rejects it with
 * a reason; the customer sends a new one over HTTP; the operator approves it, and the API shows the order gone on to
 * payment. Staff sign in with their second factor (TOTP): each enrols on its first sign-in (the key read from the
 * page, the code computed with otpauth) and types a fresh code afterwards. A DRA operator records a face-to-face check; an auditor reads the timeline and can change nothing; a
 * customer is sent to the customer area. The queue and the order page pass axe-core and fit a 360 px phone.
 */
import type { Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import type { OrderView } from '../../domain/order.js';
import { minimalPdf } from '../documents/fixtures.js';
import { DESKTOP, openPage, poll, screenshot } from '../pages/browser.js';
import { startedForFile } from '../stack-for-file.js';
import { authenticator, checkPage, orderTheCaRefuses, PASSWORD, readWhyItNeedsAttention, signIn, staffSignIn, startConsoleStack } from './console-support.js';

const IDENTITY = 'Pièce d’identité du porteur';

const setup = startedForFile(() => startConsoleStack(), 'the console stack');

/** Opens the order from the queue, as an operator would: by its link in the list of files waiting on the RA. */
async function openFromQueue(page: Page, orderId: string): Promise<void> {
  await page.getByRole('link', { name: 'Retour aux dossiers' }).click();
  await page.getByRole('button', { name: 'Appliquer les filtres' }).click();
  await page.getByRole('link', { name: `Ouvrir la commande ${orderId}` }).click();
  await poll(() => page.getByRole('heading', { level: 2 }).first().textContent()).toBe(`Commande ${orderId}`);
}

const pdfViewerOpened = (page: Page) => poll(() => page.frames().some((f) => f.url().startsWith('chrome-extension://'))).toBe(true);

describe('staff console', () => {
  it('is a page of the pages’ stack: signed-in staff only, its own scripts only, the old files gone', async () => {
    const signedOut = await fetch(`${setup.stack.baseUrl}/console/`, { redirect: 'manual' });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe('/login?next=%2Fconsole%2F');

    // The password alone opens no console: the second factor, enrolled here over HTTP as the page would.
    const loginPage = await fetch(`${setup.stack.baseUrl}/login`);
    const csrf = (JSON.parse(/<script type="application\/json" id="boot">(.*?)<\/script>/s.exec(await loginPage.text())?.[1] ?? '{}') as { csrfToken: string }).csrfToken;
    let cookie = loginPage.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const post = async (path: string, json?: unknown) => {
      const res = await fetch(`${setup.stack.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, cookie },
        body: json === undefined ? undefined : JSON.stringify(json),
      });
      const set = res.headers.getSetCookie().map((c) => c.split(';')[0] ?? '');
      const kept = new Map(cookie.split('; ').filter((c) => c !== '').map((c) => [c.split('=')[0], c] as const));
      for (const c of set) {
        const [name, value] = c.split('=');
        if (value === '') kept.delete(name);
        else kept.set(name, c);
      }
      cookie = [...kept.values()].join('; ');
      return res;
    };
    const session = await post('/v1/auth/session', { email: setup.ra.user.email, password: PASSWORD });
    expect(session.status).toBe(200);
    expect(await session.json()).toEqual({ signedIn: false, role: 'ra_operator', secondFactor: 'enrol' });
    expect((await fetch(`${setup.stack.baseUrl}/console/`, { headers: { cookie }, redirect: 'manual' })).status).toBe(303);
    const { secret } = (await (await post('/v1/auth/second-factor/enrolment', {})).json()) as { secret: string };
    const step = Math.floor(Date.now() / 30_000);
    authenticator.remember(setup.ra.user.email, secret, step);
    const totp = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
    expect((await post('/v1/auth/second-factor/enrolment/confirm', { code: totp.generate({ timestamp: step * 30_000 }) })).status).toBe(200);
    const res = await fetch(`${setup.stack.baseUrl}/console/`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain("frame-ancestors 'none'");
    // Evidence is shown from blob: URLs the page made: a frame (the PDF viewer) and images.
    expect(csp).toContain("frame-src 'self' blob:");
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/assets/main.js"></script>');
    expect(html).toContain('<h1>Console du personnel</h1>');
    // The plain-JS console is gone: nothing of it is served any more.
    for (const path of ['/console/app.js', '/console/api.js', '/console/styles.css']) {
      expect((await fetch(`${setup.stack.baseUrl}${path}`, { headers: { cookie } })).status, path).toBe(404);
    }
  });

  it('an RA operator rejects an identity document with a reason, then approves the new one', async () => {
    // The customer's file, complete and waiting on the RA.
    const submitted = await setup.driver.completeAndSubmit(await setup.driver.create('ID_RGS_STAR'));
    expect(submitted.status).toBe('under_review');

    const open = await openPage(setup.browser, { viewport: DESKTOP });
    const { page } = open;
    try {
      await page.goto(`${setup.stack.baseUrl}/console/`);
      await page.getByRole('heading', { level: 1, name: 'Se connecter' }).waitFor();
      // Signed out, nothing offers to sign out (the old console showed it: its display rule beat `hidden`).
      const signOut = page.getByRole('button', { name: 'Se déconnecter' });
      expect(await signOut.isVisible()).toBe(false);
      // A wrong password is told, and nothing else happens.
      await signIn(page, setup.ra.user.email, 'fr', 'not-the-password-1');
      await poll(() => page.getByRole('alert').textContent()).toContain('L’adresse ou le mot de passe est incorrect');
      expect(await page.getByRole('heading', { name: 'Dossiers à traiter' }).isVisible()).toBe(false);

      await page.getByLabel('Mot de passe (obligatoire)').fill(PASSWORD);
      await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
      // The right password asks for the code of the app (enrolled above): nothing opens before it.
      await page.getByRole('heading', { name: 'Vérification en deux étapes' }).waitFor();
      expect(await signOut.isVisible()).toBe(false);
      await authenticator.pass(page, setup.ra.user.email);
      await page.getByRole('heading', { name: 'Dossiers à traiter' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/console/');
      expect(await page.getByText(`${setup.ra.user.email} (opérateur AE)`).isVisible()).toBe(true);
      expect(await signOut.isVisible()).toBe(true);
      // The RA's queue starts on what waits on the RA.
      expect(await page.getByLabel('En attente de').inputValue()).toBe('ra');
      const link = page.getByRole('link', { name: `Ouvrir la commande ${submitted.id}` });
      await link.waitFor();
      await screenshot(page, 'console-queue');
      await checkPage(page, 'queue');

      await link.click();
      await page.getByRole('heading', { name: `Commande ${submitted.id}` }).waitFor();
      await page.getByRole('heading', { name: 'Actions' }).waitFor();
      await checkPage(page, 'order');

      // The identity document, fetched with the session, shown inline by the browser's PDF viewer.
      await page.getByRole('button', { name: `Voir : ${IDENTITY}` }).click();
      const frame = page.getByTitle(`Document : ${IDENTITY}`);
      await frame.waitFor();
      expect(await page.locator('iframe').getAttribute('title')).toBe(`Document : ${IDENTITY}`);
      expect(await frame.getAttribute('src')).toMatch(/^blob:/);
      expect(await frame.getAttribute('data-media-type')).toBe('application/pdf');
      // The browser's own PDF viewer opened in the frame: the page's policy lets the document render.
      await pdfViewerOpened(page);

      // A reason the API refuses (too short): told beside its field and in the summary, and the file stays under review.
      const reasonField = page.getByLabel(`Motif de refus : ${IDENTITY}`);
      await reasonField.fill('no');
      await page.getByRole('button', { name: 'Refuser avec ces motifs' }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain('Le motif doit compter au moins 3 caractères');
      expect(await reasonField.getAttribute('aria-invalid')).toBe('true');
      expect((await setup.driver.get(submitted.id)).status).toBe('under_review');

      const reason = 'The scan is unreadable: send a sharper copy of both sides.';
      await reasonField.fill(reason);
      await page.getByRole('button', { name: 'Refuser avec ces motifs' }).click();
      await poll(() => page.getByRole('status').textContent()).toBe('Dossier refusé : le client lit les motifs dans son espace.');
      expect(await page.getByText(`Motif : ${reason}`).isVisible()).toBe(true);

      // The customer reads the reason through the API, sends a new document and submits again.
      const rejected = await setup.driver.get(submitted.id);
      expect(rejected.status).toBe('awaiting_evidence');
      expect(rejected.checklist.find((c) => c.documentType === 'holder_identity')).toMatchObject({ status: 'rejected', rejectionReason: reason });
      expect((await setup.driver.completeAndSubmit(rejected)).status).toBe('under_review');

      await openFromQueue(page, submitted.id);
      await page.getByRole('button', { name: `Voir : ${IDENTITY}` }).click();
      await page.getByTitle(`Document : ${IDENTITY}`).waitFor();
      await pdfViewerOpened(page);
      // The viewer draws the page a moment after its toolbar appears; the pause is for the screenshot only.
      const viewer = page.frames().find((f) => f.url().startsWith('chrome-extension://'));
      await viewer?.locator('viewer-toolbar').waitFor({ state: 'attached' });
      await page.waitForTimeout(700);
      await screenshot(page, 'console-review');

      await page.getByRole('button', { name: 'Approuver le dossier' }).click();
      await poll(() => page.getByRole('status').textContent()).toBe('Dossier approuvé.');

      // Through the API: approved, and now waiting for the transfer.
      const after: OrderView = await setup.driver.until(submitted.id, (o) => o.status === 'awaiting_payment');
      expect(after.waitingOn).toBe('payment');
      expect(after.checklist.every((c) => c.status === 'accepted')).toBe(true);

      // Signing out lands on the sign-in page, which again offers no sign-out.
      await signOut.click();
      await page.getByRole('heading', { level: 1, name: 'Se connecter' }).waitFor();
      expect(await signOut.isVisible()).toBe(false);
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('a DRA operator records a face-to-face check with the signed intervention form', async () => {
    const dra = setup.driver.actors.dra;
    const approved = await setup.driver.approve((await setup.driver.completeAndSubmit(await setup.driver.create('ID_RGS_2STAR'))).id);
    expect(approved).toMatchObject({ status: 'awaiting_face_to_face', waitingOn: 'dra' });

    const open = await openPage(setup.browser);
    const { page } = open;
    try {
      await page.goto(`${setup.stack.baseUrl}/console/`);
      await staffSignIn(page, dra.user.email);
      await page.getByRole('heading', { name: 'Dossiers à traiter' }).waitFor();
      expect(await page.getByLabel('En attente de').inputValue()).toBe('dra');
      await page.getByRole('link', { name: `Ouvrir la commande ${approved.id}` }).click();
      await page.getByRole('heading', { name: `Commande ${approved.id}` }).waitFor();

      // No file chosen: the console says so before calling anything.
      await page.getByRole('button', { name: 'Enregistrer le face-à-face' }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain('Choisissez le formulaire d’intervention signé');
      expect((await setup.driver.get(approved.id)).faceToFace.done).toBe(false);

      await page.getByLabel('Formulaire d’intervention signé').setInputFiles({ name: 'intervention.pdf', mimeType: 'application/pdf', buffer: minimalPdf() });
      await page.getByLabel('Date du rendez-vous').fill('2026-11-20');
      await page.getByRole('button', { name: 'Enregistrer le face-à-face' }).click();
      await poll(() => page.getByRole('status').textContent()).toBe('Face-à-face enregistré.');
      expect(await page.getByText('Face-à-face enregistré (rendez-vous du 20 novembre 2026).').isVisible()).toBe(true);

      const after = await setup.driver.until(approved.id, (o) => o.faceToFace.done);
      expect(after.faceToFace.meetingDate).toBe('2026-11-20');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });

  it('an RA operator reads why an order needs attention (the CA refused its key), retries the step, then cancels', async () => {
    // Two server orders with one key: the CA certifies the first; for the second it refuses the key (taken).
    const refused = await orderTheCaRefuses(setup.driver, 'console-race.acme-test.fr');
    const { waiting } = refused;
    const { id } = waiting;

    const open = await openPage(setup.browser, { viewport: DESKTOP });
    const { page } = open;
    try {
      // What stopped, in the summary: the step, the CA's own words, since when.
      await readWhyItNeedsAttention(page, setup, refused);

      // Retried: the CA refuses again (the key is still taken) and the order comes back, one more time.
      await page.getByRole('button', { name: 'Relancer l’étape' }).click();
      await poll(() => page.getByText('Étape relancée.').isVisible()).toBe(true);
      const again = await setup.driver.until(id, (o) => o.status === 'needs_attention' && o.version >= waiting.version + 2);
      expect(again.attention?.message).toContain('already certified');

      await page.reload();
      await page.getByLabel('Motif de l’annulation').fill('même clé qu’une autre commande');
      await page.getByRole('button', { name: 'Annuler la commande' }).click();
      await page.getByRole('button', { name: 'Oui, annuler la commande' }).click();
      expect((await setup.driver.until(id, (o) => o.status === 'cancelled')).closedReason).toContain('même clé');
    } finally {
      await open.close();
    }
  });

  it('an auditor reads an order without any action; a customer is sent to the customer area', async () => {
    const auditor = await setup.stack.account('auditor');
    await setPassword(setup.stack.db, auditor.user.id, PASSWORD);
    await setPassword(setup.stack.db, setup.customer.user.id, PASSWORD);
    const order = await setup.driver.create('ID_RGS_STAR');
    const timeline = async (): Promise<string[]> =>
      (await setup.stack.http<{ items: { text: string }[] }>('GET', `/v1/orders/${order.id}/timeline`, { key: auditor.key })).body.items.map((e) => e.text);
    await poll(timeline).toContain('deadline reached: inactivity reminder');

    const open = await openPage(setup.browser);
    const { page } = open;
    try {
      // A customer who opens the console is told it is not theirs, and where their orders are.
      await page.goto(`${setup.stack.baseUrl}/console/`);
      await signIn(page, setup.customer.user.email);
      await poll(() => page.getByRole('alert').textContent()).toContain('réservée au personnel');
      expect(await page.getByRole('heading', { name: 'Dossiers à traiter' }).count()).toBe(0);
      await page.getByRole('link', { name: 'Aller à mes commandes' }).click();
      await page.waitForURL((url) => url.pathname === '/orders');
      await page.getByRole('button', { name: 'Se déconnecter' }).click();
      await page.getByRole('heading', { level: 1, name: 'Se connecter' }).waitFor();

      // An auditor's queue is not narrowed to a role: every order, and this one among them.
      await page.goto(`${setup.stack.baseUrl}/console/`);
      await staffSignIn(page, auditor.user.email);
      await page.getByRole('heading', { name: 'Dossiers à traiter' }).waitFor();
      expect(await page.getByLabel('En attente de').inputValue()).toBe('');
      await page.getByLabel('Produit').selectOption('ID_RGS_STAR');
      await page.getByLabel('Statut').selectOption('awaiting_evidence');
      await page.getByRole('button', { name: 'Appliquer les filtres' }).click();
      await page.getByRole('link', { name: `Ouvrir la commande ${order.id}` }).click();
      await page.getByRole('heading', { name: `Commande ${order.id}` }).waitFor();
      await page.getByText('Lecture seule').waitFor();
      expect(await page.getByRole('button', { name: 'Approuver le dossier' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Annuler la commande' }).count()).toBe(0);
      expect(await page.locator('main form').count()).toBe(0);
      // The timeline shows the deadline that fired, citing the event of the Temporal history it was read from.
      const fired = page.getByRole('list', { name: 'Chronologie' }).locator('li.timeline-deadline');
      await poll(() => fired.count()).toBe(1);
      expect(await fired.textContent()).toMatch(/ — deadline reached: inactivity reminder · événement \d+ de l’historique$/);

      // English one click away, on the same order.
      await page.getByRole('link', { name: 'English' }).click();
      await page.getByRole('heading', { name: `Order ${order.id}` }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      await page.getByText('Read only').waitFor();
      expect(await page.getByRole('list', { name: 'Timeline' }).locator('li.timeline-deadline').textContent()).toMatch(/ · history event \d+$/);
      await screenshot(page, 'console-audit-en');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
