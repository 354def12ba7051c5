import { describe, expect, it } from 'vitest';
import { newOrderView, ORDER_STATUSES, PRE_ISSUANCE_STATUSES, type OrderInput, type OrderStatus } from '../../domain/order.js';
import { HOLDER, unitOrderInput } from './order-input.js';
import { decide, nextAfterApproval, WAITING_ON_BY_STATUS, type Actor, type OrderEvent, type OrderEventType, type OrderState } from '../../domain/order-state.js';

const NOW = '2026-11-22T10:00:00.000Z';
const holder: Actor = { userId: HOLDER, role: 'customer' };
const ra: Actor = { userId: 'ra-id', role: 'ra_operator' };
const dra: Actor = { userId: 'dra-id', role: 'dra_operator' };

const input = (over: Partial<OrderInput> = {}): OrderInput => unitOrderInput(NOW, over);

/** An RGS*** order (face-to-face, originals, SMS unlock) paid by card, at every status, as it would be there. */
function sample(status: OrderStatus): OrderState {
  const base = newOrderView(input());
  const uploaded = base.checklist.map((c, i) => ({ ...c, status: 'uploaded' as const, documentId: `doc-${i}` }));
  const accepted = uploaded.map((c) => ({ ...c, status: 'accepted' as const }));
  const at = (s: Partial<OrderState>): OrderState => ({ ...base, ...s, status, waitingOn: WAITING_ON_BY_STATUS[status] });
  const f2fDone = { required: true, done: true, meetingDate: '2026-11-20' };
  const paid = { ...base.payment, status: 'received' as const, reference: 'CB-1' };
  switch (status) {
    case 'awaiting_evidence':
      return at({ checklist: uploaded });
    case 'under_review':
      return at({ checklist: uploaded });
    case 'approved':
    case 'awaiting_face_to_face':
      return at({ checklist: accepted });
    case 'awaiting_originals':
      return at({ checklist: accepted, faceToFace: f2fDone });
    case 'originals_overdue':
      return at({ checklist: accepted, faceToFace: f2fDone, originals: { required: true, received: false, overdue: true } });
    case 'awaiting_payment':
      return at({ checklist: accepted, faceToFace: f2fDone, originals: { required: true, received: true, overdue: false } });
    case 'issuing':
      return at({ checklist: accepted, faceToFace: f2fDone, originals: { required: true, received: true, overdue: false }, payment: paid });
    case 'awaiting_acceptance':
    case 'awaiting_unlock':
    case 'completed':
    case 'refused':
      return at({
        checklist: accepted,
        faceToFace: f2fDone,
        originals: { required: true, received: true, overdue: false },
        payment: paid,
        certificateSerial: '7f3a',
        acceptance: status === 'awaiting_acceptance' ? 'pending' : status === 'refused' ? 'refused' : 'accepted',
      });
    case 'on_hold':
      return { ...at({ checklist: uploaded }), heldStatus: 'awaiting_evidence', holdComment: 'checking' };
    case 'needs_attention':
      return {
        ...at({ checklist: uploaded }),
        attention: { step: 'sendOrderMail confirmation', activity: 'sendOrderMail', message: 'message without a recipient', since: NOW, resumeTo: 'awaiting_evidence' },
      };
    default:
      return at({});
  }
}

