/**
 * Every link of every mail opens a page of the customer area (SPEC §9): rendered with realistic data in both
 * languages, each link of the HTML part (href) and of the text part (URL) points to PUBLIC_BASE_URL and a path of
 * domain/pages.ts; every mail about an order links its order page, the expiry reminder the prefilled renewal. Then
 * each link is opened on a running stack: a page answers 200 text/html, or — for a page that needs an account —
 * sends to the sign-in page with the link as `next`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEmail, type EmailMessage, type EmailTemplate, type Language, type MailContext } from '../../activities/notify/index.js';
import { PAGES, PUBLIC_PAGES, pageLinks, type PageId } from '../../domain/pages.js';
import { startTestStack, type TestStack } from '../support.js';
import { MAIL_CONTEXT, checklistOf, httpChallenge, sampleOrder } from './support.js';

const PUBLIC_BASE_URL = 'https://espace.certflow.example';
const ctx: MailContext = { identity: MAIL_CONTEXT.identity, publicBaseUrl: PUBLIC_BASE_URL };

const orderId = '0195f3a2-7c4e-7000-8000-00000000abcd';
const ref = { orderId, product: 'ID_RGS_2STAR' as const };
const tls = { orderId, product: 'SSL' as const };
const serial = '5f3a9c0e1d2b4a6f';
const order = sampleOrder({ orderId, payment: { method: 'card', purchaseOrderNumber: null } });
// Tokens as db/account-tokens.ts issues them (32 random bytes, base64url), in links as api/account-links.ts builds them.
const activationToken = 'Q2FtaWxsZSBEdXJhbmQgYWN0aXZhdGlvbiB0b2tlbg1';
const resetToken = 'Q2FtaWxsZSBEdXJhbmQgcmVzZXQgdG9rZW4gaGVyZQ2';

/** One realistic message per template: the mapped type makes a new template without one a compile error. */
const SAMPLES: { [T in EmailTemplate]: Extract<EmailMessage, { template: T }>['data'] } = {
  order_confirmation: { order, checklist: checklistOf(order) },
  evidence_rejected: {
    ...ref,
    checklist: [
      { documentType: 'holder_identity', status: 'rejected', rejectionReason: 'Pièce expirée' },
      { documentType: 'organisation_registration', status: 'accepted', documentId: 'd1' },
      { documentType: 'signed_order_form', status: 'missing' },
    ],
  },
  evidence_reminder: { ...ref, inactiveDays: 7, missing: ['holder_identity'], abandonOn: '2026-05-31T09:30:00Z' },
  // A TLS product paid by card: the mail sends to the order page twice (domains, card).
  review_approved: { ...tls, payment: { method: 'card', received: false }, originalsDueOn: null },
  originals_reminder: { ...ref, dueOn: '2026-03-12T10:00:00Z' },
  originals_overdue_staff: {
    ...ref,
    holderName: 'Camille Durand',
    holderEmail: 'camille.durand@example.test',
    organisationName: 'ACME',
    siret: '73282932000074',
    dueOn: '2026-03-12T10:00:00Z',
    abandonOn: '2026-04-11T10:00:00Z',
  },
  activity_failing_staff: { ...ref, kind: 'refused', step: 'issueCertificate certificate', message: 'the key is already certified for order 42', since: '2026-03-20T10:00:00Z' },
  order_abandoned: { ...ref, reason: 'no_activity' },
  order_cancelled: { ...ref, cancelledBy: 'customer', comment: null },
  certificate_issued: {
    ...ref,
    serial,
    subject: 'CN=Camille Durand, O=ACME, C=FR',
    notBefore: '2026-03-20T10:00:00Z',
    notAfter: '2029-03-19T10:00:00Z',
    answerBy: '2026-04-19T10:00:00Z',
  },
  acceptance_reminder: { ...ref, serial, revokeOn: '2026-04-19T10:00:00Z' },
  certificate_revoked: { ...ref, serial, reason: 'keyCompromise', revokedAt: '2026-06-01T08:00:00Z' },
  order_completed: { ...tls, serial },
  expiry_reminder: {
    ...tls,
    serial,
    notAfter: '2027-03-19T23:30:00Z',
    days: 30,
    renewalOrder: '{"product":"SSL","durationYears":1,"os":"other","payment":{"method":"card"},"termsAccepted":false}',
  },
  certificate_renewed: { ...tls, serial, subject: 'CN=www.acme.example, O=ACME, C=FR', notBefore: '2026-05-02T10:00:00Z', notAfter: '2027-04-20T22:30:00Z' },
  domain_revalidation: { ...tls, serial, notAfter: '2026-05-31T22:15:00Z', challenges: [httpChallenge] },
  certificate_held: { ...ref, serial, heldAt: '2026-06-01T08:00:00.000Z' },
  hold_released: { ...ref, serial },
  caa_forbids_issuance: { ...tls, serial: null, refusal: 'CAA forbids issuance by this CA: www.acme.example: CAA of acme.example allows only other-ca.example to issue for www.acme.example, not this CA: add 0 issue "certflow.example".', identifiers: 'certflow.example' },
  account_activation: { givenName: 'Camille', activationUrl: pageLinks.activate(PUBLIC_BASE_URL, activationToken), expiresAt: '2026-03-27T10:00:00Z' },
  password_reset: { givenName: 'Camille', resetUrl: pageLinks.resetPassword(PUBLIC_BASE_URL, resetToken), expiresAt: '2026-03-20T11:00:00Z' },
  username_reminder: { givenName: 'Camille', email: 'camille.durand@example.test', organisationName: 'ACME', siret: '73282932000074', reason: 'forgot_username' },
};

