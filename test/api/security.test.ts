/**
 * Security of the HTTP API on the real stack (Temporal dev server, Postgres, an SMTP server that requires a
 * password, a server speaking Twilio's API): security headers on every kind of answer, the payment webhook's
 * signature, rate limits on login and on the SMS codes, and — over everything this file does — no secret in the logs
 * of the API (config/logger.ts at debug, written to a buffer) nor of the worker (the Temporal runtime's logger at
 * DEBUG, captured in this process).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { Problem } from '../../api/problem.js';
import { signWebhook, verifyWebhook } from '../../api/routes/order-actions.js';
import { closeServer, listen } from '../../api/server.js';
import { createLogger, redactUrl } from '../../config/logger.js';
import { createUser } from '../../db/accounts.js';
import { hashPassword } from '../../db/passwords.js';
import type { OrderView } from '../../domain/order.js';
import type { ProvidersStack } from '../fakes/providers.js';
import type { FakeSmtp } from '../fakes/smtp.js';
import type { FakeTwilio } from '../fakes/twilio.js';
import type { Account, HttpResult, TestStack } from '../support.js';
import { appDepsOn } from '../app-deps.js';

// The worker's logs: the Temporal runtime is installed once per process, so it is installed here, at DEBUG, before
// test/support.ts (which installs one at WARN when none is) is loaded.
const workerLog: string[] = [];
// As a log shipper would write them: errors with their name, message, stack and cause (JSON drops them otherwise).
const asJson = (entry: LogEntry): string =>
  JSON.stringify(entry, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause };
    return v;
  });
Runtime.install({ logger: new DefaultLogger('DEBUG', (entry) => workerLog.push(asJson(entry))) });
const { httpClient } = await import('../support.js');
const { startProvidersStack } = await import('../fakes/providers.js');
const { Driver } = await import('../workflows/drive.js');

const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const SMTP_USER = 'certflow-relay';
const SMTP_PASSWORD = `smtp-${randomBytes(12).toString('hex')}`;

/** Everything that must never be in a log line; filled as the file runs. */
const secrets = new Map<string, string>();
const keep = (what: string, value: string | undefined): void => {
  expect(value, what).toBeTruthy();
  secrets.set(`${what} #${secrets.size}`, value ?? '');
};

let providers: ProvidersStack;
let stack: TestStack;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let server: Server;
let baseUrl: string;
let http: TestStack['http'];
const apiLog: string[] = [];
let logged: TestStack;
let ra: Account;
let dra: Account;

beforeAll(async () => {
  // An SMTP relay that requires AUTH, so that its password is among the secrets the logs must not show.
  providers = await startProvidersStack({
    smtp: { auth: { user: SMTP_USER, password: SMTP_PASSWORD } },
    env: { PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET },
  });
  ({ stack, smtp, twilio } = providers);
  // The API under test logs at debug into a buffer, through the product's own logger (config/logger.ts).
  const app = createApp(appDepsOn(stack, { log: createLogger('debug', 'certflow-api', { write: (line: string) => void apiLog.push(line) }) }));
  server = await listen(app, '127.0.0.1', 0);
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  http = httpClient(baseUrl);
  logged = { ...stack, baseUrl, http };
  ra = await stack.account('ra_operator');
  dra = await stack.account('dra_operator');
  keep('API key', ra.key);
  keep('API key', dra.key);
  keep('master key', inject('masterKey'));
  keep('Twilio auth token', twilio.authToken);
  keep('SMTP password', SMTP_PASSWORD);
  keep('webhook secret', WEBHOOK_SECRET);
}, 180_000);

afterAll(async () => {
  if (server !== undefined) await closeServer(server);
  await providers?.close();
});

const PROBLEM = /^application\/problem\+json/;

/** The headers every answer carries, whatever route, status or caller. */
function expectSecurityHeaders(res: { headers: Headers }, what: string): void {
  const h = res.headers;
  expect(h.get('x-powered-by'), what).toBeNull();
  expect(h.get('x-content-type-options'), what).toBe('nosniff');
  expect(h.get('x-frame-options'), what).toBe('DENY');
  expect(h.get('referrer-policy'), what).toBe('no-referrer');
  const hsts = /max-age=(\d+)/.exec(h.get('strict-transport-security') ?? '');
  expect(Number(hsts?.[1] ?? 0), what).toBeGreaterThanOrEqual(180 * 86_400);
  expect(h.get('content-security-policy') ?? '', what).toContain("frame-ancestors 'none'");
}

