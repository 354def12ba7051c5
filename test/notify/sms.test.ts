/** SMS through a server speaking Twilio's Messages API, reached through TWILIO_API_URL. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { sentMessages } from '../../db/schema.js';
import { describe, expect, it } from 'vitest';
import { createNotifier, type SmsRequest } from '../../activities/notify/index.js';
import { twilioSender } from '../../activities/notify/sms.js';
import { startFakeTwilio } from '../fakes/twilio.js';
import { runDatabase } from '../run-database.js';
import { startedForFile } from '../stack-for-file.js';
import { ledgerRow, newKey, notifierConfig, notifierForFile } from './support.js';

const database = runDatabase(4);
const twilio = startedForFile(() => startFakeTwilio(), 'the Twilio server');
const notifier = notifierForFile(database, () => ({
  TWILIO_ACCOUNT_SID: twilio.accountSid,
  TWILIO_AUTH_TOKEN: twilio.authToken,
  TWILIO_FROM: '+33757000001',
  TWILIO_API_URL: twilio.url,
}));

const unlock = (code: string, language: 'fr' | 'en' = 'fr'): SmsRequest => ({
  idempotencyKey: newKey('unlock-code'),
  orderId: null,
  to: '+33612345678',
  language,
  message: { template: 'unlock_code', data: { code } },
});

describe('unlock code by SMS', () => {
  it('reaches the holder with the code, and the ledger keeps no trace of the code', async () => {
    const req = unlock('482913');
    const result = await notifier.sendSms(req);
    expect(result.duplicate).toBe(false);
    expect(result.providerId).toMatch(/^SM[0-9a-f]{32}$/);

    const sms = await twilio.waitFor((m) => m.sid === result.providerId);
    expect(sms).toMatchObject({ to: '+33612345678', from: '+33757000001', accountSid: twilio.accountSid });
    expect(sms.body).toBe('CertFlow : votre code de déverrouillage est 482913. Valable 10 minutes. Ne le communiquez à personne.');

    const row = await ledgerRow(database.db, req.idempotencyKey);
    expect(row).toMatchObject({ channel: 'sms', recipient: '+33612345678', template: 'unlock_code', status: 'sent', providerId: result.providerId, subject: null });
    expect(JSON.stringify(row)).not.toContain('482913');
  });

  it('speaks English to an English-speaking holder', async () => {
    const { providerId } = await notifier.sendSms(unlock('100200', 'en'));
    const sms = await twilio.waitFor((m) => m.sid === providerId);
    expect(sms.body).toBe('CertFlow: your unlock code is 100200. Valid for 10 minutes. Do not share it.');
  });

  it('sends once per key', async () => {
    const req = unlock('555111');
    const first = await notifier.sendSms(req);
    const second = await notifier.sendSms(req);
    expect(second).toEqual({ providerId: first.providerId, duplicate: true });
    expect(twilio.messages.filter((m) => m.body.includes('555111'))).toHaveLength(1);
  });

  it.each([503, 500] as const)('leaves the row unsent when Twilio answers %i, and the next attempt sends once', async (status) => {
    const req = unlock(`77${status}1`);
    const code = req.message.data.code;
    twilio.failNext(1, status);
    const before = twilio.requestCount;

    const error: unknown = await notifier.sendSms(req).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`HTTP ${status}`);
    // The error travels to logs and workflow histories: it must not hold the request and its code.
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(code);
    expect(twilio.requestCount).toBe(before + 1);
    expect((await ledgerRow(database.db, req.idempotencyKey))?.status).toBe('sending');
    expect(twilio.messages.filter((m) => m.body.includes(code))).toHaveLength(0);

    const retried = await notifier.sendSms(req);
    expect(retried.duplicate).toBe(false);
    const again = await notifier.sendSms(req);
    expect(again).toEqual({ providerId: retried.providerId, duplicate: true });
    expect(twilio.messages.filter((m) => m.body.includes(code))).toHaveLength(1);
    expect(await ledgerRow(database.db, req.idempotencyKey)).toMatchObject({ status: 'sent', providerId: retried.providerId });
  });

  it('does not send again an SMS that a dead attempt handed over: the retry finds it in Twilio', async () => {
    const req = unlock('424242');
    const first = await notifier.sendSms(req);
    // The worker died after Twilio took the message, before the row said so: the row still reads `sending`.
    await database.db.update(sentMessages).set({ status: 'sending', providerId: null, sentAt: null }).where(eq(sentMessages.idempotencyKey, req.idempotencyKey));
    const retried = await notifier.sendSms(req);
    expect(retried).toEqual({ providerId: first.providerId, duplicate: true });
    expect(twilio.messages.filter((m) => m.body.includes('424242'))).toHaveLength(1);
    expect(await ledgerRow(database.db, req.idempotencyKey)).toMatchObject({ status: 'sent', providerId: first.providerId });
  });

  it('fails (and can be retried) with wrong credentials: the fake checks Basic auth', async () => {
    const wrong = createNotifier({
      db: database.db,
      config: notifierConfig({ TWILIO_ACCOUNT_SID: twilio.accountSid, TWILIO_AUTH_TOKEN: 'not-the-token', TWILIO_FROM: '+33757000001', TWILIO_API_URL: twilio.url }),
    });
    const req = unlock('909090');
    await expect(wrong.sendSms(req)).rejects.toThrow(/HTTP 401, Twilio code 20003/);
    await wrong.close();
    expect((await ledgerRow(database.db, req.idempotencyKey))?.status).toBe('sending');
  });

  it('gives up for good on a number Twilio rejects as invalid', async () => {
    const req = { ...unlock('121212'), to: '+33' };
    await expect(notifier.sendSms(req)).rejects.toMatchObject({ type: 'SmsRejected', nonRetryable: true, message: 'SMS not sent (HTTP 400, Twilio code 21211)' });
    expect((await ledgerRow(database.db, req.idempotencyKey))?.status).toBe('sending');
  });

  it('gives up for good on a message without a recipient', async () => {
    await expect(notifier.sendSms({ ...unlock('343434'), to: ' ' })).rejects.toMatchObject({ type: 'NoRecipient', nonRetryable: true });
  });
});

describe('Twilio configuration', () => {
  it('keeps the path of TWILIO_API_URL in front of the API path (a proxy under a prefix)', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: 'SM0123', status: 'queued' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sender = twilioSender({ accountSid: twilio.accountSid, authToken: 't', from: 'MG0123', apiUrl: `http://127.0.0.1:${port}/gateway/twilio/` });
    expect(await sender.send({ to: '+33612345678', body: 'hello', id: 'x' })).toBe('SM0123');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(seen).toEqual([`POST /gateway/twilio/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`]);
  });

  it('refuses half a configuration instead of sending production SMS to a file', () => {
    expect(() => createNotifier({ db: database.db, config: notifierConfig({ TWILIO_ACCOUNT_SID: twilio.accountSid }) })).toThrow(
      /TWILIO_AUTH_TOKEN, TWILIO_FROM/,
    );
  });
});
