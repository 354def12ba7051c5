/**
 * The order form (bon de commande) attached to the order confirmation: the customer dates and signs it and sends it
 * back with the supporting documents (it is on every checklist as `signed_order_form`).
 */
import { PDFDocument, type PDFFont, type PDFPage, StandardFonts, rgb } from 'pdf-lib';
import { CATALOG, type OperatingSystem, type PaymentMethod } from '../../domain/catalog.js';
import type { OrderInput } from '../../domain/order.js';
import { CA_NAME, CA_POSTAL_ADDRESS } from './ca-contact.js';
import { formatDate, formatDuration, formatPriceExVat, formatEuros, type Language } from './format.js';

/** What the order form shows: the workflow's `OrderInput` fits as it is. */
export type OrderSummary = Pick<
  OrderInput,
  'orderId' | 'product' | 'durationYears' | 'os' | 'partnerCode' | 'holder' | 'organisation' | 'payment' | 'priceCents' | 'createdAt'
>;

export const orderFormFileName = (orderId: string, lang: Language): string =>
  lang === 'fr' ? `bon-de-commande-${orderId}.pdf` : `order-form-${orderId}.pdf`;

export const PAYMENT_METHOD_LABELS: Record<PaymentMethod, Record<Language, string>> = {
  card: { fr: 'Carte bancaire', en: 'Card' },
  transfer: { fr: 'Virement', en: 'Bank transfer' },
  cheque: { fr: 'Chèque', en: 'Cheque' },
  purchase_order: { fr: 'Bon de commande (administration)', en: 'Purchase order (public administration)' },
};

const OS_LABELS: Record<OperatingSystem, Record<Language, string>> = {
  windows: { fr: 'Windows', en: 'Windows' },
  macos: { fr: 'macOS', en: 'macOS' },
  other: { fr: 'Autre', en: 'Other' },
};

const T = {
  fr: {
    title: 'Bon de commande',
    order: 'Commande',
    orderId: 'N° de commande',
    orderDate: 'Date de commande',
    product: 'Certificat',
    duration: 'Durée',
    os: "Système d'exploitation",
    partner: 'Code partenaire',
    price: 'Prix',
    faceToFaceIncluded: (fee: string) => `dont frais de face-à-face ${fee} HT`,
    payment: 'Moyen de paiement',
    poNumber: 'N° de bon de commande',
    holder: 'Porteur du certificat',
    name: 'Nom',
    email: 'E-mail',
    mobile: 'Mobile',
    organisation: 'Organisation',
    orgName: 'Raison sociale',
    siret: 'SIRET',
    statement:
      "Je soussigné(e) certifie l'exactitude des informations ci-dessus et déclare avoir pris connaissance des conditions générales d'utilisation de l'autorité de certification.",
    date: 'Date',
    signature: "Signature du porteur (et cachet de l'organisation)",
    footer: 'À dater, signer et joindre à vos justificatifs depuis votre espace client.',
  },
  en: {
    title: 'Order form',
    order: 'Order',
    orderId: 'Order number',
    orderDate: 'Order date',
    product: 'Certificate',
    duration: 'Duration',
    os: 'Operating system',
    partner: 'Partner code',
    price: 'Price',
    faceToFaceIncluded: (fee: string) => `including a face-to-face fee of ${fee} ex-VAT`,
    payment: 'Payment method',
    poNumber: 'Purchase order number',
    holder: 'Certificate holder',
    name: 'Name',
    email: 'Email',
    mobile: 'Mobile',
    organisation: 'Organisation',
    orgName: 'Name',
    siret: 'SIRET',
    statement:
      'I, the undersigned, certify that the information above is correct and that I have read the terms of use of the certification authority.',
    date: 'Date',
    signature: "Holder's signature (and the organisation's stamp)",
    footer: 'Date it, sign it and upload it with your supporting documents from your customer area.',
  },
} as const;

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 56;
const GREY = rgb(0.35, 0.35, 0.35);

