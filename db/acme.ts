/**
 * ACME's rows (api/acme/): single-use nonces shared by every API process, external account binding keys (sealed),
 * accounts. Each EAB key's creation, use, refusal and revocation goes into the audit chain.
 */
import { randomBytes } from 'node:crypto';
import { and, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import { seal, unseal } from '../config/secrets.js';
import { OV_PRODUCTS, type AcmeAccountStatus, type AcmeProduct } from '../domain/acme.js';
import { identityReusableAt } from '../domain/rules/identity-reuse.js';
import { appendAudit } from './audit-log.js';
import type { Database } from './client.js';
import { acmeAccounts, acmeEabKeys, acmeNonces, orderEvents, orders, organisations } from './schema.js';

export type AcmeAccountRow = typeof acmeAccounts.$inferSelect;
export type AcmeEabKeyRow = typeof acmeEabKeys.$inferSelect;

// ---- nonces ---------------------------------------------------------------------------------------------------------

/** A nonce lives an hour: longer than any client waits between two requests, short enough to keep the table small. */
export const NONCE_TTL_MS = 60 * 60_000;

export async function issueNonce(db: Database, now = new Date()): Promise<string> {
  const nonce = randomBytes(16).toString('base64url');
  await db.insert(acmeNonces).values({ nonce, expiresAt: new Date(now.getTime() + NONCE_TTL_MS) });
  // Now and then, the expired ones go (every process does its share).
  if (randomBytes(1)[0]! < 8) await db.delete(acmeNonces).where(lt(acmeNonces.expiresAt, now));
  return nonce;
}

/** True once for a nonce this server issued and that has not expired; the row is gone after, so a replay is refused. */
export async function consumeNonce(db: Database, nonce: string, now = new Date()): Promise<boolean> {
  const gone = await db.delete(acmeNonces).where(eq(acmeNonces.nonce, nonce)).returning({ expiresAt: acmeNonces.expiresAt });
  const row = gone[0];
  return row !== undefined && row.expiresAt.getTime() > now.getTime();
}

// ---- external account binding keys ------------------------------------------------------------------------------------

const EAB_PURPOSE = (kid: string): string => `acme-eab:${kid}`;

export interface EabActor {
  readonly userId: string | null;
  readonly role: string;
}

/** A new key for an organisation and a product: the HMAC key is returned once, and kept only sealed. */
export async function createEabKey(
  db: Database,
  sealKey: Buffer,
  req: { organisationId: string; product: AcmeProduct; actor: EabActor },
): Promise<{ kid: string; hmacKey: string }> {
  const kid = `eab_${randomBytes(12).toString('base64url')}`;
  const key = randomBytes(32);
  await db.transaction(async (tx) => {
    await tx.insert(acmeEabKeys).values({
      kid,
      organisationId: req.organisationId,
      product: req.product,
      sealedHmacKey: seal(sealKey, key, EAB_PURPOSE(kid)),
      createdByUserId: req.actor.userId,
    });
    await appendAudit(tx, {
      kind: 'decision',
      actorUserId: req.actor.userId,
      actorRole: req.actor.role,
      action: 'acme.eab.created',
      detail: { kid, organisationId: req.organisationId, product: req.product },
    });
  });
  return { kid, hmacKey: key.toString('base64url') };
}

export async function findEabKey(db: Database, kid: string): Promise<AcmeEabKeyRow | undefined> {
  const [row] = await db.select().from(acmeEabKeys).where(eq(acmeEabKeys.kid, kid));
  return row;
}

export const openEabKey = (sealKey: Buffer, row: AcmeEabKeyRow): Buffer => unseal(sealKey, row.sealedHmacKey, EAB_PURPOSE(row.kid));

/** Revokes a key and the accounts bound with it (a leaked key must not leave working accounts behind). */
export async function revokeEabKey(db: Database, kid: string, actor: EabActor): Promise<boolean> {
  return db.transaction(async (tx) => {
    const done = await tx
      .update(acmeEabKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(acmeEabKeys.kid, kid), isNull(acmeEabKeys.revokedAt)))
      .returning({ kid: acmeEabKeys.kid });
    if (done.length === 0) return false;
    const accounts = await tx
      .update(acmeAccounts)
      .set({ status: 'revoked' })
      .where(and(eq(acmeAccounts.eabKid, kid), eq(acmeAccounts.status, 'valid')))
      .returning({ id: acmeAccounts.id });
    await appendAudit(tx, { kind: 'decision', actorUserId: actor.userId, actorRole: actor.role, action: 'acme.eab.revoked', detail: { kid, accounts: accounts.map((a) => a.id) } });
    return true;
  });
}

