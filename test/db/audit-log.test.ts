/**
 * The hash-chained audit log on both drivers. The Postgres side runs in a database of its own: these tests
 * tamper with the chain, and the run's shared database must keep verifying for the other tests.
 */
import { createHash, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCaWithInternals } from '../../activities/ca/ca.js';
import { createRevoker } from '../../activities/ca/revoke.js';
import { appendAudit, auditHash, canonicalJson, formatAuditHead, GENESIS_HASH, parseAuditHead, verifyAuditChain } from '../../db/audit-log.js';
import { openPglite, openPostgres, type DatabaseHandle } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { auditLog } from '../../db/schema.js';
import { ACME, insertOrder, CA_URLS, testSecrets } from '../ca/support.js';
import { runDatabase } from '../run-database.js';

async function withAdmin<T>(run: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} });
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}

describe.each(['postgres', 'pglite'] as const)('audit log on %s', (driver) => {
  let handle: DatabaseHandle;
  // A second pool: concurrent writers on Postgres are separate connections, as in separate processes.
  let other: DatabaseHandle | undefined;
  let dbName: string | undefined;

  beforeAll(async () => {
    if (driver === 'postgres') {
      dbName = `certflow_audit_${randomBytes(6).toString('hex')}`;
      await withAdmin((admin) => admin.unsafe(`create database ${dbName}`));
      const url = new URL(inject('databaseUrl'));
      url.pathname = `/${dbName}`;
      handle = openPostgres(url.toString(), 5);
      other = openPostgres(url.toString(), 5);
    } else {
      handle = await openPglite(undefined);
    }
    await migrateDatabase(handle);
  });
  afterAll(async () => {
    await other?.close();
    await handle?.close();
    if (dbName !== undefined) await withAdmin((admin) => admin.unsafe(`drop database if exists ${dbName} with (force)`));
  });

  const exec = (query: ReturnType<typeof sql>) => handle.db.execute(query);

  it('chains the first row to 64 zeros with SHA-256 over sorted-key JSON', async () => {
    const orderId = randomUUID();
    const row = await appendAudit(handle.db, { kind: 'decision', orderId, actorUserId: null, actorRole: 'ra_operator', action: 'approve', detail: { z: 1, a: { y: [1, 'b'], x: null } } });
    expect(row.seq).toBe(1);
    expect(row.prevHash).toBe(GENESIS_HASH);
    const canonical =
      `{"action":"approve","actor":{"role":"ra_operator","userId":null},"at":"${row.at.toISOString()}",` +
      `"detail":{"a":{"x":null,"y":[1,"b"]},"z":1},"kind":"decision","orderId":"${orderId}","prevHash":"${GENESIS_HASH}","seq":1}`;
    expect(canonicalJson({ seq: 1, b: undefined, a: [undefined] })).toBe('{"a":[null],"seq":1}');
    expect(row.hash).toBe(createHash('sha256').update(canonical).digest('hex'));
    // What reads back from jsonb hashes the same as what was written.
    const [stored] = await handle.db.select().from(auditLog);
    expect(stored).toBeDefined();
    expect(auditHash(stored!)).toBe(row.hash);
    expect(await verifyAuditChain(handle.db)).toEqual({ ok: true, count: 1, head: { seq: 1, hash: row.hash } });
  });

  it('forms one chain from concurrent writers, and an append rolled back leaves no gap', async () => {
    const writers = [handle, other ?? handle];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        appendAudit(writers[i % writers.length]!.db, { kind: i % 2 === 0 ? 'decision' : 'refused', orderId: randomUUID(), actorRole: 'customer', action: `attempt_${i}`, detail: { i } }),
      ),
    );
    await expect(
      handle.db.transaction(async (tx) => {
        await appendAudit(tx, { kind: 'document', action: 'document_stored' });
        throw new Error('the caller gives up');
      }),
    ).rejects.toThrow('the caller gives up');
    await appendAudit(handle.db, { kind: 'message', actorRole: 'system', action: 'email_sent' });

    const rows = await handle.db.select().from(auditLog).orderBy(auditLog.seq);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    expect(new Set(rows.map((r) => r.prevHash)).size).toBe(42); // no two rows chained to the same parent: no fork
    expect(rows.filter((r) => r.kind === 'document')).toEqual([]);
    expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: true, count: 42, head: { seq: 42, hash: rows[41]?.hash } });
  });

  it('names a changed row, a deleted row, a reordered row and a row rewritten with a fresh hash', async () => {
    // Changed detail (plain SQL, as someone with database access would).
    const [row5] = await handle.db.select().from(auditLog).where(sql`seq = 5`);
    await exec(sql`update audit_log set detail = jsonb_set(detail, '{i}', '99') where seq = 5`);
    const changed = await verifyAuditChain(handle.db);
    expect(changed).toMatchObject({ ok: false, finding: 'broken', firstBrokenSeq: 5, count: 4, head: { seq: 4 } });
    expect(changed.ok ? '' : changed.reason).toMatch(/changed/);
    await exec(sql`update audit_log set detail = ${JSON.stringify(row5!.detail)}::jsonb where seq = 5`);
    expect((await verifyAuditChain(handle.db)).ok).toBe(true);

    // Rewritten with its hash recomputed: the next row's link gives it away.
    const [row10] = await handle.db.select().from(auditLog).where(sql`seq = 10`);
    const forged = { ...row10!, action: 'forged' };
    await exec(sql`update audit_log set action = 'forged', hash = ${auditHash(forged)} where seq = 10`);
    expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: false, firstBrokenSeq: 10 });
    await exec(sql`update audit_log set action = ${row10!.action}, hash = ${row10!.hash} where seq = 10`);

    // Two rows swapped.
    await exec(sql`update audit_log set seq = -3 where seq = 3`);
    await exec(sql`update audit_log set seq = 3 where seq = 4`);
    await exec(sql`update audit_log set seq = 4 where seq = -3`);
    expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: false, firstBrokenSeq: 3 });
    await exec(sql`update audit_log set seq = -3 where seq = 3`);
    await exec(sql`update audit_log set seq = 3 where seq = 4`);
    await exec(sql`update audit_log set seq = 4 where seq = -3`);
    expect((await verifyAuditChain(handle.db)).ok).toBe(true);

    // Deleted rows: the gap is named, the first row included.
    await exec(sql`delete from audit_log where seq in (7, 8)`);
    const deleted = await verifyAuditChain(handle.db);
    expect(deleted).toMatchObject({ ok: false, firstBrokenSeq: 7 });
    expect(deleted.ok ? '' : deleted.reason).toMatch(/rows 7 to 8 are missing/);
    await exec(sql`delete from audit_log where seq = 1`);
    expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: false, firstBrokenSeq: 1 });
  });

  it('reports rows deleted from the end, or a rewritten tail, against an anchor kept from an earlier head', async () => {
    // A fresh chain: the previous test left this one broken on purpose.
    await exec(sql`delete from audit_log`);
    for (let i = 0; i < 6; i++) await appendAudit(handle.db, { kind: 'decision', actorRole: 'ra_operator', action: `step_${i}`, detail: { i } });
    const taken = await verifyAuditChain(handle.db);
    expect(taken).toMatchObject({ ok: true, count: 6, head: { seq: 6 } });
    const anchor = { ...taken.head, source: 'auditor notes' };
    for (let i = 6; i < 8; i++) await appendAudit(handle.db, { kind: 'decision', actorRole: 'ra_operator', action: `step_${i}`, detail: { i } });
    expect(await verifyAuditChain(handle.db, { anchors: [anchor] })).toMatchObject({ ok: true, count: 8, head: { seq: 8 }, anchors: [{ ...anchor, status: 'ok' }] });

    // The last four rows deleted: the chain that is left verifies on its own, the anchor shows what is missing.
    const tail = await handle.db.select().from(auditLog).where(sql`seq > 4`).orderBy(asc(auditLog.seq));
    await exec(sql`delete from audit_log where seq > 4`);
    const [row4] = await handle.db.select().from(auditLog).where(sql`seq = 4`);
    expect(await verifyAuditChain(handle.db)).toEqual({ ok: true, count: 4, head: { seq: 4, hash: row4?.hash } });
    const truncated = await verifyAuditChain(handle.db, { anchors: [anchor] });
    expect(truncated).toMatchObject({ ok: false, finding: 'truncated', firstBrokenSeq: 5, count: 4, anchor: { seq: 6, hash: anchor.hash, source: 'auditor notes', status: 'truncated' } });
    expect(truncated.ok ? '' : truncated.reason).toBe(`the chain ends at row 4 but the anchor 6:${anchor.hash} (auditor notes) names row 6: rows 5 to 6 were deleted from the end`);

    // The tail appended anew (fresh hashes, a valid chain): the anchor's row is there with another hash.
    for (let i = 0; i < 3; i++) await appendAudit(handle.db, { kind: 'decision', actorRole: 'ra_operator', action: `forged_${i}` });
    expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: true, count: 7 });
    const rewritten = await verifyAuditChain(handle.db, { anchors: [anchor] });
    expect(rewritten).toMatchObject({ ok: false, finding: 'anchor-mismatch', firstBrokenSeq: 6, anchor: { seq: 6, status: 'anchor-mismatch' } });
    expect(rewritten.ok ? '' : rewritten.reason).toMatch(/^row 6 no longer has the hash of the anchor 6:[0-9a-f]{64} \(auditor notes\)/);

    // The original rows put back: every anchor holds again; the genesis anchors an empty chain.
    await exec(sql`delete from audit_log where seq > 4`);
    await handle.db.insert(auditLog).values(tail);
    expect(await verifyAuditChain(handle.db, { anchors: [anchor, { seq: 0, hash: GENESIS_HASH, source: 'genesis' }] })).toMatchObject({ ok: true, count: 8 });
    // A broken chain comes first: the anchor past the break is not judged.
    await exec(sql`update audit_log set action = 'changed' where seq = 2`);
    expect(await verifyAuditChain(handle.db, { anchors: [anchor] })).toMatchObject({ ok: false, finding: 'broken', firstBrokenSeq: 2, anchors: [{ status: 'unchecked' }] });
  });
});

