/**
 * Every message CertFlow sends, in French and in English. A message is `{ template, data }`: the workflow says what
 * happened and with which facts; the words live here, in the tone of the CA's own customer guides.
 */
import { formatIban, postalAddressLines, type CaIdentity } from '../../config/ca-identity.js';
import { CATALOG, DOCUMENT_LABELS, type DocumentType, type PaymentMethod, type ProductCode } from '../../domain/catalog.js';
import type { ChecklistItem, DomainChallenge } from '../../domain/order.js';
import { DEFAULT_DEADLINES, durationMs, type Deadlines } from '../../domain/deadlines.js';
import { PAGES, pageLinks } from '../../domain/pages.js';
import { DAY_MS } from '../../domain/time.js';
import { formatDate, formatDays, formatDuration, formatEuros, formatPriceExVat, type Language } from '../../lib/documents/format.js';
import { action, code, fields, heading, lines, link, list, paragraph, rich, toHtml, toText, type Block, type Link, type Rich } from './mail-document.js';
import { PAYMENT_METHOD_LABELS, buildOrderForm, orderFormFileName, type OrderSummary } from '../../lib/documents/order-form.js';

export type { Language } from '../../lib/documents/format.js';
export type { OrderSummary } from '../../lib/documents/order-form.js';

/** What every mail knows besides its data: who the CA is, and where its pages are (PUBLIC_BASE_URL). */
export interface MailContext {
  readonly identity: CaIdentity;
  readonly publicBaseUrl: string;
}

/** Identifies the order a mail is about. */
export interface OrderRef {
  readonly orderId: string;
  readonly product: ProductCode;
}


export type AbandonReason = 'no_activity' | 'originals_not_received' | 'not_accepted';

/** Dates are ISO 8601 strings (the workflow's clock); they are shown on Paris time. */
export type EmailMessage =
  | {
      readonly template: 'order_confirmation';
      /** The order's deadlines name the originals' delay; a summary without them reads the defaults. */
      readonly data: { readonly order: OrderSummary & { readonly deadlines?: Pick<Deadlines, 'originalsDue'> }; readonly checklist: readonly ChecklistItem[] };
    }
  /** The checklist after the review: `rejected` items carry their reason, accepted ones are kept. */
  | { readonly template: 'evidence_rejected'; readonly data: OrderRef & { readonly checklist: readonly ChecklistItem[] } }
  | {
      readonly template: 'evidence_reminder';
      readonly data: OrderRef & { readonly inactiveDays: number; readonly missing: readonly DocumentType[]; readonly abandonOn: string };
    }
  | {
      readonly template: 'review_approved';
      readonly data: OrderRef & {
        readonly payment: { readonly method: PaymentMethod; readonly received: boolean };
        /** For products whose originals go by post (RGS**, RGS***, eIDAS); null for the others. */
        readonly originalsDueOn: string | null;
        /** The order's delay for the originals (its deadlines), said when no due date is known yet. */
        readonly originalsDue?: Deadlines['originalsDue'];
      };
    }
  | { readonly template: 'originals_reminder'; readonly data: OrderRef & { readonly dueOn: string } }
  /** To staff: always delivered to STAFF_EMAIL, whatever the request's `to`. */
  | {
      readonly template: 'originals_overdue_staff';
      readonly data: OrderRef & {
        readonly holderName: string;
        readonly holderEmail: string;
        readonly organisationName: string;
        readonly siret: string;
        readonly dueOn: string;
        readonly abandonOn: string;
      };
    }
  /**
   * To staff: a step of the order that keeps failing (`stuck`: retried since `since`, still retrying) or that failed
   * with a refusal no retry fixes (`refused`: the order waits as needs_attention for a resume or a cancel).
   */
  | {
      readonly template: 'activity_failing_staff';
      readonly data: OrderRef & {
        readonly kind: 'stuck' | 'refused';
        readonly step: string;
        readonly message: string;
        readonly since: string;
        /** A certificate's own workflow (workflows/certificate.ts): the certificate it is about. */
        readonly serial?: string;
      };
    }
  | { readonly template: 'order_abandoned'; readonly data: OrderRef & { readonly reason: AbandonReason } }
  | { readonly template: 'order_cancelled'; readonly data: OrderRef & { readonly cancelledBy: 'customer' | 'staff'; readonly comment: string | null } }
  | {
      readonly template: 'certificate_issued';
      readonly data: OrderRef & {
        readonly serial: string;
        readonly subject: string;
        readonly notBefore: string;
        readonly notAfter: string;
        /** Without an answer by then the certificate is revoked. */
        readonly answerBy: string;
      };
    }
  | { readonly template: 'acceptance_reminder'; readonly data: OrderRef & { readonly serial: string; readonly revokeOn: string } }
  /** `reason`: the RFC 5280 name (keyCompromise, superseded…). */
  | { readonly template: 'certificate_revoked'; readonly data: OrderRef & { readonly serial: string; readonly reason: string; readonly revokedAt: string } }
  | { readonly template: 'order_completed'; readonly data: OrderRef & { readonly serial: string } }
  // The certificate's own life (workflows/certificate.ts): `serial` is the certificate the mail is about.
  /** `days` left until `notAfter`; `renewalOrder`: the prefilled JSON body of POST /v1/orders, shown as is. */
  | {
      readonly template: 'expiry_reminder';
      readonly data: OrderRef & { readonly serial: string; readonly notAfter: string; readonly days: number; readonly renewalOrder: string };
    }
  /** A TLS subscription's next certificate (same key), ready to install. */
  | {
      readonly template: 'certificate_renewed';
      readonly data: OrderRef & { readonly serial: string; readonly subject: string; readonly notBefore: string; readonly notAfter: string };
    }
  /** The names whose validation may no longer be reused, with what to publish; `notAfter`: the current certificate's end. */
  | {
      readonly template: 'domain_revalidation';
      readonly data: OrderRef & { readonly serial: string; readonly notAfter: string; readonly challenges: readonly DomainChallenge[] };
    }
  | { readonly template: 'hold_released'; readonly data: OrderRef & { readonly serial: string } }
  /**
   * CAA (BR §3.2.2.8) forbids this CA to issue, right before a TLS issuance or reissue: `refusal` says which names and
   * why, `identifiers` the issuer domain names a record must name; `serial` is the current certificate of a reissue.
   */
  | { readonly template: 'caa_forbids_issuance'; readonly data: OrderRef & { readonly serial: string | null; readonly refusal: string; readonly identifiers: string } }
  /** A certificateHold: suspended, not revoked; staff may lift it. */
  | { readonly template: 'certificate_held'; readonly data: OrderRef & { readonly serial: string; readonly heldAt: string } }
  // Accounts (api/account-links.ts): the links carry a single-use token; `expiresAt` is when it stops working.
  | { readonly template: 'account_activation'; readonly data: { readonly givenName: string; readonly activationUrl: string; readonly expiresAt: string } }
  | { readonly template: 'password_reset'; readonly data: { readonly givenName: string; readonly resetUrl: string; readonly expiresAt: string } }
  /** The username is the email address; sent on a forgotten username, and to the owner when someone registers with it. */
  | {
      readonly template: 'username_reminder';
      readonly data: { readonly givenName: string; readonly email: string; readonly organisationName: string | null; readonly siret: string | null; readonly reason: 'forgot_username' | 'register_attempt' };
    };

