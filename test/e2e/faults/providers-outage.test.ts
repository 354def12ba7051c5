/**
 * Fault: the mail relay and the SMS provider fail for a while, then recover. The SMTP server (test/fakes/smtp.ts)
 * refuses every message with 451 from the start of the batch until every order has been reviewed and 8–15 s have
 * passed, so the confirmation mails are still being retried when the approvals come (their mails must not be
 * skipped); the Twilio server (test/fakes/twilio.ts) answers 503 from the start until some seconds after it refused
 * its first unlock-code SMS. Notifications go through the `sent_messages` ledger (activities/notify/ledger.ts): one
 * row per event, retried by Temporal until the provider takes it. Afterwards every order is completed and every
 * mail and SMS arrived exactly once: one Message-ID per event, no copy, one SMS per holder.
 */
import { describe, expect, it } from 'vitest';
import { checkBatch, PatientClient, seededRandom, sleep, faultStackForFile } from './support.js';

const ORDERS = 4;
/** A mail refused for 15 s is retried with a backoff of 1 s doubling: the next try may come ~16 s later. */
const WAIT_MS = 150_000;

const faultStack = faultStackForFile({ name: 'fault-providers' });

describe('SMTP and SMS providers failing, then recovering', () => {
  it(`every mail and SMS of ${ORDERS} orders arrives exactly once`, async () => {
    const stack = faultStack();
    const rnd = seededRandom('fault-providers');
    const smtpDownFor = rnd.int(8_000, 15_000);
    const smsDownAfterFirstRefusal = rnd.int(3_000, 8_000);
    const smsStatus = rnd.int(0, 1) === 0 ? 500 : 503;
    stack.log(`SMTP answers 451 for ${smtpDownFor} ms; Twilio answers ${smsStatus} until ${smsDownAfterFirstRefusal} ms after its first refusal`);
    await stack.startWorker();
    const client = new PatientClient(stack);
    stack.smtp.startOutage(451);
    stack.twilio.startOutage(smsStatus);
    const started = Date.now();
    const batch = client.driveBatch(ORDERS, WAIT_MS);
    let failed: unknown;
    batch.catch((err: unknown) => (failed = err));

    await sleep(smtpDownFor);
    while ((client.progress.reviewed ?? 0) < ORDERS && failed === undefined) await sleep(100);
    stack.smtp.endOutage();
    stack.log(`SMTP back after ${Date.now() - started} ms (every order reviewed), ${stack.smtp.refusedCount} messages refused meanwhile`);
    while (stack.twilio.refusedCount === 0 && failed === undefined) await sleep(100);
    stack.log('Twilio refused its first request');
    await sleep(smsDownAfterFirstRefusal);
    stack.twilio.endOutage();
    stack.log(`Twilio back, ${stack.twilio.refusedCount} requests refused meanwhile`);

    const driven = await batch;
    stack.log(`batch of ${ORDERS} completed in ${Date.now() - started} ms`);
    // The outages were felt: mails and SMS were refused, then each arrived once (checked below).
    expect(stack.smtp.refusedCount).toBeGreaterThan(0);
    expect(stack.twilio.refusedCount).toBeGreaterThan(0);
    await checkBatch(stack, client, driven, { allowSameMessageCopies: false });
  }, 240_000);
});
