/**
 * ACME orders end to end against a running stack (API, worker, Temporal, a test DNS server and web site): http-01
 * and dns-01 (wildcard) through the CA's domain-validation activity, finalize starting one CertFlow order of the
 * account's product, the certificate chain downloaded; and the refusals: a finalize before validation, a CSR with a
 * name not in the order, a wildcard on a product without, a challenge nobody published.
 */
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { exportJWK, importPKCS8 } from 'jose';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { certificates } from '../../db/schema.js';
import type { OrderView } from '../../domain/order.js';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createApp } from '../../api/app.js';
import { closeServer, listen } from '../../api/server.js';
import { appDepsOn } from '../app-deps.js';
import type { ProblemBody } from '../support.js';
import { AcmeTestClient, newAcmeKey, type AcmeAnswer, type AcmeKey } from './client.js';
import { acmeStackForFile, eabFor, newCsr, renewalWindow } from './support.js';

const ACME = (type: string): string => `urn:ietf:params:acme:error:${type}`;

const file = acmeStackForFile('ACME Orders');
const { dns, site, stack } = file;

interface AcmeOrder {
  status: string;
  identifiers: { type: string; value: string }[];
  authorizations: string[];
  finalize: string;
  certificate?: string;
}
interface Challenge {
  type: string;
  url: string;
  token: string;
  status: string;
  error?: { type: string; detail: string };
}
interface Authz {
  identifier: { value: string };
  status: string;
  wildcard?: boolean;
  challenges: Challenge[];
}

async function accountFor(product: 'SSL' | 'SSL_WILDCARD'): Promise<AcmeTestClient> {
  const c = await new AcmeTestClient(`${stack.baseUrl}/acme/directory`, await newAcmeKey()).init();
  const made = await c.newAccount(await eabFor(stack, file.org.organisationId, product));
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return c;
}

const csrDer = (pem: string): string => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64').toString('base64url');

