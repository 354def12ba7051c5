/** Organisations, users and their API keys. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { Holder, OrderInput } from '../domain/order.js';
import type { Principal, Role } from '../domain/roles.js';
import { appendAudit } from './audit-log.js';
import type { Database } from './client.js';
import { apiKeys, organisations, users } from './schema.js';

export type Organisation = typeof organisations.$inferSelect;
export type User = typeof users.$inferSelect;
export type UserStatus = 'pending' | 'active' | 'disabled';

/** The account's language for mails and pages: English when it chose it, French otherwise. */
export const userLanguage = (user: Pick<User, 'language'>): 'fr' | 'en' => (user.language === 'en' ? 'en' : 'fr');

/** The holder an order names, as its account reads now (an order keeps the copy it started with). */
export const holderOf = (user: User): Holder => ({
  userId: user.id,
  email: user.email,
  givenName: user.givenName,
  surname: user.surname,
  phone: user.phone,
  language: userLanguage(user),
});

/** The organisation an order is for, as its row reads now. */
export const orderOrganisationOf = (org: Organisation): OrderInput['organisation'] => ({ id: org.id, siret: org.siret, name: org.name, locality: org.locality ?? null });

/** An organisation's postal address (SPEC §8); the locality is also the L= of its TLS certificates. */
export interface PostalAddress {
  readonly street: string;
  readonly postalCode: string;
  readonly locality: string;
}

const API_KEY_PREFIX = 'cfk';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Finds an organisation by SIRET or creates it (the admin CLI, tests); the name of an existing one is kept. */
export async function upsertOrganisation(
  db: Database,
  org: { siret: string; name: string; publicAdministration?: boolean; street?: string; postalCode?: string; locality?: string },
): Promise<Organisation> {
  const [row] = await db
    .insert(organisations)
    .values({
      id: uuidv7(),
      siret: org.siret,
      name: org.name,
      publicAdministration: org.publicAdministration ?? false,
      street: org.street ?? null,
      postalCode: org.postalCode ?? null,
      locality: org.locality ?? null,
    })
    // A part of the address given later fills in one that was missing; a known one is kept (PATCH corrects it).
    .onConflictDoUpdate({
      target: organisations.siret,
      set: {
        street: sql`coalesce(${organisations.street}, excluded.street)`,
        postalCode: sql`coalesce(${organisations.postalCode}, excluded.postal_code)`,
        locality: sql`coalesce(${organisations.locality}, excluded.locality)`,
      },
    })
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

/**
 * Corrects an organisation's name and/or postal address for `actor`, and records the change in the audit chain in
 * the same transaction (the change and its record stand or fall together). Undefined when no such organisation.
 * Orders already placed keep the organisation as it was when they were made; later ones read the new values.
 */
export async function updateOrganisation(
  db: Database,
  id: string,
  change: { readonly name?: string; readonly address?: PostalAddress },
  actor: Pick<Principal, 'userId' | 'role'>,
): Promise<Organisation | undefined> {
  return db.transaction(async (tx) => {
    // Locked, so the "before" of the audit entry is the row this update replaces.
    const [before] = await tx.select().from(organisations).where(eq(organisations.id, id)).for('update');
    if (before === undefined) return undefined;
    const [after] = await tx
      .update(organisations)
      .set({ ...(change.name !== undefined ? { name: change.name } : {}), ...(change.address ?? {}) })
      .where(eq(organisations.id, id))
      .returning();
    if (after === undefined) return undefined;
    const addressOf = (o: Organisation) => ({ street: o.street, postalCode: o.postalCode, locality: o.locality });
    await appendAudit(tx, {
      kind: 'decision',
      actorUserId: actor.userId,
      actorRole: actor.role,
      action: 'organisation_updated',
      detail: {
        organisationId: id,
        siret: before.siret,
        ...(change.name !== undefined ? { name: { from: before.name, to: after.name } } : {}),
        ...(change.address !== undefined ? { address: { from: addressOf(before), to: addressOf(after) } } : {}),
      },
    });
    return after;
  });
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
    /** Staff only: the account's API keys work (an admin allowed them); default false. */
    staffApiAccess?: boolean;
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
      staffApiAccess: u.staffApiAccess ?? false,
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