describe('security headers', () => {
  it('are on JSON answers, on problems (the body parsers’ included) and on the pages, with no-store on the API', async () => {
    const customer = await stack.account('customer');
    keep('API key', customer.key);
    const answers: [string, HttpResult<unknown>][] = [
      ['catalog (public JSON)', await http('GET', '/v1/catalog')],
      ['me (authenticated JSON)', await http('GET', '/v1/me', { key: customer.key })],
      ['401 problem', await http('GET', '/v1/me')],
      ['403 problem', await http('GET', '/v1/orders/00000000-0000-4000-8000-000000000000/timeline', { key: customer.key })],
      ['404 problem', await http('GET', '/v1/nothing')],
      ['400 problem from the JSON parser', await http('POST', '/v1/auth/login', { rawBody: '{"email":', headers: { 'content-type': 'application/json' } })],
      ['413 problem from the JSON parser', await http('POST', '/v1/auth/login', { rawBody: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(300_000) }), headers: { 'content-type': 'application/json' } })],
      ['415 problem', await http('POST', '/v1/auth/login', { rawBody: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } })],
    ];
    expect(answers.map(([, r]) => r.status)).toEqual([200, 200, 401, 403, 404, 400, 413, 415]);
    for (const [what, res] of answers) {
      expectSecurityHeaders(res, what);
      // The API serves no page: nothing may load from its answers.
      expect(res.headers.get('content-security-policy'), what).toMatch(/default-src 'none'/);
      expect(res.headers.get('cache-control'), what).toBe('no-store');
      if (res.status >= 400) expect(res.headers.get('content-type'), what).toMatch(PROBLEM);
    }

    // The pages (customer area and console): their own CSP lets the bundle (same origin) run and nothing inline or foreign.
    for (const path of ['/login', '/signup', '/console/', '/assets/main.js', '/assets/styles.css']) {
      const res = await fetch(baseUrl + path);
      expect(res.status, path).toBe(200);
      expectSecurityHeaders(res, path);
      if (path.startsWith('/assets/')) continue;
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("base-uri 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
    }
    const page = await (await fetch(`${baseUrl}/login`)).text();
    // What the CSP allows is what the page uses: a module script from its own origin; the only script element
    // without src is the boot data, JSON the browser never runs.
    expect(page).toMatch(/<script type="module" src="\/assets\/main\.js"><\/script>/);
    expect(page.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toEqual(['<script type="application/json" id="boot">']);

    // Public data that may be cached says so itself; the rest is no-store.
    const ca = await http<{ items?: { id: string }[] } | { id: string }[]>('GET', '/v1/ca');
    expectSecurityHeaders(ca, '/v1/ca');
  });
});

