/** No provider configured: mails become .eml files and SMS JSON lines under DATA_DIR/outbox, for a developer to read. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNotifier, outboxMailDir, outboxSmsFile, type Notifier, type NotifierConfig } from '../../activities/notify/index.js';
import { openPostgres, type DatabaseHandle } from '../../db/client.js';
import { confirmationRequest, ledgerRow, newKey, notifierConfig, removeDataDirs, sampleOrder } from './support.js';

let database: DatabaseHandle;
let config: NotifierConfig;
let notifier: Notifier;

beforeAll(() => {
  database = openPostgres(inject('databaseUrl'), 2);
  config = notifierConfig();
  notifier = createNotifier({ db: database.db, config });
});

afterAll(async () => {
  await notifier?.close();
  await database?.close();
  removeDataDirs();
});

describe('outbox', () => {
  it('writes each mail once as an .eml a mail client can open, PDF attached', async () => {
    const order = sampleOrder({ payment: { method: 'card', purchaseOrderNumber: null } });
    const key = newKey('confirmation');
    const req = confirmationRequest(order, key);
    const { messageId } = await notifier.sendEmail(req);
    expect(await notifier.sendEmail(req)).toEqual({ messageId, duplicate: true });

    const files = await readdir(outboxMailDir(config.DATA_DIR));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z-[0-9a-f]{12}\.eml$/);
    expect(files[0]).toContain(messageId.slice(1, 13));

    const raw = await readFile(join(outboxMailDir(config.DATA_DIR), files[0]!));
    expect(raw.toString('latin1')).toContain('\r\n');
    const mail = await simpleParser(raw);
    expect(mail.messageId).toBe(messageId);
    expect(mail.subject).toBe(`Confirmation de votre commande ${order.orderId} – Pack ID RGS**`);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe('camille.durand@example.test');
    expect(mail.text).toContain('Pièce d\'identité du porteur en cours de validité');
    expect(mail.text).toContain('carte bancaire');
    expect(mail.attachments).toHaveLength(1);
    const [pdf] = mail.attachments;
    expect(pdf?.filename).toBe(`bon-de-commande-${order.orderId}.pdf`);
    expect(pdf?.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect((await PDFDocument.load(pdf!.content)).getPageCount()).toBe(1);

    expect(await ledgerRow(database.db, key)).toMatchObject({ status: 'sent', providerId: messageId });
  });

  it('appends each SMS once as a JSON line, and only the outbox holds the code', async () => {
    const key = newKey('unlock-code');
    const req = { idempotencyKey: key, orderId: null, to: '+33612345678', language: 'en' as const, message: { template: 'unlock_code' as const, data: { code: '314159' } } };
    const first = await notifier.sendSms(req);
    expect(await notifier.sendSms(req)).toEqual({ providerId: first.providerId, duplicate: true });

    const lines = (await readFile(outboxSmsFile(config.DATA_DIR), 'utf8')).split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    const sms = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(sms).sort()).toEqual(['at', 'body', 'from', 'id', 'to']);
    expect(sms).toMatchObject({ to: '+33612345678', from: 'CertFlow', body: 'CertFlow: your unlock code is 314159. Valid for 10 minutes. Do not share it.' });
    expect(new Date(sms.at as string).toISOString()).toBe(sms.at);

    const row = await ledgerRow(database.db, key);
    expect(row).toMatchObject({ channel: 'sms', status: 'sent', providerId: first.providerId, template: 'unlock_code' });
    expect(JSON.stringify(row)).not.toContain('314159');
  });
});
