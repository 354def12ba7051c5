/**
 * Customer accounts over HTTP, on the real stack: mails read from a real SMTP server, links followed from them.
 * Every refusal is a problem+json and leaves the rows as they were; no answer tells whether an address has an account.
 */
import { randomInt } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueActivation } from '../../api/account-links.js';
import { createUser, getUser } from '../../db/accounts.js';
import { accountTokens, organisations, users } from '../../db/schema.js';
import { openssl } from '../ca/support.js';
import { startProvidersStack } from '../fakes/providers.js';
import type { FakeSmtp, ReceivedMail } from '../fakes/smtp.js';
import { freshSiret, type HttpResult, type ProblemBody, rgsStarOrder, type TestStack } from '../support.js';
import { ADDRESS, freshEmail, PASSWORD, registration } from './registration.js';

let stack: TestStack;
let smtp: FakeSmtp;

beforeAll(async () => {
  const started = await startProvidersStack();
  ({ stack, smtp } = started);
  return started.close;
});

const problem = (slug: string) => `urn:certflow:problem:${slug}`;


const post = <T = unknown>(path: string, json: unknown, key?: string): Promise<HttpResult<T>> =>
  stack.http<T>('POST', path, { json, ...(key !== undefined ? { key } : {}) });

const templateOf = (m: ReceivedMail): string | undefined => m.parsed.headers.get('x-certflow-template') as string | undefined;
const seen = new Set<ReceivedMail>();
/** The next mail of this template to this address not read by an earlier call. */
async function nextMail(to: string, template: string): Promise<ReceivedMail> {
  const mail = await smtp.waitFor((m) => !seen.has(m) && m.envelope.to.includes(to.toLowerCase()) && templateOf(m) === template);
  seen.add(mail);
  return mail;
}
const mailsTo = (to: string): ReceivedMail[] => smtp.messages.filter((m) => m.envelope.to.includes(to.toLowerCase()));
const tokenIn = (mail: ReceivedMail, page: string): string => {
  const match = new RegExp(`http://127\\.0\\.0\\.1/${page}\\?token=([A-Za-z0-9_-]{43})`).exec(mail.parsed.text ?? '');
  if (match?.[1] === undefined) throw new Error(`no ${page} link in the mail`);
  return match[1];
};
/** Mails are sent after the answer: give one that should not come the time it would take to arrive. */
const settle = () => new Promise((r) => setTimeout(r, 700));

const userRow = async (email: string) => (await stack.db.select().from(users).where(sql`lower(${users.email}) = ${email.toLowerCase()}`))[0];
const tokensOf = (userId: string) => stack.db.select().from(accountTokens).where(eq(accountTokens.userId, userId));

/** Registers, follows the activation link: an active customer. */
async function activeCustomer(over: Record<string, unknown> = {}) {
  const body = registration(over);
  expect((await post('/v1/auth/register', body)).status).toBe(202);
  const token = tokenIn(await nextMail(body.email, 'account_activation'), 'activate');
  expect((await post('/v1/auth/activate', { token })).status).toBe(200);
  return body;
}
const login = (email: string, password: string) =>
  post<{ accessToken: string; tokenType: string; expiresIn: number } & ProblemBody>('/v1/auth/login', { email, password });