export type SmsMessage = { readonly template: 'unlock_code'; readonly data: { readonly code: string; readonly validMinutes?: number } };

export type EmailTemplate = EmailMessage['template'];
export type SmsTemplate = SmsMessage['template'];

/** Templates addressed to the CA's staff rather than to a customer. */
export const STAFF_TEMPLATES: ReadonlySet<EmailTemplate> = new Set<EmailTemplate>(['originals_overdue_staff', 'activity_failing_staff']);

export interface EmailAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Uint8Array;
}

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly attachments: readonly EmailAttachment[];
}

interface Composed {
  readonly subject: string;
  readonly blocks: readonly Block[];
}

type DataOf<T extends EmailTemplate> = Extract<EmailMessage, { template: T }>['data'];
/** Picks the sentence of the mail's language: plain text, or text with links (`rich`). */
type Tr = <T extends Rich>(fr: T, en: T) => T;

const label = (doc: DocumentType, lang: Language): string => DOCUMENT_LABELS[doc][lang];
const productName = (code: ProductCode, lang: Language): string => CATALOG[code].name[lang];

const greeting = (t: Tr): Block => paragraph(t('Bonjour,', 'Hello,'));
/** The team's name, then how to reach it (plain text: every link of a mail opens a page of the customer area). */
const signOff = (t: Tr, ctx: MailContext): Block[] => [
  paragraph(t(`L'équipe ${ctx.identity.tradingName}`, `The ${ctx.identity.tradingName} team`)),
  paragraph(t(`Assistance : ${ctx.identity.support.email} · ${ctx.identity.support.phone}`, `Support: ${ctx.identity.support.email} · ${ctx.identity.support.phone}`)),
];
/** "votre espace client", opening the page the sentence is about. */
const area = (t: Tr, href: string): Link => link(t('votre espace client', 'your customer area'), href);
/** A deadline in whole days ("7 jours", "7 days"), as the order's deadlines give it (domain/deadlines.ts). */
const inDays = (d: Deadlines['originalsDue'], lang: Language): string => formatDays(Math.round(durationMs(d) / DAY_MS), lang);

const orderPage = (ctx: MailContext, orderId: string): string => pageLinks.order(ctx.publicBaseUrl, orderId);
// domain/pages.ts has no builder for these two: the path is still PAGES' own.
const pageUrl = (ctx: MailContext, path: string): string => `${ctx.publicBaseUrl.replace(/\/+$/, '')}${path}`;
const newOrderPage = (ctx: MailContext): string => pageUrl(ctx, PAGES.newOrder);
/** Every mail about an order ends with its page: the customer follows, uploads, pays, accepts and downloads there. */
const orderAction = (t: Tr, ctx: MailContext, orderId: string): Block =>
  action(t(`Votre commande ${orderId} dans votre espace client`, `Your order ${orderId} in your customer area`), orderPage(ctx, orderId));

function paymentInstructions(order: OrderSummary, t: Tr, ctx: MailContext): Block[] {
  const ref = order.orderId;
  const { bank } = ctx.identity;
  switch (order.payment.method) {
    case 'transfer':
      return [
        paragraph(t(`Merci d'effectuer le virement en indiquant la référence ${ref} :`, `Please make the bank transfer with the reference ${ref}:`)),
        fields([
          [t('Titulaire', 'Account holder'), bank.accountHolder],
          [t('Banque', 'Bank'), bank.bankName],
          ['IBAN', formatIban(bank.iban)],
          ['BIC', bank.bic],
        ]),
      ];
    case 'cheque':
      return [
        paragraph(
          t(
            `Merci d'établir votre chèque à l'ordre de ${bank.accountHolder}, d'inscrire au dos la référence ${ref} et de l'envoyer à :`,
            `Please make your cheque payable to ${bank.accountHolder}, write the reference ${ref} on the back and post it to:`,
          ),
        ),
        lines(postalAddressLines(ctx.identity)),
      ];
    case 'card':
      return [
        paragraph(
          t(
            rich`Réglez par carte bancaire depuis ${area(t, orderPage(ctx, ref))}. Un paiement par carte qui échoue ne peut pas être relancé : vous pourrez alors payer par virement ou par chèque.`,
            rich`Pay by card from ${area(t, orderPage(ctx, ref))}. A failed card payment cannot be retried: you can then pay by bank transfer or cheque.`,
          ),
        ),
      ];
    case 'purchase_order': {
      const number = order.payment.purchaseOrderNumber;
      return [
        paragraph(
          number !== null
            ? t(
                `Vous réglez sur bon de commande (n° ${number}) : joignez-le à vos justificatifs.`,
                `You pay by purchase order (no. ${number}): upload it with your supporting documents.`,
              )
            : t('Vous réglez sur bon de commande : joignez-le à vos justificatifs.', 'You pay by purchase order: upload it with your supporting documents.'),
        ),
      ];
    }
  }
}

