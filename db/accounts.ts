/** Organisations, users and their API keys. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { Principal, Role } from '../domain/roles.js';
import type { Database } from './client.js';
import { apiKeys, organisations, users } from './schema.js';

export type Organisation = typeof organisations.$inferSelect;
export type User = typeof users.$inferSelect;
export type UserStatus = 'pending' | 'active' | 'disabled';

const API_KEY_PREFIX = 'cfk';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Finds an organisation by SIRET or creates it; the name of an existing one is kept. */
export async function upsertOrganisation(
  db: Database,
  org: { siret: string; name: string; publicAdministration?: boolean; locality?: string },
): Promise<Organisation> {
  const [row] = await db
    .insert(organisations)
    .values({ id: uuidv7(), siret: org.siret, name: org.name, publicAdministration: org.publicAdministration ?? false, locality: org.locality ?? null })
    // A locality given later fills in one that was missing; a known one is kept.
    .onConflictDoUpdate({ target: organisations.siret, set: { locality: sql`coalesce(${organisations.locality}, excluded.locality)` } })
    .returning();
  if (row === undefined) throw new Error('organisation upsert returned nothing');
  return row;
}

export async function findUserByEmail(db: Database, email: string): Promise<User | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${email.toLowerCase()}`);
  return row;
}

export async function getUser(db: Database, id: string): Promise<User | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

export async function getOrganisation(db: Database, id: string): Promise<Organisation | undefined> {
  const [row] = await db.select().from(organisations).where(eq(organisations.id, id));
  return row;
}

export async function createUser(
  db: Database,
  u: {
    email: string;
    role: Role;
    organisationId: string | null;
    givenName?: string;
    surname?: string;
    phone?: string | null;
    language?: 'fr' | 'en';
    /** Default `active` (accounts an admin provisions); self-registered ones start `pending`. */
    status?: UserStatus;
    passwordHash?: string | null;
  },
): Promise<User> {
  const [row] = await db
    .insert(users)
    .values({
      id: uuidv7(),
      email: u.email,
      role: u.role,
      organisationId: u.organisationId,
      givenName: u.givenName ?? '',
      surname: u.surname ?? '',
      phone: u.phone ?? null,
      language: u.language ?? 'fr',
      status: u.status ?? 'active',
      passwordHash: u.passwordHash ?? null,
    })
    .returning();
  if (row === undefined) throw new Error('user insert returned nothing');
  return row;
}

/** Creates a key for a user and returns it in clear: the only time it is ever shown. */
export async function issueApiKey(db: Database, userId: string, label?: string): Promise<string> {
  const id = randomBytes(8).toString('hex');
  const key = `${API_KEY_PREFIX}_${id}_${randomBytes(32).toString('base64url')}`;
  await db.insert(apiKeys).values({ id, userId, secretHash: sha256(key), label: label ?? null });
  return key;
}

/** The principal behind a presented key, or undefined for a malformed, unknown, revoked or wrong key. */
export async function principalForApiKey(db: Database, presented: string): Promise<Principal | undefined> {
  const match = /^cfk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/.exec(presented);
  if (match === null) return undefined;
  const [row] = await db
    .select({ secretHash: apiKeys.secretHash, userId: users.id, role: users.role, organisationId: users.organisationId })
    .from(apiKeys)
    .innerJoin(users, eq(apiKeys.userId, users.id))
    // A pending or disabled account's keys do not work.
    .where(and(eq(apiKeys.id, match[1] as string), isNull(apiKeys.revokedAt), eq(users.status, 'active')));
  if (row === undefined) return undefined;
  const expected = Buffer.from(row.secretHash, 'hex');
  const actual = Buffer.from(sha256(presented), 'hex');
  if (!timingSafeEqual(expected, actual)) return undefined;
  return { userId: row.userId, role: row.role as Role, organisationId: row.organisationId };
}

/** The principal of an active user (an access token names its user; status and role are read at each request). */
export async function principalForUser(db: Database, userId: string): Promise<Principal | undefined> {
  const [row] = await db
    .select({ userId: users.id, role: users.role, organisationId: users.organisationId })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.status, 'active')));
  return row === undefined ? undefined : { userId: row.userId, role: row.role as Role, organisationId: row.organisationId };
}

/**
 * A self-registered customer: the organisation found by SIRET or created, the user `pending` with its password.
 * Undefined when the address is taken (also when another registration took it a moment ago).
 */
export async function registerCustomer(
  db: Database,
  r: {
    siret: string;
    organisationName: string;
    organisationAddress: PostalAddress;
    givenName: string;
    surname: string;
    email: string;
    phone: string;
    language: 'fr' | 'en';
    passwordHash: string;
  },
): Promise<User | undefined> {
  return db.transaction(async (tx) => {
    const { street, postalCode, locality } = r.organisationAddress;
    const [org] = await tx
      .insert(organisations)
      .values({ id: uuidv7(), siret: r.siret, name: r.organisationName, street, postalCode, locality })
      // A known organisation keeps its name and its address, even parts missing: anyone can register under a SIRET,
      // and what they type would become the L= of that organisation's TLS certificates. Only its admin or CA staff
      // change them (PATCH /v1/organisations/{id}, recorded in the audit chain).
      .onConflictDoUpdate({ target: organisations.siret, set: { siret: sql`excluded.siret` } })
      .returning();
    if (org === undefined) throw new Error('organisation upsert returned nothing');
    const [user] = await tx
      .insert(users)
      .values({
        id: uuidv7(),
        email: r.email,
        role: 'customer',
        organisationId: org.id,
        givenName: r.givenName,
        surname: r.surname,
        phone: r.phone,
        language: r.language,
        status: 'pending',
        passwordHash: r.passwordHash,
      })
      .onConflictDoNothing()
      .returning();
    // The address is taken: roll back, so an organisation created for this attempt does not stay behind.
    if (user === undefined) throw new AddressTaken();
    return user;
  }).catch((err: unknown) => {
    if (err instanceof AddressTaken) return undefined;
    throw err;
  });
}

class AddressTaken extends Error {}