const EVENTS: Record<OrderEventType, { event: OrderEvent; actor: Actor }> = {
  evidence_uploaded: { event: { type: 'evidence_uploaded', documentType: 'holder_identity', documentId: 'doc-new' }, actor: holder },
  submitted: { event: { type: 'submitted' }, actor: holder },
  approved: { event: { type: 'approved' }, actor: ra },
  rejected: { event: { type: 'rejected', reasons: [{ documentType: 'holder_identity', reason: 'expired' }] }, actor: ra },
  face_to_face_recorded: { event: { type: 'face_to_face_recorded', interventionFormDocumentId: 'form', meetingDate: '2026-11-21' }, actor: dra },
  originals_received: { event: { type: 'originals_received' }, actor: ra },
  originals_overdue: { event: { type: 'originals_overdue' }, actor: { userId: null, role: 'system' } },
  payment_received: { event: { type: 'payment_received', reference: 'VIR-1', method: 'transfer' }, actor: ra },
  payment_failed: { event: { type: 'payment_failed', reference: 'CB-9' }, actor: { userId: null, role: 'payment_provider' } },
  held: { event: { type: 'held', comment: 'call the holder' }, actor: ra },
  released: { event: { type: 'released' }, actor: ra },
  cancelled: { event: { type: 'cancelled', reason: 'customer request' }, actor: holder },
  certificate_issued: { event: { type: 'certificate_issued', serial: '7f3a' }, actor: { userId: null, role: 'system' } },
  issuance_refused: { event: { type: 'issuance_refused', reason: 'key already certified' }, actor: { userId: null, role: 'system' } },
  accepted: { event: { type: 'accepted' }, actor: holder },
  refused: { event: { type: 'refused' }, actor: holder },
  unlock_code_requested: { event: { type: 'unlock_code_requested' }, actor: holder },
  unlocked: { event: { type: 'unlocked' }, actor: holder },
  abandoned: { event: { type: 'abandoned', reason: 'no activity' }, actor: { userId: null, role: 'system' } },
  attention_needed: {
    event: { type: 'attention_needed', step: 'issueCertificate certificate', activity: 'issueCertificate', message: 'key already certified', at: NOW },
    actor: { userId: null, role: 'system' },
  },
  resumed: { event: { type: 'resumed' }, actor: ra },
  // The sample is an RGS*** order: no names to validate, so the domain events are refused in every state.
  domain_validation_requested: { event: { type: 'domain_validation_requested', method: 'dns', domains: ['www.example.com'] }, actor: holder },
  domain_challenges_issued: { event: { type: 'domain_challenges_issued', challenges: [] }, actor: holder },
  domain_validated: { event: { type: 'domain_validated', domain: 'www.example.com', method: 'dns', at: NOW, evidence: 'TXT seen' }, actor: { userId: null, role: 'system' } },
  domain_check_failed: { event: { type: 'domain_check_failed', domain: 'www.example.com', at: NOW, reason: 'no TXT record' }, actor: { userId: null, role: 'system' } },
  caa_checked: {
    event: { type: 'caa_checked', check: { checkedAt: NOW, permitted: false, identifiers: ['certflow.example'], names: [] } },
    actor: { userId: null, role: 'system' },
  },
  caa_recheck_requested: { event: { type: 'caa_recheck_requested' }, actor: holder },
};

const PRE_ISSUANCE: OrderStatus[] = [...PRE_ISSUANCE_STATUSES];

/** Where each event is accepted, for the sample order at each status; everywhere else it is refused. */
const ALLOWED: Record<OrderEventType, OrderStatus[]> = {
  evidence_uploaded: ['awaiting_evidence'],
  submitted: ['awaiting_evidence'],
  approved: ['under_review'],
  rejected: ['under_review'],
  // Already done from awaiting_originals on; never while on hold.
  // (The sample at awaiting_domain_validation has neither the meeting nor the originals yet.)
  face_to_face_recorded: ['awaiting_evidence', 'under_review', 'approved', 'awaiting_face_to_face', 'awaiting_domain_validation'],
  originals_received: ['awaiting_evidence', 'under_review', 'approved', 'awaiting_face_to_face', 'awaiting_originals', 'originals_overdue', 'awaiting_domain_validation', 'on_hold'],
  originals_overdue: ['awaiting_evidence', 'under_review', 'approved', 'awaiting_face_to_face', 'awaiting_originals', 'originals_overdue', 'awaiting_domain_validation', 'on_hold'],
  payment_received: PRE_ISSUANCE,
  payment_failed: PRE_ISSUANCE,
  held: PRE_ISSUANCE.filter((s) => s !== 'on_hold'),
  released: ['on_hold'],
  // Needing attention before issuance too (the sample's failed step is its confirmation mail).
  cancelled: [...PRE_ISSUANCE, 'needs_attention'],
  certificate_issued: ['issuing'],
  issuance_refused: ['issuing'],
  accepted: ['awaiting_acceptance'],
  refused: ['awaiting_acceptance'],
  unlock_code_requested: ['awaiting_unlock'],
  unlocked: ['awaiting_unlock'],
  abandoned: ORDER_STATUSES.filter((s) => !['issuing', 'needs_attention', 'completed', 'cancelled', 'abandoned', 'refused'].includes(s)),
  // Any stage, closed ones too (a closing mail may fail), but once at a time.
  attention_needed: ORDER_STATUSES.filter((s) => s !== 'needs_attention'),
  resumed: ['needs_attention'],
  domain_validation_requested: [],
  domain_challenges_issued: [],
  domain_validated: [],
  domain_check_failed: [],
  caa_checked: [],
  caa_recheck_requested: [],
};

