/**
 * A personal certificate's own life after its order completes (workflows/certificate.ts), over HTTP alone on the real
 * stack (Temporal dev server, Postgres, an SMTP server and a Twilio-speaking server): its state and expiry reminders,
 * tenant isolation, a hold seen by the CRL and the OCSP responder then lifted by the RA, the token's unblock by a
 * new SMS code, and a final revocation after which nothing more is accepted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CertificateLifeView } from '../../domain/certificate-life.js';
import type { OrderView } from '../../domain/order.js';
import { opensslAsync, pemBlocks } from '../ca/support.js';
import { startProvidersStack } from '../fakes/providers.js';
import type { FakeSmtp } from '../fakes/smtp.js';
import type { FakeTwilio } from '../fakes/twilio.js';
import { SIRETS, type Account, type TestStack } from '../support.js';
import { Driver } from './drive.js';

let stack: TestStack;
let smtp: FakeSmtp;
let twilio: FakeTwilio;
let holder: Account;
let ra: Account;
let stranger: Account;
let drive: Driver;
/** The certificate the first test revoked for good, for the refusal test after it. */
let revokedSerial: string | undefined;

const DAY_MS = 86_400_000;
const PHONE = '+33612345678';

beforeAll(async () => {
  const started = await startProvidersStack();
  ({ stack, smtp, twilio } = started);
  holder = await stack.account('customer', { phone: PHONE });
  ra = await stack.account('ra_operator');
  // A customer of another organisation.
  stranger = await stack.account('customer', { siret: SIRETS.globex, orgName: 'Globex' });
  drive = new Driver(stack, { holder, ra, dra: await stack.account('dra_operator') });
  return started.close;
});

interface CertificateBody {
  serial: string;
  orderId: string;
  status: string;
  notBefore: string;
  notAfter: string;
  revokedAt: string | null;
  revocationReason: string | null;
  life: CertificateLifeView | null;
}

const getCertificate = (serial: string, key = holder.key) => stack.http<CertificateBody & { type?: string }>('GET', `/v1/certificates/${serial}`, { key });

