/**
 * Notifications (SPEC §4): mails through nodemailer, SMS through Twilio, or the outbox folder when no provider is
 * configured. Exactly one message per event: see `deliverOnce`.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { CaIdentity, Config } from '../../config/index.js';
import type { Database } from '../../db/client.js';
import { deliverOnce } from './ledger.js';
import { outboxMailSender, smtpSender, type MailSender } from './mail.js';
import { outboxSmsSender, twilioSender, type SmsSender } from './sms.js';
import { STAFF_TEMPLATES, renderEmail, renderSms, type EmailMessage, type Language, type SmsMessage } from './templates.js';

export type * from './templates.js';
export { renderEmail, renderSms, STAFF_TEMPLATES } from './templates.js';

/** `caIdentity` signs every message and document; `publicBaseUrl` is where their links lead (the customer area). */
export type NotifierConfig = Pick<
  Config,
  'SMTP_URL' | 'MAIL_FROM' | 'STAFF_EMAIL' | 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN' | 'TWILIO_FROM' | 'TWILIO_API_URL' | 'DATA_DIR' | 'caIdentity' | 'publicBaseUrl'
>;

export interface EmailRequest {
  /** Workflow id + step: the same key never sends twice. */
  readonly idempotencyKey: string;
  readonly orderId: string | null;
  /** The recipient; ignored for staff templates (`STAFF_TEMPLATES`), which go to STAFF_EMAIL. */
  readonly to: string;
  readonly language: Language;
  readonly message: EmailMessage;
}

export interface SmsRequest {
  readonly idempotencyKey: string;
  readonly orderId: string | null;
  /** E.164 mobile number. */
  readonly to: string;
  readonly language: Language;
  readonly message: SmsMessage;
}

export interface Notifier {
  /** The CA the messages speak for: the API's documents (the quote PDF) use the same. */
  readonly caIdentity: CaIdentity;
  /** `messageId` is the mail's Message-ID header, the same for every attempt under one key. */
  sendEmail(req: EmailRequest): Promise<{ messageId: string; duplicate: boolean }>;
  /** `providerId` is Twilio's message SID (or the outbox's id). */
  sendSms(req: SmsRequest): Promise<{ providerId: string; duplicate: boolean }>;
  close(): Promise<void>;
}

const keyHash = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Derived from the idempotency key, so a mail sent again after a crash is recognisably the same message. */
export const messageIdFor = (idempotencyKey: string): string => `<${keyHash(idempotencyKey)}@certflow>`;

export const outboxMailDir = (dataDir: string): string => join(dataDir, 'outbox', 'mail');
export const outboxSmsFile = (dataDir: string): string => join(dataDir, 'outbox', 'sms.jsonl');

function smsSenderFor(config: NotifierConfig): SmsSender {
  const { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: token, TWILIO_FROM: from } = config;
  if (sid === undefined && token === undefined) return outboxSmsSender(outboxSmsFile(config.DATA_DIR), from ?? config.caIdentity.tradingName);
  if (sid === undefined || token === undefined || from === undefined) {
    // Half a configuration would silently send production SMS to a file: refuse to start instead.
    const missing = [sid === undefined && 'TWILIO_ACCOUNT_SID', token === undefined && 'TWILIO_AUTH_TOKEN', from === undefined && 'TWILIO_FROM'].filter(Boolean);
    throw new Error(`Twilio is partly configured: set ${missing.join(', ')} as well (or none of the TWILIO_* variables for the outbox)`);
  }
  return twilioSender({ accountSid: sid, authToken: token, from, apiUrl: config.TWILIO_API_URL });
}

function requireRecipient(to: string): string {
  const trimmed = to.trim();
  if (trimmed === '') throw ApplicationFailure.create({ type: 'NoRecipient', nonRetryable: true, message: 'message without a recipient' });
  return trimmed;
}

export function createNotifier(deps: { db: Database; config: NotifierConfig }): Notifier {
  const { db, config } = deps;
  const mail: MailSender = config.SMTP_URL !== undefined ? smtpSender(config.SMTP_URL) : outboxMailSender(outboxMailDir(config.DATA_DIR));
  const sms: SmsSender = smsSenderFor(config);
  const context = { identity: config.caIdentity, publicBaseUrl: config.publicBaseUrl };

  return {
    caIdentity: config.caIdentity,

    async sendEmail(req) {
      const { template } = req.message;
      const to = requireRecipient(STAFF_TEMPLATES.has(template) ? config.STAFF_EMAIL : req.to);
      const rendered = await renderEmail(req.message, req.language, context);
      const messageId = messageIdFor(req.idempotencyKey);
      const result = await deliverOnce(
        db,
        { idempotencyKey: req.idempotencyKey, channel: 'email', recipient: to, template, language: req.language, orderId: req.orderId, subject: rendered.subject },
        async () => {
          await mail.send({
            from: config.MAIL_FROM,
            to,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            messageId,
            // RFC 3834: tells auto-responders (holiday replies…) not to answer a machine.
            headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': req.language, 'X-CertFlow-Template': req.message.template },
            attachments: rendered.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content) })),
          });
          return messageId;
        },
      );
      return { messageId: result.providerId, duplicate: result.duplicate };
    },

    async sendSms(req) {
      const to = requireRecipient(req.to);
      const body = renderSms(req.message, req.language, config.caIdentity);
      const message = { to, body, id: `outbox-${keyHash(req.idempotencyKey).slice(0, 32)}` };
      // The ledger keeps recipient, template and provider id: never the body, which holds the code.
      const result = await deliverOnce(
        db,
        { idempotencyKey: req.idempotencyKey, channel: 'sms', recipient: to, template: req.message.template, language: req.language, orderId: req.orderId, subject: null },
        () => sms.send(message),
        (since) => sms.find(message, since),
      );
      return { providerId: result.providerId, duplicate: result.duplicate };
    },

    async close() {
      await Promise.all([mail.close(), sms.close()]);
    },
  };
}