describe('every state × event', () => {
  for (const status of ORDER_STATUSES) {
    for (const [type, { event, actor }] of Object.entries(EVENTS) as [OrderEventType, (typeof EVENTS)[OrderEventType]][]) {
      const allowed = ALLOWED[type].includes(status);
      it(`${type} in ${status}: ${allowed ? 'accepted' : 'refused'}`, () => {
        const before = sample(status);
        const frozen = JSON.stringify(before);
        const d = decide(before, event, actor, '2026-11-23T00:00:00.000Z');
        expect(d.ok).toBe(allowed);
        expect(JSON.stringify(before)).toBe(frozen);
        if (d.ok) {
          expect(d.state.waitingOn).toBe(WAITING_ON_BY_STATUS[d.state.status]);
          if (d.state !== before) {
            expect(d.state.version).toBe(before.version + 1);
            expect(d.state.updatedAt).toBe('2026-11-23T00:00:00.000Z');
          }
        } else {
          expect(['state', 'rule', 'forbidden']).toContain(d.refusal.kind);
          expect(d.refusal.message.length).toBeGreaterThan(10);
        }
      });
    }
  }
});

/**
 * The same matrix for a server product: an SSL order on the customer's CSR for two names (no face-to-face, no
 * originals, no token to unlock), every name to validate before payment. At awaiting_domain_validation one name is
 * validated and `www.example.com`, the name of the domain events, is still pending; from awaiting_payment on both are.
 */
const SERVER_NAMES = ['www.example.com', 'example.com'];
const VALIDATED_FROM: readonly OrderStatus[] = ['awaiting_payment', 'issuing', 'awaiting_acceptance', 'completed', 'refused'];

function serverSample(status: OrderStatus): OrderState {
  const person = sample(status);
  const server = newOrderView(
    input({ product: 'SSL', certificateRequest: { csrPem: 'csr', publicKeySpki: 'spki', keyDescription: 'ECDSA P-256', dnsNames: SERVER_NAMES }, priceCents: 19000 }),
  );
  const documents = status === 'awaiting_domain_validation' ? 'accepted' : (person.checklist[0]?.status ?? 'missing');
  const validated = (name: string): boolean => VALIDATED_FROM.includes(status) || (status === 'awaiting_domain_validation' && name !== 'www.example.com');
  return {
    ...person,
    product: server.product,
    keyOrigin: server.keyOrigin,
    checklist: server.checklist.map((c, i) => (documents === 'missing' ? c : { ...c, status: documents, documentId: `doc-${i}` })),
    faceToFace: server.faceToFace,
    originals: server.originals,
    unlock: server.unlock,
    domains: {
      required: true,
      items: server.domains.items.map((d) =>
        validated(d.name) ? { ...d, status: 'validated' as const, method: 'dns' as const, validatedAt: NOW, evidence: 'TXT seen' } : d,
      ),
    },
  };
}

