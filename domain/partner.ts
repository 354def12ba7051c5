/**
 * Partner codes and quote arithmetic: pure functions over the catalog's prices (euro cents, ex-VAT).
 * A code may restrict the catalog to some products, discount it, or both.
 */
import { PRODUCT_CODES, priceOf, type DurationYears, type ProductCode } from './catalog.js';

export interface PartnerTerms {
  readonly code: string;
  /** Null: every product of the catalog. */
  readonly products: readonly ProductCode[] | null;
  /** 0 to 100. */
  readonly discountPercent: number;
}

/** French standard VAT rate, in percent. */
export const VAT_PERCENT = 20;

/** How long a quote holds its prices. */
export const QUOTE_VALIDITY_DAYS = 30;

export const MAX_QUOTE_QUANTITY = 1000;

export function partnerAllows(terms: PartnerTerms | null, product: ProductCode): boolean {
  return terms === null || terms.products === null || terms.products.includes(product);
}

/** The products a caller may see: the whole catalog, or the code's list in catalog order. */
export function productsFor(terms: PartnerTerms | null): ProductCode[] {
  return PRODUCT_CODES.filter((code) => partnerAllows(terms, code));
}

/** A price after a percentage discount, rounded to the cent (half up: amounts are never negative). */
export function discounted(cents: number, discountPercent: number): number {
  if (!Number.isInteger(discountPercent) || discountPercent < 0 || discountPercent > 100) {
    throw new RangeError(`discount must be an integer percentage, got ${discountPercent}`);
  }
  return Math.round((cents * (100 - discountPercent)) / 100);
}

/** The unit price ex-VAT of a product under a partner code (or none). */
export function partnerPriceOf(product: ProductCode, years: DurationYears, terms: PartnerTerms | null): number {
  return discounted(priceOf(product, years), terms?.discountPercent ?? 0);
}

export interface QuoteAmounts {
  /** Catalog unit price, before the discount. */
  readonly listUnitPriceCents: number;
  readonly discountPercent: number;
  /** Unit price after the discount. */
  readonly unitPriceCents: number;
  readonly quantity: number;
  readonly totalExVatCents: number;
  readonly vatPercent: number;
  readonly vatCents: number;
  readonly totalInclVatCents: number;
}

/** The amounts of a quote: the discount applies per unit, VAT once on the total (rounded to the cent). */
export function quoteAmounts(product: ProductCode, years: DurationYears, quantity: number, terms: PartnerTerms | null): QuoteAmounts {
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUOTE_QUANTITY) {
    throw new RangeError(`quantity must be 1 to ${MAX_QUOTE_QUANTITY}, got ${quantity}`);
  }
  const discountPercent = terms?.discountPercent ?? 0;
  const unitPriceCents = partnerPriceOf(product, years, terms);
  const totalExVatCents = unitPriceCents * quantity;
  const vatCents = Math.round((totalExVatCents * VAT_PERCENT) / 100);
  return {
    listUnitPriceCents: priceOf(product, years),
    discountPercent,
    unitPriceCents,
    quantity,
    totalExVatCents,
    vatPercent: VAT_PERCENT,
    vatCents,
    totalInclVatCents: totalExVatCents + vatCents,
  };
}

/** `D-2026-000042`: the year of issue and the `quote_numbers` value on six digits (more once past a million). */
export const QUOTE_NUMBER_PATTERN = /^D-\d{4}-\d{6,}$/;
