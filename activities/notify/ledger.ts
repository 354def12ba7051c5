/**
 * One message per event: every send goes through a row of `sent_messages` keyed by the caller's idempotency key
 * (workflow id + step), so a retried activity finds the row already `sent` and does not send again.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
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
 * Sends at most once per key, as far as this table can tell:
 * 1. the `pending` row is inserted and committed first (ON CONFLICT DO NOTHING), so a failed send leaves it pending
 *    for the next attempt and the table shows what was tried;
 * 2. the row is then locked (SELECT … FOR UPDATE) for the time of the send, so a second attempt running at the same
 *    time (an activity timed out while its first attempt still runs) waits and then finds it `sent`;
 * 3. `send` runs; if it throws, the transaction rolls back, the row stays pending and the error goes up (retry);
 * 4. the row becomes `sent` with the provider's id.
 * The one window left: the provider took the message but the process died (or the commit failed) before step 4.
 * The next attempt sends again. Mails then carry the same Message-ID (derived from the key) so the receiving side
 * can recognise the copy; an SMS would go twice — rare, and accepted rather than risking none.
 */
export async function deliverOnce(db: Database, entry: LedgerEntry, send: () => Promise<string>): Promise<Delivery> {
  await db
    .insert(sentMessages)
    .values({ id: randomUUID(), ...entry, status: 'pending' })
    .onConflictDoNothing({ target: sentMessages.idempotencyKey });

  return db.transaction(async (tx) => {
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

    const providerId = await send();
    // Recipient, language and subject of this attempt: the row records what was actually sent.
    await tx
      .update(sentMessages)
      .set({ status: 'sent', providerId, sentAt: new Date(), recipient: entry.recipient, language: entry.language, subject: entry.subject })
      .where(eq(sentMessages.id, row.id));
    return { providerId, duplicate: false };
  });
}
