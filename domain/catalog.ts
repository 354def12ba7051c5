/**
 * The catalog: every product of SPEC §2, its proofing rules and its supporting documents. Prices are defaults
 * (euro cents, ex-VAT) and live here only.
 */
export const PRODUCT_CODES = [
  'SSL',
  'SSL_RGS_STAR',
  'SSL_WILDCARD',
  'SERVER_CLIENT',
  'SERVER_SEAL',
  'ID_RGS_STAR',
  'ID_RGS_2STAR',
  'ID_RGS_3STAR',
  'ENCRYPTION',
  'EIDAS_QUALIFIED',
] as const;
export type ProductCode = (typeof PRODUCT_CODES)[number];

export const DURATIONS_YEARS = [1, 2, 3] as const;
export type DurationYears = (typeof DURATIONS_YEARS)[number];

export const OPERATING_SYSTEMS = ['windows', 'macos', 'other'] as const;
export type OperatingSystem = (typeof OPERATING_SYSTEMS)[number];

export const PAYMENT_METHODS = ['card', 'transfer', 'cheque', 'purchase_order'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export const DOCUMENT_TYPES = [
  'holder_identity',
  'organisation_registration',
  'signed_order_form',
  'agent_mandate',
  'purchase_order',
  'domain_ownership',
  'legal_representative_identity',
  'intervention_form',
] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export const DOCUMENT_LABELS: Record<DocumentType, { en: string; fr: string }> = {
  holder_identity: { en: "Holder's identity document (ID card or passport), valid", fr: "Pièce d'identité du porteur en cours de validité" },
  organisation_registration: {
    en: 'Proof of the organisation: company register extract (Kbis) under 3 months, or SIRENE notice',
    fr: "Justificatif de l'organisation : extrait Kbis de moins de 3 mois, ou avis de situation SIRENE",
  },
  signed_order_form: { en: 'Order form, dated and signed', fr: 'Bon de commande daté et signé' },
  agent_mandate: { en: 'Certification agent mandate, signed', fr: 'Mandat du mandataire de certification signé' },
  purchase_order: { en: 'Purchase order of the public administration', fr: "Bon de commande de l'administration" },
  domain_ownership: { en: 'Proof of ownership of the domain names', fr: 'Justificatif de propriété des noms de domaine' },
  legal_representative_identity: {
    en: "Legal representative's identity document",
    fr: "Pièce d'identité du représentant légal",
  },
  intervention_form: { en: 'Face-to-face intervention form, signed', fr: "Formulaire d'intervention en face-à-face signé" },
};

export type ProductKind = 'server' | 'person';
/** Which DNS names a certificate of the product carries: none, FQDNs, or FQDNs with at least one wildcard. */
export type DnsNames = 'none' | 'dns' | 'wildcard';
export type Proofing = 'organisation' | 'organisation_domain' | 'organisation_legal_representative' | 'online' | 'face_to_face';
export type KeyOrigin = 'customer_csr' | 'token' | 'token_or_customer_csr';
export type Delivery = 'download' | 'token' | 'token_or_software';

export interface Product {
  readonly code: ProductCode;
  readonly name: { en: string; fr: string };
  readonly kind: ProductKind;
  readonly proofing: Proofing;
  readonly originalsByPost: boolean;
  readonly keyOrigin: KeyOrigin;
  readonly delivery: Delivery;
  /** The names the certificate certifies; the CSR check, the profile, the domain validation and the pages read it. */
  readonly dnsNames: DnsNames;
  /** The TLS products follow the CA/Browser Forum validity schedule and are sold as subscriptions. */
  readonly browserTrusted: boolean;
  /** An SMS unlock code is sent to the holder's mobile: the number is required when ordering. */
  readonly smsUnlock: boolean;
  /** Price ex-VAT in euro cents for each duration. */
  readonly priceCents: Readonly<Record<DurationYears, number>>;
  /** Extra fee for the face-to-face meeting, euro cents ex-VAT. */
  readonly faceToFaceFeeCents: number;
  /** Supporting documents every order of this product needs (conditional ones are added by `checklistFor`). */
  readonly documents: readonly DocumentType[];
}

const serverDocs: readonly DocumentType[] = ['organisation_registration', 'signed_order_form'];
const personDocs: readonly DocumentType[] = ['holder_identity', 'organisation_registration', 'signed_order_form'];

type Varying = Pick<Product, 'code' | 'name' | 'priceCents'> & Partial<Product>;

/** Server products: the customer's CSR, proof of the organisation, downloaded; TLS ones also prove their domains. */
const server = (p: Varying & Pick<Product, 'proofing' | 'browserTrusted' | 'dnsNames'>): Product => ({
  kind: 'server',
  originalsByPost: false,
  keyOrigin: 'customer_csr',
  delivery: 'download',
  smsUnlock: false,
  faceToFaceFeeCents: 0,
  documents: p.proofing === 'organisation_domain' ? [...serverDocs, 'domain_ownership'] : serverDocs,
  ...p,
});

/** Personal products: the holder's identity, a token unlocked by SMS; face-to-face ones also send originals by post. */
const person = (p: Varying & Pick<Product, 'proofing'>): Product => ({
  kind: 'person',
  originalsByPost: p.proofing === 'face_to_face',
  keyOrigin: p.proofing === 'face_to_face' ? 'token' : 'token_or_customer_csr',
  delivery: p.proofing === 'face_to_face' ? 'token' : 'token_or_software',
  browserTrusted: false,
  dnsNames: 'none',
  smsUnlock: true,
  faceToFaceFeeCents: p.proofing === 'face_to_face' ? 5000 : 0,
  documents: personDocs,
  ...p,
});

export const CATALOG: Readonly<Record<ProductCode, Product>> = {
  SSL: server({ code: 'SSL', name: { en: 'SSL (OV TLS)', fr: 'SSL (OV TLS)' }, proofing: 'organisation_domain', browserTrusted: true, dnsNames: 'dns', priceCents: { 1: 19000, 2: 36000, 3: 51000 } }),
  SSL_RGS_STAR: server({ code: 'SSL_RGS_STAR', name: { en: 'SSL RGS*', fr: 'SSL RGS*' }, proofing: 'organisation_domain', browserTrusted: true, dnsNames: 'dns', priceCents: { 1: 24000, 2: 45000, 3: 64000 } }),
  SSL_WILDCARD: server({ code: 'SSL_WILDCARD', name: { en: 'SSL Wildcard', fr: 'SSL Wildcard' }, proofing: 'organisation_domain', browserTrusted: true, dnsNames: 'wildcard', priceCents: { 1: 49000, 2: 93000, 3: 132000 } }),
  SERVER_CLIENT: server({
    code: 'SERVER_CLIENT',
    name: { en: 'Server Client (client authentication)', fr: 'Serveur Client' },
    proofing: 'organisation',
    browserTrusted: false,
    dnsNames: 'dns',
    priceCents: { 1: 15000, 2: 28000, 3: 40000 },
  }),
  SERVER_SEAL: server({
    code: 'SERVER_SEAL',
    name: { en: 'Server Seal (organisation e-seal)', fr: 'Cachet Serveur' },
    proofing: 'organisation_legal_representative',
    browserTrusted: false,
    dnsNames: 'none',
    priceCents: { 1: 25000, 2: 47000, 3: 67000 },
    documents: [...serverDocs, 'legal_representative_identity'],
  }),
  // The seeds show 105 € ex-VAT for 1095 days.
  ID_RGS_STAR: person({ code: 'ID_RGS_STAR', name: { en: 'Pack ID RGS*', fr: 'Pack ID RGS*' }, proofing: 'online', priceCents: { 1: 5500, 2: 8500, 3: 10500 } }),
  // The seeds show 250 € ex-VAT for 3 years plus about 50 € for the face-to-face meeting.
  ID_RGS_2STAR: person({ code: 'ID_RGS_2STAR', name: { en: 'Pack ID RGS**', fr: 'Pack ID RGS**' }, proofing: 'face_to_face', priceCents: { 1: 13000, 2: 19000, 3: 25000 } }),
  ID_RGS_3STAR: person({ code: 'ID_RGS_3STAR', name: { en: 'Pack ID RGS***', fr: 'Pack ID RGS***' }, proofing: 'face_to_face', priceCents: { 1: 15000, 2: 23000, 3: 30000 } }),
  ENCRYPTION: person({ code: 'ENCRYPTION', name: { en: 'Encryption', fr: 'Chiffrement' }, proofing: 'online', priceCents: { 1: 5000, 2: 8000, 3: 10000 } }),
  EIDAS_QUALIFIED: person({
    code: 'EIDAS_QUALIFIED',
    name: { en: 'eIDAS qualified signature (ETSI EN 319 411-2)', fr: 'eIDAS qualifié (ETSI EN 319 411-2)' },
    proofing: 'face_to_face',
    priceCents: { 1: 16000, 2: 25000, 3: 33000 },
  }),
};

/** Whether the product's certificate carries DNS names (the CSR's names are checked, the domains validated). */
export const certifiesDnsNames = (code: ProductCode): boolean => CATALOG[code].dnsNames !== 'none';

/** The paid term: 365 days a year, as the seeds count (1095 days for three years). */
export const termDays = (years: number): number => years * 365;

export const isProductCode = (value: string): value is ProductCode => (PRODUCT_CODES as readonly string[]).includes(value);

/** What the order needs beyond the product's own list: a mandate when an agent orders for someone else, the purchase order. */
export function checklistFor(
  code: ProductCode,
  opts: { orderedForSomeoneElse: boolean; paymentMethod: PaymentMethod },
): DocumentType[] {
  const docs: DocumentType[] = [...CATALOG[code].documents];
  if (opts.orderedForSomeoneElse) docs.push('agent_mandate');
  if (opts.paymentMethod === 'purchase_order') docs.push('purchase_order');
  return docs;
}

export const priceOf = (code: ProductCode, years: DurationYears): number =>
  CATALOG[code].priceCents[years] + CATALOG[code].faceToFaceFeeCents;

/** Every product of the catalog can be ordered. */
export const ORDERABLE_PRODUCTS: ReadonlySet<ProductCode> = new Set<ProductCode>(PRODUCT_CODES);
