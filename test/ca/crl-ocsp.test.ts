/**
 * CRLs and the OCSP responder as a relying party sees them: openssl reads and verifies the CRL of each CA, and
 * `openssl ocsp` queries the responder over HTTP (a node:http server feeding POST bodies to respond()).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createCaWithInternals } from '../../activities/ca/ca.js';
import { createCrlPublisher, latestCrl, type CrlPublisher } from '../../activities/ca/crl.js';
import type { CaId } from '../../lib/pki/ca-ids.js';
import type { IssueRequest } from '../../activities/ca/issue.js';
import type { OcspResponder } from '../../activities/ca/ocsp.js';
import { createRevoker } from '../../activities/ca/revoke.js';
import { randomSerial } from '../../activities/ca/serial.js';
import { openPostgres, type Database, type DatabaseHandle } from '../../db/client.js';
import { certificates } from '../../db/schema.js';
import { insertOrder, oneYearRequest, openssl, opensslAsync, CA_URLS, testSecrets } from './support.js';

let handle: DatabaseHandle;
let db: Database;
let internals: ReturnType<typeof createCaWithInternals>;
let crl: CrlPublisher;
let responder: OcspResponder;
let server: Server;
let ocspUrl: string;

const HOLDER = { givenName: 'Dominique', surname: 'Martin', email: 'dominique.martin@example.test' };

const loadCa = async (id: CaId) => (await internals.hierarchy()).ca(id);
/** A CA's certificate as stored (roots included: the worker holds no root key, the rows hold their certificates). */
const pemOf = async (id: CaId) => (await internals.ca.chainPem({ caId: id })).split(/(?<=-----END CERTIFICATE-----\n)/)[0] ?? '';

