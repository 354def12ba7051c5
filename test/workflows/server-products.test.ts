/**
 * The server products over HTTP alone, with domain control proved against a real DNS server and a real web site on
 * loopback: CSR checks at creation, DCV by TXT record and by file, an operator's record for a wildcard, payment,
 * issuance, download; then revocation seen in the CRL (openssl crl) and by the OCSP responder (openssl ocsp).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CertificateLifeView } from '../../domain/certificate-life.js';
import type { OrderView } from '../../domain/order.js';
import { openssl, opensslAsync, pemBlocks } from '../ca/support.js';
import { startSite } from '../dcv/web-server.js';
import { startFakeDns } from '../fakes/dns.js';
import type { Account } from '../support.js';
import { Driver } from './drive.js';
import { startedForFile, testStackForFile } from '../stack-for-file.js';

const dns = startedForFile(() => startFakeDns(), 'the DNS server');
const site = startedForFile(() => startSite(), 'the web site');
const stack = testStackForFile(() => ({ env: { DCV_DNS_SERVERS: dns.server, DCV_HTTP_PORT: String(site.port), DCV_TIMEOUT_MS: '3000' } }));
let holder: Account;
let driver: Driver;

beforeAll(async () => {
  holder = await stack.account('customer', { locality: 'Paris' });
  driver = await Driver.withNewActors(stack, holder);
});

/** A fresh key and its CSR, made by openssl as a customer would (the CSR on stdout). */
function newCsr(names: string[], key: 'ec' | 'rsa' | 'rsa:1024' | 'secp256k1' = 'ec'): string {
  const keyArgs: Record<typeof key, string[]> = {
    ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    rsa: ['-newkey', 'rsa:2048'],
    'rsa:1024': ['-newkey', 'rsa:1024'],
    secp256k1: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'],
  };
  const san = names.length > 0 ? ['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`] : [];
  const run = openssl(['req', '-new', ...keyArgs[key], '-nodes', '-keyout', '{key.pem}', '-subj', `/CN=${names[0] ?? 'ACME seal'}`, ...san], {});
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

async function createOrder(product: string, body: Record<string, unknown>) {
  return driver.post<OrderView>(holder.key, '/v1/orders', { product, durationYears: 1, os: 'other', payment: { method: 'transfer' }, termsAccepted: true, ...body });
}

/** Uploads every document the checklist asks for and submits; the RA approves. */
async function fileApproved(order: OrderView): Promise<OrderView> {
  for (const item of order.checklist) expect((await driver.upload(holder.key, order.id, item.documentType)).status).toBe(201);
  expect((await driver.post(holder.key, `/v1/orders/${order.id}/submit`)).status).toBe(200);
  const approved = await driver.post(driver.actors.ra.key, `/v1/orders/${order.id}/review`, { decision: 'approve' });
  expect(approved.status).toBe(200);
  return approved.body as unknown as OrderView;
}

async function payAcceptComplete(orderId: string): Promise<OrderView> {
  expect((await driver.post(driver.actors.ra.key, `/v1/orders/${orderId}/payment`, { status: 'received', reference: `VIR-${orderId.slice(0, 8)}` })).status).toBe(200);
  await driver.until(orderId, (o) => o.status === 'awaiting_acceptance');
  expect((await driver.post(holder.key, `/v1/orders/${orderId}/acceptance`, { decision: 'accept' })).status).toBe(200);
  return driver.until(orderId, (o) => o.status === 'completed');
}

async function download(orderId: string): Promise<{ leaf: string; issuing: string; root: string }> {
  const res = await stack.http<string>('GET', `/v1/orders/${orderId}/certificate`, { key: holder.key, headers: { accept: 'application/pem-certificate-chain' } });
  expect(res.status).toBe(200);
  const [leaf, issuing, root] = pemBlocks(res.body);
  expect(root).toBeDefined();
  return { leaf: leaf as string, issuing: issuing as string, root: root as string };
}

/** The certificate once its own workflow has started (the order completes first, then starts it). */
async function certificateOnceLiving(serial: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await stack.http<{ status: string; life: CertificateLifeView | null }>('GET', `/v1/certificates/${serial}`, { key: holder.key });
    if (res.body.life !== null || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('creation checks the CSR', () => {
  it('names the broken rule of a bad CSR with 422', async () => {
    const ip = await createOrder('SSL', { csr: newCsr(['www.acme-test.fr']), extraSans: ['192.0.2.10'] });
    expect(ip.status).toBe(422);
    expect(ip.body.type).toBe('urn:certflow:problem:name-ip-address');
    const internal = await createOrder('SSL', { csr: newCsr(['intranet.corp']) });
    expect(internal.status).toBe(422);
    expect(internal.body.type).toBe('urn:certflow:problem:name-internal');
    const wildcard = await createOrder('SSL', { csr: newCsr(['*.acme-test.fr']) });
    expect(wildcard.body.type).toBe('urn:certflow:problem:wildcard-not-allowed');
    const garbage = await createOrder('SSL', { csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' });
    expect(garbage.body.type).toBe('urn:certflow:problem:csr-unreadable');
    const small = await createOrder('SSL', { csr: newCsr(['www.acme-test.fr'], 'rsa:1024') });
    expect(small.body.type).toBe('urn:certflow:problem:rsa-key-too-small');
    const curve = await createOrder('SSL', { csr: newCsr(['www.acme-test.fr'], 'secp256k1') });
    expect(curve.body.type).toBe('urn:certflow:problem:key-algorithm-not-allowed');
    const onSuffix = await createOrder('SSL_WILDCARD', { csr: newCsr(['*.co.uk']) });
    expect(onSuffix.body.type).toBe('urn:certflow:problem:wildcard-on-public-suffix');
    // Every problem is listed, not only the first.
    const both = await createOrder('SSL', { csr: newCsr(['intranet.corp'], 'rsa:1024') });
    expect((both.body as unknown as { problems: { rule: string }[] }).problems.map((p) => p.rule).sort()).toEqual(['name-internal', 'rsa-key-too-small']);
    const missing = await createOrder('SSL', {});
    expect(missing.body.type).toBe('urn:certflow:problem:csr-required');
    const onToken = await createOrder('ID_RGS_3STAR', { csr: newCsr([]) });
    expect(onToken.body.type).toBe('urn:certflow:problem:csr-not-accepted');
  });

  it('gives the openssl command instead of generating a server key', async () => {
    const res = await stack.http<{ command: string }>('POST', '/v1/csr-command', { json: { product: 'SSL', commonName: 'www.acme-test.fr', sans: ['acme-test.fr'] } });
    expect(res.status).toBe(200);
    expect(res.body.command).toMatch(/^openssl req -new/);
    expect(res.body.command).toContain('DNS:www.acme-test.fr');
  });
});

describe('an SSL order from CSR to revocation', () => {
  it('validates each name by DNS or by file, issues a BR certificate, and publishes its revocation', async () => {
    const names = ['www.acme-test.fr', 'acme-test.fr'];
    const csr = newCsr(names);
    const created = await createOrder('SSL', { csr, extraSans: ['api.acme-test.fr'], domainOwner: 'ACME' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const order = created.body as unknown as OrderView;
    expect(order.domains.items.map((d) => d.name)).toEqual(['www.acme-test.fr', 'acme-test.fr', 'api.acme-test.fr']);
    expect(order.checklist.map((c) => c.documentType)).toContain('domain_ownership');

    // www by a file on the site, the two others by TXT records.
    const http = await driver.post(holder.key, `/v1/orders/${order.id}/domain-validation`, { action: 'start', method: 'http', domains: ['www.acme-test.fr'] });
    expect(http.status, JSON.stringify(http.body)).toBe(200);
    const viaDns = await driver.post(holder.key, `/v1/orders/${order.id}/domain-validation`, { action: 'start', method: 'dns', domains: ['acme-test.fr', 'api.acme-test.fr'] });
    expect(viaDns.status, JSON.stringify(viaDns.body)).toBe(200);
    const items = (viaDns.body as unknown as OrderView).domains.items;

    // Nothing published yet: the check says what is missing and validates nothing.
    const early = await driver.post(holder.key, `/v1/orders/${order.id}/domain-validation`, { action: 'check' });
    expect(early.status).toBe(200);
    const earlyItems = (early.body as unknown as OrderView).domains.items;
    expect(earlyItems.every((d) => d.status === 'pending' && d.lastCheck !== null)).toBe(true);

    for (const item of items) {
      const c = item.challenge;
      if (c?.http) {
        dns.set(c.authorizationDomain, 'A', '127.0.0.1');
        site.files.set(c.http.path, c.http.content);
      } else if (c?.dns) {
        dns.set(c.dns.recordName, 'TXT', c.dns.value);
      }
    }
    const checked = await driver.post(holder.key, `/v1/orders/${order.id}/domain-validation`, { action: 'check' });
    const validated = (checked.body as unknown as OrderView).domains.items;
    expect(validated.map((d) => [d.name, d.status, d.method])).toEqual([
      ['www.acme-test.fr', 'validated', 'http'],
      ['acme-test.fr', 'validated', 'dns'],
      ['api.acme-test.fr', 'validated', 'dns'],
    ]);
    expect(site.requests.some((r) => r.host?.startsWith('www.acme-test.fr'))).toBe(true);

    const approved = await fileApproved(order);
    expect(approved.status).toBe('awaiting_payment');
    const done = await payAcceptComplete(order.id);
    expect(done.unlock.required).toBe(false);

    const { leaf, issuing, root } = await download(order.id);
    const verify = openssl(['verify', '-purpose', 'sslserver', '-CAfile', '{root.pem}', '-untrusted', '{issuing.pem}', '{leaf.pem}'], { 'root.pem': root, 'issuing.pem': issuing, 'leaf.pem': leaf });
    expect(verify.stdout + verify.stderr).toContain('OK');
    expect(verify.status).toBe(0);
    const text = openssl(['x509', '-in', '{leaf.pem}', '-noout', '-text'], { 'leaf.pem': leaf }).stdout;
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).toContain('2.23.140.1.2.2');
    for (const name of ['www.acme-test.fr', 'acme-test.fr', 'api.acme-test.fr']) expect(text).toContain(`DNS:${name}`);
    // The published chain of the TLS issuing CA is the one it verifies against.
    const published = await stack.http<string>('GET', '/v1/ca/tls-issuing/chain');
    expect(pemBlocks(published.body)).toEqual([issuing, root]);

    // The certificate lives on: a subscription, reissued before expiry.
    const serial = done.certificateSerial as string;
    const life = await certificateOnceLiving(serial);
    expect(life.body.status).toBe('valid');
    expect(life.body.life?.subscription).toBe(true);
    expect(life.body.life?.deadlines.map((d) => d.kind)).toContain('reissue');
    // The serial as openssl prints it (capital hex) names the same certificate.
    const printed = /^serial=([0-9A-F]+)$/m.exec(openssl(['x509', '-in', '{leaf.pem}', '-noout', '-serial'], { 'leaf.pem': leaf }).stdout)?.[1] ?? '';
    expect(printed.toLowerCase()).toBe(serial);
    const byPrinted = await stack.http<{ serial: string; status: string }>('GET', `/v1/certificates/${printed}`, { key: holder.key });
    expect(byPrinted.status).toBe(200);
    expect(byPrinted.body).toMatchObject({ serial, status: 'valid' });

    // No hold for TLS; a key compromise revokes at once.
    const hold = await driver.post(holder.key, `/v1/certificates/${serial}/revoke`, { reason: 'certificateHold' });
    expect(hold.status).toBe(422);
    expect(hold.body.type).toBe('urn:certflow:problem:reason-not-allowed');
    const revoked = await driver.post<CertificateLifeView>(holder.key, `/v1/certificates/${serial}/revoke`, { reason: 'keyCompromise' });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body.status).toBe('revoked');

    const crl = await fetch(`${stack.baseUrl}/v1/ca/tls-issuing/crl`);
    expect(crl.headers.get('content-type')).toContain('application/pkix-crl');
    const crlText = openssl(['crl', '-inform', 'DER', '-in', '{crl.der}', '-CAfile', '{chain.pem}', '-noout', '-text'], {
      'crl.der': new Uint8Array(await crl.arrayBuffer()),
      'chain.pem': issuing + root,
    });
    expect(crlText.stderr + crlText.stdout).toContain('verify OK');
    expect(crlText.stdout.toUpperCase()).toContain(serial.toUpperCase());
    expect(crlText.stdout).toContain('Key Compromise');

    const ocsp = await opensslAsync(['ocsp', '-issuer', '{issuing.pem}', '-cert', '{leaf.pem}', '-url', `${stack.baseUrl}/v1/ocsp`, '-CAfile', '{root.pem}'], {
      'issuing.pem': issuing,
      'leaf.pem': leaf,
      'root.pem': root,
    });
    expect(ocsp.stderr + ocsp.stdout).toContain('Response verify OK');
    expect(ocsp.stdout).toContain(': revoked');

    // The compromised key is refused for ever; a new key is welcome.
    const again = await createOrder('SSL', { csr });
    expect(again.status).toBe(422);
    expect(again.body.type).toBe('urn:certflow:problem:key-compromised');
    expect((await createOrder('SSL', { csr: newCsr(names) })).status).toBe(201);
  });
});

describe('the other server products', () => {
  it('validates a wildcard by an operator record, never by a file', async () => {
    const created = await createOrder('SSL_WILDCARD', { csr: newCsr(['*.wild-acme.fr', 'wild-acme.fr']) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const order = created.body as unknown as OrderView;
    const byFile = await driver.post(holder.key, `/v1/orders/${order.id}/domain-validation`, { action: 'start', method: 'http', domains: ['*.wild-acme.fr'] });
    expect(byFile.status).toBe(422);
    expect(byFile.body.type).toBe('urn:certflow:problem:wildcard-needs-dns');
    const approved = await fileApproved(order);
    expect(approved.status).toBe('awaiting_domain_validation');
    expect(approved.waitingOn).toBe('customer');
    const docId = approved.checklist.find((c) => c.documentType === 'domain_ownership')?.documentId;
    for (const name of ['*.wild-acme.fr', 'wild-acme.fr']) {
      const byHolder = await driver.post(holder.key, `/v1/orders/${order.id}/domain-validation`, { action: 'record', domain: name, evidenceDocumentId: docId });
      expect(byHolder.status).toBe(403);
      const recorded = await driver.post(driver.actors.ra.key, `/v1/orders/${order.id}/domain-validation`, { action: 'record', domain: name, evidenceDocumentId: docId, note: 'registrar WHOIS checked' });
      expect(recorded.status, JSON.stringify(recorded.body)).toBe(200);
    }
    await payAcceptComplete(order.id);
    const { leaf } = await download(order.id);
    expect(openssl(['x509', '-in', '{leaf.pem}', '-noout', '-ext', 'subjectAltName'], { 'leaf.pem': leaf }).stdout).toContain('DNS:*.wild-acme.fr');
  });

  for (const [product, names, usage] of [
    ['SERVER_CLIENT', ['client.acme-test.fr'], 'TLS Web Client Authentication'],
    ['SERVER_SEAL', [], 'Non Repudiation'],
  ] as const) {
    it(`${product}: no domain control, issued for the customer's key`, async () => {
      const created = await createOrder(product, { csr: newCsr([...names], 'rsa') });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const order = created.body as unknown as OrderView;
      expect(order.domains.required).toBe(false);
      expect(order.keyOrigin).toBe('customer_csr');
      const approved = await fileApproved(order);
      expect(approved.status).toBe('awaiting_payment');
      await payAcceptComplete(order.id);
      const { leaf, issuing, root } = await download(order.id);
      const verify = openssl(['verify', '-CAfile', '{root.pem}', '-untrusted', '{issuing.pem}', '{leaf.pem}'], { 'root.pem': root, 'issuing.pem': issuing, 'leaf.pem': leaf });
      expect(verify.status, verify.stderr).toBe(0);
      expect(openssl(['x509', '-in', '{leaf.pem}', '-noout', '-text'], { 'leaf.pem': leaf }).stdout).toContain(usage);
    });
  }

  it('leaves the second of two orders racing with one key needing attention with the CA reason, for the RA to resume or cancel', async () => {
    const csr = newCsr(['race.acme-test.fr']);
    const first = (await createOrder('SERVER_CLIENT', { csr })).body as unknown as OrderView;
    const second = (await createOrder('SERVER_CLIENT', { csr })).body as unknown as OrderView;
    expect(second.status).toBe('awaiting_evidence'); // nothing issued with that key yet: both are taken
    await fileApproved(first);
    await fileApproved(second);
    expect((await driver.post(driver.actors.ra.key, `/v1/orders/${first.id}/payment`, { status: 'received', reference: 'VIR-race-1' })).status).toBe(200);
    await driver.until(first.id, (o) => o.status === 'awaiting_acceptance');
    expect((await driver.post(driver.actors.ra.key, `/v1/orders/${second.id}/payment`, { status: 'received', reference: 'VIR-race-2' })).status).toBe(200);
    const waiting = await driver.until(second.id, (o) => o.status === 'needs_attention');
    expect(waiting).toMatchObject({ waitingOn: 'ra', certificateSerial: null, attention: { step: 'issueCertificate certificate', activity: 'issueCertificate', resumeTo: 'issuing' } });
    expect(waiting.attention?.message).toContain(`already certified for order ${first.id}`);
    // Counted as such in the API's /metrics (the read model), which CertflowOrdersNeedAttention watches.
    const scrape = await (await fetch(`${stack.baseUrl}/metrics`)).text();
    expect(scrape).toMatch(/^certflow_orders\{status="needs_attention",product="SERVER_CLIENT"\} [1-9]/m);
    // Staff only; resumed, the CA refuses again (the key is still taken) and the order waits again.
    expect((await driver.post(holder.key, `/v1/orders/${second.id}/resume`)).status).toBe(403);
    expect((await driver.post<OrderView>(driver.actors.ra.key, `/v1/orders/${second.id}/resume`)).status).toBe(200);
    // Resumed (one version), refused again (another): the answer may already show the second refusal.
    const again = await driver.until(second.id, (o) => o.status === 'needs_attention' && o.version >= waiting.version + 2);
    expect(again.attention?.message).toContain(`already certified for order ${first.id}`);
    expect((await driver.post(driver.actors.ra.key, `/v1/orders/${second.id}/cancel`, { reason: 'same key as another order' })).status).toBe(200);
    await driver.until(second.id, (o) => o.status === 'cancelled');
    // Nothing left to resume.
    const late = await driver.post(driver.actors.ra.key, `/v1/orders/${second.id}/resume`);
    expect(late.status).toBe(409);
  });

  it('a personal certificate for the customer own key skips the token and its unlock', async () => {
    const created = await createOrder('ID_RGS_STAR', { csr: newCsr([]) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const order = created.body as unknown as OrderView;
    expect(order.unlock.required).toBe(false);
    await fileApproved(order);
    const done = await payAcceptComplete(order.id);
    expect(done.status).toBe('completed');
  });
});
