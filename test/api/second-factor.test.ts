/**
 * Staff second factor over HTTP (issue 16 item 6): a staff password opens nothing but the second-factor routes;
 * enrolment gives a sealed TOTP secret, its otpauth:// URI and QR code, and recovery codes shown once; a code is
 * accepted once (no replay within its window), a recovery code once; tries are rate-limited; a staff token or session
 * without the second factor is refused; staff API keys work only where an admin allowed them (audited), and an admin
 * resets a lost second factor (audited). Customers are unaffected. The admin CLI grants the allowance too.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { and, eq } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { accessTokens } from '../../api/auth.js';
import { setPassword } from '../../db/passwords.js';
import { auditLog, staffRecoveryCodes, staffSecondFactors } from '../../db/schema.js';
import type { Account } from '../support.js';
import { testStackForFile } from '../stack-for-file.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'Quiet-Harbour-Lantern-58';

const stack = testStackForFile();
let admin: Account;

beforeAll(async () => {
  admin = await stack.account('admin');
});

/** A browser without a browser: a cookie jar, and the CSRF token of the page it last opened. */
class Jar {
  private readonly cookies = new Map<string, string>();
  private csrf = '';

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }

  async open(path = '/login'): Promise<Response> {
    const res = await fetch(stack.baseUrl + path, { headers: { cookie: this.header }, redirect: 'manual' });
    this.keep(res);
    const html = await res.text();
    const boot = /<script type="application\/json" id="boot">(.*?)<\/script>/s.exec(html)?.[1];
    if (boot !== undefined) this.csrf = (JSON.parse(boot) as { csrfToken: string }).csrfToken;
    return res;
  }

  async call<T = Record<string, unknown>>(method: string, path: string, json?: unknown, opts: { csrf?: boolean } = {}): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { cookie: this.header };
    if (opts.csrf !== false) headers['x-csrf-token'] = this.csrf;
    if (json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(stack.baseUrl + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
    this.keep(res);
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T };
  }

  /** The password step, from a fresh sign-in page. */
  async password(email: string, password = PASSWORD) {
    await this.open();
    return this.call<{ signedIn: boolean; role: string; secondFactor?: string; type?: string }>('POST', '/v1/auth/session', { email, password });
  }
}

const totp = (secret: string) => new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
const stepNow = () => Math.floor(Date.now() / 30_000);
const codeAt = (secret: string, step: number) => totp(secret).generate({ timestamp: step * 30_000 });

async function staffWithPassword(role: 'ra_operator' | 'dra_operator' | 'auditor' | 'admin' = 'ra_operator', opts: { apiAccess?: boolean } = {}): Promise<Account> {
  const account = await stack.account(role, opts);
  await setPassword(stack.db, account.user.id, PASSWORD);
  return account;
}

/** Password, enrolment and its first code (the current step): the jar signed in, the secret and recovery codes. */
async function enrol(account: Account, jar = new Jar()) {
  expect((await jar.password(account.user.email)).body.secondFactor).toBe('enrol');
  const started = await jar.call<{ secret: string; otpauthUri: string; qrCode: string }>('POST', '/v1/auth/second-factor/enrolment', {});
  expect(started.status).toBe(200);
  const step = stepNow();
  const confirmed = await jar.call<{ signedIn: boolean; recoveryCodes: string[] }>('POST', '/v1/auth/second-factor/enrolment/confirm', { code: codeAt(started.body.secret, step) });
  expect(confirmed.status).toBe(200);
  return { jar, secret: started.body.secret, step, recoveryCodes: confirmed.body.recoveryCodes };
}

const auditActions = async (userId: string) =>
  (await stack.db.select().from(auditLog)).filter((r) => (r.detail as { userId?: string }).userId === userId).map((r) => ({ action: r.action, actorUserId: r.actorUserId, actorRole: r.actorRole }));

