/**
 * The contract between the API, the worker and the workflows: ids, search attributes, updates and queries.
 * Pure: importable by the workflow bundle and by the client side alike.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DocumentType, PaymentMethod } from '../domain/catalog.js';
import type { CertificateLifeView } from '../domain/certificate-life.js';
import type { OrderView } from '../domain/order.js';
import { decide, type Actor, type OrderEvent, type Refusal } from '../domain/order-state.js';
import type { RevocationReason } from '../domain/revocation.js';
import type { Role } from '../domain/roles.js';

export const orderWorkflowId = (orderId: string): string => `order-${orderId}`;

export const SEARCH_ATTRIBUTES = {
  status: defineSearchAttributeKey('CertFlowStatus', SearchAttributeType.KEYWORD),
  product: defineSearchAttributeKey('CertFlowProduct', SearchAttributeType.KEYWORD),
  organisation: defineSearchAttributeKey('CertFlowOrganisation', SearchAttributeType.KEYWORD),
  waitingOn: defineSearchAttributeKey('CertFlowWaitingOn', SearchAttributeType.KEYWORD),
} as const;

/** Every search attribute the project registers on its Temporal namespace (dev server, compose, tests). */
export const SEARCH_ATTRIBUTE_KEYS = Object.values(SEARCH_ATTRIBUTES);

/** The failure type of a refused action; its details carry the refusal, the state and what the order waits on. */
export const ORDER_REFUSAL = 'OrderRefusal';
export interface RefusalDetails {
  readonly refusal: Refusal;
  readonly status: OrderView['status'];
  readonly waitingOn: OrderView['waitingOn'];
}

/** Answers once the order is recorded in the read model, with its view; the API waits on it after a start. */
export const registeredUpdate = defineUpdate<OrderView>('registered');
/** The whole state of the order, at any moment. */
export const stateQuery = defineQuery<OrderView>('state');

/** Every state-changing action is an Update: its validator refuses at once (409/422/403), its handler records. */
export const uploadEvidenceUpdate = defineUpdate<OrderView, [{ actor: Actor; documentType: DocumentType; documentId: string }]>('uploadEvidence');
export const submitUpdate = defineUpdate<OrderView, [{ actor: Actor }]>('submit');
export const reviewUpdate = defineUpdate<
  OrderView,
  [{ actor: Actor; decision: 'approve' } | { actor: Actor; decision: 'reject'; reasons: { documentType: DocumentType; reason: string }[] }]
>('review');
export const faceToFaceUpdate = defineUpdate<OrderView, [{ actor: Actor; interventionFormDocumentId: string; meetingDate: string }]>('recordFaceToFace');
export const originalsUpdate = defineUpdate<OrderView, [{ actor: Actor }]>('recordOriginals');
export const paymentUpdate = defineUpdate<
  OrderView,
  [{ actor: Actor; status: 'received' | 'failed'; reference: string; method?: PaymentMethod }]
>('recordPayment');
export const holdUpdate = defineUpdate<OrderView, [{ actor: Actor; comment: string }]>('hold');
export const releaseUpdate = defineUpdate<OrderView, [{ actor: Actor }]>('release');
/** Staff retry the step that failed with a refusal (the order needs_attention). */
export const resumeUpdate = defineUpdate<OrderView, [{ actor: Actor }]>('resume');
export const cancelUpdate = defineUpdate<OrderView, [{ actor: Actor; reason: string }]>('cancel');
export const acceptanceUpdate = defineUpdate<OrderView, [{ actor: Actor; decision: 'accept' | 'refuse' }]>('respondToCertificate');
/** Sends a new SMS code; the code itself never enters the history. */
export const unlockCodeUpdate = defineUpdate<{ expiresAt: string; codesLeftToday: number }, [{ actor: Actor }]>('requestUnlockCode');
/** Carries only a keyed digest of the code the holder typed (HMAC under a server key), never the code. */
export const verifyUnlockUpdate = defineUpdate<{ verified: boolean; attemptsLeft: number }, [{ actor: Actor; digest: string }]>('verifyUnlockCode');

/** Domain control of a TLS order: draw challenges, have the CA check them, or (RA) record a validation with evidence. */
export type DomainValidationRequest =
  | { actor: Actor; action: 'start'; method: 'http' | 'dns'; domains?: string[] }
  | { actor: Actor; action: 'check' }
  | { actor: Actor; action: 'record'; domain: string; evidence: string };
export const domainValidationUpdate = defineUpdate<OrderView, [DomainValidationRequest]>('domainValidation');

// ---- the order's actions, in one table ----------------------------------------------------------------------------

/** Declares an action's Update handler from its event: the workflow passes how it checks and applies one. */
export type DeclareEventAction = <A extends { actor: Actor }>(update: UpdateDefinition<OrderView, [A]>, event: (args: A) => OrderEvent) => void;

