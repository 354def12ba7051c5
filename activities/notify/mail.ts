/** Where mails go: an SMTP relay when SMTP_URL is set, otherwise .eml files in the outbox folder. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';

export interface MailSender {
  /** Resolves once the relay accepted the message (or the file is written). */
  send(mail: Mail.Options & { messageId: string }): Promise<void>;
  close(): Promise<void>;
}

export function smtpSender(url: string): MailSender {
  const transport = createTransport(url);
  return {
    async send(mail) {
      await transport.sendMail(mail);
    },
    close: () => Promise.resolve(transport.close()),
  };
}

/**
 * The dev outbox: nodemailer builds the real RFC 5322 message (CRLF, MIME parts, the PDF in base64) and we write it
 * as `<timestamp>-<hash>.eml`, a file any mail client opens. The hash starts the Message-ID (the idempotency key's
 * hash), so a copy sent again in the crash window after a send shows up with the same suffix.
 */
export function outboxMailSender(dir: string): MailSender {
  const transport = createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    async send(mail) {
      const info = await transport.sendMail(mail);
      if (!Buffer.isBuffer(info.message)) throw new Error('stream transport did not buffer the message');
      await mkdir(dir, { recursive: true });
      // Colons are not allowed in Windows file names.
      const stamp = new Date().toISOString().replace(/:/g, '-');
      const hash = mail.messageId.replace(/^<|@.*$/g, '').slice(0, 12);
      const file = join(dir, `${stamp}-${hash}.eml`);
      // Written aside then renamed, so a reader never sees half a message.
      await writeFile(`${file}.tmp`, info.message);
      await rename(`${file}.tmp`, file);
    },
    close: () => Promise.resolve(transport.close()),
  };
}