/** The certificate once its own workflow runs (the order completes first, then starts it as a child). */
async function living(serial: string): Promise<CertificateBody> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await getCertificate(serial);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (res.body.life !== null || Date.now() > deadline) return res.body;
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Polls until `done` holds (mails land asynchronously, after the Update answered). */
async function eventually(done: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The 6-digit code of the next SMS to the holder after `before` messages. */
async function nextSmsCode(before: number): Promise<string> {
  const sms = await twilio.waitFor((m) => m.to === PHONE && twilio.messages.indexOf(m) >= before, 15_000);
  const code = /\b(\d{6})\b/.exec(sms.body)?.[1];
  expect(code, sms.body).toBeDefined();
  return code as string;
}

/** The persons-issuing CA's current CRL as openssl reads it, verified against the published chain. */
async function personsCrl(chain: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/ca/persons-issuing/crl`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/pkix-crl');
  const text = await opensslAsync(['crl', '-inform', 'DER', '-in', '{crl.der}', '-CAfile', '{chain.pem}', '-noout', '-text'], {
    'crl.der': new Uint8Array(await res.arrayBuffer()),
    'chain.pem': chain,
  });
  expect(text.status, text.stderr).toBe(0);
  expect(text.stderr + text.stdout).toContain('verify OK');
  return text.stdout;
}

/** openssl ocsp against the API's responder: the status line of the leaf ("good", "revoked"…) and the whole output. */
async function ocspStatus(leaf: string, issuing: string, root: string): Promise<string> {
  const run = await opensslAsync(['ocsp', '-issuer', '{issuing.pem}', '-cert', '{leaf.pem}', '-url', `${stack.baseUrl}/v1/ocsp`, '-CAfile', '{root.pem}'], {
    'issuing.pem': issuing,
    'leaf.pem': leaf,
    'root.pem': root,
  });
  expect(run.stderr + run.stdout).toContain('Response verify OK');
  return run.stdout;
}

/** An ID RGS* order on a CA-made token, driven to completed over HTTP: evidence, review, payment, acceptance, SMS unlock. */
async function completedTokenOrder(): Promise<{ order: OrderView; serial: string }> {
  // One year: one certificate for the whole term (a persons certificate lives 825 days at most, S/MIME BR §6.3.2, so a
  // three-year term is reissued on the token's key: test/workflows/fast/persons-reissue.test.ts).
  const order = await drive.toAcceptance('ID_RGS_STAR', { durationYears: 1 });
  expect(order.keyOrigin).toBe('token');
  expect((await drive.post(holder.key, `/v1/orders/${order.id}/acceptance`, { decision: 'accept' })).body.status).toBe('awaiting_unlock');
  const smsBefore = twilio.messages.length;
  expect((await drive.post(holder.key, `/v1/orders/${order.id}/unlock-code`)).status).toBe(200);
  const unlock = await drive.post<{ unlockPin: string }>(holder.key, `/v1/orders/${order.id}/unlock-code/verify`, { code: await nextSmsCode(smsBefore) });
  expect(unlock.status, JSON.stringify(unlock.body)).toBe(200);
  expect(unlock.body.unlockPin).toMatch(/^\d{8}$/);
  const done = await drive.until(order.id, (o) => o.status === 'completed');
  const serial = done.certificateSerial as string;
  expect(serial).toMatch(/^[0-9a-f]{16,40}$/);
  return { order: done, serial };
}

/** Does the CRL text list this serial (openssl writes it in upper-case hex)? */
const lists = (crlText: string, serial: string): boolean => crlText.toUpperCase().includes(`SERIAL NUMBER: ${serial.toUpperCase()}`);

describe("an ID RGS* certificate's life after its order", () => {
  it('shows reminders, stays private, holds and releases, unblocks the token, and ends revoked for good', async () => {
    // ---- the order, to completed (token, SMS unlock) ------------------------------------------------------------
    const { order, serial } = await completedTokenOrder();

    // ---- GET /v1/certificates/{serial}: valid, active, no subscription, reminders at 90/30/7 days ----------------
    const cert = await living(serial);
    expect(cert.status).toBe('valid');
    expect(cert.orderId).toBe(order.id);
    const life = cert.life as CertificateLifeView;
    expect(life).not.toBeNull();
    expect(life.status).toBe('active');
    expect(life.subscription).toBe(false);
    expect(life.current).toBe(serial);
    expect(life.unblockable).toBe(true);
    expect(life.deadlines.map((d) => d.kind)).not.toContain('reissue');
    const notAfter = Date.parse(cert.notAfter);
    expect(life.certificates.find((c) => c.serial === serial)?.notAfter).toBe(cert.notAfter);
    const reminders = life.deadlines.filter((d) => d.kind === 'expiry_reminder').map((d) => (notAfter - Date.parse(d.at)) / DAY_MS);
    expect(reminders).toEqual([90, 30, 7]);
    expect(life.deadlines.find((d) => d.kind === 'expiry')?.at).toBe(cert.notAfter);

    // ---- another organisation's customer sees nothing -----------------------------------------------------------
    const foreign = await getCertificate(serial, stranger.key);
    expect(foreign.status).toBe(404);
    expect(foreign.body.type).toBe('urn:certflow:problem:not-found');
    const foreignRevoke = await drive.post(stranger.key, `/v1/certificates/${serial}/revoke`, { reason: 'keyCompromise' });
    expect(foreignRevoke.status).toBe(404);
    expect(foreignRevoke.body.type).toBe('urn:certflow:problem:not-found');
    expect((await drive.post(stranger.key, `/v1/certificates/${serial}/unblock-code`)).status).toBe(404);
    expect((await getCertificate(serial)).body.status).toBe('valid');

    // The leaf and the persons chain, for openssl.
    const download = await stack.http<string>('GET', `/v1/orders/${order.id}/certificate`, { key: holder.key, headers: { accept: 'application/pem-certificate-chain' } });
    expect(download.status).toBe(200);
    const [leaf, issuing, root] = pemBlocks(download.body) as [string, string, string];
    expect(root).toBeDefined();
    const published = await stack.http<string>('GET', '/v1/ca/persons-issuing/chain');
    expect(pemBlocks(published.body)).toEqual([issuing, root]);
    const chain = issuing + root;
    expect(await ocspStatus(leaf, issuing, root)).toContain(': good');

    // ---- the holder puts it on hold -----------------------------------------------------------------------------
    const held = await drive.post<CertificateLifeView>(holder.key, `/v1/certificates/${serial}/revoke`, { reason: 'certificateHold' });
    expect(held.status, JSON.stringify(held.body)).toBe(200);
    expect(held.body.status).toBe('held');
    expect(held.body.certificates.find((c) => c.serial === serial)).toMatchObject({ status: 'held', reason: 'certificateHold' });
    const heldCert = await getCertificate(serial);
    expect(heldCert.body).toMatchObject({ status: 'held', revocationReason: 'certificateHold' });
    expect(heldCert.body.life?.status).toBe('held');
    // A second hold is a state conflict.
    const twice = await drive.post(holder.key, `/v1/certificates/${serial}/revoke`, { reason: 'certificateHold' });
    expect(twice.status).toBe(409);
    expect(twice.body.type).toBe('urn:certflow:problem:already-held');

    const heldCrl = await personsCrl(chain);
    expect(lists(heldCrl, serial), heldCrl).toBe(true);
    const entry = heldCrl.slice(heldCrl.toUpperCase().indexOf(`SERIAL NUMBER: ${serial.toUpperCase()}`)).split(/Serial Number:/i)[1] ?? '';
    expect(entry).toContain('Certificate Hold');
    const heldOcsp = await ocspStatus(leaf, issuing, root);
    expect(heldOcsp).toContain(': revoked');
    expect(heldOcsp).toContain('Reason: certificateHold');

    // A held token is not unblocked: the certificate must be active.
    const heldUnblock = await drive.post(holder.key, `/v1/certificates/${serial}/unblock-code`);
    expect(heldUnblock.status).toBe(409);
    expect(heldUnblock.body.type).toBe('urn:certflow:problem:not-active');

    // The holder cannot lift it; an RA operator does.
    const byHolder = await drive.post(holder.key, `/v1/certificates/${serial}/release-hold`);
    expect(byHolder.status).toBe(403);
    expect((await getCertificate(serial)).body.status).toBe('held');
    const released = await drive.post<CertificateLifeView>(ra.key, `/v1/certificates/${serial}/release-hold`);
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    expect(released.body.status).toBe('active');
    const valid = await getCertificate(serial);
    expect(valid.body).toMatchObject({ status: 'valid', revokedAt: null, revocationReason: null });
    expect(valid.body.life?.status).toBe('active');
    // Nothing left to release.
    const again = await drive.post(ra.key, `/v1/certificates/${serial}/release-hold`);
    expect(again.status).toBe(409);
    expect(again.body.type).toBe('urn:certflow:problem:not-held');

    expect(lists(await personsCrl(chain), serial)).toBe(false);
    expect(await ocspStatus(leaf, issuing, root)).toContain(': good');
    // The holder was told of the hold and of its end.
    await smtp.waitFor((m) => m.envelope.to.includes(holder.user.email) && (m.parsed.subject ?? '').includes(serial) && /suspension levée|hold lifted/i.test(m.parsed.subject ?? ''), 15_000);

    // ---- the token's unblock: a new SMS code, the new PIN once ----------------------------------------------------
    const beforeUnblock = twilio.messages.length;
    const asked = await drive.post<{ expiresAt: string; codesLeftToday: number }>(holder.key, `/v1/certificates/${serial}/unblock-code`);
    expect(asked.status, JSON.stringify(asked.body)).toBe(200);
    expect(Date.parse(asked.body.expiresAt)).toBeGreaterThan(Date.now());
    const code = await nextSmsCode(beforeUnblock);
    // Only the holder asks (the RA may not, nor may it verify).
    expect((await drive.post(ra.key, `/v1/certificates/${serial}/unblock-code`)).status).toBe(403);
    const wrong = await drive.post(holder.key, `/v1/certificates/${serial}/unblock-code/verify`, { code: code === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({ type: 'urn:certflow:problem:wrong-code', attemptsLeft: 2 });
    const right = await drive.post<{ unlockPin: string }>(holder.key, `/v1/certificates/${serial}/unblock-code/verify`, { code });
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect(right.body.unlockPin).toMatch(/^\d{8}$/);
    expect(Object.keys(right.body)).toEqual(['unlockPin']);
    // The code is used up: asking the PIN again needs a new code.
    const reuse = await drive.post(holder.key, `/v1/certificates/${serial}/unblock-code/verify`, { code });
    expect(reuse.status).toBe(409);
    expect(reuse.body.type).toBe('urn:certflow:problem:no-active-code');
    expect(JSON.stringify(reuse.body)).not.toContain(right.body.unlockPin);
    const beforeSecond = twilio.messages.length;
    expect((await drive.post(holder.key, `/v1/certificates/${serial}/unblock-code`)).status).toBe(200);
    const second = await drive.post<{ unlockPin: string }>(holder.key, `/v1/certificates/${serial}/unblock-code/verify`, { code: await nextSmsCode(beforeSecond) });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.unlockPin).toMatch(/^\d{8}$/);
    // One SMS per request, never two.
    expect(twilio.messages.filter((m) => m.to === PHONE).length - beforeUnblock).toBe(2);

    // ---- final revocation: key compromise -------------------------------------------------------------------------
    const revoked = await drive.post<CertificateLifeView>(holder.key, `/v1/certificates/${serial}/revoke`, { reason: 'keyCompromise' });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    expect(revoked.body.deadlines).toEqual([]);
    const gone = await getCertificate(serial);
    expect(gone.body).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });
    expect(gone.body.life?.status).toBe('revoked');
    const finalCrl = await personsCrl(chain);
    expect(lists(finalCrl, serial)).toBe(true);
    expect(finalCrl.slice(finalCrl.toUpperCase().indexOf(`SERIAL NUMBER: ${serial.toUpperCase()}`)).split(/Serial Number:/i)[1]).toContain('Key Compromise');
    expect(await ocspStatus(leaf, issuing, root)).toContain(': revoked');

    // The holder got the revocation mail, with the serial.
    const mail = await smtp.waitFor(
      (m) => m.envelope.to.includes(holder.user.email) && (m.parsed.subject ?? '').includes(serial) && /révoqué|revoked/i.test(m.parsed.subject ?? '') && /compromission|compromise/i.test(m.parsed.text ?? ''),
      15_000,
    );
    expect(mail.parsed.text).toContain(order.id);

    // Nothing more is accepted: 409 with a problem type, whoever asks.
    for (const [key, path, json] of [
      [holder.key, 'revoke', { reason: 'keyCompromise' }],
      [holder.key, 'revoke', { reason: 'certificateHold' }],
      [ra.key, 'revoke', { reason: 'privilegeWithdrawn' }],
      [ra.key, 'release-hold', {}],
      [holder.key, 'unblock-code', {}],
    ] as const) {
      const refused = await drive.post(key, `/v1/certificates/${serial}/${path}`, json);
      expect(refused.status, `${path} ${JSON.stringify(json)}: ${JSON.stringify(refused.body)}`).toBe(409);
      expect(refused.body.type).toMatch(/^urn:certflow:problem:[a-z-]+$/);
    }
    // The first revocation's reason stands.
    expect((await getCertificate(serial)).body.revocationReason).toBe('keyCompromise');
    revokedSerial = serial;
  }, 180_000);

  // Once the certificate's workflow has ended, a refusal carries the certificate's state (SPEC §3), not the order's.
  it("after the end, a refusal names the certificate's state (revoked), not the order's (completed)", async () => {
    expect(revokedSerial, 'the test above revokes a certificate').toBeDefined();
    const refused = await drive.post(holder.key, `/v1/certificates/${revokedSerial as string}/revoke`, { reason: 'keyCompromise' });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/^urn:certflow:problem:/);
    expect(refused.body).toMatchObject({ type: 'urn:certflow:problem:certificate-ended', state: 'revoked', detail: expect.stringMatching(/revoked/) as unknown });
  });

  // The order shows completed before its close path (the completion mail, then the certificate's own workflow) is
  // over; a revocation sent in that gap waits for the certificate's workflow instead of a 409 for a valid certificate.
  it('revokes a certificate sent for revocation the moment its order completes', async () => {
    // One year: one certificate for the whole term (a persons certificate lives 825 days at most, S/MIME BR §6.3.2, so a
  // three-year term is reissued on the token's key: test/workflows/fast/persons-reissue.test.ts).
  const order = await drive.toAcceptance('ID_RGS_STAR', { durationYears: 1 });
    expect((await drive.post(holder.key, `/v1/orders/${order.id}/acceptance`, { decision: 'accept' })).body.status).toBe('awaiting_unlock');
    const smsBefore = twilio.messages.length;
    expect((await drive.post(holder.key, `/v1/orders/${order.id}/unlock-code`)).status).toBe(200);
    const code = await nextSmsCode(smsBefore);
    // The completion mail is refused twice (a relay's temporary 451): the close path takes seconds, the gap is wide.
    const refusedBefore = smtp.refusedCount;
    smtp.failNext(2, 451);
    expect((await drive.post(holder.key, `/v1/orders/${order.id}/unlock-code/verify`, { code })).status).toBe(200);
    const done = await drive.until(order.id, (o) => o.status === 'completed');
    const revoked = await drive.post<CertificateBody>(holder.key, `/v1/certificates/${done.certificateSerial as string}/revoke`, { reason: 'keyCompromise' });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    // The gap was there: the completion mail was refused while the revocation waited.
    expect(smtp.refusedCount - refusedBefore).toBe(2);
  });

  // One message per event (SPEC §4): a token mislaid twice is two holds, and two mails saying it is suspended.
  it('tells the holder of every hold, a second one included', async () => {
    const { serial } = await completedTokenOrder();
    await living(serial);
    const mailsOf = (subject: RegExp) => smtp.messages.filter((m) => m.envelope.to.includes(holder.user.email) && (m.parsed.subject ?? '').includes(serial) && subject.test(m.parsed.subject ?? ''));
    const holdMails = () => mailsOf(/suspendu$|on hold$/i);
    const liftMails = () => mailsOf(/suspension levée|hold lifted/i);
    for (let round = 1; round <= 2; round++) {
      const held = await drive.post<CertificateLifeView>(holder.key, `/v1/certificates/${serial}/revoke`, { reason: 'certificateHold' });
      expect(held.status, JSON.stringify(held.body)).toBe(200);
      expect(held.body.status).toBe('held');
      const released = await drive.post<CertificateLifeView>(ra.key, `/v1/certificates/${serial}/release-hold`);
      expect(released.body.status).toBe('active');
      // Each lift is told (its mail key carries the view's version): once it is in, the hold's mail before it is too.
      await eventually(() => liftMails().length >= round);
    }
    expect(liftMails()).toHaveLength(2);
    expect(holdMails()).toHaveLength(2);
  }, 120_000);
});