/** An action that is one event of the pure model (domain/order-state.ts): its validator and handler decide it. */
export interface EventAction {
  readonly update: UpdateDefinition<OrderView, never>;
  /** Who may ask for it (the route's access; the model and the route refine who among them). */
  readonly roles: readonly Role[];
  declare(how: DeclareEventAction): void;
}

const eventAction = <A extends { actor: Actor }>(update: UpdateDefinition<OrderView, [A]>, roles: readonly Role[], event: (args: A) => OrderEvent): EventAction => ({
  update: update as UpdateDefinition<OrderView, never>,
  roles,
  declare: (how) => how(update, event),
});

/**
 * Every action on an order that is one event: action (as the audit trail names it) → Update, roles, event. The
 * workflow declares its handlers from it, in this order; the actions below it have handlers of their own.
 */
export const ORDER_EVENT_ACTIONS = {
  upload_evidence: eventAction(uploadEvidenceUpdate, ['customer', 'agent', 'dra_operator'], (a) => ({ type: 'evidence_uploaded', documentType: a.documentType, documentId: a.documentId })),
  submit: eventAction(submitUpdate, ['customer', 'agent'], () => ({ type: 'submitted' })),
  review: eventAction(reviewUpdate, ['ra_operator'], (a) => (a.decision === 'approve' ? { type: 'approved' } : { type: 'rejected', reasons: a.reasons })),
  record_face_to_face: eventAction(faceToFaceUpdate, ['dra_operator', 'agent'], (a) => ({
    type: 'face_to_face_recorded',
    interventionFormDocumentId: a.interventionFormDocumentId,
    meetingDate: a.meetingDate,
  })),
  record_originals: eventAction(originalsUpdate, ['ra_operator'], () => ({ type: 'originals_received' })),
  record_payment: eventAction(paymentUpdate, ['ra_operator'], (a) =>
    a.status === 'failed'
      ? { type: 'payment_failed', reference: a.reference }
      : { type: 'payment_received', reference: a.reference, ...(a.method !== undefined ? { method: a.method } : {}) },
  ),
  hold: eventAction(holdUpdate, ['ra_operator'], (a) => ({ type: 'held', comment: a.comment })),
  release: eventAction(releaseUpdate, ['ra_operator'], () => ({ type: 'released' })),
  resume: eventAction(resumeUpdate, ['ra_operator'], () => ({ type: 'resumed' })),
  cancel: eventAction(cancelUpdate, ['customer', 'agent', 'ra_operator'], (a) => ({ type: 'cancelled', reason: a.reason })),
  respond_to_certificate: eventAction(acceptanceUpdate, ['customer', 'agent'], (a) => ({ type: a.decision === 'accept' ? 'accepted' : 'refused' })),
} as const satisfies Record<string, EventAction>;

/** The order's other actions: an SMS sent or checked, the CA's domain checks; the workflow writes their handlers. */
export const ORDER_OTHER_ACTIONS = {
  request_unlock_code: { update: unlockCodeUpdate, roles: ['customer', 'agent'] },
  verify_unlock_code: { update: verifyUnlockUpdate, roles: ['customer', 'agent'] },
  domain_validation: { update: domainValidationUpdate, roles: ['customer', 'agent', 'ra_operator'] },
} as const satisfies Record<string, { update: { readonly name: string }; roles: readonly Role[] }>;

export type OrderAction = keyof typeof ORDER_EVENT_ACTIONS | keyof typeof ORDER_OTHER_ACTIONS;

/** Who may ask for each action on an order: the routes' access. */
export const ORDER_ACTION_ROLES: Readonly<Record<OrderAction, readonly Role[]>> = Object.fromEntries(
  [...Object.entries(ORDER_EVENT_ACTIONS), ...Object.entries(ORDER_OTHER_ACTIONS)].map(([action, { roles }]) => [action, roles]),
) as Record<OrderAction, readonly Role[]>;

/** Every action on an order, in the table's order. */
export const ORDER_ACTIONS = Object.keys(ORDER_ACTION_ROLES) as [OrderAction, ...OrderAction[]];

/** The holder's own actions: among the action's roles, only the certificate's holder may ask (an agent may not). */
export const HOLDER_ONLY_ACTIONS: ReadonlySet<OrderAction> = new Set<OrderAction>(['respond_to_certificate', 'request_unlock_code', 'verify_unlock_code']);

/**
 * What each action asks of the pure model, to know whether it is open in a state: the events it would send (any one
 * accepted, or refused only for its content, opens it). The DRA uploads the intervention form of a face-to-face
 * check; the others the file's documents.
 */