const messages = Object.entries(SAMPLES).map(([template, data]) => ({ template, data }) as EmailMessage);
const LANGUAGES: readonly Language[] = ['fr', 'en'];

const orderIdOf = (m: EmailMessage): string | null =>
  m.template === 'order_confirmation' ? m.data.order.orderId : 'orderId' in m.data ? m.data.orderId : null;

/** Values a mail shows to be copied, not followed: the URL of a domain-validation file to publish. */
const copiedValues = (m: EmailMessage): string[] => (m.template === 'domain_revalidation' ? m.data.challenges.flatMap((c) => (c.http !== undefined ? [c.http.url] : [])) : []);

const unescapeHtml = (s: string): string => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

interface MailLinks {
  readonly html: string[];
  readonly text: string[];
}

async function linksOf(m: EmailMessage, lang: Language): Promise<MailLinks> {
  const mail = await renderEmail(m, lang, ctx);
  const html = [...mail.html.matchAll(/href="([^"]*)"/g)].map((x) => unescapeHtml(x[1] ?? ''));
  // In text a URL ends at a space or at the ">" closing "<url>".
  const copied = new Set(copiedValues(m));
  const text = [...mail.text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s<>"]+/gi)].map((x) => x[0]).filter((u) => !copied.has(u));
  // The HTML part links nothing the text part does not show, and the other way round.
  expect(new Set(html), `${m.template} (${lang}): same links in both parts`).toEqual(new Set(text));
  return { html, text };
}

/** The page a link opens, or why it opens none. */
function pageOf(url: URL, m: EmailMessage): PageId {
  const entries = Object.entries(PAGES) as [PageId, string][];
  const exact = entries.find(([, path]) => path === url.pathname);
  if (exact !== undefined) return exact[0];
  const id = orderIdOf(m);
  // `/orders/:id` with the id of the order the mail is about, not any string.
  if (id !== null && url.pathname === PAGES.order.replace(':id', encodeURIComponent(id))) return 'order';
  throw new Error(`${m.template}: ${url.href} opens no page of domain/pages.ts`);
}

describe('links in mails', () => {
  const cases = messages.flatMap((m) => LANGUAGES.map((lang) => [m.template, lang, m] as const));

  it.each(cases)('%s in %s links only pages of the customer area, at PUBLIC_BASE_URL', async (_t, lang, m) => {
    const { html, text } = await linksOf(m, lang);
    expect(html.length, 'at least one link').toBeGreaterThan(0);
    for (const href of [...html, ...text]) {
      expect(href.startsWith(`${PUBLIC_BASE_URL}/`), href).toBe(true);
      const url = new URL(href);
      const page = pageOf(url, m);
      // Query strings only where a page reads one: the token of a link, the order to renew.
      if (page === 'activate') expect(url.searchParams.get('token')).toBe(activationToken);
      else if (page === 'resetPassword') expect(url.searchParams.get('token')).toBe(resetToken);
      else if (page === 'newOrder' && url.search !== '') expect(url.searchParams.get('renew')).toBe(orderIdOf(m));
      else expect(url.search, href).toBe('');
    }
  });

  it.each(cases)('%s in %s carries the link its reader needs, in both parts', async (_t, lang, m) => {
    const { html, text } = await linksOf(m, lang);
    const expected: string[] = [];
    const id = orderIdOf(m);
    if (id !== null) expected.push(pageLinks.order(PUBLIC_BASE_URL, id));
    if (m.template === 'expiry_reminder') expected.push(pageLinks.renew(PUBLIC_BASE_URL, m.data.orderId));
    if (m.template === 'account_activation') expected.push(pageLinks.activate(PUBLIC_BASE_URL, activationToken));
    if (m.template === 'password_reset') expected.push(pageLinks.resetPassword(PUBLIC_BASE_URL, resetToken));
    if (m.template === 'username_reminder') expected.push(pageLinks.login(PUBLIC_BASE_URL));
    expect(expected.length).toBeGreaterThan(0);
    for (const link of expected) {
      expect(html, `HTML of ${m.template}`).toContain(link);
      expect(text, `text of ${m.template}`).toContain(link);
    }
  });

  describe('opened on a running stack', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack();
    }, 120_000);
    afterAll(async () => {
      await stack?.close();
    });

    it('every link answers a page: 200 text/html, or the sign-in page for a page that needs an account', async () => {
      const links = new Map<string, EmailMessage>();
      for (const m of messages) {
        for (const lang of LANGUAGES) for (const href of (await linksOf(m, lang)).html) links.set(href, m);
      }
      const failures: string[] = [];
      for (const [href, m] of links) {
        const url = new URL(href);
        const page = pageOf(url, m);
        const res = await fetch(`${stack.baseUrl}${url.pathname}${url.search}`, { redirect: 'follow', headers: { accept: 'text/html' } });
        const type = res.headers.get('content-type') ?? '';
        await res.arrayBuffer();
        const final = new URL(res.url);
        const wanted = `${url.pathname}${url.search}`;
        const signIn = final.pathname === PAGES.login && final.searchParams.get('next') === wanted;
        if (res.status !== 200 || !/^text\/html\b/.test(type)) failures.push(`${href} -> ${res.status} ${type} at ${res.url}`);
        else if (signIn && PUBLIC_PAGES.includes(page)) failures.push(`${href}: the public page ${page} asked to sign in`);
        else if (!signIn && `${final.pathname}${final.search}` !== wanted) failures.push(`${href} ended at ${res.url}`);
      }
      expect(failures).toEqual([]);
      expect(links.size).toBeGreaterThan(4);
    }, 120_000);
  });
});
