/**
 * The quote (devis) as a PDF, in the order form's style: the CA's header, the customer, one line with its amounts,
 * VAT and the validity. Built from the stored quote only, so the same quote always gives the same bytes.
 */
import type { CaIdentity } from '../../config/ca-identity.js';
import { CATALOG, type DurationYears, type ProductCode } from '../../domain/catalog.js';
import { formatDate, formatDuration, formatEuros, type Language } from './format.js';
import { createCaPdf } from './pdf-document.js';

export interface QuoteDocument {
  readonly number: string;
  readonly siret: string;
  readonly organisationName: string | null;
  readonly product: ProductCode;
  readonly durationYears: DurationYears;
  readonly quantity: number;
  readonly partnerCode: string | null;
  readonly listUnitPriceCents: number;
  readonly discountPercent: number;
  readonly unitPriceCents: number;
  readonly totalExVatCents: number;
  readonly vatPercent: number;
  readonly vatCents: number;
  readonly totalInclVatCents: number;
  readonly createdAt: string;
  readonly validUntil: string;
}

export const quoteFileName = (number: string, lang: Language): string => (lang === 'fr' ? `devis-${number}.pdf` : `quote-${number}.pdf`);

const T = {
  fr: {
    title: 'Devis',
    number: 'N° de devis',
    date: 'Date',
    validUntil: "Valable jusqu'au",
    customer: 'Client',
    orgName: 'Raison sociale',
    siret: 'SIRET',
    details: 'Détail',
    product: 'Certificat',
    duration: 'Durée',
    quantity: 'Quantité',
    partner: 'Code partenaire',
    listPrice: 'Prix unitaire HT',
    discount: 'Remise',
    unitPrice: 'Prix unitaire remisé HT',
    totalExVat: 'Total HT',
    vat: (p: number) => `TVA ${p} %`,
    totalInclVat: 'Total TTC',
    footer: 'Pour commander : créez votre compte et commandez depuis votre espace client en citant ce numéro.',
  },
  en: {
    title: 'Quote',
    number: 'Quote number',
    date: 'Date',
    validUntil: 'Valid until',
    customer: 'Customer',
    orgName: 'Name',
    siret: 'SIRET',
    details: 'Details',
    product: 'Certificate',
    duration: 'Duration',
    quantity: 'Quantity',
    partner: 'Partner code',
    listPrice: 'Unit price ex-VAT',
    discount: 'Discount',
    unitPrice: 'Discounted unit price ex-VAT',
    totalExVat: 'Total ex-VAT',
    vat: (p: number) => `VAT ${p}%`,
    totalInclVat: 'Total incl. VAT',
    footer: 'To order, create your account and order from your customer area, quoting this number.',
  },
} as const;

/** `identity`: the CA issuing the quote (config `caIdentity`), on its letterhead. */
export async function buildQuotePdf(quote: QuoteDocument, lang: Language, identity: CaIdentity): Promise<Uint8Array> {
  const t = T[lang];
  const { doc, writer: w } = await createCaPdf(
    {
      title: `${t.title} ${quote.number}`,
      subject: `${t.title} ${quote.number} — ${CATALOG[quote.product].name[lang]}`,
      keywords: [quote.number, quote.siret],
      lang,
      date: quote.createdAt,
    },
    identity,
  );
  w.letterhead(`${t.title} ${quote.number}`);

  // Values are cut to their line rather than wrapped (a long organisation name): one line per row.
  const rows = { labelWidth: 180, overflow: 'truncate' } as const;
  w.section(t.title, [
    [t.number, quote.number],
    [t.date, formatDate(quote.createdAt, lang)],
    [t.validUntil, formatDate(quote.validUntil, lang)],
  ], rows);
  w.section(t.customer, [...(quote.organisationName !== null ? [[t.orgName, quote.organisationName] as const] : []), [t.siret, quote.siret]], rows);
  const discountedRows =
    quote.discountPercent > 0
      ? ([
          [t.discount, `${quote.discountPercent} %`],
          [t.unitPrice, formatEuros(quote.unitPriceCents, lang)],
        ] as const)
      : [];
  w.section(t.details, [
    [t.product, CATALOG[quote.product].name[lang]],
    [t.duration, formatDuration(quote.durationYears, lang)],
    [t.quantity, String(quote.quantity)],
    ...(quote.partnerCode !== null ? [[t.partner, quote.partnerCode] as const] : []),
    [t.listPrice, formatEuros(quote.listUnitPriceCents, lang)],
    ...discountedRows,
  ], rows);
  w.section('', [
    [t.totalExVat, formatEuros(quote.totalExVatCents, lang)],
    [t.vat(quote.vatPercent), formatEuros(quote.vatCents, lang)],
    [t.totalInclVat, formatEuros(quote.totalInclVatCents, lang)],
  ], { ...rows, valueFont: 'bold' });
  w.footer(t.footer, 8.5);
  return doc.save();
}