describe('registration, activation, login', () => {
  it('a new customer registers, activates from the mail, logs in, sees itself and orders with the token', async () => {
    const body = registration({ language: 'en' });
    const res = await post('/v1/auth/register', body);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'accepted' });

    const pending = await userRow(body.email);
    expect(pending).toMatchObject({ role: 'customer', status: 'pending', givenName: 'Camille', surname: 'Martin', phone: '+33612345678', language: 'en', failedLogins: 0 });
    expect(pending?.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    const [org] = await stack.db.select().from(organisations).where(eq(organisations.siret, body.siret));
    expect(org).toMatchObject({ name: 'Boulangerie Martin', street: '4 rue de la Paix', postalCode: '75002', locality: 'Paris', publicAdministration: false });
    expect(pending?.organisationId).toBe(org?.id);

    const mail = await nextMail(body.email, 'account_activation');
    expect(mail.parsed.subject).toContain('Activate your');
    const token = tokenIn(mail, 'activate');
    const [stored] = await tokensOf(pending!.id);
    // Only the hash is kept; the link lasts 7 days.
    expect(stored?.tokenHash).not.toContain(token);
    expect(stored!.expiresAt.getTime() - Date.now()).toBeGreaterThan(6.9 * 24 * 3_600_000);

    // The right password before activation: told to activate (only someone who knows the password learns it).
    const early = await login(body.email, PASSWORD);
    expect(early.status).toBe(403);
    expect(early.body.type).toBe(problem('account-not-activated'));

    const activated = await post('/v1/auth/activate', { token });
    expect(activated.status).toBe(200);
    expect(activated.body).toEqual({ activated: true });
    expect((await userRow(body.email))?.status).toBe('active');

    const res2 = await login(body.email.toUpperCase(), PASSWORD);
    expect(res2.status).toBe(200);
    expect(res2.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const accessToken = res2.body.accessToken;

    const me = await stack.http('GET', '/v1/me', { key: accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      userId: pending!.id,
      role: 'customer',
      organisationId: org!.id,
      email: body.email,
      givenName: 'Camille',
      surname: 'Martin',
      language: 'en',
    });

    const order = await post<{ holderUserId: string; organisationId: string }>('/v1/orders', rgsStarOrder(), accessToken);
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ holderUserId: pending!.id, organisationId: org!.id });
  });

  it('an API key still works, and GET /v1/me answers it', async () => {
    const admin = await stack.account('admin');
    const me = await stack.http('GET', '/v1/me', { key: admin.key });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId: admin.user.id, role: 'admin', organisationId: null });
    expect((await stack.http('GET', '/v1/me')).status).toBe(401);
  });

  it.each([
    ['too short', { password: 'Court-1!' }],
    ['containing the address', { email: 'jeanne.dupont@example.test', password: 'xx-jeanne.dupont-2026' }],
    ['containing a word of the address', { email: 'jeanne.dupont@example.test', password: 'Dupont-et-fils-2026' }],
    ['among the most common', { password: 'azerty123456' }],
  ])('a weak password (%s) is a 422 weak-password and creates nothing', async (_case, over) => {
    const body = registration({ email: freshEmail('jeanne'), ...over });
    const res = await post<ProblemBody>('/v1/auth/register', body);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.type).toBe(problem('weak-password'));
    expect(await userRow(body.email)).toBeUndefined();
    expect(await stack.db.select().from(organisations).where(eq(organisations.siret, body.siret))).toHaveLength(0);
  });

  it.each([
    ['a wrong SIRET check digit', { siret: '73282932000075' }, 'invalid-siret'],
    ['a SIRET of 13 digits', { siret: '7328293200007' }, 'invalid-siret'],
    ['a phone number not in E.164', { phone: '06 12 34 56 78' }, 'invalid-phone'],
  ])('%s is a 422 and creates nothing', async (_case, over, slug) => {
    const body = registration(over);
    const res = await post<ProblemBody>('/v1/auth/register', body);
    expect(res.status).toBe(422);
    expect(res.body.type).toBe(problem(slug));
    expect(await userRow(body.email)).toBeUndefined();
  });

  it('La Poste SIRETs (digit sum a multiple of 5) are accepted', async () => {
    // An establishment of its own: the shared test one (SIRETS.laPoste) is a public administration elsewhere.
    const establishment = `1${Array.from({ length: 3 }, () => randomInt(10)).join('')}`;
    const sum = [...`356000000${establishment}`].reduce((a, c) => a + Number(c), 0);
    const siret = `356000000${establishment}${(5 - (sum % 5)) % 5}`;
    const body = registration({ siret, organisationName: 'La Poste' });
    expect((await post('/v1/auth/register', body)).status).toBe(202);
    expect(await userRow(body.email)).toMatchObject({ status: 'pending' });
  });

  it('registering with a taken address answers the same, changes nothing, and tells only the owner', async () => {
    const owner = await activeCustomer();
    const before = await userRow(owner.email);
    const fresh = await post('/v1/auth/register', registration());
    const taken = await post('/v1/auth/register', registration({ email: owner.email.toUpperCase(), givenName: 'Mallory', siret: freshSiret() }));
    expect(taken.status).toBe(fresh.status);
    expect(taken.body).toEqual(fresh.body);
    expect(await userRow(owner.email)).toEqual(before);
    const mail = await nextMail(owner.email, 'username_reminder');
    expect(mail.parsed.text).toContain('vous en avez déjà un');
    expect(mail.parsed.text).toContain(owner.email);
  });

  it('registering again while pending sends a new link; the old one stops working', async () => {
    const body = registration();
    await post('/v1/auth/register', body);
    const first = tokenIn(await nextMail(body.email, 'account_activation'), 'activate');
    expect((await post('/v1/auth/register', { ...body, givenName: 'Autre' })).status).toBe(202);
    const second = tokenIn(await nextMail(body.email, 'account_activation'), 'activate');
    expect((await post<ProblemBody>('/v1/auth/activate', { token: first })).status).toBe(410);
    expect((await post('/v1/auth/activate', { token: second })).status).toBe(200);
    // The first registration's data is kept.
    expect(await userRow(body.email)).toMatchObject({ givenName: 'Camille', status: 'active' });
  });

  it('a reused, expired or unknown activation link is the same 410 link-invalid and changes nothing', async () => {
    const body = registration();
    await post('/v1/auth/register', body);
    const token = tokenIn(await nextMail(body.email, 'account_activation'), 'activate');
    const user = (await userRow(body.email))!;
    // Expired: its row says so.
    await stack.db.update(accountTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(accountTokens.userId, user.id));
    const expired = await post<ProblemBody>('/v1/auth/activate', { token });
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ type: problem('link-invalid'), title: 'This link no longer works' });
    expect(await userRow(body.email)).toMatchObject({ status: 'pending' });
    expect((await tokensOf(user.id))[0]?.usedAt).toBeNull();

    const unknown = await post<ProblemBody>('/v1/auth/activate', { token: 'A'.repeat(43) });
    const garbage = await post<ProblemBody>('/v1/auth/activate', { token: 'not-a-token' });
    for (const r of [unknown, garbage]) {
      expect(r.status).toBe(410);
      expect(r.body.type).toBe(expired.body.type);
      expect(r.body.detail).toBe(expired.body.detail);
    }

    // Reused: the first use activates, the second is refused and the account stays as it is.
    const again = registration();
    await post('/v1/auth/register', again);
    const good = tokenIn(await nextMail(again.email, 'account_activation'), 'activate');
    expect((await post('/v1/auth/activate', { token: good })).status).toBe(200);
    const after = await userRow(again.email);
    const reused = await post<ProblemBody>('/v1/auth/activate', { token: good });
    expect(reused.status).toBe(410);
    expect(reused.body.detail).toBe(expired.body.detail);
    expect(await userRow(again.email)).toEqual(after);
  });
});