describe('an anchor as an auditor writes it down', () => {
  it('reads `<seq>:<hash>` back as formatted, hex in any case, and nothing else', () => {
    const hash = 'ab'.repeat(32);
    expect(formatAuditHead({ seq: 42, hash })).toBe(`42:${hash}`);
    expect(parseAuditHead(`42:${hash}`)).toEqual({ seq: 42, hash });
    expect(parseAuditHead(` 42:${hash.toUpperCase()} `)).toEqual({ seq: 42, hash });
    for (const bad of ['', '42', `42:${hash.slice(1)}`, `-1:${hash}`, `4.2:${hash}`, `42:${hash}0`, `42:${'g'.repeat(64)}`, `x:${hash}`]) expect(parseAuditHead(bad)).toBeUndefined();
  });
});

describe('certificate events in the chain', () => {
  // The run's shared database, read only here: these rows are found by their order.
  const handle = runDatabase(4);

  it('appends issued, held, released and revoked once each; retries and lost races append nothing', async () => {
    const db = handle.db;
    const { ca } = createCaWithInternals({ db, secrets: testSecrets(), ...CA_URLS });
    const orderId = await insertOrder(db);
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const request = {
      issuanceKey: `order-${orderId}/issue/1`,
      orderId,
      product: 'ID_RGS_STAR' as const,
      holder: { givenName: 'Camille', surname: 'Durand', email: 'camille.durand@example.test' },
      organisation: { ...ACME, locality: null },
      publicKeySpki: Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey)).toString('base64'),
      validityDays: 365,
    };
    const { serial } = await ca.issueCertificate(request);
    await ca.issueCertificate(request); // a retried activity: the same certificate, no second entry
    const revoker = createRevoker({ db, now: () => new Date() });
    await revoker.revoke({ serial, reason: 'certificateHold' });
    await revoker.revoke({ serial, reason: 'certificateHold' });
    await revoker.releaseHold({ serial });
    await Promise.all([revoker.revoke({ serial, reason: 'keyCompromise' }), revoker.revoke({ serial, reason: 'superseded' })]);

    const rows = await db.select().from(auditLog).where(eq(auditLog.orderId, orderId)).orderBy(asc(auditLog.seq));
    expect(rows.map((r) => r.action)).toEqual(['certificate_issued', 'certificate_held', 'certificate_released', 'certificate_revoked']);
    expect(rows.every((r) => r.kind === 'certificate' && r.detail.serial === serial)).toBe(true);
    expect(rows[1]?.detail).toMatchObject({ from: 'valid', reason: 'certificateHold' });
  });
});
