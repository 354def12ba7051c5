/**
 * The pages' languages: French first, English too. One catalogue per language (fr/, en/), chosen per request: the
 * reader's explicit choice (a cookie), else the account's language, else Accept-Language, else French. Dates,
 * amounts and deadlines are written in the reader's language by Intl. Shared by the server and the browser bundle.
 */
import { en } from './en/index.js';
import { fr, type Catalogue } from './fr/index.js';

export type Lang = 'fr' | 'en';
export const LANGS: readonly Lang[] = ['fr', 'en'];
export type { Catalogue };

export const catalogue = (lang: Lang): Catalogue => (lang === 'en' ? en : fr);
export const isLang = (v: unknown): v is Lang => v === 'fr' || v === 'en';

/** The first supported language of an Accept-Language header, by quality; French when none is. */
export function negotiate(acceptLanguage: string | undefined): Lang {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: tag.toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q), i };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked.map((r) => r.lang).find(isLang) ?? 'fr';
}

const locale = (lang: Lang): string => (lang === 'en' ? 'en-GB' : 'fr-FR');

export const formatDate = (lang: Lang, iso: string): string =>
  new Intl.DateTimeFormat(locale(lang), { dateStyle: 'long', timeZone: 'Europe/Paris' }).format(new Date(iso));

export const formatDateTime = (lang: Lang, iso: string): string =>
  new Intl.DateTimeFormat(locale(lang), { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' }).format(new Date(iso));

export const formatAmount = (lang: Lang, cents: number, currency = 'EUR'): string =>
  new Intl.NumberFormat(locale(lang), { style: 'currency', currency }).format(cents / 100);

/** "in 3 days", "dans 3 jours", "today", "2 days ago": whole days from `now` to `iso`. */
export function relativeDays(lang: Lang, iso: string, now: Date = new Date()): string {
  const days = Math.round((new Date(iso).getTime() - now.getTime()) / 86_400_000);
  return new Intl.RelativeTimeFormat(locale(lang), { numeric: 'auto' }).format(days, 'day');
}
