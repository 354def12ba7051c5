/**
 * Domain validation of a server (TLS) order on the time-skipping server with stub activities: challenges by file and
 * by DNS record (a wildcard only by DNS), the CA's check deciding, an RA operator's validation with evidence, the
 * inactivity clock of the stage, then issuance on the customer's key without a token or an unlock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateRequestInput } from '../../../domain/order.js';
import { startFastStack, type FastStack } from '../stub-activities.js';
import { between, DAY_MS, eventually, OrderRun, refusalOf } from './order-run.js';

let stack: FastStack;
beforeAll(async () => {
  stack = await startFastStack('fast-domains');
});
afterAll(() => stack?.close());

const NAMES = ['acme.test', 'www.acme.test', '*.acme.test'];
const CSR: CertificateRequestInput = { csrPem: '-----BEGIN CERTIFICATE REQUEST-----\n…\n', publicKeySpki: 'customer-spki', keyDescription: 'EC P-256', dnsNames: NAMES };

describe('domain validation', () => {
  it('validates every name (file, DNS record, operator) before payment and issues on the customer key', async () => {
    const run = await OrderRun.start(stack, { product: 'SSL', durationYears: 3, certificateRequest: CSR });
    const created = await run.state();
    expect(created).toMatchObject({ keyOrigin: 'customer_csr', unlock: { required: false }, domains: { required: true } });
    expect(created.checklist.map((c) => c.documentType)).toEqual(['organisation_registration', 'signed_order_form', 'domain_ownership']);
    expect(created.domains.items.map((x) => [x.name, x.status])).toEqual(NAMES.map((n) => [n, 'pending']));

    const submitted = await run.completeAndSubmit();
    const approved = await run.approve();
    expect(approved).toMatchObject({ status: 'awaiting_domain_validation', waitingOn: 'customer' });
    // The customer's turn again: the inactivity clock runs from their last action (the submission).
    expect(approved.deadlines.map((x) => [x.kind, between(submitted.updatedAt, x.at) / DAY_MS])).toEqual([
      ['inactivity_reminder', 7],
      ['inactivity_reminder', 14],
      ['abandonment', 90],
    ]);
    await stack.env.sleep(7 * DAY_MS);
    await eventually(() => (run.templates().includes('evidence_reminder') ? true : undefined), 'the reminder of the domain stage');

    expect(await refusalOf(run.startDomainValidation('http', ['*.acme.test']))).toMatchObject({ kind: 'rule', code: 'wildcard-needs-dns' });
    expect(await refusalOf(run.startDomainValidation('dns', ['other.test']))).toMatchObject({ kind: 'rule', code: 'domain-not-in-order' });
    expect(await refusalOf(run.checkDomains())).toMatchObject({ kind: 'state', code: 'no-challenge' });
    expect(stack.stubs.callsOf('createDomainChallenges')).toHaveLength(0);

    await run.startDomainValidation('http', ['acme.test', 'www.acme.test']);
    const challenged = await run.startDomainValidation('dns', ['*.acme.test']);
    expect(stack.stubs.callsOf('createDomainChallenges').map((c) => c.req)).toEqual([
      { domains: ['acme.test', 'www.acme.test'], method: 'http' },
      { domains: ['*.acme.test'], method: 'dns' },
    ]);
    expect(challenged.domains.items.map((x) => x.challenge?.method)).toEqual(['http', 'http', 'dns']);

    // Nothing published yet: each name shows what the CA did not find.
    const unseen = await run.checkDomains();
    expect(unseen.status).toBe('awaiting_domain_validation');
    expect(unseen.domains.items.map((x) => [x.status, x.lastCheck?.reason])).toEqual([
      ['pending', 'no file found for acme.test'],
      ['pending', 'no file found for www.acme.test'],
      ['pending', 'no TXT record found for *.acme.test'],
    ]);

    stack.stubs.published.add('acme.test').add('*.acme.test');
    const partly = await run.checkDomains();
    expect(partly.domains.items.map((x) => [x.name, x.status, x.method])).toEqual([
      ['acme.test', 'validated', 'http'],
      ['www.acme.test', 'pending', null],
      ['*.acme.test', 'validated', 'dns'],
    ]);
    expect(partly.status).toBe('awaiting_domain_validation');

    // By hand: an RA operator only, naming the evidence.
    expect(await refusalOf(run.recordDomain('www.acme.test', 'whois extract', run.holder))).toMatchObject({ kind: 'forbidden', code: 'operator-only' });
    expect(await refusalOf(run.recordDomain('www.acme.test', ' '))).toMatchObject({ kind: 'rule', code: 'evidence-required' });
    const validated = await run.recordDomain('www.acme.test', 'whois extract 2026-12-01');
    expect(validated).toMatchObject({ status: 'awaiting_payment', waitingOn: 'payment', deadlines: [] });
    expect(validated.domains.items[1]).toMatchObject({ status: 'validated', method: 'operator', evidence: 'whois extract 2026-12-01' });
    expect(await refusalOf(run.startDomainValidation('dns'))).toMatchObject({ kind: 'state', code: 'domains-already-validated' });

    await run.pay();
    const issued = await run.until((o) => o.status === 'awaiting_acceptance');
    expect(stack.stubs.callsOf('personaliseToken', run.id)).toHaveLength(0);
    const [issuance] = stack.stubs.callsOf('issueCertificate', run.id);
    expect(issuance!.req).toMatchObject({ issuanceKey: `order-${run.id}:certificate`, publicKeySpki: 'customer-spki' });
    // The paid term is three years; the certificate itself is as long as the BR schedule allows.
    expect(Math.round(between(issuance!.at, (issuance!.req as { validUntil: string }).validUntil) / DAY_MS)).toBe(3 * 365);

    // No token, no unlock: accepted, the order completes.
    expect(await run.respond('accept')).toMatchObject({ status: 'completed' });
    expect((await run.handle.result()).status).toBe('completed');
    const { life, view } = await run.certificateLife();
    expect(view).toMatchObject({ subscription: true, unblockable: false, current: issued.certificateSerial });
    expect(view.domains.map((x) => [x.name, x.method])).toEqual([
      ['acme.test', 'http'],
      ['www.acme.test', 'operator'],
      ['*.acme.test', 'dns'],
    ]);
    await life.terminate('test over');
  });
});
