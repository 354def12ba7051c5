/** The order as every layer sees it: what the workflow starts from and what a query answers. */
import type { Deadlines } from './deadlines.js';
import {
  CATALOG,
  checklistFor,
  type DocumentType,
  type DurationYears,
  type OperatingSystem,
  type PaymentMethod,
  type ProductCode,
} from './catalog.js';

export const ORDER_STATUSES = [
  'created',
  'awaiting_evidence',
  'under_review',
  'approved',
  'awaiting_face_to_face',
  'awaiting_originals',
  'originals_overdue',
  'awaiting_domain_validation',
  'awaiting_payment',
  'issuing',
  'awaiting_acceptance',
  'awaiting_unlock',
  'on_hold',
  /** A step failed in a way no retry fixes (a refusal of the CA, a mail without recipient…): staff resume or cancel. */
  'needs_attention',
  'completed',
  'cancelled',
  'abandoned',
  'refused',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Stages where the file can still change, before the CA starts issuing: the statuses from awaiting_evidence up to
 * issuing in the order above, and on_hold (an order is held from one of them and goes back to it).
 */
export const PRE_ISSUANCE_STATUSES: readonly OrderStatus[] = [
  ...ORDER_STATUSES.slice(ORDER_STATUSES.indexOf('awaiting_evidence'), ORDER_STATUSES.indexOf('issuing')),
  'on_hold',
];

export const WAITING_ON = ['customer', 'ra', 'dra', 'post', 'payment', 'ca', 'nobody'] as const;
export type WaitingOn = (typeof WAITING_ON)[number];

export type DocumentStatus = 'missing' | 'uploaded' | 'accepted' | 'rejected';

export interface ChecklistItem {
  readonly documentType: DocumentType;
  readonly status: DocumentStatus;
  readonly documentId?: string;
  readonly rejectionReason?: string;
}

export interface Deadline {
  readonly kind: string;
  readonly at: string;
}

export type PaymentStatus = 'pending' | 'received' | 'failed' | 'purchase_order_accepted';

export interface Holder {
  readonly userId: string;
  readonly email: string;
  readonly givenName: string;
  readonly surname: string;
  readonly phone: string | null;
  readonly language: 'fr' | 'en';
}

/** How the CA proves control of a domain: a file on the web site, a DNS TXT record, or an operator's record. */
export type DomainValidationMethod = 'http' | 'dns' | 'operator';

/** A random value the customer publishes (BR §3.2.2.4.18 file or §3.2.2.4.7 TXT record); not a secret. */
export interface DomainChallenge {
  readonly domain: string;
  readonly authorizationDomain: string;
  readonly method: 'http' | 'dns';
  readonly token: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly http?: { readonly url: string; readonly path: string; readonly content: string };
  readonly dns?: { readonly recordName: string; readonly recordType: 'TXT'; readonly value: string };
}

export interface DomainItem {
  readonly name: string;
  readonly status: 'pending' | 'validated';
  readonly method: DomainValidationMethod | null;
  readonly validatedAt: string | null;
  /** What the check saw (URL and content, TXT record), or the operator's evidence document. */
  readonly evidence: string | null;
  readonly challenge: DomainChallenge | null;
  /** The last unsuccessful check, so the customer sees what to fix. */
  readonly lastCheck: { readonly at: string; readonly reason: string } | null;
}

/** One name's CAA check (RFC 8659, BR §3.2.2.8): the relevant RRset found by climbing the tree, and what it decides. */
export interface CaaNameCheck {
  /** The name as it goes in the certificate, maybe '*.example.com'. */
  readonly name: string;
  /** Where the relevant CAA RRset was found (the name or an ancestor); null when none has one: any CA may issue. */
  readonly relevantDomain: string | null;
  /** That RRset in presentation form, `0 issue "ca.example"`. */
  readonly records: readonly string[];
  readonly permitted: boolean;
  /** Why, in a sentence the customer can act on. */
  readonly reason: string;
}

/** A CAA check of every name of a certificate, right before it is signed. */
export interface CaaCheck {
  readonly checkedAt: string;
  /** Every name permits issuance by the CA. */
  readonly permitted: boolean;
  /** The CA's issuer domain names a record must name (CAA_IDENTIFIERS). */
  readonly identifiers: readonly string[];
  readonly names: readonly CaaNameCheck[];
}

/** The order's CAA checks so far: how many (each has its own key) and the last one, which blocks while it forbids. */
export interface CaaState {
  readonly checks: number;
  readonly last: CaaCheck;
}

/** The customer's certificate request (server products, and personal ones delivered as software), checked at creation. */
export interface CertificateRequestInput {
  readonly csrPem: string;
  readonly publicKeySpki: string;
  readonly keyDescription: string;
  /** The names to certify: the CSR's and the extra SANs, checked against the name rules. Empty for seals and persons. */
  readonly dnsNames: readonly string[];
}

/**
 * An order placed over ACME (api/acme/, SPEC §11), made at finalize: the organisation's identity is the RA's earlier
 * approval (reused, BR §4.2.1), each name was proved by its ACME challenge, it is billed to the organisation, and the
 * client's finalize is its acceptance. Absent from every other order.
 */
export interface AcmeOrderInput {
  readonly accountId: string;
  readonly acmeOrderId: string;
  /** The approved review of an OV order of the organisation that vouches for its identity. */
  readonly identity: { readonly approvedOrderId: string; readonly approvedAt: string };
  readonly validations: readonly { readonly name: string; readonly method: 'http' | 'dns'; readonly validatedAt: string; readonly evidence: string }[];
}

/** Everything the order workflow starts from; checked by the API before the workflow exists. */
export interface OrderInput {
  readonly orderId: string;
  readonly product: ProductCode;
  readonly durationYears: DurationYears;
  readonly os: OperatingSystem;
  readonly partnerCode: string | null;
  readonly holder: Holder;
  readonly orderedByUserId: string;
  readonly organisation: { readonly id: string; readonly siret: string; readonly name: string; readonly locality: string | null };
  /** The customer's CSR; null when the CA personalises a token. */
  readonly certificateRequest: CertificateRequestInput | null;
  /** Who holds the domain names, when it is not the organisation (recorded for the review). */
  readonly domainOwner: string | null;
  readonly payment: { readonly method: PaymentMethod; readonly purchaseOrderNumber: string | null };
  readonly priceCents: number;
  readonly createdAt: string;
  /** Fixed at creation, so that a running order keeps the deadlines it started with. */
  readonly deadlines: Deadlines;
  /** Set only on orders placed over ACME. */
  readonly acme?: AcmeOrderInput;
}

/** The step that failed with a refusal no retry can fix, and where the order goes back to once staff resume it. */
export interface Attention {
  /** The activity and what it was doing (the mail's step, the issuance…), e.g. `issueCertificate certificate`. */
  readonly step: string;
  readonly activity: string;
  readonly message: string;
  readonly since: string;
  readonly resumeTo: OrderStatus;
}

export interface OrderView {
  readonly id: string;
  readonly product: ProductCode;
  readonly durationYears: DurationYears;
  readonly os: OperatingSystem;
  readonly partnerCode: string | null;
  readonly status: OrderStatus;
  readonly waitingOn: WaitingOn;
  readonly holderUserId: string;
  readonly orderedByUserId: string;
  readonly organisationId: string;
  readonly checklist: readonly ChecklistItem[];
  readonly deadlines: readonly Deadline[];
  readonly payment: {
    readonly method: PaymentMethod;
    readonly status: PaymentStatus;
    readonly purchaseOrderNumber: string | null;
    readonly priceCents: number;
    /** The bank, cheque or card reference once paid (or failed). */
    readonly reference: string | null;
  };
  readonly certificateSerial: string | null;
  /** Where the key comes from: a token the CA personalises, or the customer's CSR. */
  readonly keyOrigin: 'token' | 'customer_csr';
  /** TLS products: every name must be validated before issuance. */
  readonly domains: { readonly required: boolean; readonly items: readonly DomainItem[] };
  /** What the order still needs besides the review, and where each stands. */
  readonly faceToFace: { readonly required: boolean; readonly done: boolean; readonly meetingDate: string | null };
  readonly originals: { readonly required: boolean; readonly received: boolean; readonly overdue: boolean };
  readonly acceptance: 'not_issued' | 'pending' | 'accepted' | 'refused';
  readonly unlock: { readonly required: boolean; readonly done: boolean };
  /** The status to return to when released; set only while on hold. */
  readonly heldStatus: OrderStatus | null;
  readonly holdComment: string | null;
  /** Set while the order needs staff attention; absent from views recorded before it existed. */
  readonly attention?: Attention | null;
  /** TLS: the last CAA check before issuance; absent from views recorded before CAA was checked. */
  readonly caa?: CaaState | null;
  readonly reviewRounds: number;
  /** Why the order ended, for cancelled, abandoned and refused orders. */
  readonly closedReason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Grows with every change, so that a late write of an older view never overwrites a newer one. */
  readonly version: number;
}

/** The view of a new order once it is recorded: it waits for the customer's supporting documents. */
export function newOrderView(input: OrderInput): OrderView {
  const view = newFileView(input);
  return input.acme === undefined ? view : acmeOrderView(view, input.acme);
}

/**
 * An ACME order starts where a reviewed, validated and billed one stands: its documents are the organisation's file
 * the RA approved, its names were proved by the ACME challenges, the organisation's purchase order pays: it issues.
 */
function acmeOrderView(view: OrderView, acme: AcmeOrderInput): OrderView {
  const proved = new Map(acme.validations.map((v) => [v.name, v]));
  const items = view.domains.items.map((item): DomainItem => {
    const v = proved.get(item.name);
    return v === undefined ? item : { ...item, status: 'validated', method: v.method, validatedAt: v.validatedAt, evidence: v.evidence };
  });
  const ready = items.length > 0 && items.every((item) => item.status === 'validated');
  return {
    ...view,
    status: ready ? 'issuing' : 'awaiting_domain_validation',
    waitingOn: ready ? 'ca' : 'customer',
    checklist: view.checklist.map((c) => ({ documentType: c.documentType, status: 'accepted' })),
    domains: { ...view.domains, items },
    payment: { ...view.payment, status: 'purchase_order_accepted', reference: `ACME account ${acme.accountId}` },
  };
}

function newFileView(input: OrderInput): OrderView {
  const product = CATALOG[input.product];
  const checklist = checklistFor(input.product, {
    orderedForSomeoneElse: input.orderedByUserId !== input.holder.userId,
    paymentMethod: input.payment.method,
  }).map((documentType): ChecklistItem => ({ documentType, status: 'missing' }));
  return {
    id: input.orderId,
    product: input.product,
    durationYears: input.durationYears,
    os: input.os,
    partnerCode: input.partnerCode,
    status: 'awaiting_evidence',
    waitingOn: 'customer',
    holderUserId: input.holder.userId,
    orderedByUserId: input.orderedByUserId,
    organisationId: input.organisation.id,
    checklist,
    deadlines: [],
    payment: {
      method: input.payment.method,
      status: 'pending',
      purchaseOrderNumber: input.payment.purchaseOrderNumber,
      priceCents: input.priceCents,
      reference: null,
    },
    certificateSerial: null,
    keyOrigin: input.certificateRequest === null ? 'token' : 'customer_csr',
    domains: {
      required: product.proofing === 'organisation_domain',
      items:
        product.proofing === 'organisation_domain'
          ? (input.certificateRequest?.dnsNames ?? []).map(
              (name): DomainItem => ({ name, status: 'pending', method: null, validatedAt: null, evidence: null, challenge: null, lastCheck: null }),
            )
          : [],
    },
    faceToFace: { required: product.proofing === 'face_to_face', done: false, meetingDate: null },
    originals: { required: product.originalsByPost, received: false, overdue: false },
    acceptance: 'not_issued',
    // A key the customer generated is not on a token of ours: nothing to unlock.
    unlock: { required: product.smsUnlock && input.certificateRequest === null, done: false },
    heldStatus: null,
    holdComment: null,
    attention: null,
    reviewRounds: 0,
    closedReason: null,
    createdAt: input.createdAt,
    updatedAt: input.createdAt,
    version: 1,
  };
}