const ACTION_PROBES: Readonly<Record<OrderAction, (s: OrderView, role: Role) => readonly OrderEvent[]>> = {
  upload_evidence: (s, role) =>
    (role === 'dra_operator' ? (s.faceToFace.required ? ['intervention_form' as const] : []) : s.checklist.map((c) => c.documentType).filter((d) => d !== 'intervention_form')).map((documentType) => ({
      type: 'evidence_uploaded',
      documentType,
      documentId: 'probe',
    })),
  submit: () => [{ type: 'submitted' }],
  review: () => [{ type: 'approved' }],
  record_face_to_face: () => [{ type: 'face_to_face_recorded', interventionFormDocumentId: 'probe', meetingDate: 'probe' }],
  record_originals: () => [{ type: 'originals_received' }],
  record_payment: () => [{ type: 'payment_received', reference: 'probe' }, { type: 'payment_failed', reference: 'probe' }],
  hold: () => [{ type: 'held', comment: 'probe' }],
  release: () => [{ type: 'released' }],
  resume: () => [{ type: 'resumed' }],
  cancel: () => [{ type: 'cancelled', reason: 'probe' }],
  respond_to_certificate: () => [{ type: 'accepted' }],
  request_unlock_code: () => [{ type: 'unlock_code_requested' }],
  verify_unlock_code: () => [{ type: 'unlocked' }],
  // A name to prove, or every name proved and CAA forbidding issuance: the check looks at CAA again.
  domain_validation: (s) => [
    { type: 'domain_validation_requested', method: 'dns', domains: s.domains.items.filter((d) => d.status === 'pending').map((d) => d.name) },
    { type: 'caa_recheck_requested' },
  ],
};

/**
 * The actions a caller may ask for on an order now: their role is in the action's roles (the holder's own actions
 * for the holder only), and the order's state machine would take the action in this state.
 */
export function openActions(s: OrderView, caller: { readonly userId: string; readonly role: Role }): OrderAction[] {
  const actor: Actor = { userId: caller.userId, role: caller.role };
  return ORDER_ACTIONS.filter((action) => {
    if (!ORDER_ACTION_ROLES[action].includes(caller.role)) return false;
    if (HOLDER_ONLY_ACTIONS.has(action) && caller.userId !== s.holderUserId) return false;
    return ACTION_PROBES[action](s, caller.role).some((event) => {
      const d = decide(s, event, actor, s.updatedAt);
      return d.ok || d.refusal.kind === 'rule';
    });
  });
}

/** An order as GET /v1/orders/{id} and the actions answer it: its view, and what the caller may do now. */
export interface OrderWithActions extends OrderView {
  readonly actions: readonly OrderAction[];
}

// ---- deadlines in the history ------------------------------------------------------------------------------------

/**
 * The summary of the timer that waits for a deadline, recorded by Temporal on its TimerStarted event: the history
 * itself names which deadline a TimerFired was (the timeline reads it back). One line, no personal data.
 */
export const deadlineTimerSummary = (step: { kind: string; id: string; at: number }): string =>
  `deadline ${step.kind} ${step.id} due ${new Date(step.at).toISOString()}`;

export interface NamedDeadline {
  readonly kind: string;
  readonly stepId: string;
  readonly dueAt: string;
}

/** The deadline a timer summary names, or undefined for a timer that is not a deadline's (or predates the naming). */
export function parseDeadlineTimerSummary(summary: string): NamedDeadline | undefined {
  const m = /^deadline (\S+) (\S+) due (\S+)$/.exec(summary);
  return m === null ? undefined : { kind: m[1] as string, stepId: m[2] as string, dueAt: m[3] as string };
}

// ---- the certificate's own life, after the order completes --------------------------------------------------------

export const certificateWorkflowId = (orderId: string): string => `certificate-${orderId}`;

export const certificateLifeQuery = defineQuery<CertificateLifeView>('certificateLife');
export const revokeUpdate = defineUpdate<CertificateLifeView, [{ actor: Actor; serial: string; reason: RevocationReason }]>('revokeCertificate');
export const releaseHoldUpdate = defineUpdate<CertificateLifeView, [{ actor: Actor; serial: string }]>('releaseHold');
export const lifeDomainValidationUpdate = defineUpdate<CertificateLifeView, [DomainValidationRequest]>('lifeDomainValidation');
/** The token's unblock: a new SMS code, and when it is right a new PIN the API shows once. */
export const unblockCodeUpdate = defineUpdate<{ expiresAt: string; codesLeftToday: number }, [{ actor: Actor }]>('requestUnblockCode');
export const verifyUnblockUpdate = defineUpdate<{ verified: boolean; attemptsLeft: number }, [{ actor: Actor; digest: string }]>('verifyUnblockCode');
