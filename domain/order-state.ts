/**
 * The order as a pure state machine: `decide(state, event)` answers the next state or a refusal, and nothing else.
 * The workflow runs it in its Update validators (the caller learns at once whether an action is allowed) and
 * handlers; the tests run it for every state × event pair.
 */
import type { DocumentType, PaymentMethod } from './catalog.js';
import { PRE_ISSUANCE_STATUSES, type CaaCheck, type ChecklistItem, type DomainChallenge, type DomainItem, type OrderStatus, type OrderView, type PaymentStatus, type WaitingOn } from './order.js';

export type OrderState = OrderView;

/** Who did it: the workflow records it, the rules need it (a holder may not record their own face-to-face). */
export interface Actor {
  readonly userId: string | null;
  readonly role: string;
}

export type OrderEvent =
  | { readonly type: 'evidence_uploaded'; readonly documentType: DocumentType; readonly documentId: string }
  | { readonly type: 'submitted' }
  | { readonly type: 'approved' }
  | { readonly type: 'rejected'; readonly reasons: readonly { readonly documentType: DocumentType; readonly reason: string }[] }
  | { readonly type: 'face_to_face_recorded'; readonly interventionFormDocumentId: string; readonly meetingDate: string }
  | { readonly type: 'originals_received' }
  | { readonly type: 'originals_overdue' }
  | { readonly type: 'payment_received'; readonly reference: string; readonly method?: PaymentMethod }
  | { readonly type: 'payment_failed'; readonly reference: string }
  | { readonly type: 'held'; readonly comment: string }
  | { readonly type: 'released' }
  | { readonly type: 'cancelled'; readonly reason: string }
  | { readonly type: 'certificate_issued'; readonly serial: string }
  /** The CA would not sign (a key already certified elsewhere, a profile rule): the RA looks at it. */
  | { readonly type: 'issuance_refused'; readonly reason: string }
  /** A step failed with a refusal no retry can fix: the order waits for staff (activity `step` of the workflow). */
  | { readonly type: 'attention_needed'; readonly step: string; readonly activity: string; readonly message: string; readonly at: string }
  /** Staff retry the failed step. */
  | { readonly type: 'resumed' }
  | { readonly type: 'accepted' }
  | { readonly type: 'refused' }
  | { readonly type: 'unlock_code_requested' }
  | { readonly type: 'unlocked' }
  /** Asked before the CA draws the random values: the rules are checked first, so a refusal costs nothing. */
  | { readonly type: 'domain_validation_requested'; readonly method: 'http' | 'dns'; readonly domains: readonly string[] }
  | { readonly type: 'domain_challenges_issued'; readonly challenges: readonly DomainChallenge[] }
  | { readonly type: 'domain_validated'; readonly domain: string; readonly method: DomainItem['method'] & string; readonly at: string; readonly evidence: string }
  | { readonly type: 'domain_check_failed'; readonly domain: string; readonly at: string; readonly reason: string }
  /**
   * CAA checked right before issuance (BR §3.2.2.8), or again at the customer's request: a refusal sends the order back
   * to its domains, waiting on the customer to change the records; a permission lets it go on.
   */
  | { readonly type: 'caa_checked'; readonly check: CaaCheck }
  /** The customer asks the CA to look at CAA again (the check itself follows). */
  | { readonly type: 'caa_recheck_requested' }
  | { readonly type: 'abandoned'; readonly reason: string };

export type OrderEventType = OrderEvent['type'];

/** `state`: not in this state (409); `rule`: the request breaks a rule (422); `forbidden`: not this caller (403). */
export interface Refusal {
  readonly kind: 'state' | 'rule' | 'forbidden';
  readonly code: string;
  readonly message: string;
}

export type Decision = { readonly ok: true; readonly state: OrderState } | { readonly ok: false; readonly refusal: Refusal };

export const TERMINAL: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['completed', 'cancelled', 'abandoned', 'refused']);

const PRE_ISSUANCE: ReadonlySet<OrderStatus> = new Set<OrderStatus>(PRE_ISSUANCE_STATUSES);

/** Whether names can be validated (challenges asked for, checked) in this status: before issuance, not on hold. */
export const canValidateDomains = (status: OrderStatus): boolean => PRE_ISSUANCE.has(status) && status !== 'on_hold';

/** After approval: what the order still waits for, in the order a person would chase it. */
const GATES: readonly OrderStatus[] = ['awaiting_face_to_face', 'awaiting_originals', 'originals_overdue', 'awaiting_domain_validation', 'awaiting_payment'];