describe('staff sign-in with a second factor', () => {
  it('a staff password opens nothing; enrolment shows the QR code and the key, confirms with a code, shows recovery codes once', async () => {
    const ra = await staffWithPassword();
    const jar = new Jar();
    const pw = await jar.password(ra.user.email);
    expect(pw).toMatchObject({ status: 200, body: { signedIn: false, role: 'ra_operator', secondFactor: 'enrol' } });
    expect(jar.has('certflow_session')).toBe(false);
    expect(jar.has('certflow_second_factor')).toBe(true);
    // Waiting for the code: no page, no route.
    expect((await jar.call('GET', '/v1/me')).status).toBe(401);
    expect((await jar.call('GET', '/v1/orders')).status).toBe(401);
    expect((await jar.open('/console/')).status).toBe(303);

    // Without the page's CSRF token, nothing.
    expect((await jar.call<{ type: string }>('POST', '/v1/auth/second-factor/enrolment', {}, { csrf: false })).body.type).toBe('urn:certflow:problem:csrf-token-invalid');
    const started = await jar.call<{ secret: string; otpauthUri: string; qrCode: string }>('POST', '/v1/auth/second-factor/enrolment', {});
    expect(started.status).toBe(200);
    const { secret, otpauthUri, qrCode } = started.body;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe(`/CertFlow:${ra.user.email}`);
    expect(Object.fromEntries(uri.searchParams)).toMatchObject({ issuer: 'CertFlow', secret, algorithm: 'SHA1', digits: '6', period: '30' });
    expect(qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(qrCode.split(',')[1] ?? '', 'base64').toString()).toContain('<svg');

    // Sealed at rest: the row holds no secret in clear.
    const [row] = await stack.db.select().from(staffSecondFactors).where(eq(staffSecondFactors.userId, ra.user.id));
    expect(row?.sealedSecret).toMatch(/^v1\./);
    expect(row?.sealedSecret).not.toContain(secret);
    expect(row?.enrolledAt).toBeNull();

    // A wrong code: refused, still not enrolled, no session.
    const wrong = await jar.call<{ type: string }>('POST', '/v1/auth/second-factor/enrolment/confirm', { code: codeAt(secret, stepNow() + 5) });
    expect(wrong).toMatchObject({ status: 401, body: { type: 'urn:certflow:problem:second-factor-invalid' } });
    expect(jar.has('certflow_session')).toBe(false);

    const confirmed = await jar.call<{ signedIn: boolean; role: string; recoveryCodes: string[] }>('POST', '/v1/auth/second-factor/enrolment/confirm', { code: codeAt(secret, stepNow()) });
    expect(confirmed).toMatchObject({ status: 200, body: { signedIn: true, role: 'ra_operator' } });
    expect(confirmed.body.recoveryCodes).toHaveLength(10);
    for (const c of confirmed.body.recoveryCodes) expect(c).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(jar.has('certflow_session')).toBe(true);
    expect(jar.has('certflow_second_factor')).toBe(false);
    expect((await jar.call<{ role: string }>('GET', '/v1/me')).body.role).toBe('ra_operator');
    expect((await jar.open('/console/')).status).toBe(200);

    // Recovery codes are kept hashed; enrolment is done once (until an admin resets it).
    const stored = await stack.db.select().from(staffRecoveryCodes).where(eq(staffRecoveryCodes.userId, ra.user.id));
    expect(stored).toHaveLength(10);
    for (const c of confirmed.body.recoveryCodes) expect(JSON.stringify(stored)).not.toContain(c.replaceAll('-', ''));
    const again = new Jar();
    expect((await again.password(ra.user.email)).body.secondFactor).toBe('verify');
    expect((await again.call<{ type: string }>('POST', '/v1/auth/second-factor/enrolment', {})).body.type).toBe('urn:certflow:problem:second-factor-enrolled');
    expect(await auditActions(ra.user.id)).toContainEqual({ action: 'second_factor_enrolled', actorUserId: ra.user.id, actorRole: 'ra_operator' });
  });

  it('a code is taken once: the one of enrolment, or of a sign-in, is refused the second time; the next step works', async () => {
    const auditor = await staffWithPassword('auditor');
    const { secret, step } = await enrol(auditor);
    const jar = new Jar();
    expect((await jar.password(auditor.user.email)).body.secondFactor).toBe('verify');
    // The enrolment's code again, within its window: refused.
    const replay = await jar.call<{ type: string }>('POST', '/v1/auth/second-factor/verify', { code: codeAt(secret, step) });
    expect(replay).toMatchObject({ status: 401, body: { type: 'urn:certflow:problem:second-factor-invalid' } });
    // The next step's code (one step of drift is allowed): accepted, with spaces as an app shows it.
    const next = codeAt(secret, step + 1);
    const ok = await jar.call<{ signedIn: boolean; role: string }>('POST', '/v1/auth/second-factor/verify', { code: `${next.slice(0, 3)} ${next.slice(3)}` });
    expect(ok).toMatchObject({ status: 200, body: { signedIn: true, role: 'auditor' } });
    expect((await jar.call('GET', '/v1/me')).status).toBe(200);
    // The same code on another browser: refused.
    const other = new Jar();
    await other.password(auditor.user.email);
    expect((await other.call('POST', '/v1/auth/second-factor/verify', { code: next })).status).toBe(401);
    expect(other.has('certflow_session')).toBe(false);
  });

  it('a recovery code signs in once, and says how many are left', async () => {
    const dra = await staffWithPassword('dra_operator');
    const { recoveryCodes } = await enrol(dra);
    const code = recoveryCodes[3] ?? '';
    const jar = new Jar();
    await jar.password(dra.user.email);
    const used = await jar.call<{ signedIn: boolean; recoveryCodesLeft: number }>('POST', '/v1/auth/second-factor/verify', { code: code.toLowerCase() });
    expect(used).toMatchObject({ status: 200, body: { signedIn: true, recoveryCodesLeft: 9 } });
    const again = new Jar();
    await again.password(dra.user.email);
    expect((await again.call<{ type: string }>('POST', '/v1/auth/second-factor/verify', { code })).body.type).toBe('urn:certflow:problem:second-factor-invalid');
    // Another account's code is not this one's.
    const otherRa = await staffWithPassword();
    const other = await enrol(otherRa);
    expect((await again.call('POST', '/v1/auth/second-factor/verify', { code: other.recoveryCodes[0] })).status).toBe(401);
    expect(await auditActions(dra.user.id)).toContainEqual({ action: 'second_factor_recovery_code_used', actorUserId: dra.user.id, actorRole: 'dra_operator' });
  });

  it('code tries are rate-limited per account', async () => {
    const ra = await staffWithPassword();
    const { secret } = await enrol(ra);
    const jar = new Jar();
    await jar.password(ra.user.email);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await jar.call('POST', '/v1/auth/second-factor/verify', { code: '000000' })).status);
    // 10 tries in 10 minutes: the enrolment's code was the first.
    expect(statuses).toEqual([...Array<number>(9).fill(401), 429]);
    // Even the right code waits now.
    const limited = await jar.call<{ type: string }>('POST', '/v1/auth/second-factor/verify', { code: codeAt(secret, stepNow() + 1) });
    expect(limited).toMatchObject({ status: 429, body: { type: 'urn:certflow:problem:rate-limited' } });
  });

  it('no second factor, no staff access: password login gives staff no token, an old-style session is refused, the cookie expires', async () => {
    const ra = await staffWithPassword();
    const login = await stack.http<{ type: string }>('POST', '/v1/auth/login', { json: { email: ra.user.email, password: PASSWORD } });
    expect(login).toMatchObject({ status: 403, body: { type: 'urn:certflow:problem:second-factor-required' } });
    // A session token of a staff account issued without the second factor (as before this change): nobody.
    const jwt = stack.services.secrets.derive('jwt');
    const old = await accessTokens(jwt, 'session').issue(ra.user.id);
    expect((await fetch(`${stack.baseUrl}/v1/me`, { headers: { cookie: `certflow_session=${old.accessToken}` } })).status).toBe(401);
    const bearer = await accessTokens(jwt).issue(ra.user.id);
    expect((await stack.http('GET', '/v1/me', { key: bearer.accessToken })).status).toBe(401);
    // The second-factor cookie is no session either.
    const pending = await accessTokens(jwt, 'second-factor').issue(ra.user.id);
    expect((await fetch(`${stack.baseUrl}/v1/me`, { headers: { cookie: `certflow_session=${pending.accessToken}` } })).status).toBe(401);
    // No password given on this browser: the code routes say so.
    const fresh = new Jar();
    await fresh.open();
    expect((await fresh.call<{ type: string }>('POST', '/v1/auth/second-factor/verify', { code: '123456' })).body.type).toBe('urn:certflow:problem:second-factor-session-expired');

    // A customer is unaffected: signed in by the password, and password login still gives a token.
    const customer = await stack.account('customer');
    await setPassword(stack.db, customer.user.id, PASSWORD);
    const jar = new Jar();
    expect(await jar.password(customer.user.email)).toMatchObject({ status: 200, body: { signedIn: true, role: 'customer' } });
    expect((await jar.call('GET', '/v1/me')).status).toBe(200);
    expect((await stack.http('POST', '/v1/auth/login', { json: { email: customer.user.email, password: PASSWORD } })).status).toBe(200);
  });
});