beforeAll(async () => {
  handle = openPostgres(inject('databaseUrl'), 4);
  db = handle.db;
  internals = createCaWithInternals({ db, secrets: testSecrets(), ...CA_URLS });
  crl = createCrlPublisher({ db, now: () => new Date(), ca: loadCa });
  // The view's responder: answers signed by each CA's delegated responder key on the certflow-ocsp token.
  responder = { respond: (request) => internals.ca.ocspRespond(request) };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      responder.respond(Buffer.concat(chunks)).then(
        (der) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ocspUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await handle?.close();
});

/** openssl without blocking the event loop (the OCSP server answering it lives in this process), both streams read as one. */
async function run(args: string[], files: Record<string, string | Uint8Array> = {}): Promise<{ status: number | null; out: string }> {
  const result = await opensslAsync(args, files);
  return { status: result.status, out: result.stdout + result.stderr };
}

async function issue(product: IssueRequest['product'] = 'ID_RGS_STAR'): Promise<{ serial: string; pem: string }> {
  return internals.ca.issueCertificate(await oneYearRequest(db, product, HOLDER));
}

const revoker = () => createRevoker({ db, now: () => new Date() });

/** openssl's text of a CRL (DER), checked against the issuing CA and root. */
async function crlText(der: Buffer): Promise<string> {
  const chain = (await pemOf('persons-issuing')) + (await pemOf('persons-root'));
  const read = await run(['crl', '-inform', 'DER', '-in', '{crl.der}', '-CAfile', '{chain.pem}', '-noout', '-text'], { 'crl.der': der, 'chain.pem': chain });
  expect(read.status, read.out).toBe(0);
  expect(read.out).toContain('verify OK');
  return read.out;
}

/** The block of one serial in openssl's CRL text: its revocation date and entry extensions. */
const entryOf = (text: string, serial: string): string | undefined =>
  text.split(/(?=Serial Number: )/).find((block) => block.startsWith(`Serial Number: ${serial.toUpperCase()}`));

const crlNumberOf = (text: string): number => Number(/X509v3 CRL Number:\s*\n\s*(\d+)/.exec(text)?.[1]);

describe('the CRL', () => {
  it('lists a revoked certificate with its reason and a held one as on hold, signed by the issuing CA', async () => {
    const revoked = await issue();
    const held = await issue('ID_RGS_3STAR');
    const unspecified = await issue();
    const valid = await issue();
    await revoker().revoke({ serial: revoked.serial, reason: 'keyCompromise' });
    await revoker().revoke({ serial: held.serial, reason: 'certificateHold' });
    await revoker().revoke({ serial: unspecified.serial, reason: 'unspecified' });

    const info = await crl.publish('persons-issuing');
    const { der, ...current } = await crl.current('persons-issuing');
    expect(current.crlNumber).toBeGreaterThanOrEqual(info.crlNumber);
    const text = await crlText(der);
    expect(text).toContain('Version 2 (0x1)');
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA384');
    expect(text).toMatch(/Issuer: C ?= ?FR, O ?= ?CertFlow, CN ?= ?CertFlow Persons Issuing CA 1/);
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(crlNumberOf(text)).toBe(current.crlNumber);
    expect(entryOf(text, revoked.serial)).toMatch(/X509v3 CRL Reason Code:\s*\n\s*Key Compromise/);
    expect(entryOf(text, held.serial)).toMatch(/X509v3 CRL Reason Code:\s*\n\s*Certificate Hold/);
    // Unspecified carries no reason code at all (BR §7.2.2), and the entry is still well-formed DER.
    expect(entryOf(text, unspecified.serial)).toBeDefined();
    expect(entryOf(text, unspecified.serial)).not.toContain('Reason Code');
    expect(entryOf(text, valid.serial)).toBeUndefined();
    // thisUpdate now, nextUpdate a week later.
    expect(new Date(info.nextUpdate).getTime() - new Date(info.thisUpdate).getTime()).toBe(168 * 3_600_000);
    expect(Math.abs(new Date(info.thisUpdate).getTime() - Date.now())).toBeLessThan(60_000);

    // Released, the held certificate leaves the next CRL; the revoked one stays.
    await revoker().releaseHold({ serial: held.serial });
    const next = await crl.publish('persons-issuing');
    expect(next.crlNumber).toBeGreaterThan(info.crlNumber);
    const nextText = await crlText((await crl.current('persons-issuing')).der);
    expect(entryOf(nextText, held.serial)).toBeUndefined();
    expect(entryOf(nextText, revoked.serial)).toBeDefined();
  });

  it('keeps an expired revoked certificate for one more CRL period, then drops it', async () => {
    const rowFor = async (daysAgo: number) => {
      const serial = randomSerial();
      const notAfter = new Date(Date.now() - daysAgo * 86_400_000);
      await db.insert(certificates).values({
        serial,
        orderId: await insertOrder(db),
        issuanceKey: `test-${randomBytes(8).toString('hex')}`,
        issuingCa: 'persons-issuing',
        profile: 'ID_RGS_STAR',
        subject: 'CN=Expired',
        publicKeySpki: randomBytes(32).toString('base64'),
        notBefore: new Date(notAfter.getTime() - 365 * 86_400_000),
        notAfter,
        pem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
        status: 'revoked',
        revokedAt: new Date(notAfter.getTime() - 86_400_000),
        revocationReason: 'superseded',
      });
      return serial;
    };
    const lately = await rowFor(1);
    const longAgo = await rowFor(30);
    await crl.publish('persons-issuing');
    const text = await crlText((await crl.current('persons-issuing')).der);
    expect(entryOf(text, lately)).toMatch(/Superseded/);
    expect(entryOf(text, longAgo)).toBeUndefined();
  });

  it('numbers CRLs strictly increasingly, even when publishers race', async () => {
    const before = await crl.publish('persons-issuing');
    const racing = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? crl : createCrlPublisher({ db, now: () => new Date(), ca: loadCa })).publish('persons-issuing')));
    const numbers = racing.map((r) => r.crlNumber);
    expect(new Set(numbers).size).toBe(6);
    for (const n of numbers) expect(n).toBeGreaterThan(before.crlNumber);
    const latest = await crl.current('persons-issuing');
    expect(latest.crlNumber).toBeGreaterThanOrEqual(Math.max(...numbers));
    expect(crlNumberOf(await crlText(latest.der))).toBe(latest.crlNumber);
  });

  it('serves the stored CRL until its nextUpdate is within the hour, then publishes a new one', async () => {
    const stored = await crl.current('persons-issuing');
    expect((await crl.current('persons-issuing')).crlNumber).toBe(stored.crlNumber);
    const nearlyStale = new Date(new Date(stored.nextUpdate).getTime() - 30 * 60_000);
    const later = createCrlPublisher({ db, now: () => nearlyStale, ca: loadCa });
    const renewed = await later.current('persons-issuing');
    expect(renewed.crlNumber).toBeGreaterThan(stored.crlNumber);
    expect(renewed.thisUpdate).toBe(new Date(Math.floor(nearlyStale.getTime() / 1000) * 1000).toISOString());
    // And that one is served again as long as it is fresh.
    expect((await later.current('persons-issuing')).crlNumber).toBe(renewed.crlNumber);
  });

  it('has each root’s ARL from the ceremony, empty, signed by the root itself, valid for months (the roots are offline)', async () => {
    for (const root of ['persons-root', 'tls-root', 'seals-root'] as const) {
      const arl = await latestCrl(db, root);
      if (arl === undefined) throw new Error(`no ARL of ${root}`);
      expect(new Date(arl.nextUpdate).getTime() - Date.now()).toBeGreaterThan(300 * 86_400_000);
      // The worker never signs one: it holds no root key.
      await expect(crl.publish(root)).rejects.toThrow(/no issuing CA persons-root|no issuing CA tls-root|no issuing CA seals-root/);
      const read = await run(['crl', '-inform', 'DER', '-in', '{arl.der}', '-CAfile', '{root.pem}', '-noout', '-text'], { 'arl.der': arl.der, 'root.pem': await pemOf(root) });
      expect(read.status, read.out).toBe(0);
      expect(read.out).toContain('verify OK');
      expect(read.out).toContain('No Revoked Certificates.');
      expect(crlNumberOf(read.out)).toBe(arl.crlNumber);
    }
  });

  it('is signed by the TLS issuing CA for TLS certificates', async () => {
    const tls = await crl.current('tls-issuing');
    const chain = (await pemOf('tls-issuing')) + (await pemOf('tls-root'));
    const read = await run(['crl', '-inform', 'DER', '-in', '{crl.der}', '-CAfile', '{chain.pem}', '-noout', '-text'], { 'crl.der': tls.der, 'chain.pem': chain });
    expect(read.out).toContain('verify OK');
    expect(read.out).toMatch(/Issuer: C ?= ?FR, O ?= ?CertFlow, CN ?= ?CertFlow TLS Issuing CA 1/);
    // A CRL signed by another CA does not verify against this chain.
    const persons = await crl.current('persons-issuing');
    const wrong = await run(['crl', '-inform', 'DER', '-in', '{crl.der}', '-CAfile', '{chain.pem}', '-noout'], { 'crl.der': persons.der, 'chain.pem': chain });
    expect(wrong.out).not.toContain('verify OK');
  });
});