export const WAITING_ON_BY_STATUS: Readonly<Record<OrderStatus, WaitingOn>> = {
  created: 'nobody',
  awaiting_evidence: 'customer',
  under_review: 'ra',
  approved: 'nobody',
  awaiting_face_to_face: 'dra',
  awaiting_originals: 'post',
  originals_overdue: 'post',
  awaiting_domain_validation: 'customer',
  awaiting_payment: 'payment',
  issuing: 'ca',
  awaiting_acceptance: 'customer',
  awaiting_unlock: 'customer',
  on_hold: 'ra',
  needs_attention: 'ra',
  completed: 'nobody',
  cancelled: 'nobody',
  abandoned: 'nobody',
  refused: 'nobody',
};

const refuse = (kind: Refusal['kind'], code: string, message: string): Decision => ({ ok: false, refusal: { kind, code, message } });
const notNow = (state: OrderState, action: string): Decision =>
  refuse('state', 'not-allowed-in-state', `${action} is not possible while the order is ${state.status}.`);

export const paymentSettled = (s: OrderState): boolean => s.payment.status === 'received' || s.payment.status === 'purchase_order_accepted';

/** The first unmet requirement after approval, or `issuing` when nothing is missing. */
export function nextAfterApproval(s: OrderState): OrderStatus {
  if (s.faceToFace.required && !s.faceToFace.done) return 'awaiting_face_to_face';
  if (s.originals.required && !s.originals.received) return s.originals.overdue ? 'originals_overdue' : 'awaiting_originals';
  if (s.domains.required && (!domainsValidated(s) || caaForbids(s))) return 'awaiting_domain_validation';
  if (!paymentSettled(s)) return 'awaiting_payment';
  return 'issuing';
}

/** The last CAA check forbade issuance: the order waits for the customer to change the records. */
export const caaForbids = (s: OrderState): boolean => s.caa?.last.permitted === false;

export const domainsValidated = (s: OrderState): boolean => s.domains.items.length > 0 && s.domains.items.every((d) => d.status === 'validated');

const isWildcard = (name: string): boolean => name.startsWith('*.');

/** Which of the asked names can get a new challenge now, or why none can. */
function challengeable(s: OrderState, method: 'http' | 'dns', domains: readonly string[]): Decision | undefined {
  if (!s.domains.required) return refuse('state', 'not-required', 'This product needs no domain validation.');
  if (!canValidateDomains(s.status)) return notNow(s, 'Validating domains');
  for (const name of domains) {
    const item = s.domains.items.find((d) => d.name === name);
    if (item === undefined) return refuse('rule', 'domain-not-in-order', `${name} is not a name of this order.`);
    if (item.status === 'validated') return refuse('state', 'domain-already-validated', `${name} is already validated.`);
    // BR §3.2.2.4.18: a file on a web site proves nothing about the other names under a wildcard.
    if (method === 'http' && isWildcard(name)) return refuse('rule', 'wildcard-needs-dns', `${name} is a wildcard: validate it with a DNS TXT record.`);
  }
  if (domains.length === 0) return refuse('state', 'domains-already-validated', 'Every name of this order is already validated.');
  return undefined;
}

const withDomain = (s: OrderState, name: string, change: (d: DomainItem) => DomainItem): OrderState => ({
  ...s,
  domains: { ...s.domains, items: s.domains.items.map((d) => (d.name === name ? change(d) : d)) },
});

function moveTo(s: OrderState, status: OrderStatus): OrderState {
  return { ...s, status, waitingOn: WAITING_ON_BY_STATUS[status] };
}

/** Re-derives the stage after a change to one of the parallel tracks; on hold stays on hold. */
function settle(s: OrderState): OrderState {
  if (s.status === 'approved' || GATES.includes(s.status)) return moveTo(s, nextAfterApproval(s));
  return s;
}

const checklistWith = (items: readonly ChecklistItem[], documentType: DocumentType, item: ChecklistItem): ChecklistItem[] =>
  items.some((c) => c.documentType === documentType) ? items.map((c) => (c.documentType === documentType ? item : c)) : [...items, item];