const orgsWithSiret = (siret: string) => stack.db.select().from(organisations).where(eq(organisations.siret, siret));

/** A fresh EC key's CSR for these names, made by openssl as a customer would. */
function newCsr(names: string[]): string {
  const san = ['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`];
  const run = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{key.pem}', '-subj', `/CN=${names[0]}`, ...san]);
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

describe("the organisation's postal address at registration", () => {
  it('a customer who registers with an address orders a TLS certificate: registers, activates, logs in, creates an SSL order with its CSR (201, not 422)', async () => {
    const body = await activeCustomer({ organisationName: 'Imprimerie Garnier', organisationAddress: { street: ' 21 cours Mirabeau ', postalCode: '13100', locality: ' Aix-en-Provence ' } });
    const [org] = await orgsWithSiret(body.siret);
    // Stored trimmed: the locality becomes the L= of the certificate.
    expect(org).toMatchObject({ street: '21 cours Mirabeau', postalCode: '13100', locality: 'Aix-en-Provence' });
    const { accessToken } = (await login(body.email, PASSWORD)).body;
    const profile = await stack.http('GET', `/v1/organisations/${org?.id}`, { key: accessToken });
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ siret: body.siret, name: 'Imprimerie Garnier', address: { street: '21 cours Mirabeau', postalCode: '13100', locality: 'Aix-en-Provence' } });

    const order = await post<{ id: string; product: string; organisationId: string; holderUserId: string } & ProblemBody>(
      '/v1/orders',
      { product: 'SSL', durationYears: 1, os: 'other', payment: { method: 'transfer' }, termsAccepted: true, csr: newCsr(['www.imprimerie-garnier.fr']) },
      accessToken,
    );
    expect(order.status, JSON.stringify(order.body)).toBe(201);
    expect(order.body).toMatchObject({ product: 'SSL', organisationId: org?.id, holderUserId: (await userRow(body.email))?.id });
  });

  it.each([
    ['no address', { organisationAddress: undefined }, 'organisationAddress'],
    ['a postal code of 4 digits', { organisationAddress: { ...ADDRESS, postalCode: '7502' } }, 'organisationAddress.postalCode'],
    ['a postal code with a space', { organisationAddress: { ...ADDRESS, postalCode: '75 002' } }, 'organisationAddress.postalCode'],
    ['a postal code of no department', { organisationAddress: { ...ADDRESS, postalCode: '00002' } }, 'organisationAddress.postalCode'],
    ['a blank street', { organisationAddress: { ...ADDRESS, street: ' \t ' } }, 'organisationAddress.street'],
    ['a street of 201 characters', { organisationAddress: { ...ADDRESS, street: 'r'.repeat(201) } }, 'organisationAddress.street'],
    ['a blank locality', { organisationAddress: { ...ADDRESS, locality: '' } }, 'organisationAddress.locality'],
    ['an unknown part of the address', { organisationAddress: { ...ADDRESS, country: 'BE' } }, 'organisationAddress'],
  ])('%s is a 400 naming the field, and creates nothing', async (_case, over, path) => {
    const body = registration(over);
    const res = await post<ProblemBody & { errors: { path: string; message: string }[] }>('/v1/auth/register', body);
    expect(res.status).toBe(400);
    expect(res.body.type).toBe(problem('bad-request'));
    expect(res.body.errors.map((e) => e.path)).toContain(path);
    expect(await userRow(body.email)).toBeUndefined();
    expect(await orgsWithSiret(body.siret)).toHaveLength(0);
  });

  it("registering under a known SIRET joins the organisation and leaves its name and address as they are", async () => {
    const first = await activeCustomer({ organisationName: 'Garage Petit' });
    const [before] = await orgsWithSiret(first.siret);
    const second = registration({
      siret: first.siret,
      organisationName: 'Garage Grand',
      organisationAddress: { street: '1 rue du Détournement', postalCode: '59000', locality: 'Lille' },
      email: freshEmail('intrus'),
    });
    expect((await post('/v1/auth/register', second)).status).toBe(202);
    expect(await orgsWithSiret(first.siret)).toEqual([before]);
    expect((await userRow(second.email))?.organisationId).toBe(before?.id);
  });
});

