/**
 * The CA's one-page PDFs (the order form, the quote): the document set-up they share, and a writer that goes down
 * the page. The dates come from the document's own date, never the clock, so building it again (a resent mail, the
 * quote fetched twice) gives the same bytes.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, type PDFFont, type PDFPage, rgb } from 'pdf-lib';
import { postalAddressLines, type CaIdentity } from '../../config/ca-identity.js';
import type { Language } from './format.js';

// DejaVu Sans, embedded and subset: the standard PDF fonts encode WinAnsi only, and a holder named Łukasiewicz,
// Dvořák or Nguyễn must read their name as they typed it. Resolved through the package, so the same code finds
// the file from the sources (tsx) and from dist/.
const require = createRequire(import.meta.url);
let fontBytes: Promise<{ regular: Buffer; bold: Buffer }> | undefined;
/** Read once per process; every document embeds its own subset of them. */
function loadFonts(): Promise<{ regular: Buffer; bold: Buffer }> {
  fontBytes ??= Promise.all([
    readFile(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf')),
    readFile(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf')),
  ]).then(([regular, bold]) => ({ regular, bold }));
  // A failed read (a broken install) is not kept: the next document tries again.
  fontBytes.catch(() => (fontBytes = undefined));
  return fontBytes;
}

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 56;
const GREY = rgb(0.35, 0.35, 0.35);
const ROW_SIZE = 10.5;

export interface CaPdfInfo {
  readonly title: string;
  readonly subject?: string;
  /** What a mail client or a search shows without opening the file (a number, a SIRET). */
  readonly keywords?: readonly string[];
  readonly lang: Language;
  /** The document's own date (ISO 8601): its creation and modification dates. */
  readonly date: string;
}

/** A new A4 document with the CA's metadata and one page, and the writer for that page. */
export async function createCaPdf(info: CaPdfInfo, identity: CaIdentity): Promise<{ doc: PDFDocument; writer: PageWriter }> {
  const doc = await PDFDocument.create();
  const date = new Date(info.date);
  doc.setTitle(info.title);
  if (info.subject !== undefined) doc.setSubject(info.subject);
  if (info.keywords !== undefined) doc.setKeywords([...info.keywords]);
  doc.setAuthor(identity.legalName);
  doc.setCreator(identity.tradingName);
  doc.setProducer(identity.tradingName);
  doc.setLanguage(info.lang === 'fr' ? 'fr-FR' : 'en-GB');
  doc.setCreationDate(date);
  doc.setModificationDate(date);

  doc.registerFontkit(fontkit);
  const fonts = await loadFonts();
  // A fixed subset tag (pdf-lib's default is random) keeps the bytes of a rebuilt document the same.
  const regular = await doc.embedFont(fonts.regular, { subset: true, customName: 'CFLOWR+DejaVuSans' });
  const bold = await doc.embedFont(fonts.bold, { subset: true, customName: 'CFLOWB+DejaVuSans-Bold' });
  return { doc, writer: new PageWriter(doc.addPage(A4), regular, bold, identity) };
}

export interface SectionOptions {
  /** Where the values start, from the margin. */
  readonly labelWidth?: number;
  /** The values' font: regular unless told (the quote's totals are bold). */
  readonly valueFont?: 'regular' | 'bold';
  /** A value too long for its line goes on to the next lines (`wrap`) or is cut with "…" (`truncate`). */
  readonly overflow?: 'wrap' | 'truncate';
}

/** A cursor down one page: each call writes below the previous one. */
export class PageWriter {
  private y: number;
  private readonly width: number;
  private readonly supported: Set<number>;

  constructor(
    private readonly page: PDFPage,
    private readonly regular: PDFFont,
    private readonly bold: PDFFont,
    private readonly identity: CaIdentity,
  ) {
    this.y = page.getHeight() - MARGIN;
    this.width = page.getWidth() - 2 * MARGIN;
    // DejaVu Sans covers Latin, Greek, Cyrillic, Vietnamese, Arabic, Hebrew…; a character it has no glyph for
    // (a Chinese name) would print as an empty box that reads as nothing: a "?" at least shows something is missing.
    const inBold = new Set(bold.getCharacterSet());
    this.supported = new Set(regular.getCharacterSet().filter((c) => inBold.has(c)));
  }

  private clean(text: string): string {
    // Format characters (joiners, direction marks, variation selectors) have no glyph and nothing to print.
    const printable = text.normalize('NFC').replace(/[\p{Cf}\ufe00-\ufe0f]/gu, '');
    return Array.from(printable, (c) => (this.supported.has(c.codePointAt(0) ?? 0) ? c : '?')).join('');
  }

  gap(points: number): void {
    this.y -= points;
  }

  text(text: string, opts: { bold?: boolean; size?: number; x?: number; grey?: boolean } = {}): void {
    const size = opts.size ?? 11;
    this.y -= size * 1.3;
    this.page.drawText(this.clean(text), {
      x: MARGIN + (opts.x ?? 0),
      y: this.y,
      size,
      font: opts.bold === true ? this.bold : this.regular,
      color: opts.grey === true ? GREY : rgb(0, 0, 0),
    });
  }

  /** The CA (its trading name, then its legal name and postal address, its support contacts), then the title. */
  letterhead(title: string): void {
    const id = this.identity;
    this.text(id.tradingName, { bold: true, size: 11, grey: true });
    const [legalName, ...address] = postalAddressLines(id);
    // The legal name once: a trading name that is the company's own is not repeated.
    if (legalName !== undefined && legalName !== id.tradingName) this.text(legalName, { size: 9, grey: true });
    this.text(address.join(', '), { size: 9, grey: true });
    this.text(`${id.support.email} · ${id.support.phone}`, { size: 9, grey: true });
    this.gap(18);
    this.text(title, { bold: true, size: 20 });
    this.gap(10);
  }

  paragraph(text: string, opts: { size?: number; x?: number; width?: number } = {}): void {
    const size = opts.size ?? 11;
    for (const line of this.wrap(this.clean(text), size, opts.width ?? this.width - (opts.x ?? 0))) this.text(line, { size, x: opts.x ?? 0 });
  }

  /** A title (none if empty), a rule, then label–value rows. */
  section(title: string, rows: readonly (readonly [string, string])[], opts: SectionOptions = {}): void {
    const labelWidth = opts.labelWidth ?? 150;
    const valueFont = opts.valueFont === 'bold' ? this.bold : this.regular;
    const max = this.width - labelWidth;
    this.gap(8);
    if (title !== '') this.text(title, { bold: true, size: 12 });
    this.page.drawLine({ start: { x: MARGIN, y: this.y - 4 }, end: { x: MARGIN + this.width, y: this.y - 4 }, thickness: 0.5, color: GREY });
    this.gap(6);
    for (const [label, value] of rows) {
      const lines = opts.overflow === 'truncate' ? [this.truncate(this.clean(value), valueFont, max)] : this.wrap(this.clean(value), ROW_SIZE, max, valueFont);
      this.y -= ROW_SIZE * 1.35;
      this.page.drawText(this.clean(label), { x: MARGIN, y: this.y, size: ROW_SIZE, font: this.regular, color: GREY });
      lines.forEach((line, i) => {
        if (i > 0) this.y -= ROW_SIZE * 1.35;
        this.page.drawText(line, { x: MARGIN + labelWidth, y: this.y, size: ROW_SIZE, font: valueFont });
      });
    }
  }

  /** A box across the page: a narrow cell for the date, a wide one for the signature. */
  signatureBox(dateLabel: string, signatureLabel: string): void {
    const height = 110;
    const dateWidth = 150;
    const top = this.y;
    this.page.drawRectangle({ x: MARGIN, y: top - height, width: this.width, height, borderColor: rgb(0, 0, 0), borderWidth: 0.8 });
    this.page.drawLine({ start: { x: MARGIN + dateWidth, y: top }, end: { x: MARGIN + dateWidth, y: top - height }, thickness: 0.8 });
    this.page.drawText(this.clean(dateLabel), { x: MARGIN + 8, y: top - 16, size: 10, font: this.bold });
    this.page.drawText(this.clean(signatureLabel), { x: MARGIN + dateWidth + 8, y: top - 16, size: 10, font: this.bold });
    this.y = top - height;
  }

  /** Grey lines in the bottom margin (a string is one line). */
  footer(text: string | readonly string[], size = 9): void {
    const rows = typeof text === 'string' ? [text] : text;
    rows.forEach((row, i) => {
      this.page.drawText(this.clean(row), { x: MARGIN, y: MARGIN - 16 + (rows.length - 1 - i) * size * 1.3, size, font: this.regular, color: GREY });
    });
  }

  private truncate(text: string, font: PDFFont, width: number): string {
    if (font.widthOfTextAtSize(text, ROW_SIZE) <= width) return text;
    let cut = text;
    while (cut.length > 1 && font.widthOfTextAtSize(`${cut}…`, ROW_SIZE) > width) cut = cut.slice(0, -1);
    return `${cut}…`;
  }

  private wrap(text: string, size: number, width: number, font: PDFFont = this.regular): string[] {
    const out: string[] = [];
    let line = '';
    for (const word of text.split(/ +/)) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (line !== '' && font.widthOfTextAtSize(candidate, size) > width) {
        out.push(line);
        line = word;
      } else {
        line = candidate;
      }
    }
    if (line !== '') out.push(line);
    return out;
  }
}
