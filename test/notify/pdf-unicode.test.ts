/**
 * The order form and the quote print every name as it was typed: the PDFs embed DejaVu Sans (subset), not the
 * WinAnsi-only standard fonts that turned "Łukasiewicz" into "?ukasiewicz". Checked on the text a PDF reader
 * extracts (pdf.js, through unpdf), which reads each glyph back through the font's ToUnicode map.
 */
import { PDFDict, PDFDocument, PDFName } from 'pdf-lib';
import { extractText, getDocumentProxy } from 'unpdf';
import { describe, expect, it } from 'vitest';
import { buildOrderForm } from '../../lib/documents/order-form.js';
import { buildQuotePdf, type QuoteDocument } from '../../lib/documents/quote-pdf.js';
import { MAIL_CONTEXT, sampleOrder } from './support.js';

const identity = MAIL_CONTEXT.identity;

interface Person {
  readonly language: string;
  readonly givenName: string;
  readonly surname: string;
  readonly organisation: string;
}

const PEOPLE: readonly Person[] = [
  { language: 'Polish', givenName: 'Zoé', surname: 'Łukasiewicz', organisation: 'Boulangerie Łódź & Fils' },
  { language: 'Czech', givenName: 'Jiří', surname: 'Dvořák', organisation: 'Řeznictví Šťastný' },
  { language: 'Vietnamese', givenName: 'Nguyễn Thị', surname: 'Minh Khai', organisation: 'Nguyễn Thị Minh Khai' },
  { language: 'Arabic', givenName: 'محمد', surname: 'الأمين', organisation: 'محمد الأمين' },
];

async function textOf(pdf: Uint8Array): Promise<string> {
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: true });
  return text;
}

const isArabic = (s: string): boolean => /\p{Script=Arabic}/u.test(s);

/**
 * What a reader gets back for `name`. Latin, Czech and Vietnamese: exactly the name. Arabic: fontkit shapes it and
 * lays the glyphs out right to left (visual order), and pdf.js turns a right-to-left run back into logical order —
 * so the letters come back in the order they were typed, but for one thing, found by trying: lam + alef with hamza
 * (لأ) is one ligature glyph whose ToUnicode entry is the two letters, and pdf.js reverses the run letter by letter,
 * inside that entry too. It reads "أل". (Had the glyphs been drawn in logical order, i.e. backwards on the page, the
 * whole name would come back reversed: this check also proves the drawing order.)
 */
const extracted = (name: string): string => (isArabic(name) ? name.replace(/\u0644\u0623/g, '\u0623\u0644') : name);

function quoteFor(organisationName: string): QuoteDocument {
  return {
    number: 'D-2026-000042',
    siret: '73282932000074',
    organisationName,
    product: 'ID_RGS_STAR',
    durationYears: 3,
    quantity: 2,
    partnerCode: null,
    listUnitPriceCents: 10_500,
    discountPercent: 0,
    unitPriceCents: 10_500,
    totalExVatCents: 21_000,
    vatPercent: 20,
    vatCents: 4_200,
    totalInclVatCents: 25_200,
    createdAt: '2026-03-02T09:30:00.000Z',
    validUntil: '2026-04-01T09:30:00.000Z',
  };
}

describe('PDFs in every script', () => {
  it('reads the Arabic ligature back as described (the premise of the Arabic assertions)', () => {
    expect(extracted('محمد الأمين')).not.toBe('محمد الأمين');
    expect([...extracted('محمد الأمين')].sort()).toEqual([...'محمد الأمين'].sort());
  });

  it.each(PEOPLE)('the order form prints a $language holder and organisation exactly as typed', async (p) => {
    const order = sampleOrder({
      orderId: '0195f3a2-7c4e-7000-8000-00000000abcd',
      holder: { userId: 'u1', email: 'holder@example.test', givenName: p.givenName, surname: p.surname, phone: null, language: 'fr' },
      organisation: { id: 'o1', siret: '73282932000074', name: p.organisation, locality: 'Lyon' },
    });
    for (const lang of ['fr', 'en'] as const) {
      const text = await textOf(await buildOrderForm(order, lang, { identity, orderUrl: 'https://certflow.example/orders/x' }));
      expect(text).toContain(extracted(`${p.givenName} ${p.surname}`));
      expect(text).toContain(extracted(p.organisation));
      // No letter became "?": the form itself has no question mark.
      expect(text).not.toContain('?');
      expect(text).not.toContain('\ufffd');
    }
  });

  it.each(PEOPLE)('the quote prints a $language organisation exactly as typed', async (p) => {
    for (const lang of ['fr', 'en'] as const) {
      const text = await textOf(await buildQuotePdf(quoteFor(p.organisation), lang, identity));
      expect(text).toContain(extracted(p.organisation));
      expect(text).not.toContain('?');
      expect(text).not.toContain('\ufffd');
    }
  });

  it('prints the CA identity with its accents too, and embeds the font as a subset', async () => {
    const pdf = await buildQuotePdf(quoteFor('Boulangerie Łódź & Fils'), 'fr', identity);
    const text = await textOf(pdf);
    expect(text).toContain(identity.postalAddress.street);
    expect(text).toContain(`${identity.postalAddress.postalCode} ${identity.postalAddress.locality}`);
    // The fonts the document uses (pdf-lib puts them in compressed object streams: read them through pdf-lib).
    const doc = await PDFDocument.load(pdf);
    const fonts = doc.context
      .enumerateIndirectObjects()
      .map(([, obj]) => obj)
      .filter((obj): obj is PDFDict => obj instanceof PDFDict && obj.get(PDFName.of('Type')) === PDFName.of('Font'))
      .map((font) => font.get(PDFName.of('BaseFont'))?.toString());
    expect(fonts.length).toBeGreaterThan(0);
    for (const name of fonts) expect(name).toMatch(/^\/[A-Z]{6}\+DejaVuSans(-Bold)?$/);
    // A subset, not the 740 kB font.
    expect(pdf.length).toBeLessThan(120_000);
  });
});
