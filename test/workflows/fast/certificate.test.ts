/**
 * A certificate's own life (workflows/certificate.ts) on the time-skipping server with stub activities: expiry
 * reminders on the exact days with a prefilled renewal order, revocation and hold, the token's unblock, and a TLS
 * subscription's reissue, with the domain evidence reused or proved again. The BR dates are read from the
 * schedule (domain/rules/validity.ts), so the expectations hold whatever day the suite runs.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifeStatus } from '../../../domain/certificate-life.js';
import { reissueAt } from '../../../domain/certificate-life.js';
import type { DomainItem, OrderInput } from '../../../domain/order.js';
import type { Actor } from '../../../domain/order-state.js';
import type { RevocationReason } from '../../../domain/revocation.js';
import { tlsValidityDaysAt } from '../../../domain/rules/validity.js';
import type { certificateWorkflow } from '../../../workflows/certificate.js';
import {
  certificateLifeQuery,
  certificateWorkflowId,
  lifeDomainValidationUpdate,
  releaseHoldUpdate,
  revokeUpdate,
  unblockCodeUpdate,
  verifyUnblockUpdate,
} from '../../../workflows/definitions.js';
import { fastOrderInput, startFastStack, type FastStack } from '../stub-activities.js';
import { between, DAY_MS, eventually, refusalOf } from './order-run.js';

let stack: FastStack;
beforeAll(async () => {
  stack = await startFastStack('fast-certificate');
});
afterAll(() => stack?.close());

const MINUTE = 60_000;
const SLACK_MS = 10_000;
const near = (actual: number, expected: number): void => expect(Math.abs(actual - expected)).toBeLessThan(SLACK_MS);
const ra: Actor = { userId: randomUUID(), role: 'ra_operator' };

interface Life {
  readonly order: OrderInput;
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly handle: WorkflowHandle<typeof certificateWorkflow>;
  readonly holder: Actor;
}

/** Starts a certificate's life as the order hands it over: issued now, for `days`. */
async function startLife(opts: { order?: Partial<OrderInput>; days: number; termDays?: number; domains?: DomainItem[] }): Promise<Life> {
  const now = await stack.env.currentTimeMs();
  const order = fastOrderInput(now, opts.order);
  const serial = randomUUID().replaceAll('-', '').slice(0, 16);
  const notAfter = now + opts.days * DAY_MS;
  const handle = await stack.env.client.workflow.start<typeof certificateWorkflow>('certificateWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId: certificateWorkflowId(order.orderId),
    args: [
      {
        order,
        termEndsAt: new Date(now + (opts.termDays ?? opts.days) * DAY_MS).toISOString(),
        first: { serial, notBefore: new Date(now).toISOString(), notAfter: new Date(notAfter).toISOString() },
        domains: opts.domains ?? [],
      },
    ],
  });
  return { order, serial, notBefore: now, notAfter, handle, holder: { userId: order.holder.userId, role: 'customer' } };
}

const state = (life: Life) => life.handle.query(certificateLifeQuery);
const certMails = (life: Life, template?: string) => stack.stubs.mails(life.order.orderId).filter((m) => template === undefined || m.template === template);
const mailsOnceThere = (life: Life, template: string, count: number) =>
  eventually(() => (certMails(life, template).length >= count ? certMails(life, template) : undefined), `${count} ${template} mail(s)`);
const revoke = (life: Life, reason: RevocationReason, serial = life.serial, actor: Actor = life.holder) =>
  life.handle.executeUpdate(revokeUpdate, { args: [{ actor, serial, reason }] });
const statusOnceIt = (life: Life, status: LifeStatus) => eventually(async () => ((await state(life)).status === status ? state(life) : undefined), `status ${status}`);