describe('payment webhook signature', () => {
  let order: OrderView;

  async function deliver(raw: string, signature: string | undefined) {
    return http<{ type?: string; received?: boolean; status?: unknown }>('POST', '/v1/payments/webhook', {
      rawBody: raw,
      headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'x-signature': signature } : {}) },
    });
  }

  it('refuses wrong signatures of the right and of wrong lengths with a 401 problem, and accepts the right one', async () => {
    const holder = await stack.account('customer', { phone: '+33611111111' });
    keep('API key', holder.key);
    const drive = new Driver(logged, { holder, ra, dra });
    order = await drive.approve((await drive.completeAndSubmit(await drive.create('ID_RGS_STAR', { payment: { method: 'card' } }))).id);
    expect(order.status).toBe('awaiting_payment');

    const raw = JSON.stringify({ orderId: order.id, status: 'succeeded', reference: `CB-${randomUUID().slice(0, 8)}` });
    const t = Math.floor(Date.now() / 1000);
    const right = signWebhook(WEBHOOK_SECRET, raw, t);
    const mac = right.split('v1=')[1] ?? '';
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    keep('webhook signature', mac);
    const flip = (hex: string, at: number): string => `${hex.slice(0, at)}${hex[at] === '0' ? '1' : '0'}${hex.slice(at + 1)}`;
    const wrong: [string, string | undefined][] = [
      ['same length, last digit wrong', `t=${t},v1=${flip(mac, 63)}`],
      ['same length, first digit wrong', `t=${t},v1=${flip(mac, 0)}`],
      ['signed with another secret', signWebhook('whsec_other', raw, t)],
      ['one digit short', `t=${t},v1=${mac.slice(0, 63)}`],
      ['a byte short', `t=${t},v1=${mac.slice(0, 62)}`],
      ['a byte too long', `t=${t},v1=${mac}00`],
      ['twice as long', `t=${t},v1=${mac}${mac}`],
      ['empty', `t=${t},v1=`],
      ['not hex, right length', `t=${t},v1=${'z'.repeat(64)}`],
      ['no v1', `t=${t}`],
      ['no header', undefined],
      ['stale', signWebhook(WEBHOOK_SECRET, raw, t - 3600)],
      ['body changed', right.replace(mac, signWebhook(WEBHOOK_SECRET, raw.replace('succeeded', 'failed'), t).split('v1=')[1] ?? '')],
    ];
    for (const [what, signature] of wrong) {
      const res = await deliver(raw, signature);
      expect(res.status, what).toBe(401);
      expect(res.headers.get('content-type'), what).toMatch(PROBLEM);
      expect(res.body.type, what).toBe('urn:certflow:problem:unauthorized');
    }
    expect((await drive.get(order.id)).payment.status).not.toBe('received');

    const accepted = await deliver(raw, right);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ received: true, status: 'received' });
    // Uppercase hex is the same MAC.
    expect((await deliver(raw, `t=${t},v1=${mac.toUpperCase()}`)).body).toMatchObject({ received: true });
  }, 90_000);

  it('compares through one constant-time path, whatever the length of what was sent', () => {
    const body = '{"x":1}';
    const now = Date.now();
    const t = Math.floor(now / 1000);
    const good = signWebhook(WEBHOOK_SECRET, body, t);
    expect(() => verifyWebhook(WEBHOOK_SECRET, good, body, now)).not.toThrow();
    const mac = good.split('v1=')[1] ?? '';
    for (const given of [mac.slice(0, 1), mac.slice(0, 63), `${mac}0`, `${mac}00`, mac.replace(/./g, 'f'), `${mac.slice(0, 62)}zz`, 'x'.repeat(10_000)]) {
      let thrown: unknown;
      try {
        verifyWebhook(WEBHOOK_SECRET, `t=${t},v1=${given}`, body, now);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, given.slice(0, 20)).toBeInstanceOf(Problem);
      expect((thrown as Problem).status).toBe(401);
      // A wrong length is told apart from a wrong MAC in nothing: the same problem, the same detail.
      expect((thrown as Problem).detail).toBe('Bad signature.');
    }
  });
});