describe('staff API keys and the admin', () => {
  it('a staff key works only where an admin allowed it; the grant and the revocation are audited', async () => {
    const ra = await stack.account('ra_operator', { apiAccess: false });
    const refused = await stack.http<{ type: string; status: number }>('GET', '/v1/orders', { key: ra.key });
    expect(refused).toMatchObject({ status: 403, body: { type: 'urn:certflow:problem:staff-api-key-not-allowed', status: 403 } });
    expect(refused.headers.get('content-type')).toContain('application/problem+json');

    // Only an admin grants it; an auditor reads it.
    expect((await stack.http<{ type: string }>('PATCH', `/v1/admin/users/${ra.user.id}`, { key: (await stack.account('ra_operator')).key, json: { staffApiAccess: true } })).body.type).toBe(
      'urn:certflow:problem:role-not-allowed',
    );
    const granted = await stack.http('PATCH', `/v1/admin/users/${ra.user.id}`, { key: admin.key, json: { staffApiAccess: true } });
    expect(granted).toMatchObject({ status: 200, body: { userId: ra.user.id, role: 'ra_operator', staffApiAccess: true, secondFactor: 'none' } });
    expect((await stack.http('GET', '/v1/orders', { key: ra.key })).status).toBe(200);
    const auditor = await stack.account('auditor');
    expect((await stack.http('GET', `/v1/admin/users/${ra.user.id}`, { key: auditor.key })).body).toMatchObject({ staffApiAccess: true });

    expect((await stack.http('PATCH', `/v1/admin/users/${ra.user.id}`, { key: admin.key, json: { staffApiAccess: false } })).status).toBe(200);
    expect((await stack.http('GET', '/v1/orders', { key: ra.key })).status).toBe(403);
    expect(await auditActions(ra.user.id)).toEqual([
      { action: 'staff_api_access_granted', actorUserId: admin.user.id, actorRole: 'admin' },
      { action: 'staff_api_access_revoked', actorUserId: admin.user.id, actorRole: 'admin' },
    ]);

    // A customer's keys need no allowance, and get none.
    const customer = await stack.account('customer');
    expect((await stack.http('GET', '/v1/orders', { key: customer.key })).status).toBe(200);
    expect((await stack.http<{ type: string }>('PATCH', `/v1/admin/users/${customer.user.id}`, { key: admin.key, json: { staffApiAccess: true } })).body.type).toBe('urn:certflow:problem:not-staff');
    expect((await stack.http('PATCH', `/v1/admin/users/${randomUUID()}`, { key: admin.key, json: { staffApiAccess: true } })).status).toBe(404);
    expect((await stack.http('PATCH', `/v1/admin/users/${ra.user.id}`, { key: admin.key, json: { staffApiAccess: 'yes' } })).status).toBe(400);
  });

  it('an admin resets a lost second factor: the next sign-in enrols again; audited', async () => {
    const ra = await staffWithPassword();
    await enrol(ra);
    expect((await stack.http('GET', `/v1/admin/users/${ra.user.id}`, { key: admin.key })).body).toMatchObject({ secondFactor: 'enrolled' });
    const reset = await stack.http('POST', `/v1/admin/users/${ra.user.id}/second-factor/reset`, { key: admin.key });
    expect(reset).toMatchObject({ status: 200, body: { secondFactor: 'none' } });
    expect(await stack.db.select().from(staffRecoveryCodes).where(and(eq(staffRecoveryCodes.userId, ra.user.id)))).toEqual([]);
    const jar = new Jar();
    expect((await jar.password(ra.user.email)).body.secondFactor).toBe('enrol');
    expect((await stack.http<{ type: string }>('POST', `/v1/admin/users/${ra.user.id}/second-factor/reset`, { key: admin.key })).body.type).toBe('urn:certflow:problem:no-second-factor');
    expect(await auditActions(ra.user.id)).toContainEqual({ action: 'second_factor_reset', actorUserId: admin.user.id, actorRole: 'admin' });
  });

  it('the admin CLI makes a staff account whose key is refused until --api-access or `users api-access` allows it', async () => {
    const env = { ...process.env, DATABASE_URL: inject('databaseUrl'), MASTER_KEY: inject('masterKey'), LOG_LEVEL: 'warn' };
    // Asynchronously: the test's API server keeps answering while the CLI runs.
    const cli = (...args: string[]) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile('npm', ['run', '--silent', 'cli', '--', ...args], { cwd: ROOT, env, encoding: 'utf8' }, (err, stdout, stderr) => {
          resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
        });
      });
    const email = `cli-ra-${randomUUID().slice(0, 8)}@example.test`;
    const made = await cli('users', 'create', '--role', 'ra_operator', '--email', email, '--json');
    expect(made.status, made.stderr).toBe(0);
    const { apiKey, apiAccess } = JSON.parse(made.stdout.trim().split('\n').at(-1) ?? '{}') as { apiKey: string; apiAccess: boolean };
    expect(apiAccess).toBe(false);
    expect((await stack.http('GET', '/v1/orders', { key: apiKey })).status).toBe(403);
    const allowed = await cli('users', 'api-access', '--email', email);
    expect(allowed.status, allowed.stderr).toBe(0);
    expect((await stack.http('GET', '/v1/orders', { key: apiKey })).status).toBe(200);

    const direct = await cli('users', 'create', '--role', 'auditor', '--email', `cli-au-${randomUUID().slice(0, 8)}@example.test`, '--api-access', '--json');
    expect(direct.status, direct.stderr).toBe(0);
    const auditorKey = (JSON.parse(direct.stdout.trim().split('\n').at(-1) ?? '{}') as { apiKey: string }).apiKey;
    expect((await stack.http('GET', '/v1/orders', { key: auditorKey })).status).toBe(200);
    // Not for a customer: its keys work anyway.
    const customer = await cli('users', 'create', '--role', 'customer', '--email', `cli-c-${randomUUID().slice(0, 8)}@example.test`, '--org-siret', '73282932000074', '--org-name', 'ACME', '--given-name', 'A', '--surname', 'B', '--api-access');
    expect(customer.status).toBe(1);
    expect(customer.stderr).toContain('--api-access is for staff accounts');
  }, 60_000);
});