describe('expiry', () => {
  it('reminds 90, 30 and 7 days before the end with a prefilled renewal order, then the certificate expires', async () => {
    const life = await startLife({ order: { durationYears: 1 }, days: 365 });
    const wf = certificateWorkflowId(life.order.orderId);
    const first = await state(life);
    expect(first).toMatchObject({ status: 'active', subscription: false, unblockable: true, current: life.serial });
    expect(first.deadlines.map((x) => [x.kind, between(x.at, life.notAfter) / DAY_MS])).toEqual([
      ['expiry_reminder', 90],
      ['expiry_reminder', 30],
      ['expiry_reminder', 7],
      ['expiry', 0],
    ]);

    await stack.env.sleep(275 * DAY_MS - MINUTE);
    expect(certMails(life)).toHaveLength(0);
    await stack.env.sleep(2 * MINUTE);
    const [ninety] = await mailsOnceThere(life, 'expiry_reminder', 1);
    near(ninety!.at, life.notAfter - 90 * DAY_MS);
    expect(ninety!.idempotencyKey).toBe(`${wf}:expiry-reminder:${life.serial}:0`);
    expect(ninety!.extra).toMatchObject({ days: 90, notAfter: new Date(life.notAfter).toISOString() });
    expect(JSON.parse(ninety!.extra.renewalOrder as string)).toEqual({ product: 'ID_RGS_STAR', durationYears: 1, os: 'windows', payment: { method: 'transfer' }, termsAccepted: false });

    await stack.env.sleep(60 * DAY_MS);
    const two = await mailsOnceThere(life, 'expiry_reminder', 2);
    near(two[1]!.at, life.notAfter - 30 * DAY_MS);
    await stack.env.sleep(23 * DAY_MS);
    const three = await mailsOnceThere(life, 'expiry_reminder', 3);
    near(three[2]!.at, life.notAfter - 7 * DAY_MS);
    expect(three.map((m) => m.extra.days)).toEqual([90, 30, 7]);
    expect((await state(life)).status).toBe('active');

    const final = await life.handle.result();
    expect(final).toMatchObject({ status: 'expired', deadlines: [] });
    near(Date.parse(final.updatedAt), life.notAfter);
    expect(certMails(life)).toHaveLength(3);
  });

  it('sends no reminder dated before the certificate began: a 20-day certificate gets the 7-day one only', async () => {
    const life = await startLife({ days: 20 });
    expect((await state(life)).deadlines.map((x) => [x.kind, between(x.at, life.notAfter) / DAY_MS])).toEqual([
      ['expiry_reminder', 7],
      ['expiry', 0],
    ]);
    const final = await life.handle.result();
    expect(final.status).toBe('expired');
    expect(certMails(life).map((m) => m.extra.days)).toEqual([7]);
  });
});