describe('rate limits', () => {
  it('answers login attempts past 10 a minute for one address with 429 and Retry-After', async () => {
    const email = `limited-${randomUUID().slice(0, 8)}@example.test`;
    const password = `Correct-Horse-${randomUUID()}`;
    keep('password', password);
    const org = await stack.account('customer');
    keep('API key', org.key);
    await createUser(stack.db, { email, role: 'customer', organisationId: org.user.organisationId, passwordHash: await hashPassword(password) });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await http('POST', '/v1/auth/login', { json: { email, password: `wrong-${i}` } })).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const limited = await http<{ type: string; retryAfter: number }>('POST', '/v1/auth/login', { json: { email, password } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(PROBLEM);
    expect(limited.body.type).toBe('urn:certflow:problem:rate-limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.retryAfter).toBe(retryAfter);
  });

  it('limits SMS codes asked and typed per order (unlock, then unblock) with 429 and Retry-After, showing each PIN once', async () => {
    const phone = '+33622222222';
    const holder = await stack.account('customer', { phone });
    keep('API key', holder.key);
    const drive = new Driver(logged, { holder, ra, dra });
    const order = await drive.toAcceptance('ID_RGS_STAR');
    expect((await drive.post(holder.key, `/v1/orders/${order.id}/acceptance`, { decision: 'accept' })).body.status).toBe('awaiting_unlock');
    const path = (p: string) => `/v1/orders/${order.id}${p}`;
    const smsCount = () => twilio.messages.filter((m) => m.to === phone).length;
    const nextCode = async (before: number): Promise<string> => {
      const sms = await twilio.waitFor((m) => m.to === phone && twilio.messages.filter((x) => x.to === phone).indexOf(m) === before, 20_000);
      const code = /\b(\d{6})\b/.exec(sms.body)?.[1];
      keep('SMS code', code);
      return code ?? '';
    };

    // The provider fails once: the worker retries the activity, and logs the failure (read at the end of the file).
    twilio.failNext(1, 503);
    let before = smsCount();
    expect((await drive.post(holder.key, path('/unlock-code'))).status).toBe(200);
    const first = await nextCode(before);
    const wrongOf = (code: string) => (code === '000000' ? '111111' : '000000');
    for (const left of [2, 1, 0]) expect((await drive.post(holder.key, path('/unlock-code/verify'), { code: wrongOf(first) })).body).toMatchObject({ status: 422, attemptsLeft: left });
    before = smsCount();
    expect((await drive.post(holder.key, path('/unlock-code'))).status).toBe(200);
    const second = await nextCode(before);
    const right = await drive.post<{ unlockPin: string }>(holder.key, path('/unlock-code/verify'), { code: second });
    expect(right.status).toBe(200);
    expect(right.headers.get('cache-control')).toBe('no-store');
    keep('unlock PIN', right.body.unlockPin);
    // 4 entries so far; 6 more reach the workflow (the PIN is not shown twice), the 11th is refused before it.
    for (let i = 0; i < 6; i++) expect((await drive.post(holder.key, path('/unlock-code/verify'), { code: second })).status).toBe(409);
    const entries = await drive.post<{ retryAfter: number }>(holder.key, path('/unlock-code/verify'), { code: second });
    expect(entries.status).toBe(429);
    expect(entries.body).toMatchObject({ type: 'urn:certflow:problem:rate-limited' });
    // 2 codes asked so far; 8 more are answered (the order is completed: 409), the 11th is refused.
    await drive.until(order.id, (o) => o.status === 'completed');
    for (let i = 0; i < 8; i++) expect((await drive.post(holder.key, path('/unlock-code'))).status).toBe(409);
    const limitedAsk = await http<{ type: string }>('POST', path('/unlock-code'), { key: holder.key, json: {} });
    expect(limitedAsk.status).toBe(429);
    const wait = Number(limitedAsk.headers.get('retry-after'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(600);

    // The PIN reveal answer is not cacheable.
    const serial = (await drive.get(order.id)).certificateSerial ?? '';
    const cert = (p: string) => `/v1/certificates/${serial}${p}`;
    before = smsCount();
    const unblock = await http('POST', cert('/unblock-code'), { key: holder.key, json: {} });
    expect(unblock.status, JSON.stringify(unblock.body)).toBe(200);
    const code = await nextCode(before);
    const pin = await http<{ unlockPin: string }>('POST', cert('/unblock-code/verify'), { key: holder.key, json: { code } });
    expect(pin.status).toBe(200);
    expect(pin.headers.get('cache-control')).toBe('no-store');
    expectSecurityHeaders(pin, 'PIN answer');
    keep('unblock PIN', pin.body.unlockPin);
    for (let i = 0; i < 9; i++) expect((await http('POST', cert('/unblock-code/verify'), { key: holder.key, json: { code } })).status).toBeLessThan(429);
    const typed = await http<{ type: string }>('POST', cert('/unblock-code/verify'), { key: holder.key, json: { code } });
    expect(typed.status).toBe(429);
    expect(Number(typed.headers.get('retry-after'))).toBeGreaterThan(0);
    // Codes asked: 1 so far; the workflow sends at most 5 a day (then 422), the limit refuses the 11th over HTTP.
    const askStatuses: number[] = [];
    for (let i = 0; i < 9; i++) askStatuses.push((await http('POST', cert('/unblock-code'), { key: holder.key, json: {} })).status);
    expect(askStatuses.every((s) => s === 200 || s === 409 || s === 422), askStatuses.join(',')).toBe(true);
    const tooMany = await http<{ type: string }>('POST', cert('/unblock-code'), { key: holder.key, json: {} });
    expect(tooMany.status).toBe(429);
    expect(tooMany.body.type).toBe('urn:certflow:problem:rate-limited');
    for (const m of twilio.messages.filter((x) => x.to === phone)) keep('SMS code', /\b(\d{6})\b/.exec(m.body)?.[1]);
  }, 180_000);
});

describe('secrets absent from the logs', () => {
  it('redacts credential-like query parameters from logged URLs', () => {
    expect(redactUrl('/activate?token=abc&lang=fr')).toBe('/activate?token=[Redacted]&lang=fr');
    expect(redactUrl('/v1/orders?status=issued')).toBe('/v1/orders?status=issued');
    expect(redactUrl('/x?api_key=1&reset%5Ftoken=2&flag')).toBe('/x?api_key=[Redacted]&reset%5Ftoken=[Redacted]&flag');
  });

  it('keeps passwords, keys, tokens, codes, PINs and provider secrets out of the API and worker logs', async () => {
    // Account flows: a registration with its password, the activation link (also opened on the API, as a browser
    // would if the portal is served there), a password login and the access token used.
    const password = `Registered-${randomUUID()}`;
    keep('password', password);
    const email = `logs-${randomUUID().slice(0, 8)}@example.test`;
    const mailsBefore = smtp.messages.length;
    const registered = await http('POST', '/v1/auth/register', {
      json: {
        siret: '73282932000074',
        organisationName: 'ACME',
        organisationAddress: { street: '1 rue de la Paix', postalCode: '75002', locality: 'Paris' },
        givenName: 'Log',
        surname: 'Watcher',
        email,
        phone: '+33633333333',
        language: 'en',
        password,
      },
    });
    expect(registered.status).toBe(202);
    const deadline = Date.now() + 15_000;
    let token: string | undefined;
    while (token === undefined && Date.now() < deadline) {
      token = smtp.messages
        .slice(mailsBefore)
        .map((m) => /activate\?token=([A-Za-z0-9_-]+)/.exec(m.parsed.text ?? '')?.[1])
        .find((x) => x !== undefined);
      if (token === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    keep('activation token', token);
    // The activation page the mail links to: its address (with the token) goes through the request log too.
    expect((await http('GET', `/activate?token=${token}`)).status).toBe(200);
    expect((await http('POST', '/v1/auth/activate', { json: { token } })).status).toBe(200);
    const login = await http<{ accessToken: string }>('POST', '/v1/auth/login', { json: { email, password } });
    expect(login.status).toBe(200);
    keep('access token', login.body.accessToken);
    expect((await http('GET', '/v1/me', { key: login.body.accessToken })).status).toBe(200);
    // A key sent where it does not belong (a query string) and a bad key: logged, but not in clear.
    const stray = `cfk_${randomBytes(16).toString('hex')}`;
    keep('stray key', stray);
    await http('GET', `/v1/me?api_key=${stray}`, { key: stray });

    const api = apiLog.join('');
    const worker = workerLog.join('\n');
    // The logs are there and say what happened: requests with their URL and status, the worker's activity failure.
    expect(api).toContain('"url":"/v1/auth/login"');
    expect(api).toContain('request completed');
    expect(api).toContain('/activate?token=[Redacted]');
    expect(api).toContain('"statusCode":429');
    expect(worker).toMatch(/SMS not sent \(HTTP 503/);
    expect(worker.length).toBeGreaterThan(1000);

    const found: string[] = [];
    for (const [what, value] of secrets) {
      // Digits only (codes, PINs): as a whole number, not inside a timestamp or an id.
      const pattern = /^\d+$/.test(value) ? new RegExp(`(?<![0-9])${value}(?![0-9])`) : undefined;
      const seen = (text: string) => (pattern !== undefined ? pattern.test(text) : text.includes(value));
      if (seen(api)) found.push(`${what} in the API log`);
      if (seen(worker)) found.push(`${what} in the worker log`);
    }
    expect(found).toEqual([]);
    expect(secrets.size).toBeGreaterThanOrEqual(20);
  }, 60_000);
});
