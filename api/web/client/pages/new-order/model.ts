/**
 * What the new order wizard knows besides its form: the catalog as GET /v1/catalog answers it, the prices with VAT
 * (the rate is domain/partner.ts's, the rounding that of a quote), which step each field lives on, and how an API
 * problem becomes the sentence beside its field.
 */
import type { OrderView } from '../../../../../domain/order.js';
import { VAT_PERCENT } from '../../../../../domain/partner.js';
import { formatAmount } from '../../../i18n/index.js';
import type { ApiProblem } from '../../api.js';
import { lang, t } from '../../boot.js';
import type { Errors } from '../../ui.js';

export const n = t.newOrder;

export interface CatalogProduct {
  readonly code: string;
  readonly name: { readonly en: string; readonly fr: string };
  readonly kind: 'server' | 'person';
  readonly proofing: string;
  readonly originalsByPost: boolean;
  readonly keyOrigin: string;
  readonly delivery: string;
  readonly smsUnlock: boolean;
  /** Read from the catalog (domain/catalog.ts dnsNames) through GET /v1/catalog. */
  readonly dnsNames: 'none' | 'dns' | 'wildcard';
  /** Days the originals have to reach the CA, from the server's deadlines; null when none go by post. */
  readonly originalsDueDays: number | null;
  readonly orderable: boolean;
  readonly durations: readonly { readonly years: number; readonly priceCentsExVat: number }[];
}

export interface Catalog {
  readonly products: readonly CatalogProduct[];
  readonly partner?: { readonly code: string; readonly discountPercent: number };
}

export interface Member {
  readonly id: string;
  readonly email: string;
  readonly givenName: string;
  readonly surname: string;
  readonly phone: string | null;
  readonly status: 'pending' | 'active' | 'disabled';
}

export interface Organisation {
  readonly id: string;
  readonly siret: string;
  readonly name: string;
  readonly publicAdministration: boolean;
}

export interface VerifiedCsr {
  readonly subject: string;
  readonly commonName: string | null;
  readonly keyType: 'rsa' | 'ec';
  readonly keyDescription: string;
  readonly csrNames: readonly string[];
  readonly names: readonly string[];
}

export type { OrderView };

export const initialValues = {
  product: '',
  durationYears: '1',
  os: 'windows',
  partnerCode: '',
  csrMethod: 'paste',
  commonName: '',
  keyType: 'rsa',
  csr: '',
  extraSans: '',
  ownerKind: 'self',
  domainOwner: '',
  holderMode: 'self',
  holderUserId: '',
  givenName: '',
  surname: '',
  email: '',
  phone: '',
  language: lang as string,
  paymentMethod: 'transfer',
  purchaseOrderNumber: '',
  termsAccepted: false as boolean,
};
export type WizardValues = typeof initialValues;
export type Field = keyof WizardValues;

export type StepId = 'product' | 'key' | 'holder' | 'payment';

/** The step each field is on: a refusal of the order opens the step of its first field. */
export const STEP_OF: Readonly<Record<Field, StepId>> = {
  product: 'product',
  durationYears: 'product',
  os: 'product',
  partnerCode: 'product',
  csrMethod: 'key',
  commonName: 'key',
  keyType: 'key',
  csr: 'key',
  extraSans: 'key',
  ownerKind: 'key',
  domainOwner: 'key',
  holderMode: 'holder',
  holderUserId: 'holder',
  givenName: 'holder',
  surname: 'holder',
  email: 'holder',
  phone: 'holder',
  language: 'holder',
  paymentMethod: 'payment',
  purchaseOrderNumber: 'payment',
  termsAccepted: 'payment',
};

/** The labels the error summary names each field by. */
export const LABELS: Readonly<Record<Field, string>> = {
  product: n.product.legend,
  durationYears: n.duration.legend,
  os: n.os.legend,
  partnerCode: n.partner.field,
  csrMethod: n.csr.methodLegend,
  commonName: n.csr.commonName,
  keyType: n.csr.keyType,
  csr: n.csr.field,
  extraSans: n.csr.extraSans,
  ownerKind: n.csr.ownerLegend,
  domainOwner: n.csr.ownerName,
  holderMode: n.holder.legend,
  holderUserId: n.holder.memberField,
  givenName: n.holder.givenName,
  surname: n.holder.surname,
  email: n.holder.email,
  phone: n.holder.phone,
  language: n.holder.language,
  paymentMethod: n.payment.legend,
  purchaseOrderNumber: n.payment.purchaseOrderNumber,
  termsAccepted: n.terms.accept,
};

const words = (table: object, key: string): string | undefined => (table as Record<string, string | undefined>)[key];