const CHALLENGE = {
  domain: 'www.example.com',
  authorizationDomain: 'www.example.com',
  method: 'dns' as const,
  token: 'token',
  createdAt: NOW,
  expiresAt: '2026-12-22T10:00:00.000Z',
  dns: { recordName: '_certflow-challenge.www.example.com', recordType: 'TXT' as const, value: 'value' },
};
// Its documents are the organisation's (no identity document); its challenges name one of its names.
const SERVER_EVENTS: typeof EVENTS = {
  ...EVENTS,
  evidence_uploaded: { event: { type: 'evidence_uploaded', documentType: 'organisation_registration', documentId: 'doc-new' }, actor: holder },
  rejected: { event: { type: 'rejected', reasons: [{ documentType: 'organisation_registration', reason: 'older than 3 months' }] }, actor: ra },
  domain_challenges_issued: { event: { type: 'domain_challenges_issued', challenges: [CHALLENGE] }, actor: holder },
};
/** The statuses an SSL order can be in: never at a face-to-face, the post or a token's unlock. */
const SERVER_STATUSES = ORDER_STATUSES.filter((s) => !['awaiting_face_to_face', 'awaiting_originals', 'originals_overdue', 'awaiting_unlock'].includes(s));
const PENDING_NAME: OrderStatus[] = PRE_ISSUANCE.filter((s) => s !== 'awaiting_payment');

/** Where each event is accepted for the SSL sample: the person's table, without the token's and the post's steps. */
const SERVER_ALLOWED: typeof ALLOWED = {
  ...ALLOWED,
  face_to_face_recorded: [],
  originals_received: [],
  originals_overdue: [],
  unlock_code_requested: [],
  unlocked: [],
  // A name is validated before issuance, while it is still pending, never on hold.
  domain_validation_requested: PENDING_NAME.filter((s) => s !== 'on_hold'),
  domain_challenges_issued: PENDING_NAME.filter((s) => s !== 'on_hold'),
  domain_validated: PENDING_NAME,
  domain_check_failed: PENDING_NAME,
  // CAA is checked right before issuance; the sample has no refusal to check again.
  caa_checked: ['issuing'],
};

describe('every state × event of a server product', () => {
  for (const status of SERVER_STATUSES) {
    for (const [type, { event, actor }] of Object.entries(SERVER_EVENTS) as [OrderEventType, (typeof EVENTS)[OrderEventType]][]) {
      const allowed = SERVER_ALLOWED[type].includes(status);
      it(`SSL: ${type} in ${status}: ${allowed ? 'accepted' : 'refused'}`, () => {
        const before = serverSample(status);
        const d = decide(before, event, actor, '2026-11-23T00:00:00.000Z');
        expect(d.ok, d.ok ? '' : d.refusal.message).toBe(allowed);
        if (d.ok) expect(d.state.waitingOn).toBe(WAITING_ON_BY_STATUS[d.state.status]);
      });
    }
  }

  it('waits for every name after approval, moves on to payment once the last is validated, and issues without an unlock', () => {
    const approved = decide(serverSample('under_review'), EVENTS.approved.event, ra, NOW);
    expect(approved.ok && approved.state.status).toBe('awaiting_domain_validation');
    // Paid early, it still waits for the names.
    const paidEarly = decide(serverSample('awaiting_domain_validation'), EVENTS.payment_received.event, ra, NOW);
    expect(paidEarly.ok && paidEarly.state.status).toBe('awaiting_domain_validation');
    const d = decide(serverSample('awaiting_domain_validation'), SERVER_EVENTS.domain_validated.event, SERVER_EVENTS.domain_validated.actor, NOW);
    expect(d.ok && d.state.status).toBe('awaiting_payment');
    const paid = decide(serverSample('awaiting_payment'), EVENTS.payment_received.event, ra, NOW);
    expect(paid.ok && paid.state.status).toBe('issuing');
    const accepted = decide(serverSample('awaiting_acceptance'), EVENTS.accepted.event, holder, NOW);
    expect(accepted.ok && accepted.state.status).toBe('completed');
  });

  it('sends a paid order back to its domains when CAA forbids issuance, and lets it issue once a new check permits', () => {
    const forbidden = { checkedAt: NOW, permitted: false, identifiers: ['certflow.example'], names: [] };
    const refused = step(serverSample('issuing'), { type: 'caa_checked', check: forbidden }, system);
    expect([refused.status, refused.waitingOn, refused.caa?.checks]).toEqual(['awaiting_domain_validation', 'customer', 1]);
    // A payment or a release does not take it past its domains while CAA forbids.
    expect(nextAfterApproval(refused)).toBe('awaiting_domain_validation');
    const held = step(refused, EVENTS.held.event);
    expect(step(held, EVENTS.released.event).status).toBe('awaiting_domain_validation');
    expect(decide(refused, { type: 'caa_recheck_requested' }, holder, NOW).ok).toBe(true);
    const still = step(refused, { type: 'caa_checked', check: { ...forbidden, checkedAt: '2026-11-22T11:00:00.000Z' } }, system);
    expect([still.status, still.caa?.checks]).toEqual(['awaiting_domain_validation', 2]);
    const permitted = step(still, { type: 'caa_checked', check: { ...forbidden, permitted: true } }, system);
    expect([permitted.status, permitted.waitingOn]).toEqual(['issuing', 'ca']);
    const nothing = decide(permitted, { type: 'caa_recheck_requested' }, holder, NOW);
    expect(!nothing.ok && nothing.refusal.code).toBe('no-caa-refusal');
  });
});

