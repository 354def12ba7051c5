/**
 * One message per event: every send goes through a row of `sent_messages` keyed by the caller's idempotency key
 * (workflow id + step), so a retried activity finds the row already `sent` and does not send again.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import { appendAudit } from '../../db/audit-log.js';
import type { Database } from '../../db/client.js';
import { sentMessages } from '../../db/schema.js';

export interface LedgerEntry {
  readonly idempotencyKey: string;
  readonly channel: 'email' | 'sms';
  readonly recipient: string;
  readonly template: string;
  readonly language: 'fr' | 'en';
  readonly orderId: string | null;
  /** Mail subject; null for SMS, whose text is never stored (it may hold a one-time code). */
  readonly subject: string | null;
}

export interface Delivery {
  readonly providerId: string;
  readonly duplicate: boolean;
}

/**
 * Looks for a message an earlier attempt may have handed over before dying: the provider's id if the provider
 * (or the outbox) has it, undefined if not. Channels whose provider cannot be asked (SMTP) have none.
 */
export type FindSent = (since: Date) => Promise<string | undefined>;

/**
 * Sends once per key:
 * 1. the `pending` row is inserted (ON CONFLICT DO NOTHING), then moved to `sending` in its own committed statement
 *    just before the first hand-over: a later attempt that finds `sending` knows an earlier one may have reached the
 *    provider;
 * 2. the row is locked (SELECT … FOR UPDATE) for the time of the send, so a second attempt running at the same time
 *    (an activity timed out while its first attempt still runs) waits and then finds it `sent`;
 * 3. an attempt that finds `sending` it did not set asks the provider first (`findSent`): an SMS the dead attempt
 *    handed over is found in Twilio's message list (or the outbox) and not sent again;
 * 4. `send` runs; if it throws, the transaction rolls back and the error goes up (retry);
 * 5. the row becomes `sent` with the provider's id.
 * What remains: an SMTP relay cannot be asked what it received, so a mail handed over in the milliseconds before a
 * crash is sent again by the retry — with the same Message-ID (derived from the key), which mailbox providers use
 * to show it once. Losing the mail instead would be worse.
 */
export async function deliverOnce(db: Database, entry: LedgerEntry, send: () => Promise<string>, findSent?: FindSent): Promise<Delivery> {
  await db
    .insert(sentMessages)
    .values({ id: randomUUID(), ...entry, status: 'pending' })
    .onConflictDoNothing({ target: sentMessages.idempotencyKey });
  const fresh = await db
    .update(sentMessages)
    .set({ status: 'sending' })
    .where(and(eq(sentMessages.idempotencyKey, entry.idempotencyKey), eq(sentMessages.status, 'pending')))
    .returning({ id: sentMessages.id });

  return db.transaction(async (tx) => {
    // Marked sent and appended to the audit chain in this transaction: a message is in both or in neither. The
    // chain names the ledger row, not the recipient (personal data stays in sent_messages).
    const markSent = async (id: string, set: Partial<typeof sentMessages.$inferInsert> & { providerId: string }): Promise<void> => {
      await tx.update(sentMessages).set({ ...set, status: 'sent', sentAt: new Date() }).where(eq(sentMessages.id, id));
      await appendAudit(tx, {
        kind: 'message',
        orderId: entry.orderId,
        actorRole: 'system',
        action: `${entry.channel}_sent`,
        detail: { messageId: id, template: entry.template, channel: entry.channel, language: entry.language, providerId: set.providerId },
      });
    };
    const [row] = await tx.select().from(sentMessages).where(eq(sentMessages.idempotencyKey, entry.idempotencyKey)).for('update');
    if (row === undefined) throw new Error(`sent_messages row ${entry.idempotencyKey} vanished`);
    if (row.channel !== entry.channel || row.template !== entry.template) {
      // Two different messages under one key is a caller's bug: retrying cannot fix it.
      throw ApplicationFailure.create({
        type: 'IdempotencyKeyReused',
        nonRetryable: true,
        message: `idempotency key ${entry.idempotencyKey} already used for ${row.channel}/${row.template}, not ${entry.channel}/${entry.template}`,
      });
    }
    if (row.status === 'sent') return { providerId: row.providerId ?? '', duplicate: true };
    if (fresh.length === 0 && findSent !== undefined) {
      // An earlier attempt got as far as the hand-over: did the provider take it?
      const found = await findSent(row.createdAt);
      if (found !== undefined) {
        await markSent(row.id, { providerId: found });
        return { providerId: found, duplicate: true };
      }
    }

    const providerId = await send();
    // Recipient, language and subject of this attempt: the row records what was actually sent.
    await markSent(row.id, { providerId, recipient: entry.recipient, language: entry.language, subject: entry.subject });
    return { providerId, duplicate: false };
  });
}
