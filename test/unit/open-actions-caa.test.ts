/**
 * openActions (workflows/definitions.ts) while CAA forbids issuance: every name is proved, the order waits on the
 * customer to change their CAA records, and the domain-validation check (which looks at CAA again) is open to the
 * roles that may ask for it; once CAA permits, or before any refusal, the check is open only for a name to prove.
 */
import { describe, expect, it } from 'vitest';
import { newOrderView, type CaaCheck, type OrderView } from '../../domain/order.js';
import { WAITING_ON_BY_STATUS } from '../../domain/order-state.js';
import { openActions } from '../../workflows/definitions.js';
import { HOLDER, unitOrderInput } from './order-input.js';

const NOW = '2026-12-04T10:00:00.000Z';
const NAMES = ['www.caa-shop.fr'];

const base = newOrderView(
  unitOrderInput(NOW, {
    orderId: '01a2014a-7938-7031-a035-f304dea359c8',
    product: 'SSL',
    durationYears: 1,
    os: 'other',
    certificateRequest: { csrPem: 'csr', publicKeySpki: 'spki', keyDescription: 'ECDSA P-256', dnsNames: NAMES },
    payment: { method: 'transfer', purchaseOrderNumber: null },
    priceCents: 19000,
  }),
);

const check = (permitted: boolean): CaaCheck => ({
  checkedAt: NOW,
  permitted,
  identifiers: ['pki.caa.example'],
  names: NAMES.map((name) => ({ name, relevantDomain: 'caa-shop.fr', records: ['0 issue "other-ca.example"'], permitted, reason: permitted ? 'ok' : 'not this CA' })),
});

/** Paid, file approved, every name proved by DNS, waiting on its domains: what a CAA refusal leaves. */
function provedAndWaiting(caa: OrderView['caa']): OrderView {
  return {
    ...base,
    status: 'awaiting_domain_validation',
    waitingOn: WAITING_ON_BY_STATUS.awaiting_domain_validation,
    checklist: base.checklist.map((c, i) => ({ ...c, status: 'accepted' as const, documentId: `doc-${i}` })),
    payment: { ...base.payment, status: 'received', reference: 'VIR-1' },
    domains: { required: true, items: base.domains.items.map((d) => ({ ...d, status: 'validated' as const, method: 'dns' as const, validatedAt: NOW, evidence: 'TXT seen' })) },
    caa,
  };
}

const holder = { userId: HOLDER, role: 'customer' as const };
const ra = { userId: 'ra-id', role: 'ra_operator' as const };
const auditor = { userId: 'auditor-id', role: 'auditor' as const };

describe('openActions while CAA forbids issuance', () => {
  it('offers the domain-validation check (CAA again) while the last check forbids, to its roles only', () => {
    const refused = provedAndWaiting({ checks: 1, last: check(false) });
    expect(openActions(refused, holder)).toContain('domain_validation');
    expect(openActions(refused, ra)).toContain('domain_validation');
    expect(openActions(refused, auditor)).toEqual([]);
  });

  it('does not offer it once every name is proved and CAA permits, or with no CAA check yet', () => {
    expect(openActions(provedAndWaiting({ checks: 2, last: check(true) }), holder)).not.toContain('domain_validation');
    expect(openActions(provedAndWaiting(undefined), holder)).not.toContain('domain_validation');
  });

  it('is not open on a closed order, whatever its last CAA check said', () => {
    const cancelled = { ...provedAndWaiting({ checks: 1, last: check(false) }), status: 'cancelled' as const, waitingOn: WAITING_ON_BY_STATUS.cancelled };
    expect(openActions(cancelled, holder)).not.toContain('domain_validation');
  });
});