/** A refused use of an EAB key (bad MAC, revoked, organisation no longer validated), for the audit trail. */
export async function recordEabRefusal(db: Database, kid: string, reason: string): Promise<void> {
  await appendAudit(db, { kind: 'refused', actorRole: 'acme', action: 'acme.eab.used', detail: { kid, reason } });
}

/**
 * The last time the RA approved the review of an OV order of the organisation (the order_events trail of
 * POST /v1/orders/{id}/review), or undefined when it never did.
 */
export async function lastOrganisationApproval(db: Database, organisationId: string): Promise<Date | undefined> {
  const [row] = await db
    .select({ at: orderEvents.createdAt })
    .from(orderEvents)
    .innerJoin(orders, eq(orders.id, orderEvents.orderId))
    .where(
      and(
        eq(orders.organisationId, organisationId),
        inArray(orders.product, [...OV_PRODUCTS]),
        eq(orderEvents.action, 'approve'),
        eq(orderEvents.outcome, 'accepted'),
      ),
    )
    .orderBy(desc(orderEvents.createdAt))
    .limit(1);
  return row?.at;
}

/** Whether the RA's last approval of an OV order of the organisation may still be reused (BR §4.2.1). */
export async function organisationValidated(db: Database, organisationId: string, now = new Date()): Promise<boolean> {
  const approvedAt = await lastOrganisationApproval(db, organisationId);
  return approvedAt !== undefined && identityReusableAt(approvedAt, now);
}

export async function findOrganisationBySiret(db: Database, siret: string): Promise<typeof organisations.$inferSelect | undefined> {
  const [row] = await db.select().from(organisations).where(eq(organisations.siret, siret));
  return row;
}

// ---- accounts ----------------------------------------------------------------------------------------------------------

export async function findAccountByThumbprint(db: Database, thumbprint: string): Promise<AcmeAccountRow | undefined> {
  const [row] = await db.select().from(acmeAccounts).where(eq(acmeAccounts.jwkThumbprint, thumbprint));
  return row;
}

export async function getAcmeAccount(db: Database, id: string): Promise<AcmeAccountRow | undefined> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
  const [row] = await db.select().from(acmeAccounts).where(eq(acmeAccounts.id, id));
  return row;
}

/** A new account bound with an EAB key; the key's use goes into the audit chain in the same transaction. */
export async function createAcmeAccount(
  db: Database,
  req: { jwk: Record<string, unknown>; thumbprint: string; contact: string[]; eab: AcmeEabKeyRow },
): Promise<AcmeAccountRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(acmeAccounts)
      .values({ id: uuidv7(), jwk: req.jwk, jwkThumbprint: req.thumbprint, contact: req.contact, eabKid: req.eab.kid, organisationId: req.eab.organisationId, product: req.eab.product })
      .returning();
    await tx.update(acmeEabKeys).set({ lastUsedAt: sql`now()` }).where(eq(acmeEabKeys.kid, req.eab.kid));
    await appendAudit(tx, {
      kind: 'decision',
      actorRole: 'acme',
      action: 'acme.eab.used',
      detail: { kid: req.eab.kid, accountId: row!.id, organisationId: req.eab.organisationId, product: req.eab.product, thumbprint: req.thumbprint },
    });
    return row!;
  });
}

export async function updateAcmeAccount(db: Database, id: string, change: { contact?: string[]; status?: AcmeAccountStatus }): Promise<AcmeAccountRow> {
  const [row] = await db.update(acmeAccounts).set(change).where(eq(acmeAccounts.id, id)).returning();
  if (change.status === 'deactivated') await appendAudit(db, { kind: 'decision', actorRole: 'acme', action: 'acme.account.deactivated', detail: { accountId: id } });
  return row!;
}

/** Rolls the account over to a new key (RFC 8555 §7.3.5); false when another account holds that key already. */
export async function changeAcmeAccountKey(db: Database, id: string, jwk: Record<string, unknown>, thumbprint: string): Promise<boolean> {
  const done = await db
    .update(acmeAccounts)
    .set({ jwk, jwkThumbprint: thumbprint })
    .where(eq(acmeAccounts.id, id))
    .returning({ id: acmeAccounts.id })
    .catch((err: unknown) => {
      if (isUniqueViolation(err)) return [];
      throw err;
    });
  if (done.length === 0) return false;
  await appendAudit(db, { kind: 'decision', actorRole: 'acme', action: 'acme.account.key-changed', detail: { accountId: id, thumbprint } });
  return true;
}

function isUniqueViolation(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const e = err as { code?: unknown; cause?: unknown };
  return e.code === '23505' || isUniqueViolation(e.cause, depth + 1);
}
