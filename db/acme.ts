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
import { acmeAccounts, acmeAuthorizations, acmeEabKeys, acmeNonces, acmeOrders, orderEvents, orders, organisations, type AcmeChallengeState } from './schema.js';

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

/** An organisation's keys, newest first, without their sealed HMAC key (a key is shown once, when made). */
export async function listEabKeys(db: Database, organisationId: string): Promise<Omit<AcmeEabKeyRow, 'sealedHmacKey'>[]> {
  return db
    .select({
      kid: acmeEabKeys.kid,
      organisationId: acmeEabKeys.organisationId,
      product: acmeEabKeys.product,
      createdByUserId: acmeEabKeys.createdByUserId,
      createdAt: acmeEabKeys.createdAt,
      lastUsedAt: acmeEabKeys.lastUsedAt,
      revokedAt: acmeEabKeys.revokedAt,
    })
    .from(acmeEabKeys)
    .where(eq(acmeEabKeys.organisationId, organisationId))
    .orderBy(desc(acmeEabKeys.createdAt), desc(acmeEabKeys.kid));
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
export async function lastOrganisationApproval(db: Database, organisationId: string): Promise<{ at: Date; orderId: string; holderUserId: string } | undefined> {
  const [row] = await db
    .select({ at: orderEvents.createdAt, orderId: orders.id, holderUserId: orders.holderUserId })
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
  return row;
}

/** Whether the RA's last approval of an OV order of the organisation may still be reused (BR §4.2.1). */
export async function organisationValidated(db: Database, organisationId: string, now = new Date()): Promise<boolean> {
  const approval = await lastOrganisationApproval(db, organisationId);
  return approval !== undefined && identityReusableAt(approval.at, now);
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

// ---- orders and authorizations ---------------------------------------------------------------------------------------

export type AcmeOrderRow = typeof acmeOrders.$inferSelect;
export type AcmeAuthorizationRow = typeof acmeAuthorizations.$inferSelect;
export type AcmeOrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';

const isUuid = (id: string): boolean => /^[0-9a-f-]{36}$/.test(id);

export async function createAcmeOrder(
  db: Database,
  req: {
    accountId: string;
    identifiers: { type: 'dns'; value: string }[];
    expiresAt: Date;
    authorizations: { identifier: string; wildcard: boolean; status: 'pending' | 'valid'; expiresAt: Date; challenges: AcmeChallengeState[] }[];
  },
): Promise<{ order: AcmeOrderRow; authorizations: AcmeAuthorizationRow[] }> {
  return db.transaction(async (tx) => {
    const ready = req.authorizations.every((a) => a.status === 'valid');
    const [order] = await tx
      .insert(acmeOrders)
      .values({ id: uuidv7(), accountId: req.accountId, status: ready ? 'ready' : 'pending', identifiers: req.identifiers, expiresAt: req.expiresAt })
      .returning();
    const authorizations = await tx
      .insert(acmeAuthorizations)
      .values(req.authorizations.map((a) => ({ id: uuidv7(), orderId: order!.id, ...a })))
      .returning();
    return { order: order!, authorizations };
  });
}

export async function getAcmeOrder(db: Database, id: string): Promise<AcmeOrderRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(acmeOrders).where(eq(acmeOrders.id, id));
  return row;
}

export async function listAcmeOrderIds(db: Database, accountId: string): Promise<string[]> {
  const rows = await db.select({ id: acmeOrders.id }).from(acmeOrders).where(eq(acmeOrders.accountId, accountId)).orderBy(desc(acmeOrders.createdAt)).limit(1000);
  return rows.map((r) => r.id);
}

export async function getAuthorization(db: Database, id: string): Promise<AcmeAuthorizationRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db.select().from(acmeAuthorizations).where(eq(acmeAuthorizations.id, id));
  return row;
}

export async function orderAuthorizations(db: Database, orderId: string): Promise<AcmeAuthorizationRow[]> {
  return db.select().from(acmeAuthorizations).where(eq(acmeAuthorizations.orderId, orderId)).orderBy(acmeAuthorizations.id);
}

/**
 * The challenge's new state and what it does to its authorization and order: a valid challenge makes the
 * authorization valid (and the order ready once all are), an invalid one makes both invalid (RFC 8555 §7.1.6).
 */
export async function recordChallenge(db: Database, authz: AcmeAuthorizationRow, challenge: AcmeChallengeState): Promise<AcmeAuthorizationRow> {
  return db.transaction(async (tx) => {
    const challenges = authz.challenges.map((c) => (c.type === challenge.type ? challenge : c));
    const status = challenge.status === 'valid' ? 'valid' : challenge.status === 'invalid' ? 'invalid' : authz.status;
    const [row] = await tx.update(acmeAuthorizations).set({ challenges, status }).where(eq(acmeAuthorizations.id, authz.id)).returning();
    if (status === 'invalid') {
      await tx.update(acmeOrders).set({ status: 'invalid', error: challenge.error ?? null }).where(and(eq(acmeOrders.id, authz.orderId), eq(acmeOrders.status, 'pending')));
    } else if (status === 'valid') {
      const all = await tx.select({ status: acmeAuthorizations.status }).from(acmeAuthorizations).where(eq(acmeAuthorizations.orderId, authz.orderId));
      if (all.every((a) => a.status === 'valid')) await tx.update(acmeOrders).set({ status: 'ready' }).where(and(eq(acmeOrders.id, authz.orderId), eq(acmeOrders.status, 'pending')));
    }
    return row!;
  });
}

/** Moves an order from one status to another; false when it was not in `from` any more (another request won). */
export async function moveAcmeOrder(
  db: Database,
  id: string,
  from: AcmeOrderStatus,
  to: { status: AcmeOrderStatus; certflowOrderId?: string; error?: { type: string; detail: string } | null },
): Promise<boolean> {
  const done = await db.update(acmeOrders).set(to).where(and(eq(acmeOrders.id, id), eq(acmeOrders.status, from))).returning({ id: acmeOrders.id });
  return done.length > 0;
}

/**
 * A name's valid authorization of the same organisation, validated at or after `since` (the BR reuse window): the
 * latest, so a new order need not prove it again.
 */
export async function reusableAuthorization(
  db: Database,
  req: { organisationId: string; identifier: string; wildcard: boolean },
): Promise<AcmeAuthorizationRow[]> {
  return db
    .select({ authz: acmeAuthorizations })
    .from(acmeAuthorizations)
    .innerJoin(acmeOrders, eq(acmeOrders.id, acmeAuthorizations.orderId))
    .innerJoin(acmeAccounts, eq(acmeAccounts.id, acmeOrders.accountId))
    .where(
      and(
        eq(acmeAccounts.organisationId, req.organisationId),
        eq(acmeAuthorizations.identifier, req.identifier),
        eq(acmeAuthorizations.wildcard, req.wildcard),
        eq(acmeAuthorizations.status, 'valid'),
      ),
    )
    .orderBy(desc(acmeAuthorizations.createdAt))
    .limit(5)
    .then((rows) => rows.map((r) => r.authz));
}

export async function deactivateAuthorization(db: Database, id: string): Promise<AcmeAuthorizationRow | undefined> {
  const [row] = await db.update(acmeAuthorizations).set({ status: 'deactivated' }).where(eq(acmeAuthorizations.id, id)).returning();
  return row;
}