describe('an account created for someone (issueActivation)', () => {
  it('its holder chooses the password with the link; without one, or a weak one, nothing changes and the link stays usable', async () => {
    const owner = await activeCustomer();
    const org = (await userRow(owner.email))!.organisationId;
    const email = freshEmail('dominique');
    const user = await createUser(stack.db, { email, role: 'customer', organisationId: org, givenName: 'Dominique', status: 'pending' });
    await issueActivation({ db: stack.db, notifier: stack.services.notifier, publicBaseUrl: 'http://127.0.0.1' }, user);
    const mail = await nextMail(email, 'account_activation');
    expect(mail.parsed.text).toContain('Bonjour Dominique,');
    const token = tokenIn(mail, 'activate');

    const missing = await post<ProblemBody>('/v1/auth/activate', { token });
    expect(missing.status).toBe(422);
    expect(missing.body.type).toBe(problem('password-required'));
    const weak = await post<ProblemBody>('/v1/auth/activate', { token, password: 'trop-court' });
    expect(weak.status).toBe(422);
    expect(weak.body.type).toBe(problem('weak-password'));
    expect(await userRow(email)).toEqual(user);
    expect((await tokensOf(user.id))[0]?.usedAt).toBeNull();

    expect((await post('/v1/auth/activate', { token, password: 'Glycine-Mauve-2029' })).status).toBe(200);
    expect((await login(email, 'Glycine-Mauve-2029')).status).toBe(200);
  });
});