describe('revocation', () => {
  it('holds and releases a personal certificate, then revokes it for good', async () => {
    const life = await startLife({ days: 365 });
    const wf = certificateWorkflowId(life.order.orderId);
    expect(await refusalOf(revoke(life, 'keyCompromise', 'feedface'))).toMatchObject({ kind: 'rule', code: 'not-this-certificate' });

    const held = await revoke(life, 'certificateHold');
    expect(held).toMatchObject({ status: 'held', certificates: [{ serial: life.serial, status: 'held', reason: 'certificateHold' }] });
    // A hold does not stop the clock: it may still expire on hold.
    expect(held.deadlines.map((x) => x.kind).at(-1)).toBe('expiry');
    expect(await refusalOf(revoke(life, 'certificateHold'))).toMatchObject({ kind: 'state', code: 'already-held' });
    const heldMail = (await mailsOnceThere(life, 'certificate_held', 1))[0]!;
    expect(heldMail.idempotencyKey).toBe(`${wf}:held:${life.serial}:${held.version}`);

    const release = (actor: Actor) => life.handle.executeUpdate(releaseHoldUpdate, { args: [{ actor, serial: life.serial }] });
    expect(await refusalOf(release(life.holder))).toMatchObject({ kind: 'forbidden', code: 'operator-only' });
    expect(await release(ra)).toMatchObject({ status: 'active', certificates: [{ status: 'valid', revokedAt: null }] });
    expect(stack.stubs.callsOf('releaseHold', life.serial).map((c) => c.req)).toEqual([{ serial: life.serial }]);
    expect(await refusalOf(release(ra))).toMatchObject({ code: 'not-held' });
    // Held a second time: a second mail, keyed by the new version.
    const again = await revoke(life, 'certificateHold');
    await mailsOnceThere(life, 'certificate_held', 2);
    expect(certMails(life, 'certificate_held')[1]!.idempotencyKey).toBe(`${wf}:held:${life.serial}:${again.version}`);

    const revoked = await revoke(life, 'keyCompromise');
    expect(revoked).toMatchObject({ status: 'revoked', certificates: [{ status: 'revoked', reason: 'keyCompromise' }] });
    expect(stack.stubs.callsOf('revokeCertificate', life.serial).map((c) => (c.req as { reason: string }).reason)).toEqual(['certificateHold', 'certificateHold', 'keyCompromise']);
    const [revokedMail] = await mailsOnceThere(life, 'certificate_revoked', 1);
    expect(revokedMail!).toMatchObject({ idempotencyKey: `${wf}:revoked:${life.serial}`, extra: { reason: 'keyCompromise' } });
    expect((await life.handle.result()).status).toBe('revoked');
    expect(certMails(life).map((m) => m.template)).toEqual(['certificate_held', 'hold_released', 'certificate_held', 'certificate_revoked']);
  });

  it('refuses a hold of a TLS certificate: browser-trusted certificates are revoked for good', async () => {
    const life = await startLife({ order: { product: 'SSL' }, days: 100 });
    expect(await refusalOf(revoke(life, 'certificateHold'))).toMatchObject({ kind: 'rule', code: 'reason-not-allowed' });
    expect(stack.stubs.callsOf('revokeCertificate', life.serial)).toHaveLength(0);
    expect(await revoke(life, 'superseded')).toMatchObject({ status: 'revoked' });
    // Revoked for good: the certificate's workflow is over and takes no more request.
    expect((await life.handle.result()).status).toBe('revoked');
    await expect(revoke(life, 'keyCompromise')).rejects.toThrow();
  });
});

describe('the token unblock', () => {
  it('sends a code to the holder only and, when right, has a new PIN set', async () => {
    const life = await startLife({ days: 365 });
    const wf = certificateWorkflowId(life.order.orderId);
    const code = (actor: Actor) => life.handle.executeUpdate(unblockCodeUpdate, { args: [{ actor }] });
    const verify = (digest: string) => life.handle.executeUpdate(verifyUnblockUpdate, { args: [{ actor: life.holder, digest }] });
    expect(await refusalOf(code(ra))).toMatchObject({ kind: 'forbidden', code: 'holder-only' });
    expect(await refusalOf(verify('0'.repeat(64)))).toMatchObject({ code: 'no-active-code' });
    expect(await code(life.holder)).toMatchObject({ codesLeftToday: 4 });
    const [sms] = stack.stubs.callsOf('sendUnlockCode', life.order.orderId);
    expect((sms!.req as { idempotencyKey: string }).idempotencyKey.startsWith(`${wf}:unblock-code:1:`)).toBe(true);
    expect(await verify('0'.repeat(64))).toEqual({ verified: false, attemptsLeft: 2 });
    expect(stack.stubs.callsOf('resetTokenPin', life.order.orderId)).toHaveLength(0);
    expect(await verify(stack.stubs.lastCodeDigest(life.order.orderId))).toEqual({ verified: true, attemptsLeft: 0 });
    expect(stack.stubs.callsOf('resetTokenPin', life.order.orderId).map((c) => c.req)).toEqual([{ orderId: life.order.orderId, resetKey: `${wf}:pin-reset:1` }]);
    await life.handle.terminate('test over');
  });

  it('has nothing to unblock on a key the customer generated', async () => {
    const life = await startLife({ order: { product: 'SERVER_CLIENT' }, days: 365 });
    expect(await refusalOf(life.handle.executeUpdate(unblockCodeUpdate, { args: [{ actor: life.holder }] }))).toMatchObject({ kind: 'state', code: 'no-token' });
    await life.handle.terminate('test over');
  });
});