async function newOrder(c: AcmeTestClient, names: string[]): Promise<{ url: string; order: AcmeOrder; authzs: Authz[] }> {
  const res = await c.post<AcmeOrder>(c.directory.newOrder as string, { identifiers: names.map((value) => ({ type: 'dns', value })) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const authzs: Authz[] = [];
  for (const url of res.body.authorizations) authzs.push((await c.post<Authz>(url, '')).body);
  return { url: res.headers.get('location') as string, order: res.body, authzs };
}

async function pollOrder(c: AcmeTestClient, url: string, done: (o: AcmeOrder) => boolean): Promise<AcmeAnswer<AcmeOrder>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await c.post<AcmeOrder>(url, '');
    if (done(res.body) || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const issuedFor = async (orderId: string) => (await stack.db.select().from(certificates).where(eq(certificates.orderId, orderId))).filter((r) => r.pem !== null);

describe('http-01', () => {
  it('proves the name by the file, finalizes once into a CertFlow order, and serves the chain', async () => {
    const c = await accountFor('SSL');
    const name = 'www.acme-http.fr';
    const { url, order, authzs } = await newOrder(c, [name]);
    expect(order.status).toBe('pending');
    const orderId = url.split('/').pop() as string;
    const [authz] = authzs;
    expect(authz?.challenges.map((ch) => ch.type).sort()).toEqual(['dns-01', 'http-01']);

    // Finalize before validation: orderNotReady, nothing ordered.
    const early = await c.post(order.finalize, { csr: csrDer(newCsr([name])) });
    expect([early.status, early.body.type]).toEqual([403, ACME('orderNotReady')]);
    expect((await stack.http('GET', `/v1/orders/${orderId}`, { key: file.org.admin.key })).status).toBe(404);

    const http = authz?.challenges.find((ch) => ch.type === 'http-01') as Challenge;
    dns.set(name, 'A', '127.0.0.1');
    site.files.set(`/.well-known/acme-challenge/${http.token}`, `${http.token}.${await c.thumbprint()}`);
    const answered = await c.post<Challenge>(http.url, {});
    expect(answered.status, JSON.stringify(answered.body)).toBe(200);
    expect(answered.body.status).toBe('valid');
    expect(answered.headers.get('link')).toContain('rel="up"');
    expect((await c.post<AcmeOrder>(url, '')).body.status).toBe('ready');

    // A CSR with a name not in the order: badCSR, nothing ordered.
    const other = await c.post(order.finalize, { csr: csrDer(newCsr([name, 'api.acme-http.fr'])) });
    expect([other.status, other.body.type]).toEqual([400, ACME('badCSR')]);
    const garbage = await c.post(order.finalize, { csr: 'AAAA' });
    expect([garbage.status, garbage.body.type]).toEqual([400, ACME('badCSR')]);
    expect((await stack.http('GET', `/v1/orders/${orderId}`, { key: file.org.admin.key })).status).toBe(404);

    const csr = csrDer(newCsr([name]));
    const finalized = await c.post<AcmeOrder>(order.finalize, { csr });
    expect(finalized.status, JSON.stringify(finalized.body)).toBe(200);
    expect(finalized.body.status).toBe('processing');
    expect(finalized.headers.get('retry-after')).toBe('2');
    // Finalize again while it runs: the same order, never a second one.
    expect((await c.post<AcmeOrder>(order.finalize, { csr })).status).toBe(200);

    const valid = await pollOrder(c, url, (o) => o.status !== 'processing');
    expect(valid.body.status, JSON.stringify(valid.body)).toBe('valid');
    const cert = await c.post(valid.body.certificate as string, '');
    expect(cert.status).toBe(200);
    expect(cert.headers.get('content-type')).toMatch(/^application\/pem-certificate-chain/);
    const pems = (cert.body as unknown as string).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    expect(pems.length).toBeGreaterThanOrEqual(2);
    const [leaf, issuer] = pems.map((p) => new X509Certificate(p));
    expect(leaf?.subjectAltName).toBe(`DNS:${name}`);
    expect(leaf?.checkIssued(issuer as X509Certificate)).toBe(true);
    expect(leaf?.verify((issuer as X509Certificate).publicKey)).toBe(true);

    // The CertFlow order: the same id, the account's product, completed, in the organisation's list; one certificate.
    const certflow = await stack.http<OrderView>('GET', `/v1/orders/${orderId}`, { key: file.org.admin.key });
    expect(certflow.status).toBe(200);
    expect(certflow.body).toMatchObject({ product: 'SSL', status: 'completed', organisationId: file.org.organisationId, payment: { status: 'purchase_order_accepted' } });
    expect(certflow.body.domains.items).toMatchObject([{ name, status: 'validated', method: 'http' }]);
    expect(certflow.body.caa?.last.permitted).toBe(true);
    const list = await stack.http<{ items: { id: string }[] }>('GET', '/v1/orders', { key: file.org.admin.key });
    expect(list.body.items.map((o) => o.id)).toContain(orderId);
    const timeline = await stack.http<{ items: { kind: string; text: string }[] }>('GET', `/v1/orders/${orderId}/timeline`, { key: file.ra.key });
    expect(timeline.status).toBe(200);
    expect(timeline.body.items.some((e) => e.kind === 'certificate')).toBe(true);
    expect(await issuedFor(orderId)).toHaveLength(1);
    expect((await c.post<AcmeOrder>(order.finalize, { csr })).body.status).toBe('valid');
    expect(await issuedFor(orderId)).toHaveLength(1);

    // The same name again within the BR reuse window: already valid, no challenge to answer.
    const again = await newOrder(c, [name]);
    expect([again.order.status, again.authzs[0]?.status]).toEqual(['ready', 'valid']);
  });

  it('a challenge nobody published is invalid, and so is its order', async () => {
    const c = await accountFor('SSL');
    const { url, authzs } = await newOrder(c, ['nothing.acme-http.fr']);
    const http = authzs[0]?.challenges.find((ch) => ch.type === 'http-01') as Challenge;
    const answered = await c.post<Challenge>(http.url, {});
    expect(answered.status).toBe(200);
    expect(answered.body.status).toBe('invalid');
    expect(answered.body.error?.type).toMatch(/^urn:ietf:params:acme:error:/);
    expect((await c.post<AcmeOrder>(url, '')).body.status).toBe('invalid');
  });
});

describe('dns-01', () => {
  it('proves a wildcard by its TXT record and issues SSL_WILDCARD', async () => {
    const c = await accountFor('SSL_WILDCARD');
    const name = '*.acme-dns.fr';
    const { url, order, authzs } = await newOrder(c, [name]);
    const [authz] = authzs;
    expect(authz).toMatchObject({ identifier: { value: 'acme-dns.fr' }, wildcard: true });
    expect(authz?.challenges.map((ch) => ch.type)).toEqual(['dns-01']);
    const ch = authz?.challenges[0] as Challenge;
    dns.set('_acme-challenge.acme-dns.fr', 'TXT', createHash('sha256').update(`${ch.token}.${await c.thumbprint()}`).digest('base64url'));
    expect((await c.post<Challenge>(ch.url, {})).body.status).toBe('valid');
    const finalized = await c.post<AcmeOrder>(order.finalize, { csr: csrDer(newCsr([name])) });
    expect(finalized.status, JSON.stringify(finalized.body)).toBe(200);
    const valid = await pollOrder(c, url, (o) => o.status !== 'processing');
    expect(valid.body.status, JSON.stringify(valid.body)).toBe('valid');
    const orderId = url.split('/').pop() as string;
    const certflow = await stack.http<OrderView>('GET', `/v1/orders/${orderId}`, { key: file.org.admin.key });
    expect(certflow.body).toMatchObject({ product: 'SSL_WILDCARD', status: 'completed' });
    expect(certflow.body.domains.items).toMatchObject([{ name, status: 'validated', method: 'dns' }]);
  });

  it('refuses a wildcard to an SSL account, and identifiers that are no public DNS name', async () => {
    const c = await accountFor('SSL');
    const wild = await c.post(c.directory.newOrder as string, { identifiers: [{ type: 'dns', value: '*.acme-dns.fr' }] });
    expect([wild.status, wild.body.type]).toEqual([400, ACME('rejectedIdentifier')]);
    const ip = await c.post(c.directory.newOrder as string, { identifiers: [{ type: 'ip', value: '192.0.2.1' }] });
    expect([ip.status, ip.body.type]).toEqual([400, ACME('unsupportedIdentifier')]);
    const internal = await c.post(c.directory.newOrder as string, { identifiers: [{ type: 'dns', value: 'intranet.corp' }] });
    expect([internal.status, internal.body.type]).toEqual([400, ACME('rejectedIdentifier')]);
  });
});

/** A certificate for a name already proved (the authorization is reused), on a key of the test's own. */
async function issued(c: AcmeTestClient, name: string): Promise<{ der: string; key: AcmeKey; orderId: string }> {
  const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const { url, order } = await newOrder(c, [name]);
  expect(order.status).toBe('ready');
  expect((await c.post(order.finalize, { csr: csrDer(newCsr([name], keyPem)) })).status).toBe(200);
  const valid = await pollOrder(c, url, (o) => o.status !== 'processing');
  expect(valid.body.status).toBe('valid');
  const pem = (await c.post(valid.body.certificate as string, '')).body as unknown as string;
  const privateKey = await importPKCS8(keyPem, 'ES256', { extractable: true });
  const { d: _d, ...jwk } = await exportJWK(privateKey);
  return { der: new X509Certificate(pem).raw.toString('base64url'), key: { alg: 'ES256', privateKey, jwk }, orderId: url.split('/').pop() as string };
}

/** An account that proved the name by http-01. */
async function provedAccount(name: string): Promise<AcmeTestClient> {
  const c = await accountFor('SSL');
  const { authzs } = await newOrder(c, [name]);
  const http = authzs[0]?.challenges.find((ch) => ch.type === 'http-01') as Challenge;
  dns.set(name, 'A', '127.0.0.1');
  site.files.set(`/.well-known/acme-challenge/${http.token}`, `${http.token}.${await c.thumbprint()}`);
  expect((await c.post<Challenge>(http.url, {})).body.status).toBe('valid');
  return c;
}

describe('revokeCert', () => {
  it("by the certificate's key, by the ordering account; never by another account, never twice, never on hold", async () => {
    const name = 'rev.acme-http.fr';
    const c = await provedAccount(name);

    const first = await issued(c, name);
    const revokeUrl = c.directory.revokeCert as string;
    const stranger = await accountFor('SSL');
    const foreign = await stranger.post(revokeUrl, { certificate: first.der });
    expect([foreign.status, foreign.body.type]).toEqual([403, ACME('unauthorized')]);
    const hold = await c.post(revokeUrl, { certificate: first.der, reason: 6 });
    expect([hold.status, hold.body.type]).toEqual([400, ACME('badRevocationReason')]);
    const [before] = await issuedFor(first.orderId);
    expect(before?.status).toBe('valid');

    // ARI: in force, the window lies inside the certificate's life, in its last third; unknown certificates are 404.
    const life = new X509Certificate(Buffer.from(first.der, 'base64url'));
    const [notBefore, notAfter] = [Date.parse(life.validFrom), Date.parse(life.validTo)];
    const inForce = await renewalWindow(c.directory, first.der);
    expect(inForce.status).toBe(200);
    expect(inForce.retryAfter).toBe('21600');
    expect(inForce.start).toBeGreaterThan(notBefore + ((notAfter - notBefore) * 3) / 5);
    expect(inForce.end).toBeLessThan(notAfter);
    expect((await fetch(`${c.directory.renewalInfo as string}/AAAA.AAAA`)).status).toBe(404);

    const byKey = await c.post(revokeUrl, { certificate: first.der, reason: 1 }, { jwk: true, key: first.key });
    expect(byKey.status, JSON.stringify(byKey.body)).toBe(200);
    const [after] = await issuedFor(first.orderId);
    expect([after?.status, after?.revocationReason]).toEqual(['revoked', 'keyCompromise']);
    // Revoked: the window has begun already and ends within the hour.
    const revoked = await renewalWindow(c.directory, first.der);
    expect(revoked.start).toBeLessThanOrEqual(Date.now());
    expect(revoked.end).toBeLessThanOrEqual(Date.now() + 3_600_000);
    const twice = await c.post(revokeUrl, { certificate: first.der });
    expect([twice.status, twice.body.type]).toEqual([400, ACME('alreadyRevoked')]);

    const second = await issued(c, name);
    const byAccount = await c.post(revokeUrl, { certificate: second.der, reason: 4 });
    expect(byAccount.status, JSON.stringify(byAccount.body)).toBe(200);
    expect((await issuedFor(second.orderId))[0]?.status).toBe('revoked');
  });
});

describe('renewal advice', () => {
  it('staff ask for early renewal of a serial: ARI moves its window forward with the explanation; customers may not, a selector is needed', async () => {
    const c = await provedAccount('advice.acme-http.fr');
    const cert = await issued(c, 'advice.acme-http.fr');
    const before = await renewalWindow(c.directory, cert.der);
    expect(before.status).toBe(200);
    expect(before.start).toBeGreaterThan(Date.now() + 86_400_000);
    expect(before.explanationURL).toBeUndefined();

    const serial = new X509Certificate(Buffer.from(cert.der, 'base64url')).serialNumber;
    const renewBy = new Date(Date.now() + 3 * 86_400_000);
    const explanationUrl = 'https://certflow.example/incidents/2026-12-06';
    const { driver } = file.org;
    const advice = { serials: [serial], renewBy: renewBy.toISOString(), explanationUrl, reason: 'Linter finding: bad subject encoding (BR 4.9.1.1, 5 days)' };
    const refused = await driver.post<ProblemBody>(file.org.admin.key, '/v1/admin/renewal-advice', advice);
    expect([refused.status, refused.body.type]).toEqual([403, 'urn:certflow:problem:role-not-allowed']);
    const { serials: _serials, ...noSelector } = advice;
    const unselected = await driver.post<ProblemBody>(file.ra.key, '/v1/admin/renewal-advice', noSelector);
    expect([unselected.status, unselected.body.errors?.[0]?.path]).toEqual([422, 'serials']);
    const past = await driver.post<ProblemBody>(file.ra.key, '/v1/admin/renewal-advice', { ...advice, renewBy: new Date(Date.now() - 1000).toISOString() });
    expect([past.status, past.body.errors?.[0]?.path]).toEqual([422, 'renewBy']);
    // Nothing recorded by the refusals: the window still stands.
    expect((await renewalWindow(c.directory, cert.der)).start).toBe(before.start);

    const made = await driver.post<{ matchedCertificates: number }>(file.ra.key, '/v1/admin/renewal-advice', advice);
    expect([made.status, made.body.matchedCertificates], JSON.stringify(made.body)).toEqual([201, 1]);
    const moved = await renewalWindow(c.directory, cert.der);
    expect(moved.start).toBeLessThanOrEqual(Date.now());
    expect(moved.end).toBe(renewBy.getTime());
    expect(moved.explanationURL).toBe(explanationUrl);

    // An advice for every SSL certificate (this file's ARI reads above ran already) leaves out the reissue: issued after it, its window is the usual one.
    const wide = await driver.post<{ matchedCertificates: number }>(file.ra.key, '/v1/admin/renewal-advice', { product: 'SSL', renewBy: renewBy.toISOString(), reason: 'Every SSL certificate' });
    expect(wide.status, JSON.stringify(wide.body)).toBe(201);
    expect(wide.body.matchedCertificates).toBeGreaterThanOrEqual(1);
    const reissue = await issued(c, 'advice.acme-http.fr');
    const next = await renewalWindow(c.directory, reissue.der);
    expect(next.start).toBeGreaterThan(Date.now() + 86_400_000);
    expect(next.explanationURL).toBeUndefined();
  });
});

describe('rate limits', () => {
  it('new orders and failed validations per account: 429 rateLimited with Retry-After, nothing more checked', async () => {
    const limits = { 'acme-new-order': { account: { points: 2, seconds: 3600 } }, 'acme-failed-validation': { account: { points: 1, seconds: 3600 } } };
    const server: Server = await listen(createApp(appDepsOn(stack, { rateLimits: { keyPrefix: randomUUID(), limits } })), '127.0.0.1', 0);
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const c = await new AcmeTestClient(`${base}/acme/directory`, await newAcmeKey()).init();
      expect((await c.newAccount(await eabFor(stack, file.org.organisationId))).status).toBe(201);
      const order = async (name: string) => c.post<AcmeOrder>(c.directory.newOrder as string, { identifiers: [{ type: 'dns', value: name }] });
      const first = await order('fail-one.acme-http.fr');
      const second = await order('fail-two.acme-http.fr');
      expect([first.status, second.status]).toEqual([201, 201]);
      const third = await order('fail-three.acme-http.fr');
      expect([third.status, third.body.type]).toEqual([429, ACME('rateLimited')]);
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);

      const challengeOf = async (o: AcmeAnswer<AcmeOrder>) =>
        (await c.post<Authz>(o.body.authorizations[0] as string, '')).body.challenges.find((ch) => ch.type === 'http-01') as Challenge;
      expect((await c.post<Challenge>((await challengeOf(first)).url, {})).body.status).toBe('invalid');
      const spent = await c.post<Challenge>((await challengeOf(second)).url, {});
      expect([spent.status, spent.body.type]).toEqual([429, ACME('rateLimited')]);
      expect((await challengeOf(second)).status).toBe('pending');
    } finally {
      await closeServer(server);
    }
  });
});
