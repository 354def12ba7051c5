import { describe, expect, it } from 'vitest';
import { CATALOG, checklistFor, DOCUMENT_LABELS, DURATIONS_YEARS, PRODUCT_CODES, priceOf } from '../../domain/catalog.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import { newOrderView, type OrderInput } from '../../domain/order.js';
import { canSeeOrder, ROLES, type Principal } from '../../domain/roles.js';
import { isE164 } from '../../domain/rules/phone.js';
import { checkSiret } from '../../domain/rules/siret.js';

describe('SIRET', () => {
  it.each(['73282932000074', '44306184100047', '49532885800024'])('accepts %s (Luhn)', (s) => {
    expect(checkSiret(s)).toEqual({ ok: true });
  });
  it('refuses a wrong check digit, a wrong length and letters', () => {
    expect(checkSiret('73282932000075')).toEqual({ ok: false, reason: 'the SIRET check digit (Luhn) is wrong' });
    expect(checkSiret('7328293200007').ok).toBe(false);
    expect(checkSiret('7328293200007A').ok).toBe(false);
  });
  it("takes La Poste's rule: digit sum a multiple of 5, where Luhn fails", () => {
    expect(checkSiret('35600000000001')).toEqual({ ok: true });
    expect(checkSiret('35600000000048')).toEqual({ ok: true });
    expect(checkSiret('35600000000002')).toEqual({ ok: false, reason: 'La Poste SIRET: the digit sum must be a multiple of 5' });
  });
});

describe('E.164', () => {
  it('accepts international numbers and refuses national or malformed ones', () => {
    expect(isE164('+33612345678')).toBe(true);
    expect(isE164('+14155550100')).toBe(true);
    for (const bad of ['0612345678', '+0612345678', '+33 6 12 34 56 78', '+3361234567890123', '+33']) expect(isE164(bad), bad).toBe(false);
  });
});

describe('catalog', () => {
  it('has every product with a price for each duration and labelled documents', () => {
    for (const code of PRODUCT_CODES) {
      const p = CATALOG[code];
      expect(p.code).toBe(code);
      for (const years of DURATIONS_YEARS) expect(priceOf(code, years)).toBeGreaterThan(0);
      for (const doc of p.documents) expect(DOCUMENT_LABELS[doc].fr.length).toBeGreaterThan(0);
    }
  });
  it('keeps the seeds: RGS* 105 € for 3 years; face-to-face and originals for RGS**, RGS*** and eIDAS', () => {
    expect(priceOf('ID_RGS_STAR', 3)).toBe(10500);
    const faceToFace = PRODUCT_CODES.filter((c) => CATALOG[c].proofing === 'face_to_face');
    expect(faceToFace).toEqual(['ID_RGS_2STAR', 'ID_RGS_3STAR', 'EIDAS_QUALIFIED']);
    expect(PRODUCT_CODES.filter((c) => CATALOG[c].originalsByPost)).toEqual(faceToFace);
    expect(PRODUCT_CODES.filter((c) => CATALOG[c].browserTrusted)).toEqual(['SSL', 'SSL_RGS_STAR', 'SSL_WILDCARD']);
  });
  it('adds the mandate and the purchase order when they apply', () => {
    expect(checklistFor('ID_RGS_STAR', { orderedForSomeoneElse: false, paymentMethod: 'card' })).toEqual([
      'holder_identity',
      'organisation_registration',
      'signed_order_form',
    ]);
    expect(checklistFor('SSL', { orderedForSomeoneElse: true, paymentMethod: 'purchase_order' })).toEqual([
      'organisation_registration',
      'signed_order_form',
      'domain_ownership',
      'agent_mandate',
      'purchase_order',
    ]);
  });
});

describe('order view', () => {
  const input: OrderInput = {
    orderId: '01a2014a-7938-7031-a035-f304dea359c7',
    product: 'ID_RGS_STAR',
    durationYears: 1,
    os: 'other',
    partnerCode: null,
    holder: { userId: 'h', email: 'h@example.test', givenName: 'H', surname: 'S', phone: '+33612345678', language: 'fr' },
    orderedByUserId: 'agent',
    organisation: { id: 'org', siret: '73282932000074', name: 'ACME', locality: 'Paris' },
    certificateRequest: null,
    domainOwner: null,
    payment: { method: 'card', purchaseOrderNumber: null },
    priceCents: 5500,
    createdAt: '2026-11-22T10:00:00.000Z',
    deadlines: DEFAULT_DEADLINES,
  };
  it('starts awaiting the customer with every document missing', () => {
    const view = newOrderView(input);
    expect(view.status).toBe('awaiting_evidence');
    expect(view.waitingOn).toBe('customer');
    expect(view.checklist.every((c) => c.status === 'missing')).toBe(true);
    expect(view.checklist.map((c) => c.documentType)).toContain('agent_mandate');
    expect(view.version).toBe(1);
  });
});

describe('who sees an order', () => {
  const order = { holderUserId: 'holder', orderedByUserId: 'agent', organisationId: 'org-a' };
  const who = (role: Principal['role'], userId: string, organisationId: string | null): Principal => ({ role, userId, organisationId });
  it('gives staff everything, agents and org admins their organisation, customers their own', () => {
    for (const role of ROLES) {
      const expected = ['ra_operator', 'dra_operator', 'auditor', 'admin'].includes(role);
      expect(canSeeOrder(who(role, 'someone', 'org-b'), order), role).toBe(expected);
    }
    expect(canSeeOrder(who('agent', 'x', 'org-a'), order)).toBe(true);
    expect(canSeeOrder(who('org_admin', 'x', 'org-a'), order)).toBe(true);
    expect(canSeeOrder(who('customer', 'holder', 'org-a'), order)).toBe(true);
    expect(canSeeOrder(who('customer', 'agent', 'org-a'), order)).toBe(true);
    expect(canSeeOrder(who('customer', 'colleague', 'org-a'), order)).toBe(false);
  });
});
