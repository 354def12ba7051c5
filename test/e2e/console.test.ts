/**
 * The staff console in a real browser (Debian's chromium driven by playwright-core): an RA operator signs in with a
 * password, finds a file in the review queue, reads the identity document inline, rejects it with a reason; the
 * customer sends a new one over HTTP; the operator approves it, and the API shows the order gone on to payment.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPassword } from '../../db/passwords.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import type { OrderView } from '../../domain/order.js';
import { minimalPdf } from '../documents/fixtures.js';
import { startTestStack, type Account, type TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';
import { launchBrowser } from '../pages/browser.js';

/** A test artifact (git-ignored), kept for whoever reviews the run. */
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const PASSWORD = 'Tall-Ledger-Window-42';

/** The page answers after a round trip or two through the API and the workflow: more than vitest's 1 s default. */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 10_000, interval: 100 });

let stack: TestStack;
let browser: Browser;
let customer: Account;
let ra: Account;
let driver: Driver;

beforeAll(async () => {
  // The global set-up found or installed the browser (scripts/browser.ts): it is never missing here.
  browser = await launchBrowser();
  // The first reminder to a customer who does nothing comes after a second: the auditor's order shows it fired.
  stack = await startTestStack({ deadlines: { ...DEFAULT_DEADLINES, inactivityReminders: ['1 second', '14 days'] } });
  customer = await stack.account('customer');
  ra = await stack.account('ra_operator');
  await setPassword(stack.db, ra.user.id, PASSWORD);
  const dra = await stack.account('dra_operator');
  await setPassword(stack.db, dra.user.id, PASSWORD);
  driver = new Driver(stack, { holder: customer, ra, dra });
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Opens the order from the queue, as an operator would: by its link in the list of files waiting on the RA. */
async function openFromQueue(page: Page, orderId: string): Promise<void> {
  await page.getByRole('link', { name: 'Back to the queue' }).click();
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('link', { name: `Open order ${orderId}` }).click();
  await poll(() => page.getByRole('heading', { level: 2 }).textContent()).toBe(`Order ${orderId}`);
}

describe('staff console', () => {
  it('is served with a policy that lets only its own files run', async () => {
    const res = await fetch(`${stack.baseUrl}/console/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await res.text()).toContain('<script type="module" src="app.js"></script>');
    const js = await fetch(`${stack.baseUrl}/console/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${stack.baseUrl}/console`, { redirect: 'manual' })).headers.get('location')).toBe('/console/');
  });

  it('an RA operator rejects an identity document with a reason, then approves the new one', async () => {
    // The customer's file, complete and waiting on the RA.
    const submitted = await driver.completeAndSubmit(await driver.create('ID_RGS_STAR'));
    expect(submitted.status).toBe('under_review');

    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content.Security.Policy/i.test(msg.text())) pageErrors.push(msg.text());
    });
    try {
      await page.goto(`${stack.baseUrl}/console/`);
      // A wrong password is told, and nothing else happens.
      await page.getByLabel('Email').fill(ra.user.email);
      await page.getByLabel('Password', { exact: true }).fill('not-the-password-1');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await poll(() => page.getByRole('alert').textContent()).not.toBe('');
      expect(await page.getByRole('heading', { name: 'Review queue' }).isVisible()).toBe(false);

      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Review queue' }).waitFor();
      expect(await page.getByText(`${ra.user.email} (ra operator)`).isVisible()).toBe(true);
      // The RA's queue starts on what waits on the RA.
      expect(await page.getByLabel('Waiting on').inputValue()).toBe('ra');

      await page.getByRole('link', { name: `Open order ${submitted.id}` }).click();
      await page.getByRole('heading', { name: `Order ${submitted.id}` }).waitFor();

      // The identity document, fetched with the token, shown inline by the browser's PDF viewer.
      await page.getByRole('button', { name: 'View holder identity' }).click();
      const frame = page.getByTitle('Document holder identity');
      await frame.waitFor();
      expect(await page.locator('iframe').getAttribute('title')).toBe('Document holder identity');
      expect(await frame.getAttribute('src')).toMatch(/^blob:/);
      expect(await frame.getAttribute('data-media-type')).toBe('application/pdf');
      // The browser's own PDF viewer opened in the frame: the console's policy lets the document render.
      await poll(() => page.frames().some((f) => f.url().startsWith('chrome-extension://'))).toBe(true);

      // A reason the API refuses (too short): its problem detail is shown, and the file stays under review.
      await page.getByLabel('Rejection reason for holder identity').fill('no');
      await page.getByRole('button', { name: 'Reject with these reasons' }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain('reasons.0.reason');
      expect((await driver.get(submitted.id)).status).toBe('under_review');

      const reason = 'The scan is unreadable: send a sharper copy of both sides.';
      await page.getByLabel('Rejection reason for holder identity').fill(reason);
      await page.getByRole('button', { name: 'Reject with these reasons' }).click();
      await poll(() => page.getByRole('status').textContent()).toBe('Rejected: done.');
      expect(await page.getByText(`Reason: ${reason}`).isVisible()).toBe(true);

      // The customer reads the reason through the API, sends a new document and submits again.
      const rejected = await driver.get(submitted.id);
      expect(rejected.status).toBe('awaiting_evidence');
      expect(rejected.checklist.find((c) => c.documentType === 'holder_identity')).toMatchObject({ status: 'rejected', rejectionReason: reason });
      expect((await driver.completeAndSubmit(rejected)).status).toBe('under_review');

      await openFromQueue(page, submitted.id);
      await page.getByRole('button', { name: 'View holder identity' }).click();
      await page.getByTitle('Document holder identity').waitFor();
      await poll(() => page.frames().some((f) => f.url().startsWith('chrome-extension://'))).toBe(true);
      // The viewer draws the page a moment after its toolbar appears; the pause is for the screenshot only.
      const viewer = page.frames().find((f) => f.url().startsWith('chrome-extension://'));
      await viewer?.locator('viewer-toolbar').waitFor({ state: 'attached' });
      await page.waitForTimeout(700);
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: `${RESULTS}console-review.png`, fullPage: true });

      await page.getByRole('button', { name: 'Approve the file' }).click();
      await poll(() => page.getByRole('status').textContent()).toBe('Approved: done.');

      // Through the API: approved, and now waiting for the transfer.
      const after: OrderView = await driver.until(submitted.id, (o) => o.status === 'awaiting_payment');
      expect(after.waitingOn).toBe('payment');
      expect(after.checklist.every((c) => c.status === 'accepted')).toBe(true);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a DRA operator records a face-to-face check with the signed intervention form', async () => {
    const dra = driver.actors.dra;
    const approved = await driver.approve((await driver.completeAndSubmit(await driver.create('ID_RGS_2STAR'))).id);
    expect(approved).toMatchObject({ status: 'awaiting_face_to_face', waitingOn: 'dra' });

    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    try {
      await page.goto(`${stack.baseUrl}/console/`);
      await page.getByLabel('Email').fill(dra.user.email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Review queue' }).waitFor();
      expect(await page.getByLabel('Waiting on').inputValue()).toBe('dra');
      await page.getByRole('link', { name: `Open order ${approved.id}` }).click();
      await page.getByRole('heading', { name: `Order ${approved.id}` }).waitFor();

      // No file chosen: the console says so before calling anything.
      await page.getByRole('button', { name: 'Record face-to-face' }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain('intervention form');

      await page.getByLabel('Signed intervention form').setInputFiles({ name: 'intervention.pdf', mimeType: 'application/pdf', buffer: minimalPdf() });
      await page.getByLabel('Meeting date').fill('2026-11-20');
      await page.getByRole('button', { name: 'Record face-to-face' }).click();
      await poll(() => page.getByRole('status').textContent()).toBe('Face-to-face recorded: done.');

      const after = await driver.until(approved.id, (o) => o.faceToFace.done);
      expect(after.faceToFace.meetingDate).toBe('2026-11-20');
    } finally {
      await context.close();
    }
  });

  it('an auditor reads an order without any action; a customer is sent to the customer area', async () => {
    const auditor = await stack.account('auditor');
    await setPassword(stack.db, auditor.user.id, PASSWORD);
    await setPassword(stack.db, customer.user.id, PASSWORD);
    const order = await driver.create('ID_RGS_STAR');
    const timeline = async (): Promise<string[]> =>
      (await stack.http<{ items: { text: string }[] }>('GET', `/v1/orders/${order.id}/timeline`, { key: auditor.key })).body.items.map((e) => e.text);
    await poll(timeline).toContain('deadline reached: inactivity reminder');

    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    try {
      await page.goto(`${stack.baseUrl}/console/`);
      await page.getByLabel('Email').fill(customer.user.email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await poll(() => page.getByRole('alert').textContent()).toContain('customer area');
      expect(await page.getByRole('heading', { name: 'Review queue' }).isVisible()).toBe(false);

      // An auditor's queue is not narrowed to a role: every order, and this one among them.
      await page.getByLabel('Email').fill(auditor.user.email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Review queue' }).waitFor();
      expect(await page.getByLabel('Waiting on').inputValue()).toBe('');
      await page.getByLabel('Product').selectOption('ID_RGS_STAR');
      await page.getByLabel('Status').selectOption('awaiting_evidence');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.getByRole('link', { name: `Open order ${order.id}` }).click();
      await page.getByRole('heading', { name: `Order ${order.id}` }).waitFor();
      expect(await page.getByText('Read only.').isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Approve the file' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Cancel the order' }).count()).toBe(0);
      // The timeline shows the deadline that fired, citing the event of the Temporal history it was read from.
      const fired = page.getByRole('region', { name: 'Timeline' }).locator('li.timeline-deadline');
      expect(await fired.count()).toBe(1);
      expect(await fired.textContent()).toMatch(/ — deadline reached: inactivity reminder · history event \d+$/);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(await page.getByRole('heading', { name: 'Review queue' }).isVisible()).toBe(false);

      // Staff provisioned by the CLI may paste their API key instead.
      await page.getByText('Sign in with an API key instead').click();
      await page.getByLabel('API key').fill(auditor.key);
      await page.getByRole('button', { name: 'Sign in with the key' }).click();
      await page.getByRole('heading', { name: 'Review queue' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