describe('login', () => {
  it('a wrong password and an unknown address get the same 401', async () => {
    const owner = await activeCustomer();
    const wrong = await login(owner.email, 'Mauvais-Mot-De-Passe-1');
    const unknown = await login(freshEmail('personne'), 'Mauvais-Mot-De-Passe-1');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('content-type')).toContain('application/problem+json');
    expect(wrong.body.type).toBe(problem('invalid-credentials'));
    expect(unknown.status).toBe(wrong.status);
    expect({ ...unknown.body }).toEqual({ ...wrong.body });
    expect((await userRow(owner.email))?.failedLogins).toBe(1);
  });

  it('five wrong passwords lock the account for 15 minutes: even the right one gets the same 401; a success resets the count', async () => {
    const owner = await activeCustomer();
    const first = await login(owner.email, 'Mauvais-Mot-De-Passe-1');
    for (let i = 0; i < 4; i++) expect((await login(owner.email, `Mauvais-Mot-De-Passe-${i + 2}`)).status).toBe(401);
    const locked = await userRow(owner.email);
    expect(locked?.failedLogins).toBe(5);
    const remaining = locked!.lockedUntil!.getTime() - Date.now();
    expect(remaining).toBeGreaterThan(14 * 60_000);
    expect(remaining).toBeLessThanOrEqual(15 * 60_000);

    const right = await login(owner.email, PASSWORD);
    expect(right.status).toBe(401);
    expect({ ...right.body }).toEqual({ ...first.body });
    // A locked account's attempts are not counted or extended.
    expect(await userRow(owner.email)).toEqual(locked);

    // The lock over (its row says so), the right password works and the counters go back to zero.
    await stack.db.update(users).set({ lockedUntil: new Date(Date.now() - 1000) }).where(eq(users.id, locked!.id));
    expect((await login(owner.email, PASSWORD)).status).toBe(200);
    expect(await userRow(owner.email)).toMatchObject({ failedLogins: 0, lockedUntil: null });
  });

  it('more than 10 attempts a minute for one address are a 429 rate-limited, known or not', async () => {
    for (const email of [freshEmail('inconnu'), (await activeCustomer()).email]) {
      for (let i = 0; i < 10; i++) expect((await login(email, 'Mauvais-Mot-De-Passe-9')).status).not.toBe(429);
      const limited = await login(email, PASSWORD);
      expect(limited.status).toBe(429);
      expect(limited.body.type).toBe(problem('rate-limited'));
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('a disabled account cannot log in, and its tokens and keys stop working', async () => {
    const owner = await activeCustomer();
    const { accessToken } = (await login(owner.email, PASSWORD)).body;
    const user = (await userRow(owner.email))!;
    const { issueApiKey } = await import('../../db/accounts.js');
    const key = await issueApiKey(stack.db, user.id);
    expect((await stack.http('GET', '/v1/me', { key: accessToken })).status).toBe(200);
    expect((await stack.http('GET', '/v1/me', { key })).status).toBe(200);

    await stack.db.update(users).set({ status: 'disabled' }).where(eq(users.id, user.id));
    expect((await stack.http('GET', '/v1/me', { key: accessToken })).status).toBe(401);
    expect((await stack.http('GET', '/v1/me', { key })).status).toBe(401);
    const denied = await login(owner.email, PASSWORD);
    expect(denied.status).toBe(403);
    expect(denied.body.type).toBe(problem('account-disabled'));
    // And a wrong password on it says no more than on any account.
    expect((await login(owner.email, 'Mauvais-Mot-De-Passe-1')).body.type).toBe(problem('invalid-credentials'));
  });

  it('a forged or tampered token is a 401', async () => {
    const owner = await activeCustomer();
    const { accessToken } = (await login(owner.email, PASSWORD)).body;
    const user = (await userRow(owner.email))!;
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user.id).setIssuer('certflow').setAudience('certflow-api').setExpirationTime('5m').sign(new Uint8Array(32));
    const [h, p, s] = accessToken.split('.') as [string, string, string];
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    const tampered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const token of [forged, unsigned, tampered]) {
      const res = await stack.http<ProblemBody>('GET', '/v1/me', { key: token });
      expect(res.status).toBe(401);
      expect(res.body.type).toBe(problem('unauthorized'));
    }
  });
});

