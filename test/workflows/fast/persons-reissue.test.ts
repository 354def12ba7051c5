/**
 * A persons certificate's life (workflows/certificate.ts) on the time-skipping server with stub activities: a
 * certificate lives 825 days at most (S/MIME BR §6.3.2, the profile one day under), so a three-year term is served by
 * a reissue on the same token key before the first certificate expires, the last one ending with the paid term.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxValidityDays, PROFILES, SMIME_MAX_VALIDITY_DAYS } from '../../../activities/ca/profiles.js';
import { reissueAt } from '../../../domain/certificate-life.js';
import { termDays } from '../../../domain/catalog.js';
import type { certificateWorkflow } from '../../../workflows/certificate.js';
import { certificateLifeQuery, certificateWorkflowId } from '../../../workflows/definitions.js';
import { fastOrderInput, startFastStack, type FastStack } from '../stub-activities.js';
import { between, DAY_MS, eventually } from './order-run.js';

let stack: FastStack;
beforeAll(async () => {
  stack = await startFastStack('fast-persons-reissue');
});
afterAll(() => stack?.close());

const MINUTE = 60_000;

describe('a three-year persons certificate', () => {
  it('is issued for at most 825 days and reissued on the same token key before it expires, the last one ending with the term', async () => {
    const now = await stack.env.currentTimeMs();
    const order = fastOrderInput(now, { product: 'ID_RGS_2STAR', durationYears: 3 });
    const wf = certificateWorkflowId(order.orderId);
    const tokenKey = `spki-of-token-${order.orderId}`;
    const termEndsAt = new Date(now + termDays(3) * DAY_MS).toISOString();
    // The order's issuance, as the stub CA answers it: capped by the profile, not the term.
    const days = maxValidityDays(PROFILES.ID_RGS_2STAR, new Date(now));
    expect(days).toBeLessThanOrEqual(SMIME_MAX_VALIDITY_DAYS);
    const first = { serial: randomUUID().replaceAll('-', '').slice(0, 16), notBefore: new Date(now).toISOString(), notAfter: new Date(now + days * DAY_MS).toISOString() };
    stack.stubs.knowCertificate(`order-${order.orderId}:certificate`, { ...first, pem: '', issuingCa: 'stub-ca', subject: 'CN=Camille Durand' }, tokenKey);
    const handle = await stack.env.client.workflow.start<typeof certificateWorkflow>('certificateWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: wf,
      args: [{ order, termEndsAt, first, domains: [] }],
    });

    const due = reissueAt(first, 30 * DAY_MS);
    const started = await handle.query(certificateLifeQuery);
    expect(started.deadlines).toEqual([{ kind: 'reissue', at: new Date(due).toISOString() }]);

    await stack.env.sleep(between(now, due) + MINUTE);
    const [renewed] = await eventually(() => {
      const mails = stack.stubs.mails(order.orderId).filter((m) => m.template === 'certificate_renewed');
      return mails.length > 0 ? mails : undefined;
    }, 'certificate_renewed mail');
    const [issuance] = stack.stubs.callsOf('issueCertificate', order.orderId);
    expect(issuance!.req).toMatchObject({ issuanceKey: `${wf}:certificate:1`, publicKeySpki: tokenKey, validUntil: termEndsAt });
    // No new token: the same key, read from the current certificate.
    expect(stack.stubs.callsOf('personaliseToken', order.orderId)).toHaveLength(0);

    const view = await handle.query(certificateLifeQuery);
    const next = view.certificates[1]!;
    expect(view).toMatchObject({ status: 'active', current: next.serial, problem: null });
    expect(view.certificates.map((c) => c.status)).toEqual(['valid', 'valid']);
    for (const c of view.certificates) expect(between(c.notBefore, c.notAfter)).toBeLessThanOrEqual(SMIME_MAX_VALIDITY_DAYS * DAY_MS);
    expect(next.notAfter).toBe(termEndsAt);
    expect(renewed!).toMatchObject({ idempotencyKey: `${wf}:renewed:1`, extra: { notBefore: next.notBefore, notAfter: next.notAfter } });
    // The last certificate of the term: no reissue after it, the reminders and the expiry instead.
    expect(view.deadlines.map((d) => d.kind)).not.toContain('reissue');
    expect(view.deadlines.at(-1)).toEqual({ kind: 'expiry', at: termEndsAt });
    await handle.terminate('test over');
  });
});
