/** The people of an organisation, as its admin manages them: accounts created pending, listed. */
import { asc, eq } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { User } from './accounts.js';
import type { Database } from './client.js';
import { users } from './schema.js';

/**
 * Creates a `customer` of the organisation, `pending` until its activation link is used. Undefined, with nothing
 * written, when the email address (compared without case) already has an account.
 */
export async function createPendingMember(
  db: Database,
  m: { organisationId: string; email: string; givenName: string; surname: string; phone: string | null; language: 'fr' | 'en' },
): Promise<User | undefined> {
  const [row] = await db
    .insert(users)
    .values({ id: uuidv7(), role: 'customer', status: 'pending', ...m })
    // The unique index is on lower(email): a concurrent creation of the same address loses here, not with a 500.
    .onConflictDoNothing()
    .returning();
  return row;
}

export async function listMembers(db: Database, organisationId: string): Promise<User[]> {
  return db.select().from(users).where(eq(users.organisationId, organisationId)).orderBy(asc(users.createdAt), asc(users.id));
}