describe('forgotten username and password', () => {
  it('forgot-username mails the username and organisation only when SIRET and address match; the answer is always the same', async () => {
    const owner = await activeCustomer({ organisationName: 'Fromagerie Lenoir' });
    const match = await post('/v1/auth/forgot-username', { siret: owner.siret, email: owner.email });
    const otherSiret = await post('/v1/auth/forgot-username', { siret: freshSiret(), email: owner.email });
    const unknown = await post('/v1/auth/forgot-username', { siret: owner.siret, email: freshEmail('personne') });
    expect(match.status).toBe(202);
    for (const r of [otherSiret, unknown]) {
      expect(r.status).toBe(202);
      expect(r.body).toEqual(match.body);
    }
    const mail = await nextMail(owner.email, 'username_reminder');
    expect(mail.parsed.text).toContain(`Identifiant : ${owner.email}`);
    expect(mail.parsed.text).toContain(`Fromagerie Lenoir (SIRET ${owner.siret})`);
    await settle();
    expect(mailsTo(owner.email).filter((m) => templateOf(m) === 'username_reminder')).toHaveLength(1);

    const bad = await post<ProblemBody>('/v1/auth/forgot-username', { siret: '12345678901234', email: owner.email });
    expect(bad.status).toBe(422);
    expect(bad.body.type).toBe(problem('invalid-siret'));
  });

  it('a reset link (1 hour, single use) sets a new password and unlocks; a weak one is refused and keeps the link', async () => {
    const owner = await activeCustomer();
    const known = await post('/v1/auth/forgot-password', { email: owner.email });
    const unknown = await post('/v1/auth/forgot-password', { email: freshEmail('personne') });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(known.body);

    const token = tokenIn(await nextMail(owner.email, 'password_reset'), 'reset-password');
    const user = (await userRow(owner.email))!;
    const [row] = (await tokensOf(user.id)).filter((t) => t.purpose === 'password_reset');
    const ttl = row!.expiresAt.getTime() - row!.createdAt.getTime();
    expect(ttl).toBeGreaterThan(59 * 60_000);
    expect(ttl).toBeLessThanOrEqual(60 * 60_000 + 1000);

    // Locked meanwhile.
    for (let i = 0; i < 5; i++) await login(owner.email, `Mauvais-Mot-De-Passe-${i}`);
    expect((await userRow(owner.email))?.lockedUntil).not.toBeNull();

    const weak = await post<ProblemBody>('/v1/auth/reset-password', { token, password: 'court' });
    expect(weak.status).toBe(422);
    expect(weak.body.type).toBe(problem('weak-password'));
    expect(await getUser(stack.db, user.id)).toMatchObject({ passwordHash: user.passwordHash });

    const newPassword = 'Lavande-Bleue-2031?';
    const reset = await post('/v1/auth/reset-password', { token, password: newPassword });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ passwordReset: true });
    expect(await userRow(owner.email)).toMatchObject({ failedLogins: 0, lockedUntil: null });
    const hash = (await userRow(owner.email))?.passwordHash;

    const reused = await post<ProblemBody>('/v1/auth/reset-password', { token, password: 'Un-Autre-Mot-2032!' });
    expect(reused.status).toBe(410);
    expect(reused.body.type).toBe(problem('link-invalid'));
    expect((await userRow(owner.email))?.passwordHash).toBe(hash);

    expect((await login(owner.email, PASSWORD)).status).toBe(401);
    expect((await login(owner.email, newPassword)).status).toBe(200);
  });

  it('an expired reset link is a 410 and changes nothing', async () => {
    const owner = await activeCustomer();
    await post('/v1/auth/forgot-password', { email: owner.email });
    const token = tokenIn(await nextMail(owner.email, 'password_reset'), 'reset-password');
    const before = (await userRow(owner.email))!;
    await stack.db
      .update(accountTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(sql`${accountTokens.userId} = ${before.id} and ${accountTokens.purpose} = 'password_reset'`);
    const res = await post<ProblemBody>('/v1/auth/reset-password', { token, password: 'Lavande-Bleue-2031?' });
    expect(res.status).toBe(410);
    expect(res.body.type).toBe(problem('link-invalid'));
    expect(await userRow(owner.email)).toEqual(before);
  });
});