describe('a TLS subscription', () => {
  const csr = { csrPem: '-----BEGIN CERTIFICATE REQUEST-----\n', publicKeySpki: 'customer-spki', keyDescription: 'EC P-256', dnsNames: ['acme.test', '*.acme.test'] };
  const domains = (validatedAt: number): DomainItem[] =>
    csr.dnsNames.map((name) => ({
      name,
      status: 'validated',
      method: name.startsWith('*.') ? 'dns' : 'http',
      validatedAt: new Date(validatedAt).toISOString(),
      evidence: 'seen',
      challenge: null,
      lastCheck: null,
    }));

  it('reissues before expiry on the same key, reusing evidence the BR still allows', async () => {
    // Nine days: the reissue falls a third of the life before the end, while any period's reuse (10 days or more) holds.
    const now = await stack.env.currentTimeMs();
    const life = await startLife({ order: { product: 'SSL', durationYears: 3, certificateRequest: csr }, days: 9, termDays: 3 * 365, domains: domains(now) });
    const wf = certificateWorkflowId(life.order.orderId);
    const due = reissueAt({ notBefore: new Date(life.notBefore).toISOString(), notAfter: new Date(life.notAfter).toISOString() }, 30 * DAY_MS);
    expect(between(life.notBefore, due)).toBe(6 * DAY_MS);
    expect((await state(life)).deadlines).toEqual([{ kind: 'reissue', at: new Date(due).toISOString() }]);

    await stack.env.sleep(6 * DAY_MS + MINUTE);
    const [renewed] = await mailsOnceThere(life, 'certificate_renewed', 1);
    const [issuance] = stack.stubs.callsOf('issueCertificate', life.order.orderId);
    near(issuance!.at, due);
    expect(issuance!.req).toMatchObject({ issuanceKey: `${wf}:certificate:1`, publicKeySpki: 'customer-spki', validUntil: new Date(life.notBefore + 3 * 365 * DAY_MS).toISOString() });
    expect(stack.stubs.callsOf('createDomainChallenges')).toHaveLength(0);
    const view = await state(life);
    const next = view.certificates[1]!;
    expect(view).toMatchObject({ status: 'active', current: next.serial, problem: null });
    expect(view.certificates.map((c) => c.status)).toEqual(['valid', 'valid']);
    // As long as the schedule allows on the day of the reissue.
    expect(between(next.notBefore, next.notAfter)).toBe(tlsValidityDaysAt(issuance!.at) * DAY_MS);
    expect(renewed!).toMatchObject({ idempotencyKey: `${wf}:renewed:1`, extra: { notAfter: next.notAfter } });
    expect(view.deadlines).toEqual([{ kind: 'reissue', at: new Date(reissueAt(next, 30 * DAY_MS)).toISOString() }]);
    await life.handle.terminate('test over');
  });

  it('keeps the current certificate while CAA forbids the reissue, says why, and reissues at a later check once it permits', async () => {
    const now = await stack.env.currentTimeMs();
    const life = await startLife({ order: { product: 'SSL', durationYears: 3, certificateRequest: csr }, days: 9, termDays: 3 * 365, domains: domains(now) });
    const wf = certificateWorkflowId(life.order.orderId);
    stack.stubs.caaForbidden.add('*.acme.test');
    try {
      await stack.env.sleep(6 * DAY_MS + MINUTE);
      const [told] = await mailsOnceThere(life, 'caa_forbids_issuance', 1);
      expect(told!.idempotencyKey).toBe(`${wf}:caa-forbids:1`);
      expect(String(told!.extra.refusal)).toContain('*.acme.test');
      // Checked right before the reissue, and nothing signed.
      expect(stack.stubs.callsOf('checkCaa', life.order.orderId).map((c) => c.req)).toEqual([
        { checkKey: `${wf}:caa:1:1`, orderId: life.order.orderId, names: ['acme.test', '*.acme.test'] },
      ]);
      expect(stack.stubs.callsOf('issueCertificate', life.order.orderId)).toHaveLength(0);
      const waiting = await state(life);
      expect(waiting.status).toBe('awaiting_revalidation');
      expect(waiting.problem).toMatch(/^caa-forbids-issuance: /);
      expect(waiting.certificates.map((c) => c.status)).toEqual(['valid']);
    } finally {
      stack.stubs.caaForbidden.delete('*.acme.test');
    }
    // The next periodic check (6 hours) looks at CAA again, which now permits: the certificate is reissued.
    await stack.env.sleep(6 * 60 * MINUTE + MINUTE);
    await mailsOnceThere(life, 'certificate_renewed', 1);
    const view = await state(life);
    expect(view).toMatchObject({ status: 'active', problem: null });
    expect(stack.stubs.callsOf('checkCaa', life.order.orderId).map((c) => (c.req as { checkKey: string }).checkKey)).toEqual([`${wf}:caa:1:1`, `${wf}:caa:1:2`]);
    await life.handle.terminate('test over');
  });

  it('has stale names proved again (checked every 6 hours) before the next certificate', async () => {
    // Evidence older than any reuse period the BR ever allowed (398 days).
    const now = await stack.env.currentTimeMs();
    const life = await startLife({ order: { product: 'SSL', durationYears: 3, certificateRequest: csr }, days: 9, termDays: 3 * 365, domains: domains(now - 400 * DAY_MS) });
    const id = life.order.orderId;
    await stack.env.sleep(6 * DAY_MS + MINUTE);
    const [notice] = await mailsOnceThere(life, 'domain_revalidation', 1);
    expect(stack.stubs.callsOf('createDomainChallenges').filter((c) => c.at >= life.notBefore).map((c) => c.req)).toEqual([
      { domains: ['acme.test'], method: 'http' },
      { domains: ['*.acme.test'], method: 'dns' },
    ]);
    const waiting = await state(life);
    expect(waiting).toMatchObject({ status: 'awaiting_revalidation' });
    expect(waiting.domains.map((x) => [x.status, x.challenge?.method])).toEqual([
      ['pending', 'http'],
      ['pending', 'dns'],
    ]);
    expect(notice!.extra).toEqual({ notAfter: new Date(life.notAfter).toISOString() });
    const checkAt = Date.parse(waiting.deadlines.find((x) => x.kind === 'revalidation_check')!.at);
    near(checkAt, notice!.at + 6 * 60 * MINUTE);
    expect(waiting.deadlines.map((x) => x.kind)).toContain('term_end');

    // Only an RA operator records by hand; the customer asks for a check instead.
    const record = (actor: Actor) => life.handle.executeUpdate(lifeDomainValidationUpdate, { args: [{ actor, action: 'record', domain: 'acme.test', evidence: 'whois' }] });
    expect(await refusalOf(record(life.holder))).toMatchObject({ kind: 'forbidden', code: 'operator-only' });

    // Six hours on, the CA looks and finds nothing; the next check finds the record published meanwhile.
    await stack.env.sleep(6 * 60 * MINUTE);
    const checked = await eventually(async () => {
      const v = await state(life);
      return v.domains.every((x) => x.lastCheck !== null) ? v : undefined;
    }, 'the first automatic check');
    expect(checked.domains.map((x) => x.lastCheck?.reason)).toEqual(['no file found for acme.test', 'no TXT record found for *.acme.test']);
    expect(stack.stubs.callsOf('issueCertificate', id)).toHaveLength(0);
    stack.stubs.published.add('acme.test').add('*.acme.test');
    await stack.env.sleep(6 * 60 * MINUTE);
    const renewed = await statusOnceIt(life, 'active');
    expect(renewed.certificates).toHaveLength(2);
    expect(renewed.domains.map((x) => [x.status, x.method])).toEqual([
      ['validated', 'http'],
      ['validated', 'dns'],
    ]);
    const [issuance] = stack.stubs.callsOf('issueCertificate', id);
    near(issuance!.at, notice!.at + 12 * 60 * MINUTE);
    await mailsOnceThere(life, 'certificate_renewed', 1);
    await life.handle.terminate('test over');
  });
});