/** Builds the PDF. Its dates come from the order, so a retried send attaches the same bytes. */
export async function buildOrderForm(order: OrderSummary, lang: Language): Promise<Uint8Array> {
  const t = T[lang];
  const product = CATALOG[order.product];
  const doc = await PDFDocument.create();
  const created = new Date(order.createdAt);
  doc.setTitle(`${t.title} ${order.orderId}`);
  doc.setAuthor(CA_NAME);
  doc.setCreator(CA_NAME);
  doc.setProducer(CA_NAME);
  doc.setLanguage(lang === 'fr' ? 'fr-FR' : 'en-GB');
  doc.setCreationDate(created);
  doc.setModificationDate(created);

  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const page = doc.addPage(A4);
  const writer = new PageWriter(page, regular, bold);

  writer.text(CA_NAME, { font: bold, size: 11, color: GREY });
  for (const line of CA_POSTAL_ADDRESS) writer.text(line, { size: 9, color: GREY });
  writer.gap(18);
  writer.text(t.title, { font: bold, size: 20 });
  writer.gap(10);

  const price = formatPriceExVat(order.priceCents, lang);
  const fee = product.faceToFaceFeeCents;
  writer.section(t.order, [
    [t.orderId, order.orderId],
    [t.orderDate, formatDate(order.createdAt, lang)],
    [t.product, product.name[lang]],
    [t.duration, formatDuration(order.durationYears, lang)],
    [t.os, OS_LABELS[order.os][lang]],
    ...(order.partnerCode !== null ? [[t.partner, order.partnerCode] as const] : []),
    [t.price, fee > 0 ? `${price} (${t.faceToFaceIncluded(formatEuros(fee, lang))})` : price],
    [t.payment, PAYMENT_METHOD_LABELS[order.payment.method][lang]],
    ...(order.payment.purchaseOrderNumber !== null ? [[t.poNumber, order.payment.purchaseOrderNumber] as const] : []),
  ]);
  writer.section(t.holder, [
    [t.name, `${order.holder.givenName} ${order.holder.surname}`.trim()],
    [t.email, order.holder.email],
    ...(order.holder.phone !== null ? [[t.mobile, order.holder.phone] as const] : []),
  ]);
  writer.section(t.organisation, [
    [t.orgName, order.organisation.name],
    [t.siret, order.organisation.siret],
  ]);

  writer.gap(14);
  writer.paragraph(t.statement, { size: 10 });
  writer.gap(12);
  writer.signatureBox(t.date, t.signature);
  writer.footer(t.footer);

  return doc.save();
}

/** A cursor down one page: each call writes below the previous one. */
class PageWriter {
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
    // drawText throw, and an order form with a "?" beats no mail at all.
    this.supported = new Set(regular.getCharacterSet());
  }

  private clean(text: string): string {
    return Array.from(text.replace(/[\u202f\u2009]/g, '\u00a0'), (c) => (this.supported.has(c.codePointAt(0) ?? 0) ? c : '?')).join('');
  }

  gap(points: number): void {
    this.y -= points;
  }

  text(text: string, opts: { font?: PDFFont; size?: number; x?: number; color?: ReturnType<typeof rgb> } = {}): void {
    const size = opts.size ?? 11;
    this.y -= size * 1.3;
    this.page.drawText(this.clean(text), { x: MARGIN + (opts.x ?? 0), y: this.y, size, font: opts.font ?? this.regular, color: opts.color ?? rgb(0, 0, 0) });
  }

  paragraph(text: string, opts: { size?: number; x?: number; width?: number } = {}): void {
    const size = opts.size ?? 11;
    for (const line of this.wrap(this.clean(text), size, opts.width ?? this.width - (opts.x ?? 0))) this.text(line, { size, x: opts.x ?? 0 });
  }

  section(title: string, rows: readonly (readonly [string, string])[]): void {
    this.gap(8);
    this.text(title, { font: this.bold, size: 12 });
    this.page.drawLine({ start: { x: MARGIN, y: this.y - 4 }, end: { x: MARGIN + this.width, y: this.y - 4 }, thickness: 0.5, color: GREY });
    this.gap(6);
    const labelWidth = 150;
    for (const [label, value] of rows) {
      const wrapped = this.wrap(this.clean(value), 10.5, this.width - labelWidth);
      this.y -= 10.5 * 1.35;
      this.page.drawText(this.clean(label), { x: MARGIN, y: this.y, size: 10.5, font: this.regular, color: GREY });
      wrapped.forEach((line, i) => {
        if (i > 0) this.y -= 10.5 * 1.35;
        this.page.drawText(line, { x: MARGIN + labelWidth, y: this.y, size: 10.5, font: this.regular });
      });
    }
  }

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

  footer(text: string): void {
    this.page.drawText(this.clean(text), { x: MARGIN, y: MARGIN - 16, size: 9, font: this.regular, color: GREY });
  }

  private wrap(text: string, size: number, width: number): string[] {
    const out: string[] = [];
    let line = '';
    for (const word of text.split(/ +/)) {
      const candidate = line === '' ? word : `${line} ${word}`;
      if (line !== '' && this.regular.widthOfTextAtSize(candidate, size) > width) {
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