const system: Actor = { userId: null, role: 'system' };
const step = (s: OrderState, e: OrderEvent, actor: Actor = ra): OrderState => {
  const d = decide(s, e, actor, NOW);
  if (!d.ok) throw new Error(`${e.type} refused: ${d.refusal.message}`);
  return d.state;
};

describe('the order procedure', () => {
  it('loops through rejections keeping the accepted documents', () => {
    let s = newOrderView(input({ product: 'ID_RGS_STAR' }));
    for (const c of s.checklist) s = step(s, { type: 'evidence_uploaded', documentType: c.documentType, documentId: `${c.documentType}-1` }, holder);
    for (let round = 1; round <= 3; round++) {
      s = step(s, { type: 'submitted' }, holder);
      expect(s.waitingOn).toBe('ra');
      s = step(s, { type: 'rejected', reasons: [{ documentType: 'holder_identity', reason: `blurred scan ${round}` }] });
      expect(s.status).toBe('awaiting_evidence');
      expect(s.checklist.find((c) => c.documentType === 'holder_identity')).toMatchObject({ status: 'rejected', rejectionReason: `blurred scan ${round}` });
      expect(s.checklist.filter((c) => c.status === 'accepted').map((c) => c.documentType)).toEqual(['organisation_registration', 'signed_order_form']);
      const refused = decide(s, { type: 'submitted' }, holder, NOW);
      expect(refused.ok).toBe(false);
      if (!refused.ok) expect(refused.refusal).toMatchObject({ kind: 'rule', code: 'checklist-incomplete' });
      s = step(s, { type: 'evidence_uploaded', documentType: 'holder_identity', documentId: `id-${round + 1}` }, holder);
    }
    expect(s.reviewRounds).toBe(3);
    s = step(s, { type: 'submitted' }, holder);
    s = step(s, { type: 'approved' });
    // RGS*: no face-to-face, no originals; the card payment is still pending.
    expect(s.status).toBe('awaiting_payment');
    expect(s.checklist.every((c) => c.status === 'accepted')).toBe(true);
  });

  it('waits for face-to-face, originals and payment in parallel, then issues', () => {
    let s = sample('under_review');
    s = step(s, { type: 'payment_received', reference: 'VIR-7', method: 'transfer' });
    expect(s.status).toBe('under_review');
    s = step(s, { type: 'approved' });
    expect(s).toMatchObject({ status: 'awaiting_face_to_face', waitingOn: 'dra' });
    s = step(s, { type: 'originals_received' });
    expect(s.status).toBe('awaiting_face_to_face');
    s = step(s, { type: 'face_to_face_recorded', interventionFormDocumentId: 'form', meetingDate: '2026-11-21' }, dra);
    expect(s).toMatchObject({ status: 'issuing', waitingOn: 'ca' });
  });

  it('never lets the holder record their own face-to-face', () => {
    const d = decide(sample('awaiting_face_to_face'), EVENTS.face_to_face_recorded.event, holder, NOW);
    expect(d).toMatchObject({ ok: false, refusal: { kind: 'forbidden', code: 'operator-is-holder' } });
  });

  it('refuses to retry a failed card, and takes a transfer instead', () => {
    let s = step(sample('awaiting_payment'), { type: 'payment_failed', reference: 'CB-9' }, { userId: null, role: 'payment_provider' });
    expect(s.payment.status).toBe('failed');
    expect(decide(s, { type: 'payment_received', reference: 'CB-10', method: 'card' }, ra, NOW)).toMatchObject({ ok: false, refusal: { code: 'card-retry-not-possible' } });
    s = step(s, { type: 'payment_received', reference: 'VIR-1', method: 'transfer' });
    expect(s.payment).toMatchObject({ method: 'transfer', status: 'received', reference: 'VIR-1' });
    expect(s.status).toBe('issuing');
  });

  it('marks originals overdue, then takes them late', () => {
    let s = step(sample('awaiting_originals'), { type: 'originals_overdue' });
    expect(s).toMatchObject({ status: 'originals_overdue', waitingOn: 'post', originals: { overdue: true } });
    s = step(s, { type: 'originals_received' });
    expect(s.status).toBe('awaiting_payment');
  });

  it('holds and releases to where the order was', () => {
    let s = step(sample('awaiting_face_to_face'), { type: 'held', comment: 'identity doubt' });
    expect(s).toMatchObject({ status: 'on_hold', waitingOn: 'ra', heldStatus: 'awaiting_face_to_face', holdComment: 'identity doubt' });
    expect(decide(s, EVENTS.face_to_face_recorded.event, dra, NOW).ok).toBe(false);
    s = step(s, { type: 'originals_received' });
    s = step(s, { type: 'released' });
    expect(s).toMatchObject({ status: 'awaiting_face_to_face', heldStatus: null, holdComment: null });
  });

  it('ends refused after a refusal, and completed after acceptance and unlock', () => {
    expect(step(sample('awaiting_acceptance'), { type: 'refused' }, holder)).toMatchObject({ status: 'refused', acceptance: 'refused' });
    const accepted = step(sample('awaiting_acceptance'), { type: 'accepted' }, holder);
    expect(accepted).toMatchObject({ status: 'awaiting_unlock', waitingOn: 'customer' });
    expect(step(accepted, { type: 'unlocked' }, holder)).toMatchObject({ status: 'completed', unlock: { done: true } });
  });

  it('accepts a purchase order only when it was chosen at ordering', () => {
    const po = newOrderView(input({ payment: { method: 'purchase_order', purchaseOrderNumber: 'BC-1' } }));
    expect(step(po, { type: 'payment_received', reference: 'BC-1' }).payment.status).toBe('purchase_order_accepted');
    expect(decide(sample('awaiting_payment'), { type: 'payment_received', reference: 'BC-2', method: 'purchase_order' }, ra, NOW)).toMatchObject({
      ok: false,
      refusal: { code: 'payment-method-not-allowed' },
    });
  });
});