export const productName = (p: Pick<CatalogProduct, 'name'>): string => (lang === 'en' ? p.name.en : p.name.fr);
export const proofingText = (p: CatalogProduct): string => (words(n.product.proofing, p.proofing) ?? '').replace('{days}', String(p.originalsDueDays ?? ''));
export const deliveryText = (p: CatalogProduct): string => words(n.product.delivery, p.delivery) ?? '';
export const paymentText = (method: string): string => words(n.payment, method) ?? method;
export const osText = (os: string): string => words(n.os, os) ?? os;

export const isServer = (p: CatalogProduct | undefined): boolean => p?.kind === 'server';
/** Server products whose certificate names domains (the seal names its organisation only). */
export const hasNames = (p: CatalogProduct | undefined): boolean => p !== undefined && p.dnsNames !== 'none';
export const provesDomains = (p: CatalogProduct | undefined): boolean => p?.proofing === 'organisation_domain';

export interface Price {
  readonly exVat: number;
  readonly vat: number;
  readonly inclVat: number;
}

/** One unit with VAT, as a quote of quantity 1 counts it (VAT on the total, rounded to the cent). */
export function withVat(exVat: number): Price {
  const vat = Math.round((exVat * VAT_PERCENT) / 100);
  return { exVat, vat, inclVat: exVat + vat };
}
export const VAT = VAT_PERCENT;

export const money = (cents: number): string => formatAmount(lang, cents);

export const linesOf = (text: string): string[] =>
  text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

interface CsrProblem {
  readonly rule: string;
  readonly message: string;
}

/** The rule in the reader's words; the API's own (English) sentence for a rule the catalogue does not know. */
export const csrSentence = (rule: string, fallback: string): string => words(n.csrProblems, rule) ?? fallback;

/**
 * A CSR refusal (POST /v1/csr/verify or /v1/orders: `problems` of {rule, message}) as the sentences beside the CSR
 * field, and beside the additional names for the problems of those names (their message starts "extra SAN").
 */
export function csrErrors(p: ApiProblem): Errors | undefined {
  const problems = Array.isArray(p.body.problems) ? (p.body.problems as CsrProblem[]) : undefined;
  const single = words(n.csrProblems, p.slug);
  if (problems === undefined) return single === undefined ? undefined : { csr: single };
  const byField: Record<'csr' | 'extraSans', string[]> = { csr: [], extraSans: [] };
  for (const problem of problems) {
    const field = problem.message.startsWith('extra SAN') ? 'extraSans' : 'csr';
    const sentence = csrSentence(problem.rule, problem.message);
    if (!byField[field].includes(sentence)) byField[field].push(sentence);
  }
  const errors: Errors = {};
  if (byField.csr.length > 0) errors.csr = byField.csr.join(' ');
  if (byField.extraSans.length > 0) errors.extraSans = byField.extraSans.join(' ');
  return errors;
}

/** Which field a refusal of POST /v1/orders belongs to (the rest are said at the top of the form). */
const ORDER_PROBLEM_FIELDS: Readonly<Record<string, Field | undefined>> = {
  'terms-not-accepted': 'termsAccepted',
  'purchase-order-number-required': 'purchaseOrderNumber',
  'payment-method-not-allowed': 'paymentMethod',
  'holder-not-in-organisation': 'holderUserId',
  'agent-mandate-required': 'holderUserId',
  'mobile-phone-required': undefined,
  'unknown-partner-code': 'partnerCode',
  'product-not-in-partner-code': 'partnerCode',
  'email-in-use': 'email',
  'invalid-phone': 'phone',
};

/** API body paths → fields (400 answers name the path of each bad value). */
const PATHS: Readonly<Record<string, Field>> = {
  'payment.purchaseOrderNumber': 'purchaseOrderNumber',
  'payment.method': 'paymentMethod',
  holderUserId: 'holderUserId',
  partnerCode: 'partnerCode',
  domainOwner: 'domainOwner',
  extraSans: 'extraSans',
  csr: 'csr',
};

/** Problem slug → sentence and field, for useForm's readProblem. */
export function problemMap(): { fields: Record<string, string>; slugs: Record<string, { field?: string; message: string }> } {
  const slugs: Record<string, { field?: string; message: string }> = {};
  for (const [slug, message] of Object.entries(n.problems)) {
    const field = ORDER_PROBLEM_FIELDS[slug];
    slugs[slug] = field === undefined ? { message } : { field, message };
  }
  return { fields: { ...PATHS }, slugs };
}

/** An Idempotency-Key for the wizard's one order (getRandomValues: also outside a secure context). */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return `new-order-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
