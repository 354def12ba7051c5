/**
 * The CA's one-page PDFs (the order form, the quote): the document set-up they share, and a writer that goes down
 * the page. The dates come from the document's own date, never the clock, so building it again (a resent mail, the
 * quote fetched twice) gives the same bytes.
 */
import { PDFDocument, type PDFFont, type PDFPage, StandardFonts, rgb } from 'pdf-lib';
import { CA_NAME, CA_POSTAL_ADDRESS } from './ca-contact.js';
import type { Language } from './format.js';

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
export async function createCaPdf(info: CaPdfInfo): Promise<{ doc: PDFDocument; writer: PageWriter }> {
  const doc = await PDFDocument.create();
  const date = new Date(info.date);
  doc.setTitle(info.title);
  if (info.subject !== undefined) doc.setSubject(info.subject);
  if (info.keywords !== undefined) doc.setKeywords([...info.keywords]);
  doc.setAuthor(CA_NAME);
  doc.setCreator(CA_NAME);
  doc.setProducer(CA_NAME);
  doc.setLanguage(info.lang === 'fr' ? 'fr-FR' : 'en-GB');
  doc.setCreationDate(date);
  doc.setModificationDate(date);

  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  return { doc, writer: new PageWriter(doc.addPage(A4), regular, bold) };
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
  ) {
    this.y = page.getHeight() - MARGIN;
    this.width = page.getWidth() - 2 * MARGIN;
    // The standard fonts encode WinAnsi only; any other character (a name in another script…) would make
    // drawText throw, and a document with a "?" beats no document at all.
    this.supported = new Set(regular.getCharacterSet());
  }

  private clean(text: string): string {
    return Array.from(text.replace(/[\u202f\u2009]/g, '\u00a0'), (c) => (this.supported.has(c.codePointAt(0) ?? 0) ? c : '?')).join('');
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

  /** The CA's name and postal address, then the document's title. */
  letterhead(title: string): void {
    this.text(CA_NAME, { bold: true, size: 11, grey: true });
    for (const line of CA_POSTAL_ADDRESS) this.text(line, { size: 9, grey: true });
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

  /** One grey line in the bottom margin. */
  footer(text: string, size = 9): void {
    this.page.drawText(this.clean(text), { x: MARGIN, y: MARGIN - 16, size, font: this.regular, color: GREY });
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
