/** Quotes (devis): numbered from the `quote_numbers` sequence, so no two ever share a number. */
import { eq, sql } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { Database } from './client.js';
import { quotes } from './schema.js';

export type QuoteRow = typeof quotes.$inferSelect;
export type NewQuote = Omit<typeof quotes.$inferInsert, 'id' | 'number' | 'createdAt'>;

/** Draws the next number (`D-<year>-<000001>`, the issue year in UTC) and inserts the quote. */
export async function insertQuote(db: Database, quote: NewQuote, now: Date): Promise<QuoteRow> {
  // Drawn inside the insert: one statement, the same on both drivers; six digits, more once past a million.
  const number = sql<string>`'D-' || ${String(now.getUTCFullYear())} || '-' || (select lpad(n::text, greatest(6, length(n::text)), '0') from (select nextval('quote_numbers') as n) as s)`;
  const [row] = await db
    .insert(quotes)
    .values({ ...quote, id: uuidv7(), number, createdAt: now })
    .returning();
  if (row === undefined) throw new Error('quote insert returned nothing');
  return row;
}

export async function getQuoteByNumber(db: Database, number: string): Promise<QuoteRow | undefined> {
  const [row] = await db.select().from(quotes).where(eq(quotes.number, number));
  return row;
}