function decideChange(s: OrderState, e: OrderEvent, actor: Actor): Decision {
  const live = !TERMINAL.has(s.status);
  const preIssuance = PRE_ISSUANCE.has(s.status);
  const onHold = s.status === 'on_hold';

  switch (e.type) {
    case 'evidence_uploaded': {
      // The intervention form comes with the face-to-face meeting, at any stage before issuance; the file's own
      // documents only while the customer prepares it.
      if (e.documentType === 'intervention_form') {
        if (!preIssuance) return notNow(s, 'Uploading the intervention form');
        return { ok: true, state: s };
      }
      if (s.status !== 'awaiting_evidence') return notNow(s, 'Uploading supporting documents');
      if (!s.checklist.some((c) => c.documentType === e.documentType)) {
        return refuse('rule', 'document-not-in-checklist', `${e.documentType} is not a document this order needs.`);
      }
      return { ok: true, state: { ...s, checklist: checklistWith(s.checklist, e.documentType, { documentType: e.documentType, status: 'uploaded', documentId: e.documentId }) } };
    }

    case 'submitted': {
      if (s.status !== 'awaiting_evidence') return notNow(s, 'Submitting the file');
      const missing = s.checklist.filter((c) => c.status === 'missing' || c.status === 'rejected').map((c) => c.documentType);
      if (missing.length > 0) return refuse('rule', 'checklist-incomplete', `Documents still missing or rejected: ${missing.join(', ')}.`);
      return { ok: true, state: moveTo(s, 'under_review') };
    }

    case 'approved': {
      if (s.status !== 'under_review') return notNow(s, 'Approving the file');
      const approved: OrderState = {
        ...s,
        reviewRounds: s.reviewRounds + 1,
        checklist: s.checklist.map((c) => ({ documentType: c.documentType, status: 'accepted', ...(c.documentId ? { documentId: c.documentId } : {}) })),
      };
      return { ok: true, state: moveTo(approved, nextAfterApproval(approved)) };
    }

    case 'rejected': {
      if (s.status !== 'under_review') return notNow(s, 'Rejecting the file');
      if (e.reasons.length === 0) return refuse('rule', 'reasons-required', 'A rejection gives a reason for each rejected document.');
      for (const r of e.reasons) {
        if (!s.checklist.some((c) => c.documentType === r.documentType)) {
          return refuse('rule', 'document-not-in-checklist', `${r.documentType} is not a document of this order.`);
        }
        if (r.reason.trim() === '') return refuse('rule', 'reasons-required', `The reason for ${r.documentType} is empty.`);
      }
      // Rejection is temporary: what is not rejected is accepted and kept.
      const checklist = s.checklist.map((c): ChecklistItem => {
        const reason = e.reasons.find((r) => r.documentType === c.documentType);
        if (reason !== undefined) return { documentType: c.documentType, status: 'rejected', rejectionReason: reason.reason, ...(c.documentId ? { documentId: c.documentId } : {}) };
        return c.status === 'uploaded' ? { ...c, status: 'accepted' } : c;
      });
      return { ok: true, state: moveTo({ ...s, checklist, reviewRounds: s.reviewRounds + 1 }, 'awaiting_evidence') };
    }

    case 'face_to_face_recorded': {
      if (!s.faceToFace.required) return refuse('state', 'not-required', 'This product has no face-to-face check.');
      if (s.faceToFace.done) return refuse('state', 'already-done', 'The face-to-face check is already recorded.');
      if (!preIssuance || onHold) return notNow(s, 'Recording the face-to-face check');
      if (actor.userId !== null && actor.userId === s.holderUserId) {
        return refuse('forbidden', 'operator-is-holder', 'The holder cannot record their own face-to-face check.');
      }
      return { ok: true, state: settle({ ...s, faceToFace: { required: true, done: true, meetingDate: e.meetingDate } }) };
    }

    case 'originals_received': {
      if (!s.originals.required) return refuse('state', 'not-required', 'This product needs no originals by post.');
      if (s.originals.received) return refuse('state', 'already-done', 'The originals are already recorded as received.');
      if (!preIssuance) return notNow(s, 'Recording the originals');
      return { ok: true, state: settle({ ...s, originals: { ...s.originals, received: true, overdue: false } }) };
    }

    case 'originals_overdue': {
      if (!s.originals.required || s.originals.received || !live || !preIssuance) return notNow(s, 'Marking the originals overdue');
      return { ok: true, state: settle({ ...s, originals: { ...s.originals, overdue: true } }) };
    }

    case 'payment_received': {
      if (!preIssuance) return notNow(s, 'Recording a payment');
      if (paymentSettled(s)) return refuse('state', 'already-paid', 'The payment is already recorded.');
      const method = e.method ?? s.payment.method;
      // A failed card payment cannot be retried: the customer switches to transfer or cheque.
      if (s.payment.status === 'failed' && method === 'card') {
        return refuse('rule', 'card-retry-not-possible', 'A failed card payment cannot be retried: pay by transfer or cheque.');
      }
      if (method === 'purchase_order' && s.payment.method !== 'purchase_order') {
        return refuse('rule', 'payment-method-not-allowed', 'A purchase order is chosen when ordering, with its number.');
      }
      const status: PaymentStatus = method === 'purchase_order' ? 'purchase_order_accepted' : 'received';
      return { ok: true, state: settle({ ...s, payment: { ...s.payment, method, status, reference: e.reference } }) };
    }

    case 'payment_failed': {
      if (!preIssuance) return notNow(s, 'Recording a failed payment');
      if (s.payment.method !== 'card' || s.payment.status !== 'pending') {
        return refuse('state', 'no-card-payment-pending', 'Only a pending card payment can fail.');
      }
      return { ok: true, state: { ...s, payment: { ...s.payment, status: 'failed', reference: e.reference } } };
    }

    case 'held': {
      if (onHold) return refuse('state', 'already-on-hold', 'The order is already on hold.');
      if (!preIssuance) return notNow(s, 'Putting the order on hold');
      return { ok: true, state: { ...moveTo(s, 'on_hold'), heldStatus: s.status, holdComment: e.comment } };
    }

    case 'released': {
      if (!onHold || s.heldStatus === null) return refuse('state', 'not-on-hold', 'The order is not on hold.');
      const back = { ...moveTo(s, s.heldStatus), heldStatus: null, holdComment: null };
      return { ok: true, state: settle(back) };
    }

    case 'cancelled': {
      if (s.status === 'needs_attention') {
        const back = s.attention?.resumeTo;
        // Before the certificate exists only: after, the holder's certificate would outlive a cancelled order.
        if (back === undefined || s.certificateSerial !== null || !(PRE_ISSUANCE.has(back) || back === 'issuing')) return notNow(s, 'Cancelling the order');
        return { ok: true, state: { ...moveTo(s, 'cancelled'), heldStatus: null, attention: null, closedReason: e.reason } };
      }
      if (!preIssuance) return notNow(s, 'Cancelling the order');
      return { ok: true, state: { ...moveTo(s, 'cancelled'), heldStatus: null, closedReason: e.reason } };
    }

    case 'certificate_issued': {
      if (s.status !== 'issuing') return notNow(s, 'Recording an issued certificate');
      return { ok: true, state: { ...moveTo(s, 'awaiting_acceptance'), certificateSerial: e.serial, acceptance: 'pending' } };
    }

    case 'issuance_refused': {
      if (s.status !== 'issuing') return notNow(s, 'Recording a refused issuance');
      // Released, the order goes through its gates again and the CA tries once more; or staff cancel it.
      return { ok: true, state: { ...moveTo(s, 'on_hold'), heldStatus: 'approved', holdComment: `The CA refused to issue: ${e.reason}` } };
    }

    case 'attention_needed': {
      // Any stage, closed ones included (a closing mail can fail too): the order waits where it is.
      if (s.status === 'needs_attention') return refuse('state', 'already-needs-attention', 'The order already needs staff attention.');
      const attention = { step: e.step, activity: e.activity, message: e.message, since: e.at, resumeTo: s.status };
      return { ok: true, state: { ...moveTo(s, 'needs_attention'), attention } };
    }

    case 'resumed': {
      if (s.status !== 'needs_attention' || s.attention == null) return refuse('state', 'not-needs-attention', 'The order does not need staff attention.');
      return { ok: true, state: { ...moveTo(s, s.attention.resumeTo), attention: null } };
    }

    case 'accepted': {
      if (s.status !== 'awaiting_acceptance') return notNow(s, 'Accepting the certificate');
      const accepted: OrderState = { ...s, acceptance: 'accepted' };
      return { ok: true, state: moveTo(accepted, s.unlock.required ? 'awaiting_unlock' : 'completed') };
    }

    case 'refused': {
      if (s.status !== 'awaiting_acceptance') return notNow(s, 'Refusing the certificate');
      return { ok: true, state: { ...moveTo(s, 'refused'), acceptance: 'refused', closedReason: 'certificate refused by the holder' } };
    }

    case 'unlock_code_requested': {
      if (s.status !== 'awaiting_unlock') return notNow(s, 'Asking for an unlock code');
      return { ok: true, state: s };
    }

    case 'unlocked': {
      if (s.status !== 'awaiting_unlock') return notNow(s, 'Unlocking the token');
      return { ok: true, state: { ...moveTo(s, 'completed'), unlock: { required: true, done: true } } };
    }

    case 'domain_validation_requested': {
      const refused = challengeable(s, e.method, e.domains);
      return refused ?? { ok: true, state: s };
    }

    case 'domain_challenges_issued': {
      if (e.challenges.length === 0) return challengeable(s, 'dns', []) ?? refuse('rule', 'no-challenge', 'No challenge was drawn.');
      const byMethod = new Map<string, string[]>();
      for (const c of e.challenges) byMethod.set(c.method, [...(byMethod.get(c.method) ?? []), c.domain]);
      for (const [method, domains] of byMethod) {
        const refused = challengeable(s, method as 'http' | 'dns', domains);
        if (refused !== undefined) return refused;
      }
      let next = s;
      for (const c of e.challenges) next = withDomain(next, c.domain, (d) => ({ ...d, challenge: c, lastCheck: null }));
      return { ok: true, state: next };
    }

    case 'domain_validated': {
      if (!s.domains.required) return refuse('state', 'not-required', 'This product needs no domain validation.');
      if (!preIssuance) return notNow(s, 'Validating domains');
      const item = s.domains.items.find((d) => d.name === e.domain);
      if (item === undefined) return refuse('rule', 'domain-not-in-order', `${e.domain} is not a name of this order.`);
      if (item.status === 'validated') return refuse('state', 'domain-already-validated', `${e.domain} is already validated.`);
      if (e.method === 'operator') {
        if (actor.role !== 'ra_operator') return refuse('forbidden', 'operator-only', 'Only an RA operator records a validation by hand.');
        if (e.evidence.trim() === '') return refuse('rule', 'evidence-required', 'A validation recorded by hand names its evidence.');
      }
      const validated = withDomain(s, e.domain, (d) => ({ ...d, status: 'validated', method: e.method, validatedAt: e.at, evidence: e.evidence, challenge: null, lastCheck: null }));
      return { ok: true, state: settle(validated) };
    }

    case 'domain_check_failed': {
      if (!preIssuance || !s.domains.items.some((d) => d.name === e.domain && d.status === 'pending')) return notNow(s, 'Recording a domain check');
      return { ok: true, state: withDomain(s, e.domain, (d) => ({ ...d, lastCheck: { at: e.at, reason: e.reason } })) };
    }

    case 'caa_checked': {
      if (!s.domains.required) return refuse('state', 'not-required', 'This product has no names whose CAA is checked.');
      const caa = { checks: (s.caa?.checks ?? 0) + 1, last: e.check };
      if (s.status === 'issuing') return { ok: true, state: e.check.permitted ? { ...s, caa } : moveTo({ ...s, caa }, 'awaiting_domain_validation') };
      if (!caaForbids(s) || !canValidateDomains(s.status)) return notNow(s, 'Recording a CAA check');
      return { ok: true, state: settle({ ...s, caa }) };
    }

    case 'caa_recheck_requested': {
      if (!caaForbids(s)) return refuse('state', 'no-caa-refusal', 'CAA forbids nothing on this order: there is nothing to check again.');
      if (!canValidateDomains(s.status)) return notNow(s, 'Checking CAA again');
      return { ok: true, state: s };
    }

    case 'abandoned': {
      if (!live || s.status === 'issuing' || s.status === 'needs_attention') return notNow(s, 'Abandoning the order');
      return { ok: true, state: { ...moveTo(s, 'abandoned'), heldStatus: null, closedReason: e.reason } };
    }
  }
}

/** The next state after an event, or why not. A refusal leaves the order as it was. */
export function decide(state: OrderState, event: OrderEvent, actor: Actor, now: string): Decision {
  const d = decideChange(state, event, actor);
  if (!d.ok || d.state === state) return d;
  // A closed order has nothing pending.
  const deadlines = TERMINAL.has(d.state.status) ? [] : d.state.deadlines;
  return { ok: true, state: { ...d.state, deadlines, version: state.version + 1, updatedAt: now } };
}

export const isTerminal = (s: OrderState): boolean => TERMINAL.has(s.status);
