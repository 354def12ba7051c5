/** The database layer on both drivers: Postgres (the run's database) and PGlite (in memory), same migrations. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createUser, issueApiKey, principalForApiKey, upsertOrganisation } from '../../db/accounts.js';
import { openPglite, openPostgres, type DatabaseHandle } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { claimIdempotencyKey, getOrderRow, upsertOrderView } from '../../db/orders.js';
import { newOrderView } from '../../domain/order.js';
import { orderInput } from '../orders.js';

describe.each(['postgres', 'pglite'] as const)('database layer on %s', (driver) => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = driver === 'postgres' ? openPostgres(inject('databaseUrl'), 2) : await openPglite(undefined);
    // Applying the migrations again is a no-op on the already migrated Postgres database.
    await migrateDatabase(handle);
  });
  afterAll(async () => {
    await handle?.close();
  });

  async function customer() {
    const org = await upsertOrganisation(handle.db, { siret: '73282932000074', name: 'ACME' });
    const user = await createUser(handle.db, { email: `c-${randomUUID()}@example.test`, role: 'customer', organisationId: org.id, phone: '+33612345678' });
    return { org, user };
  }

  it('stores API keys hashed and finds the principal only for the exact key', async () => {
    const { org, user } = await customer();
    const key = await issueApiKey(handle.db, user.id);
    expect(key).toMatch(/^cfk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(await principalForApiKey(handle.db, key)).toEqual({ userId: user.id, role: 'customer', organisationId: org.id });
    expect(await principalForApiKey(handle.db, key.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).toBeUndefined();
    expect(await principalForApiKey(handle.db, 'cfk_nope')).toBeUndefined();
    // The secret (after `cfk_<id>_`; it may itself contain `_`) is nowhere in the table.
    const secret = key.slice('cfk_0123456789abcdef_'.length);
    expect(secret).toHaveLength(43);
    const stored = JSON.stringify(await handle.db.query.apiKeys.findMany());
    expect(stored).toContain(key.slice(4, 20));
    expect(stored).not.toContain(secret);
  });

  it('keeps one organisation per SIRET', async () => {
    const a = await upsertOrganisation(handle.db, { siret: '44306184100047', name: 'Globex' });
    const b = await upsertOrganisation(handle.db, { siret: '44306184100047', name: 'Renamed' });
    expect(b.id).toBe(a.id);
    expect(b.name).toBe('Globex');
  });

  it('writes the read model idempotently and never goes back to an older version', async () => {
    const { org, user } = await customer();
    const id = randomUUID();
    const view = newOrderView({ ...orderInput(user, org), orderId: id, durationYears: 1, priceCents: 5500 });
    await upsertOrderView(handle.db, `order-${id}`, view);
    await upsertOrderView(handle.db, `order-${id}`, view);
    const newer = { ...view, status: 'under_review' as const, waitingOn: 'ra' as const, version: 2 };
    await upsertOrderView(handle.db, `order-${id}`, newer);
    await upsertOrderView(handle.db, `order-${id}`, view);
    const row = await getOrderRow(handle.db, id);
    expect(row?.status).toBe('under_review');
    expect(row?.version).toBe(2);
    expect(row?.view.waitingOn).toBe('ra');
  });

  it('claims an Idempotency-Key once and tells a replay from a conflict', async () => {
    const { user } = await customer();
    const first = randomUUID();
    expect(await claimIdempotencyKey(handle.db, { userId: user.id, key: 'k', requestHash: 'h1', resourceId: first })).toEqual({ kind: 'new', resourceId: first });
    expect(await claimIdempotencyKey(handle.db, { userId: user.id, key: 'k', requestHash: 'h1', resourceId: randomUUID() })).toEqual({
      kind: 'replay',
      resourceId: first,
    });
    expect(await claimIdempotencyKey(handle.db, { userId: user.id, key: 'k', requestHash: 'h2', resourceId: randomUUID() })).toEqual({ kind: 'conflict' });
  });
});