describe('the OCSP responder', () => {
  const chainFiles = async () => ({
    'issuing.pem': await pemOf('persons-issuing'),
    'chain.pem': (await pemOf('persons-issuing')) + (await pemOf('persons-root')),
  });
  /** `before` goes ahead of the certificates: openssl reads the CertID digest (-sha256) only there. */
  const ask = async (target: string[], files: Record<string, string>, before: string[] = []) =>
    run(['ocsp', ...before, '-issuer', '{issuing.pem}', ...target, '-url', ocspUrl, '-CAfile', '{chain.pem}', '-resp_text'], {
      ...(await chainFiles()),
      ...files,
    });

  it('answers good for a valid certificate, signed by the issuing CA’s delegated responder, the nonce echoed', async () => {
    const cert = await issue();
    const answer = await ask(['-cert', '{leaf.pem}'], { 'leaf.pem': cert.pem });
    expect(answer.status, answer.out).toBe(0);
    expect(answer.out).toContain('Response verify OK');
    expect(answer.out).toMatch(/leaf\.pem: good/);
    expect(answer.out).toContain('OCSP Response Status: successful (0x0)');
    expect(answer.out).toContain('Response Type: Basic OCSP Response');
    expect(answer.out).toMatch(/Responder Id: [0-9A-F]{40}/);
    expect(answer.out).toContain('OCSP Nonce');
    expect(answer.out).not.toContain('WARNING: no nonce');
    expect(answer.out).toContain(`Serial Number: ${cert.serial.toUpperCase()}`);
    expect(answer.out).toContain('Next Update:');
    // The signer is the responder certificate the response carries, issued by the CA for OCSP signing only.
    expect(answer.out).toMatch(/Subject: C ?= ?FR, O ?= ?CertFlow, CN ?= ?CertFlow Persons Issuing CA 1 OCSP Responder/);
    expect(answer.out).toMatch(/Issuer: C ?= ?FR, O ?= ?CertFlow, CN ?= ?CertFlow Persons Issuing CA 1\n/);
    expect(answer.out).toContain('OCSP Signing');
    expect(answer.out).toContain('OCSP No Check');
  });

  it('answers revoked with time and reason, and a hold as revoked for certificateHold', async () => {
    const revoked = await issue();
    const held = await issue('EIDAS_QUALIFIED');
    await revoker().revoke({ serial: revoked.serial, reason: 'keyCompromise' });
    await revoker().revoke({ serial: held.serial, reason: 'certificateHold' });

    const answer = await ask(['-cert', '{revoked.pem}'], { 'revoked.pem': revoked.pem });
    expect(answer.out).toContain('Response verify OK');
    expect(answer.out).toMatch(/revoked\.pem: revoked/);
    expect(answer.out).toMatch(/Reason: keyCompromise/);
    expect(answer.out).toContain('Revocation Time:');

    const onHold = await ask(['-cert', '{held.pem}'], { 'held.pem': held.pem });
    expect(onHold.out).toContain('Response verify OK');
    expect(onHold.out).toMatch(/held\.pem: revoked/);
    expect(onHold.out).toMatch(/Reason: certificateHold/);

    // Released, it is good again.
    await revoker().releaseHold({ serial: held.serial });
    expect((await ask(['-cert', '{held.pem}'], { 'held.pem': held.pem })).out).toMatch(/held\.pem: good/);
  });

  it('answers with SHA-256 CertIDs too, several certificates in one request', async () => {
    const good = await issue();
    const revoked = await issue();
    await revoker().revoke({ serial: revoked.serial, reason: 'superseded' });
    const answer = await ask(['-cert', '{good.pem}', '-cert', '{revoked.pem}'], { 'good.pem': good.pem, 'revoked.pem': revoked.pem }, ['-sha256']);
    expect(answer.out).toContain('Response verify OK');
    expect(answer.out).toContain('Hash Algorithm: sha256');
    expect(answer.out).toMatch(/good\.pem: good/);
    expect(answer.out).toMatch(/revoked\.pem: revoked/);
    expect(answer.out).toMatch(/Reason: superseded/);
  });

  it('answers unknown for a serial it never issued or only reserved', async () => {
    const neverIssued = randomSerial();
    const answer = await ask(['-serial', `0x${neverIssued}`], {});
    expect(answer.out).toContain('Response verify OK');
    expect(answer.out).toMatch(new RegExp(`0x${neverIssued}: unknown`, 'i'));

    const reserved = await internals.reserveCertificate(await oneYearRequest(db, 'ID_RGS_STAR', HOLDER));
    expect(reserved.status).toBe('reserved');
    const onlyReserved = await ask(['-serial', `0x${reserved.serial}`], {});
    expect(onlyReserved.out).toMatch(new RegExp(`0x${reserved.serial}: unknown`, 'i'));
  });

  it('lets the root answer for the issuing CA it certified', async () => {
    const answer = await run(['ocsp', '-issuer', '{root.pem}', '-cert', '{issuing.pem}', '-url', ocspUrl, '-CAfile', '{root.pem}', '-resp_text'], {
      'root.pem': await pemOf('persons-root'),
      'issuing.pem': await pemOf('persons-issuing'),
    });
    expect(answer.out).toContain('Response verify OK');
    expect(answer.out).toMatch(/issuing\.pem: good/);
  });

  it('answers unauthorized for an issuer that is not one of its CAs', async () => {
    const stranger = openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{k.pem}', '-subj', '/CN=Stranger CA', '-days', '1'], {});
    expect(stranger.status, stranger.stderr).toBe(0);
    const answer = await run(['ocsp', '-issuer', '{stranger.pem}', '-serial', '0x0123', '-url', ocspUrl, '-noverify', '-resp_text'], { 'stranger.pem': stranger.stdout });
    expect(answer.out).toMatch(/Responder Error: unauthorized \(6\)/);
  });

  it('answers malformedRequest to garbage, over HTTP as in process', async () => {
    for (const body of [Buffer.from('not an OCSP request'), Buffer.alloc(0), Buffer.from([0x30, 0x03, 0x30, 0x01, 0x00])]) {
      const response = await fetch(ocspUrl, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body });
      expect(response.status).toBe(200);
      const der = Buffer.from(await response.arrayBuffer());
      const read = await run(['ocsp', '-respin', '{resp.der}', '-resp_text', '-noverify'], { 'resp.der': der });
      expect(read.out).toContain('Responder Error: malformedrequest (1)');
    }
  });
});