/** 09:00: the hour of a link that lasts an hour, on Paris time like the dates. */
const parisTime = (iso: string): string =>
  new Intl.DateTimeFormat('fr-FR', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris' }).format(new Date(iso));

const EMAILS: { readonly [T in EmailTemplate]: (data: DataOf<T>, t: Tr, lang: Language, ctx: MailContext) => Composed } = {
  order_confirmation: ({ order, checklist }, t, lang, ctx) => {
    const product = CATALOG[order.product];
    const originalsDelay = inDays(order.deadlines?.originalsDue ?? DEFAULT_DEADLINES.originalsDue, lang);
    const fee = product.faceToFaceFeeCents;
    const price = formatPriceExVat(order.priceCents, lang);
    const holder = `${order.holder.givenName} ${order.holder.surname}`.trim() || order.holder.email;
    return {
      subject: t(`Confirmation de votre commande ${order.orderId} – ${product.name.fr}`, `Order ${order.orderId} confirmed – ${product.name.en}`),
      blocks: [
        greeting(t),
        paragraph(
          t(
            'Merci pour votre commande de certificat. Vous trouverez ci-joint votre bon de commande (PDF) : datez-le, signez-le et joignez-le à vos justificatifs.',
            'Thank you for your certificate order. Your order form is attached (PDF): date it, sign it and upload it with your supporting documents.',
          ),
        ),
        heading(t('Votre commande', 'Your order')),
        fields([
          [t('N° de commande', 'Order number'), order.orderId],
          [t('Certificat', 'Certificate'), product.name[lang]],
          [t('Durée', 'Duration'), formatDuration(order.durationYears, lang)],
          [t('Prix', 'Price'), fee > 0 ? `${price} (${t('dont face-à-face', 'including face-to-face')} ${formatEuros(fee, lang)})` : price],
          [t('Porteur', 'Holder'), holder],
          [t('Organisation', 'Organisation'), `${order.organisation.name} (SIRET ${order.organisation.siret})`],
          [t('Paiement', 'Payment'), PAYMENT_METHOD_LABELS[order.payment.method][lang]],
        ]),
        heading(t('Paiement', 'Payment')),
        ...paymentInstructions(order, t, ctx),
        heading(t('Justificatifs à fournir', 'Supporting documents to provide')),
        paragraph(
          t(
            rich`Déposez-les depuis ${area(t, orderPage(ctx, order.orderId))}, en PDF, PNG ou JPEG, 10 Mo maximum chacun :`,
            rich`Upload them from ${area(t, orderPage(ctx, order.orderId))}, as PDF, PNG or JPEG, 10 MB at most each:`,
          ),
        ),
        list(checklist.map((item) => label(item.documentType, lang))),
        ...(product.proofing === 'face_to_face'
          ? [
              paragraph(
                t(
                  `Ce certificat demande un face-à-face avec un opérateur d'autorité d'enregistrement déléguée ou un mandataire de certification de votre organisation. Une fois votre dossier validé en ligne, ses originaux devront nous parvenir par courrier sous ${originalsDelay}.`,
                  `This certificate requires a face-to-face meeting with a delegated registration operator or a certification agent of your organisation. Once your file is approved online, its originals must reach us by post within ${originalsDelay}.`,
                ),
              ),
            ]
          : []),
        paragraph(t('Nous traiterons votre dossier dès qu’il sera complet.', 'We will process your file as soon as it is complete.')),
        orderAction(t, ctx, order.orderId),
        ...signOff(t, ctx),
      ],
    };
  },

  evidence_rejected: ({ orderId, product, checklist }, t, lang, ctx) => {
    const rejected = checklist.filter((i) => i.status === 'rejected');
    const missing = checklist.filter((i) => i.status === 'missing');
    const kept = checklist.filter((i) => i.status === 'accepted' || i.status === 'uploaded');
    return {
      subject: t(`Commande ${orderId} : des justificatifs sont à compléter`, `Order ${orderId}: some supporting documents need attention`),
      blocks: [
        greeting(t),
        paragraph(
          t(
            `Nous avons examiné le dossier de votre commande ${productName(product, lang)} (${orderId}) : il ne peut pas encore être validé. Pas d'inquiétude, ce refus est temporaire : nous conservons les justificatifs déjà acceptés, renvoyez seulement ceux qui manquent.`,
            `We have reviewed the file of your ${productName(product, lang)} order (${orderId}): it cannot be approved yet. Don't worry, this rejection is temporary: we keep the documents already accepted, so send only what is missing.`,
          ),
        ),
        heading(t('À renvoyer', 'To send again')),
        list(rejected.map((i) => `${label(i.documentType, lang)}${t(' : ', ': ')}${i.rejectionReason ?? t('document non conforme', 'document not compliant')}`)),
        ...(missing.length > 0 ? [heading(t('Encore manquants', 'Still missing')), list(missing.map((i) => label(i.documentType, lang)))] : []),
        ...(kept.length > 0 ? [heading(t('Conservés', 'Kept')), list(kept.map((i) => label(i.documentType, lang)))] : []),
        paragraph(
          t(
            rich`Déposez les nouveaux documents depuis ${area(t, orderPage(ctx, orderId))}, puis soumettez à nouveau votre dossier.`,
            rich`Upload the new documents from ${area(t, orderPage(ctx, orderId))}, then submit your file again.`,
          ),
        ),
        orderAction(t, ctx, orderId),
        ...signOff(t, ctx),
      ],
    };
  },

  evidence_reminder: ({ orderId, product, inactiveDays, missing, abandonOn }, t, lang, ctx) => ({
    subject: t(`Commande ${orderId} : votre dossier attend vos justificatifs`, `Order ${orderId}: your file is waiting for your documents`),
    blocks: [
      greeting(t),
      paragraph(
        t(
          `Votre commande ${productName(product, lang)} (${orderId}) attend vos justificatifs depuis ${formatDays(inactiveDays, lang)}.`,
          `Your ${productName(product, lang)} order (${orderId}) has been waiting for your documents for ${formatDays(inactiveDays, lang)}.`,
        ),
      ),
      ...(missing.length > 0 ? [paragraph(t('Il nous manque :', 'We still need:')), list(missing.map((d) => label(d, lang)))] : []),
      paragraph(
        t(
          rich`Déposez-les depuis ${area(t, orderPage(ctx, orderId))}. Sans action de votre part d'ici le ${formatDate(abandonOn, lang)}, la commande sera abandonnée.`,
          rich`Upload them from ${area(t, orderPage(ctx, orderId))}. Without any action from you by ${formatDate(abandonOn, lang)}, the order will be abandoned.`,
        ),
      ),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  review_approved: ({ orderId, product, payment, originalsDueOn, originalsDue }, t, lang, ctx) => {
    const p = CATALOG[product];
    const steps: Rich[] = [];
    if (p.proofing === 'face_to_face') {
      steps.push(
        t(
          "Face-à-face : rencontrez, muni de votre pièce d'identité, un opérateur d'autorité d'enregistrement déléguée ou un mandataire de certification de votre organisation ; il signera avec vous le formulaire d'intervention.",
          'Face-to-face: meet a delegated registration operator or a certification agent of your organisation, with your identity document; together you sign the intervention form.',
        ),
      );
    }
    if (p.originalsByPost) {
      const by = originalsDueOn !== null ? formatDate(originalsDueOn, lang) : null;
      steps.push(
        by !== null
          ? t(`Originaux : envoyez l'original de votre dossier par courrier, à recevoir au plus tard le ${by}, à l'adresse ci-dessous.`, `Originals: post the originals of your file, to reach us by ${by}, to the address below.`)
          : t(
              `Originaux : envoyez l'original de votre dossier par courrier sous ${inDays(originalsDue ?? DEFAULT_DEADLINES.originalsDue, 'fr')}, à l'adresse ci-dessous.`,
              `Originals: post the originals of your file within ${inDays(originalsDue ?? DEFAULT_DEADLINES.originalsDue, 'en')}, to the address below.`,
            ),
      );
    }
    if (p.proofing === 'organisation_domain') {
      steps.push(
        t(
          rich`Domaines : prouvez le contrôle de chaque nom de domaine (fichier sous /.well-known/pki-validation/ ou enregistrement DNS TXT) depuis ${area(t, orderPage(ctx, orderId))}.`,
          rich`Domains: prove control of each domain name (a file under /.well-known/pki-validation/ or a DNS TXT record) from ${area(t, orderPage(ctx, orderId))}.`,
        ),
      );
    }
    steps.push(
      payment.received
        ? t('Paiement : reçu, merci.', 'Payment: received, thank you.')
        : {
            transfer: t(`Paiement : effectuez le virement (référence ${orderId}) si ce n'est déjà fait.`, `Payment: make the bank transfer (reference ${orderId}) if not done yet.`),
            cheque: t(`Paiement : envoyez votre chèque (référence ${orderId}) si ce n'est déjà fait.`, `Payment: post your cheque (reference ${orderId}) if not done yet.`),
            card: t(rich`Paiement : réglez par carte depuis ${area(t, orderPage(ctx, orderId))}.`, rich`Payment: pay by card from ${area(t, orderPage(ctx, orderId))}.`),
            purchase_order: t('Paiement : votre bon de commande est en cours de traitement.', 'Payment: your purchase order is being processed.'),
          }[payment.method],
    );
    return {
      subject: t(`Commande ${orderId} : votre dossier est validé`, `Order ${orderId}: your file is approved`),
      blocks: [
        greeting(t),
        paragraph(
          t(
            `Bonne nouvelle : le dossier de votre commande ${productName(product, lang)} (${orderId}) est validé. La suite :`,
            `Good news: the file of your ${productName(product, lang)} order (${orderId}) is approved. What comes next:`,
          ),
        ),
        list(steps),
        ...(p.originalsByPost ? [lines(postalAddressLines(ctx.identity))] : []),
        paragraph(t('Nous émettrons votre certificat dès que ces étapes seront terminées.', 'We will issue your certificate as soon as these steps are done.')),
        orderAction(t, ctx, orderId),
        ...signOff(t, ctx),
      ],
    };
  },

  originals_reminder: ({ orderId, product, dueOn }, t, lang, ctx) => ({
    subject: t(`Commande ${orderId} : rappel, nous attendons vos originaux`, `Order ${orderId}: reminder, we are waiting for your originals`),
    blocks: [
      greeting(t),
      paragraph(
        t(
          `Nous n'avons pas encore reçu l'original du dossier de votre commande ${productName(product, lang)} (${orderId}). Il doit nous parvenir au plus tard le ${formatDate(dueOn, lang)}, à l'adresse suivante :`,
          `We have not received the originals of the file of your ${productName(product, lang)} order (${orderId}) yet. They must reach us by ${formatDate(dueOn, lang)}, at this address:`,
        ),
      ),
      lines(postalAddressLines(ctx.identity)),
      paragraph(
        t(
          'Sans ces originaux, nous ne pourrons pas émettre votre certificat. Si votre courrier est déjà parti, ne tenez pas compte de ce message.',
          'Without these originals we cannot issue your certificate. If your letter is already on its way, please ignore this message.',
        ),
      ),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  originals_overdue_staff: (d, t, lang, ctx) => ({
    subject: t(`[Originaux en retard] Commande ${d.orderId} – ${d.organisationName}`, `[Originals overdue] Order ${d.orderId} – ${d.organisationName}`),
    blocks: [
      paragraph(
        t(
          `Les originaux de la commande ci-dessous ne sont pas arrivés à l'échéance. La commande attend ; sans réception, elle sera abandonnée le ${formatDate(d.abandonOn, lang)}.`,
          `The originals of the order below did not arrive by the deadline. The order is waiting; without them it will be abandoned on ${formatDate(d.abandonOn, lang)}.`,
        ),
      ),
      fields([
        [t('Commande', 'Order'), d.orderId],
        [t('Certificat', 'Certificate'), productName(d.product, lang)],
        [t('Porteur', 'Holder'), `${d.holderName} <${d.holderEmail}>`],
        [t('Organisation', 'Organisation'), `${d.organisationName} (SIRET ${d.siret})`],
        [t('Échéance', 'Due on'), formatDate(d.dueOn, lang)],
      ]),
      paragraph(t('Enregistrez la réception dès l’arrivée du courrier, ou relancez le client.', 'Record the receipt as soon as the letter arrives, or chase the customer.')),
      action(t('La commande', 'The order'), orderPage(ctx, d.orderId)),
      action(t('Console des opérateurs', "Operators' console"), pageUrl(ctx, PAGES.console)),
    ],
  }),

  activity_failing_staff: (d, t, lang, ctx) => ({
    subject:
      d.kind === 'stuck'
        ? t(`[Étape en échec] Commande ${d.orderId} – ${d.step}`, `[Step failing] Order ${d.orderId} – ${d.step}`)
        : t(`[À examiner] Commande ${d.orderId} – ${d.step}`, `[Needs attention] Order ${d.orderId} – ${d.step}`),
    blocks: [
      paragraph(
        d.kind === 'stuck'
          ? t(
              `Une étape de la commande ci-dessous échoue depuis le ${formatDate(d.since, lang)}. Elle est réessayée automatiquement et reprendra d’elle-même une fois la cause corrigée (messagerie, AC, base de données…).`,
              `A step of the order below has kept failing since ${formatDate(d.since, lang)}. It is retried automatically and will go on by itself once the cause is fixed (mail relay, CA, database…).`,
            )
          : t(
              'Une étape de la commande ci-dessous a échoué sans nouvel essai possible. La commande attend vos services : reprenez l’étape une fois la cause corrigée, ou annulez la commande.',
              'A step of the order below failed in a way no retry can fix. The order waits for staff: resume the step once the cause is fixed, or cancel the order.',
            ),
      ),
      fields([
        [t('Commande', 'Order'), d.orderId],
        [t('Certificat', 'Certificate'), productName(d.product, lang)],
        ...(d.serial !== undefined ? [[t('Numéro de série', 'Serial number'), d.serial] as [string, string]] : []),
        [t('Étape', 'Step'), d.step],
        [t('Dernière erreur', 'Last error'), d.message],
      ]),
      action(t('La commande', 'The order'), orderPage(ctx, d.orderId)),
      action(t('Console des opérateurs', "Operators' console"), pageUrl(ctx, PAGES.console)),
    ],
  }),

  order_abandoned: ({ orderId, product, reason }, t, lang, ctx) => ({
    subject: t(`Commande ${orderId} abandonnée`, `Order ${orderId} abandoned`),
    blocks: [
      greeting(t),
      paragraph(
        {
          no_activity: t(
            `Sans action de votre part dans le délai prévu, votre commande ${productName(product, lang)} (${orderId}) a été abandonnée.`,
            `Without any action from you within the allowed time, your ${productName(product, lang)} order (${orderId}) has been abandoned.`,
          ),
          originals_not_received: t(
            `Les originaux de votre dossier ne nous sont pas parvenus dans le délai prévu : votre commande ${productName(product, lang)} (${orderId}) a été abandonnée.`,
            `The originals of your file did not reach us within the allowed time: your ${productName(product, lang)} order (${orderId}) has been abandoned.`,
          ),
          not_accepted: t(
            `Vous n'avez ni accepté ni refusé votre certificat dans le délai prévu : il a été révoqué et votre commande ${productName(product, lang)} (${orderId}) a été abandonnée.`,
            `You neither accepted nor refused your certificate within the allowed time: it has been revoked and your ${productName(product, lang)} order (${orderId}) has been abandoned.`,
          ),
        }[reason],
      ),
      paragraph(t(rich`Pour obtenir un certificat, passez une nouvelle commande depuis ${area(t, newOrderPage(ctx))}.`, rich`To get a certificate, place a new order from ${area(t, newOrderPage(ctx))}.`)),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  order_cancelled: ({ orderId, product, cancelledBy, comment }, t, lang, ctx) => ({
    subject: t(`Commande ${orderId} annulée`, `Order ${orderId} cancelled`),
    blocks: [
      greeting(t),
      paragraph(
        cancelledBy === 'customer'
          ? t(`Votre commande ${productName(product, lang)} (${orderId}) a été annulée à votre demande.`, `Your ${productName(product, lang)} order (${orderId}) has been cancelled at your request.`)
          : t(`Votre commande ${productName(product, lang)} (${orderId}) a été annulée par nos services.`, `Your ${productName(product, lang)} order (${orderId}) has been cancelled by our staff.`),
      ),
      ...(comment !== null && comment.trim() !== '' ? [fields([[t('Motif', 'Reason'), comment.trim()]])] : []),
      paragraph(t(rich`Vous pouvez passer une nouvelle commande à tout moment depuis ${area(t, newOrderPage(ctx))}.`, rich`You can place a new order at any time from ${area(t, newOrderPage(ctx))}.`)),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  certificate_issued: ({ orderId, product, serial, subject, notBefore, notAfter, answerBy }, t, lang, ctx) => ({
    subject: t(`Commande ${orderId} : votre certificat est émis, vérifiez-le`, `Order ${orderId}: your certificate is issued, check it`),
    blocks: [
      greeting(t),
      paragraph(t(`Votre certificat ${productName(product, lang)} est émis.`, `Your ${productName(product, lang)} certificate is issued.`)),
      fields([
        [t('N° de série', 'Serial number'), serial],
        [t('Sujet', 'Subject'), subject],
        [t('Valide du', 'Valid from'), formatDate(notBefore, lang)],
        [t('Au', 'Until'), formatDate(notAfter, lang)],
      ]),
      paragraph(
        t(
          rich`Connectez-vous à ${area(t, orderPage(ctx, orderId))}, sélectionnez la commande ${orderId} et vérifiez toutes les informations du certificat, puis « Accepter » ou « Refuser ». Refuser votre certificat implique qu'il sera révoqué et ne sera plus utilisable.`,
          rich`Log in to ${area(t, orderPage(ctx, orderId))}, select the order ${orderId} and check all the information of the certificate, then "Accept" or "Refuse" it. Refusing your certificate means it will be revoked and can no longer be used.`,
        ),
      ),
      paragraph(t(`Sans réponse de votre part d'ici le ${formatDate(answerBy, lang)}, le certificat sera révoqué.`, `Without an answer by ${formatDate(answerBy, lang)}, the certificate will be revoked.`)),
      ...(CATALOG[product].smsUnlock
        ? [
            paragraph(
              t(
                'Une fois le certificat accepté, installez le pilote de votre token puis demandez votre code de déverrouillage : il vous sera envoyé par SMS.',
                'Once you have accepted the certificate, install your token’s driver, then ask for your unlock code: it will be sent to you by SMS.',
              ),
            ),
          ]
        : []),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  acceptance_reminder: ({ orderId, product, serial, revokeOn }, t, lang, ctx) => ({
    subject: t(`Commande ${orderId} : rappel, acceptez ou refusez votre certificat`, `Order ${orderId}: reminder, accept or refuse your certificate`),
    blocks: [
      greeting(t),
      paragraph(
        t(
          rich`Votre certificat ${productName(product, lang)} (commande ${orderId}, n° de série ${serial}) attend votre réponse. Vérifiez-le depuis ${area(t, orderPage(ctx, orderId))}, puis acceptez-le ou refusez-le. Sans réponse d'ici le ${formatDate(revokeOn, lang)}, il sera révoqué.`,
          rich`Your ${productName(product, lang)} certificate (order ${orderId}, serial number ${serial}) is waiting for your answer. Check it from ${area(t, orderPage(ctx, orderId))}, then accept or refuse it. Without an answer by ${formatDate(revokeOn, lang)}, it will be revoked.`,
        ),
      ),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  certificate_revoked: ({ orderId, product, serial, reason, revokedAt }, t, lang, ctx) => ({
    subject: t(`Certificat ${serial} révoqué`, `Certificate ${serial} revoked`),
    blocks: [
      greeting(t),
      paragraph(
        t(
          `Votre certificat ${productName(product, lang)} a été révoqué le ${formatDate(revokedAt, lang)} : il n'est plus utilisable.`,
          `Your ${productName(product, lang)} certificate was revoked on ${formatDate(revokedAt, lang)}: it can no longer be used.`,
        ),
      ),
      fields([
        [t('N° de série', 'Serial number'), serial],
        [t('Commande', 'Order'), orderId],
        [t('Motif', 'Reason'), REVOCATION_REASONS[reason]?.[lang] ?? reason],
      ]),
      paragraph(t("Si vous n'avez pas demandé cette révocation, contactez-nous sans attendre.", 'If you did not ask for this revocation, contact us at once.')),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  order_completed: ({ orderId, product, serial }, t, lang, ctx) => ({
    subject: t(`Commande ${orderId} terminée : votre certificat est prêt`, `Order ${orderId} complete: your certificate is ready`),
    blocks: [
      greeting(t),
      ...(CATALOG[product].smsUnlock
        ? [
            paragraph(
              t(
                `Votre certificat ${productName(product, lang)} (commande ${orderId}, n° de série ${serial}) est prêt. Ce certificat est personnel : seul le porteur peut l'utiliser.`,
                `Your ${productName(product, lang)} certificate (order ${orderId}, serial number ${serial}) is ready. It is personal: only its holder may use it.`,
              ),
            ),
            list([
              t(
                'Remplacez le code PIN de déverrouillage par votre propre code PIN, comme l’explique la documentation du pilote.',
                'Replace the unlock PIN with your own PIN, as the driver’s documentation explains.',
              ),
              t(
                rich`Gardez votre token en lieu sûr ; en cas de perte ou de vol, révoquez votre certificat depuis ${area(t, orderPage(ctx, orderId))}.`,
                rich`Keep your token somewhere safe; if it is lost or stolen, revoke your certificate from ${area(t, orderPage(ctx, orderId))}.`,
              ),
              t('Testez votre certificat en signant un PDF.', 'Test your certificate by signing a PDF.'),
            ]),
          ]
        : [
            paragraph(
              t(
                rich`Votre certificat ${productName(product, lang)} (commande ${orderId}, n° de série ${serial}) est prêt : téléchargez-le depuis ${area(t, orderPage(ctx, orderId))} (PEM, DER ou chaîne complète).`,
                rich`Your ${productName(product, lang)} certificate (order ${orderId}, serial number ${serial}) is ready: download it from ${area(t, orderPage(ctx, orderId))} (PEM, DER or full chain).`,
              ),
            ),
            paragraph(
              t(rich`Si sa clé privée est compromise, révoquez-le depuis ${area(t, orderPage(ctx, orderId))}.`, rich`If its private key is compromised, revoke it from ${area(t, orderPage(ctx, orderId))}.`),
            ),
          ]),
      paragraph(t('Merci de votre confiance.', 'Thank you for your trust.')),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  expiry_reminder: ({ orderId, product, serial, notAfter, days, renewalOrder }, t, lang, ctx) => {
    const on = formatDate(notAfter, lang);
    return {
      subject: t(`Certificat ${serial} : il expire le ${on}`, `Certificate ${serial} expires on ${on}`),
      blocks: [
        greeting(t),
        paragraph(
          t(
            `Votre certificat ${productName(product, lang)} (commande ${orderId}, n° de série ${serial}) expire le ${on}, dans ${formatDays(days, lang)}. Passé cette date, il ne sera plus utilisable.`,
            `Your ${productName(product, lang)} certificate (order ${orderId}, serial number ${serial}) expires on ${on}, in ${formatDays(days, lang)}. After that date it can no longer be used.`,
          ),
        ),
        heading(t('Renouveler votre certificat', 'Renewing your certificate')),
        action(t('Commander le renouvellement (commande préremplie)', 'Order the renewal (prefilled order)'), pageLinks.renew(ctx.publicBaseUrl, orderId)),
        paragraph(
          t(
            rich`Passez une nouvelle commande depuis ${area(t, pageLinks.renew(ctx.publicBaseUrl, orderId))}, ou envoyez à l'API (POST /v1/orders) la commande ci-dessous, préremplie d'après votre commande actuelle :`,
            rich`Place a new order from ${area(t, pageLinks.renew(ctx.publicBaseUrl, orderId))}, or post the order below to the API (POST /v1/orders), prefilled from your current order:`,
          ),
        ),
        code(renewalOrder),
        ...(CATALOG[product].keyOrigin === 'customer_csr'
          ? [
              paragraph(
                t(
                  `Ajoutez-y, dans le champ "csr", la CSR (PEM) d'une nouvelle clé : une clé déjà certifiée pour une autre commande est refusée. POST /v1/csr-command vous donne la commande openssl.`,
                  `Add to it, in the "csr" field, the CSR (PEM) of a new key: a key already certified for another order is refused. POST /v1/csr-command gives you the openssl command.`,
                ),
              ),
            ]
          : []),
        paragraph(
          t(
            `Avant de l'envoyer, lisez nos conditions générales d'utilisation : la commande n'est acceptée que si vous les acceptez, en indiquant "termsAccepted": true.`,
            `Before posting it, read our terms and conditions: the order is only accepted if you accept them, with "termsAccepted": true.`,
          ),
        ),
        paragraph(
          t(
            `Comme pour votre première commande, nous vous demanderons ensuite vos justificatifs : commandez assez tôt pour que le nouveau certificat soit émis avant le ${on}.`,
            `As for your first order, we will then ask for your supporting documents: order early enough for the new certificate to be issued before ${on}.`,
          ),
        ),
        orderAction(t, ctx, orderId),
        ...signOff(t, ctx),
      ],
    };
  },

  certificate_renewed: ({ orderId, product, serial, subject, notBefore, notAfter }, t, lang, ctx) => ({
    subject: t(`Commande ${orderId} : votre nouveau certificat est prêt`, `Order ${orderId}: your new certificate is ready`),
    blocks: [
      greeting(t),
      paragraph(t(`Le nouveau certificat de votre abonnement ${productName(product, lang)} est prêt.`, `The new certificate of your ${productName(product, lang)} subscription is ready.`)),
      fields([
        [t('Commande', 'Order'), orderId],
        [t('N° de série', 'Serial number'), serial],
        [t('Sujet', 'Subject'), subject],
        [t('Valide du', 'Valid from'), formatDate(notBefore, lang)],
        [t('Au', 'Until'), formatDate(notAfter, lang)],
      ]),
      paragraph(
        t(
          rich`Téléchargez-le depuis ${area(t, orderPage(ctx, orderId))} ou à l'adresse /v1/orders/${orderId}/certificate de l'API (PEM, DER ou chaîne complète). Il certifie la même clé que le précédent : seul le certificat est à remplacer.`,
          rich`Download it from ${area(t, orderPage(ctx, orderId))} or at /v1/orders/${orderId}/certificate in the API (PEM, DER or full chain). It certifies the same key as the previous one: only the certificate needs replacing.`,
        ),
      ),
      paragraph(
        t(
          'Installez-le sur vos serveurs avant l’expiration du certificat précédent, pour que vos services restent accessibles sans interruption.',
          'Install it on your servers before the previous certificate expires, so that your services stay available without interruption.',
        ),
      ),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  domain_revalidation: ({ orderId, product, serial, notAfter, challenges }, t, lang, ctx) => {
    const by = formatDate(notAfter, lang);
    return {
      subject: t(`Commande ${orderId} : prouvez à nouveau le contrôle de vos domaines`, `Order ${orderId}: prove control of your domains again`),
      blocks: [
        greeting(t),
        paragraph(
          t(
            `Pour émettre le prochain certificat de votre abonnement ${productName(product, lang)} (commande ${orderId}), nous devons vérifier à nouveau que vous contrôlez les noms de domaine ci-dessous : les exigences du CA/Browser Forum (Baseline Requirements) ne nous permettent plus de réutiliser leur validation précédente.`,
            `To issue the next certificate of your ${productName(product, lang)} subscription (order ${orderId}), we must check again that you control the domain names below: the CA/Browser Forum Baseline Requirements no longer allow us to reuse their previous validation.`,
          ),
        ),
        ...challengeBlocks(challenges, t, lang),
        heading(t('Vérification', 'Check')),
        paragraph(
          t(
            "Nous vérifions ces publications automatiquement et régulièrement ; dès que tous les noms sont validés, nous émettons votre nouveau certificat. Vous pouvez aussi demander une vérification immédiate à l'API :",
            'We check these automatically and regularly; as soon as every name is validated, we issue your new certificate. You can also ask for a check at once through the API:',
          ),
        ),
        code(`POST /v1/orders/${orderId}/domain-validation\n{"action":"check"}`),
        paragraph(
          t(
            `Si une valeur expire avant votre publication, demandez-en une nouvelle à la même adresse avec {"action":"start","method":"dns"} (ou "http").`,
            `If a value expires before you publish it, ask for a new one at the same address with {"action":"start","method":"dns"} (or "http").`,
          ),
        ),
        paragraph(
          t(
            `Tant que ces noms ne sont pas validés, aucun nouveau certificat n'est émis : faites-le avant le ${by}, date d'expiration de votre certificat actuel (n° de série ${serial}), pour qu'il soit remplacé à temps.`,
            `Until these names are validated, no new certificate is issued: do it before ${by}, when your current certificate (serial number ${serial}) expires, so that it is replaced in time.`,
          ),
        ),
        orderAction(t, ctx, orderId),
        ...signOff(t, ctx),
      ],
    };
  },

  certificate_held: ({ orderId, product, serial, heldAt }, t, lang, ctx) => ({
    subject: t(`Certificat ${serial} suspendu`, `Certificate ${serial} on hold`),
    blocks: [
      greeting(t),
      paragraph(
        t(
          `Votre certificat ${productName(product, lang)} (commande ${orderId}, n° de série ${serial}) est suspendu depuis le ${formatDate(heldAt, lang)} : il n'est plus accepté tant que la suspension dure.`,
          `Your ${productName(product, lang)} certificate (order ${orderId}, serial number ${serial}) is on hold since ${formatDate(heldAt, lang)}: it is not accepted while the hold lasts.`,
        ),
      ),
      paragraph(
        t(
          "Si vous avez retrouvé votre support, demandez la levée de la suspension à l'autorité d'enregistrement ; s'il est perdu ou volé, demandez sa révocation définitive.",
          'If you have found your token again, ask the registration authority to lift the hold; if it is lost or stolen, ask for its final revocation.',
        ),
      ),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  account_activation: ({ givenName, activationUrl, expiresAt }, t, lang, ctx) => ({
    subject: t(`Activez votre compte ${ctx.identity.tradingName}`, `Activate your ${ctx.identity.tradingName} account`),
    blocks: [
      paragraph(givenName !== '' ? t(`Bonjour ${givenName},`, `Hello ${givenName},`) : t('Bonjour,', 'Hello,')),
      paragraph(
        t(
          `Votre compte ${ctx.identity.tradingName} est créé. Pour l'activer et pouvoir vous connecter, ouvrez ce lien :`,
          `Your ${ctx.identity.tradingName} account has been created. To activate it and be able to log in, open this link:`,
        ),
      ),
      action(t('Activer mon compte', 'Activate my account'), activationUrl),
      paragraph(
        t(
          rich`Ce lien ne sert qu'une fois et expire le ${formatDate(expiresAt, lang)}. Passé ce délai, demandez-en un autre avec « Mot de passe oublié » sur ${link('la page de connexion', pageLinks.login(ctx.publicBaseUrl))}.`,
          rich`This link works once and expires on ${formatDate(expiresAt, lang)}. After that, ask for another one with "Forgotten password" on ${link('the login page', pageLinks.login(ctx.publicBaseUrl))}.`,
        ),
      ),
      paragraph(t("Si vous n'attendiez pas ce message, ignorez-le : le compte ne sera pas activé.", 'If you were not expecting this message, ignore it: the account will not be activated.')),
      ...signOff(t, ctx),
    ],
  }),

  password_reset: ({ givenName, resetUrl, expiresAt }, t, lang, ctx) => ({
    subject: t(`Réinitialisation de votre mot de passe ${ctx.identity.tradingName}`, `Resetting your ${ctx.identity.tradingName} password`),
    blocks: [
      paragraph(givenName !== '' ? t(`Bonjour ${givenName},`, `Hello ${givenName},`) : t('Bonjour,', 'Hello,')),
      paragraph(t('Vous avez demandé à changer votre mot de passe. Choisissez-en un nouveau à cette adresse :', 'You asked to change your password. Choose a new one at this address:')),
      action(t('Choisir un nouveau mot de passe', 'Choose a new password'), resetUrl),
      paragraph(
        t(
          `Ce lien ne sert qu'une fois et expire le ${formatDate(expiresAt, lang)} à ${parisTime(expiresAt)} (heure de Paris), une heure après votre demande. Le nouveau mot de passe compte au moins 12 caractères.`,
          `This link works once and expires on ${formatDate(expiresAt, lang)} at ${parisTime(expiresAt)} (Paris time), one hour after your request. The new password has at least 12 characters.`,
        ),
      ),
      paragraph(
        t(
          "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe actuel reste valable.",
          'If you did not ask for this, ignore this message: your current password stays valid.',
        ),
      ),
      ...signOff(t, ctx),
    ],
  }),

  username_reminder: ({ givenName, email, organisationName, siret, reason }, t, _lang, ctx) => ({
    subject: t(`Votre identifiant ${ctx.identity.tradingName}`, `Your ${ctx.identity.tradingName} username`),
    blocks: [
      paragraph(givenName !== '' ? t(`Bonjour ${givenName},`, `Hello ${givenName},`) : t('Bonjour,', 'Hello,')),
      paragraph(
        reason === 'register_attempt'
          ? t(
              "Quelqu'un a demandé à créer un compte avec votre adresse, mais vous en avez déjà un. Vous pouvez vous connecter avec :",
              'Someone asked to create an account with your address, but you already have one. You can log in with:',
            )
          : t('Vous avez demandé votre identifiant de connexion. Le voici :', 'You asked for your login username. Here it is:'),
      ),
      fields([
        [t('Identifiant', 'Username'), email],
        ...(organisationName !== null && siret !== null ? [[t('Organisation', 'Organisation'), `${organisationName} (SIRET ${siret})`] as const] : []),
      ]),
      action(t('Se connecter', 'Sign in'), pageLinks.login(ctx.publicBaseUrl)),
      paragraph(
        t(
          'Mot de passe oublié ? Demandez un lien de réinitialisation depuis la page de connexion.',
          'Forgotten your password? Ask for a reset link from the login page.',
        ),
      ),
      paragraph(t("Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien n'a changé sur votre compte.", 'If you did not ask for this, ignore this message: nothing changed on your account.')),
      ...signOff(t, ctx),
    ],
  }),

  caa_forbids_issuance: ({ orderId, product, serial, refusal, identifiers }, t, lang, ctx) => ({
    subject: t(`Commande ${orderId} : vos enregistrements CAA interdisent l'émission`, `Order ${orderId}: your CAA records forbid issuance`),
    blocks: [
      greeting(t),
      paragraph(
        t(
          `Avant de signer ${serial === null ? 'votre' : 'le prochain'} certificat ${productName(product, lang)} (commande ${orderId}), nous avons consulté les enregistrements DNS CAA de ses noms, comme l'exigent les Baseline Requirements du CA/Browser Forum : ils n'autorisent pas notre autorité de certification. Aucun certificat n'est émis tant qu'ils l'interdisent.`,
          `Before signing ${serial === null ? 'your' : 'the next'} ${productName(product, lang)} certificate (order ${orderId}), we looked up the DNS CAA records of its names, as the CA/Browser Forum Baseline Requirements demand: they do not authorise our certification authority. No certificate is issued while they forbid it.`,
        ),
      ),
      code(refusal),
      heading(t('Que faire', 'What to do')),
      paragraph(
        t(
          `Ajoutez à la zone DNS indiquée un enregistrement CAA qui nous nomme (${identifiers}), par exemple 0 issue "${identifiers.split(', ')[0] ?? ''}" (0 issuewild pour un nom générique), puis demandez une nouvelle vérification :`,
          `Add to the DNS zone named above a CAA record naming us (${identifiers}), for instance 0 issue "${identifiers.split(', ')[0] ?? ''}" (0 issuewild for a wildcard name), then ask for a new check:`,
        ),
      ),
      code(`POST /v1/orders/${orderId}/domain-validation\n{"action":"check"}`),
      ...(serial !== null
        ? [paragraph(t(`Votre certificat actuel (n° de série ${serial}) reste valide ; nous vérifions aussi régulièrement de nous-mêmes.`, `Your current certificate (serial number ${serial}) stays valid; we also check again regularly on our own.`))]
        : []),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),

  hold_released: ({ orderId, product, serial }, t, lang, ctx) => ({
    subject: t(`Certificat ${serial} : suspension levée`, `Certificate ${serial}: hold lifted`),
    blocks: [
      greeting(t),
      paragraph(
        t(
          `La suspension de votre certificat ${productName(product, lang)} (commande ${orderId}, n° de série ${serial}) est levée : il est de nouveau valide et vous pouvez l'utiliser normalement.`,
          `The hold on your ${productName(product, lang)} certificate (order ${orderId}, serial number ${serial}) is lifted: it is valid again and you can use it as before.`,
        ),
      ),
      paragraph(
        t(
          'Les services qui consultent nos listes de révocation le verront de nouveau valide dès leur prochaine mise à jour.',
          'Services that read our revocation lists will see it as valid again from their next update.',
        ),
      ),
      orderAction(t, ctx, orderId),
      ...signOff(t, ctx),
    ],
  }),
};

/**
 * What to publish, per file or TXT record as the CA drew them. A name and its wildcard share one TXT record: they
 * are shown once, under both names.
 */
function challengeBlocks(challenges: readonly DomainChallenge[], t: Tr, lang: Language): Block[] {
  const groups = new Map<string, DomainChallenge[]>();
  for (const c of challenges) {
    const key = c.http?.url ?? (c.dns !== undefined ? `${c.dns.recordName} ${c.dns.value}` : `${c.method} ${c.authorizationDomain} ${c.token}`);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].flatMap((group) => {
    const c = group[0] as DomainChallenge;
    const names = group.map((x) => x.domain);
    const title = names.length === 1 ? c.domain : `${names.slice(0, -1).join(', ')} ${t('et', 'and')} ${names[names.length - 1] ?? ''}`;
    const until: readonly [string, string] = [t("Valable jusqu'au", 'Valid until'), formatDate(c.expiresAt, lang)];
    if (c.http !== undefined) {
      return [
        heading(title),
        paragraph(t('Publiez un fichier à cette adresse, avec exactement ce contenu :', 'Publish a file at this address, with exactly this content:')),
        fields([['URL', c.http.url], [t('Contenu du fichier', 'File content'), c.http.content], until]),
      ];
    }
    if (c.dns !== undefined) {
      return [
        heading(title),
        paragraph(t('Ajoutez cet enregistrement DNS :', 'Add this DNS record:')),
        fields([[t('Nom', 'Name'), c.dns.recordName], ['Type', c.dns.recordType], [t('Valeur', 'Value'), c.dns.value], until]),
      ];
    }
    // Without its details a challenge still has its value; the customer area shows where it goes.
    return [
      heading(title),
      paragraph(
        c.method === 'http'
          ? t(`Publiez un fichier sous /.well-known/pki-validation/ de ${c.authorizationDomain}, avec exactement ce contenu :`, `Publish a file under /.well-known/pki-validation/ of ${c.authorizationDomain}, with exactly this content:`)
          : t(`Ajoutez un enregistrement DNS TXT pour ${c.authorizationDomain}, avec exactement cette valeur :`, `Add a DNS TXT record for ${c.authorizationDomain}, with exactly this value:`),
      ),
      fields([[t('Valeur', 'Value'), c.token], until]),
    ];
  });
}

/** RFC 5280 reason names as a customer reads them. */
const REVOCATION_REASONS: Partial<Record<string, Record<Language, string>>> = {
  unspecified: { fr: 'non précisé', en: 'unspecified' },
  keyCompromise: { fr: 'compromission de la clé', en: 'key compromise' },
  affiliationChanged: { fr: "changement d'affiliation", en: 'affiliation changed' },
  superseded: { fr: 'remplacé (certificat refusé ou renouvelé)', en: 'superseded (certificate refused or replaced)' },
  cessationOfOperation: { fr: "cessation d'activité", en: 'cessation of operation' },
  privilegeWithdrawn: { fr: 'droits retirés', en: 'privilege withdrawn' },
  certificateHold: { fr: 'suspendu', en: 'on hold' },
};

const translator =
  (lang: Language): Tr =>
  (fr, en) =>
    lang === 'fr' ? fr : en;

export async function renderEmail(message: EmailMessage, lang: Language, ctx: MailContext): Promise<RenderedEmail> {
  // TypeScript cannot correlate a union member with its renderer; the mapped type above keeps each pair right.
  const compose = EMAILS[message.template] as (data: EmailMessage['data'], t: Tr, lang: Language, ctx: MailContext) => Composed;
  const { subject, blocks } = compose(message.data, translator(lang), lang, ctx);
  const attachments: EmailAttachment[] = [];
  if (message.template === 'order_confirmation') {
    const { order } = message.data;
    const content = await buildOrderForm(order, lang, { identity: ctx.identity, orderUrl: orderPage(ctx, order.orderId) });
    attachments.push({ filename: orderFormFileName(order.orderId, lang), contentType: 'application/pdf', content });
  }
  return { subject, text: toText(blocks, lang), html: toHtml(blocks, subject, lang), attachments };
}

export function renderSms(message: SmsMessage, lang: Language, identity: CaIdentity): string {
  const minutes = message.data.validMinutes ?? 10;
  const name = identity.tradingName;
  return lang === 'fr'
    ? `${name} : votre code de déverrouillage est ${message.data.code}. Valable ${minutes} minutes. Ne le communiquez à personne.`
    : `${name}: your unlock code is ${message.data.code}. Valid for ${minutes} minutes. Do not share it.`;
}
