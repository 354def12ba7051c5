/** How amounts, dates and durations read in each language, shared by the mails and the order form. */
import type { DurationYears } from '../../domain/catalog.js';

export type Language = 'fr' | 'en';

// Written by hand rather than with Intl: the French currency format puts U+202F in the text, which the PDF's
// standard fonts cannot encode; a no-break space (U+00A0) they can.
const NBSP = '\u00a0';

function groupThousands(units: number, separator: string): string {
  return String(units).replace(/\B(?=(\d{3})+(?!\d))/g, separator);
}

/** `1 320,00 €` / `€1,320.00` (no VAT mention: callers say "ex-VAT" in their own words). */
export function formatEuros(cents: number, lang: Language): string {
  const units = Math.floor(Math.abs(cents) / 100);
  const rest = String(Math.abs(cents) % 100).padStart(2, '0');
  const sign = cents < 0 ? '-' : '';
  return lang === 'fr' ? `${sign}${groupThousands(units, NBSP)},${rest}${NBSP}€` : `${sign}€${groupThousands(units, ',')}.${rest}`;
}

export function formatPriceExVat(cents: number, lang: Language): string {
  return lang === 'fr' ? `${formatEuros(cents, lang)} HT` : `${formatEuros(cents, lang)} ex-VAT`;
}

/** Dates as the customer's calendar shows them: the CA works on Paris time. */
export function formatDate(iso: string, lang: Language): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'long', timeZone: 'Europe/Paris' }).format(date);
  // French writes the first of the month "1er".
  return lang === 'fr' ? text.replace(/^1 /, '1er ') : text;
}

export function formatDuration(years: DurationYears, lang: Language): string {
  if (lang === 'fr') return years === 1 ? '1 an' : `${years} ans`;
  return years === 1 ? '1 year' : `${years} years`;
}

export function formatDays(days: number, lang: Language): string {
  if (lang === 'fr') return days === 1 ? '1 jour' : `${days} jours`;
  return days === 1 ? '1 day' : `${days} days`;
}
