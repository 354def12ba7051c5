/**
 * The order form (bon de commande) attached to the order confirmation: the customer dates and signs it and sends it
 * back with the supporting documents (it is on every checklist as `signed_order_form`).
 */
import { formatIban, postalAddressLines, type CaIdentity } from '../../config/ca-identity.js';
import { CATALOG, type OperatingSystem, type PaymentMethod } from '../../domain/catalog.js';
import type { OrderInput } from '../../domain/order.js';
import { formatDate, formatDuration, formatPriceExVat, formatEuros, type Language } from './format.js';
import { createCaPdf } from './pdf-document.js';

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
    footer: 'À dater, signer et joindre à vos justificatifs depuis votre espace client :',
    transfer: 'Virement',
    reference: 'Référence à indiquer',
    accountHolder: 'Titulaire',
    bank: 'Banque',
    cheque: 'Chèque',
    payee: "À l'ordre de",
    postTo: 'À envoyer à',
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
    footer: 'Date it, sign it and upload it with your supporting documents from your customer area:',
    transfer: 'Bank transfer',
    reference: 'Reference to give',
    accountHolder: 'Account holder',
    bank: 'Bank',
    cheque: 'Cheque',
    payee: 'Payable to',
    postTo: 'Post it to',
  },
} as const;

/** Who issues the form, and the page of the order in the customer area (`pageLinks.order`). */
export interface OrderFormContext {
  readonly identity: CaIdentity;
  readonly orderUrl: string;
}

/** Builds the PDF. Its dates come from the order, so a retried send attaches the same bytes. */
export async function buildOrderForm(order: OrderSummary, lang: Language, ctx: OrderFormContext): Promise<Uint8Array> {
  const t = T[lang];
  const product = CATALOG[order.product];
  const { identity } = ctx;
  const { doc, writer } = await createCaPdf({ title: `${t.title} ${order.orderId}`, lang, date: order.createdAt }, identity);
  writer.letterhead(t.title);

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
  // Where the money goes, for the two methods whose details the customer copies from paper.
  if (order.payment.method === 'transfer') {
    writer.section(t.transfer, [
      [t.accountHolder, identity.bank.accountHolder],
      [t.bank, identity.bank.bankName],
      ['IBAN', formatIban(identity.bank.iban)],
      ['BIC', identity.bank.bic],
      [t.reference, order.orderId],
    ]);
  } else if (order.payment.method === 'cheque') {
    writer.section(t.cheque, [
      [t.payee, identity.bank.accountHolder],
      [t.postTo, postalAddressLines(identity).join(', ')],
      [t.reference, order.orderId],
    ]);
  }

  writer.gap(14);
  writer.paragraph(t.statement, { size: 10 });
  writer.gap(12);
  writer.signatureBox(t.date, t.signature);
  writer.footer([t.footer, ctx.orderUrl]);

  return doc.save();
}