describe('needs attention', () => {
  const failed: OrderEvent = { type: 'attention_needed', step: 'issueCertificate certificate', activity: 'issueCertificate', message: 'the key is already certified', at: NOW };

  it('waits on the RA with the failed step, and a resume goes back to where the order was', () => {
    const s = step(sample('issuing'), failed, { userId: null, role: 'system' });
    expect(s).toMatchObject({ status: 'needs_attention', waitingOn: 'ra', attention: { step: 'issueCertificate certificate', message: 'the key is already certified', resumeTo: 'issuing' } });
    expect(step(s, { type: 'resumed' })).toMatchObject({ status: 'issuing', waitingOn: 'ca', attention: null });
    expect(step(s, { type: 'cancelled', reason: 'same key as another order' })).toMatchObject({ status: 'cancelled', attention: null });
  });

  it('takes no cancel once the certificate exists, nor when the order had closed: only a resume', () => {
    for (const status of ['awaiting_acceptance', 'completed'] as const) {
      const s = step(sample(status), failed, { userId: null, role: 'system' });
      const cancel = decide(s, { type: 'cancelled', reason: 'x' }, ra, NOW);
      expect(cancel.ok).toBe(false);
      expect(step(s, { type: 'resumed' }).status).toBe(status);
    }
  });
});
