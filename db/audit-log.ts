/**
 * The tamper-evident audit log: an append-only, hash-chained table. Each row's hash is SHA-256 over a canonical
 * serialisation (sorted keys, no whitespace) of the row and the previous row's hash, so changing, deleting or
 * reordering any row breaks the chain at that row; `verifyAuditChain` walks it and names the first broken one.
 * Rewriting the whole tail with fresh hashes is not detectable from inside the table: publishing the head hash
 * (returned by the verification) somewhere else is what anchors it.
 */
import { createHash } from 'node:crypto';
import { asc, desc, gt, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { auditLog } from './schema.js';

export const AUDIT_KINDS = ['decision', 'refused', 'document', 'message', 'certificate'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export const GENESIS_HASH = '0'.repeat(64);

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditEntry {
  readonly kind: AuditKind;
  readonly orderId?: string | null;
  readonly actorUserId?: string | null;
  /** A role of SPEC §1, or `system` for what the workers do on their own (messages, certificates). */
  readonly actorRole?: string | null;
  readonly action: string;
  readonly detail?: Record<string, unknown>;
}

export type AuditVerification =
  | { readonly ok: true; readonly rows: number; readonly headHash: string }
  | { readonly ok: false; readonly firstBrokenSeq: number; readonly reason: string };

/** Any database or transaction handle: appends made inside a caller's transaction commit or roll back with it. */
type Db = Pick<Database, 'transaction'>;

// One lock for the whole chain: two writers that both read the same last row would fork it.
const LOCK_KEY = sql`hashtext('certflow-audit-log')`;
const PAGE = 1000;

/** JSON with keys sorted at every level; undefined members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const members = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

export function auditHash(row: Omit<AuditRow, 'hash'>): string {
  const canonical = canonicalJson({
    seq: row.seq,
    at: row.at.toISOString(),
    kind: row.kind,
    orderId: row.orderId,
    actor: { userId: row.actorUserId, role: row.actorRole },
    action: row.action,
    detail: row.detail,
    prevHash: row.prevHash,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Appends one entry at the end of the chain, under a transaction-scoped advisory lock (Postgres and PGlite alike).
 * The detail is stored as it reads back from jsonb (plain JSON), so the hash computed now is the one verified later.
 */
export async function appendAudit(db: Db, entry: AuditEntry): Promise<AuditRow> {
  const detail = JSON.parse(JSON.stringify(entry.detail ?? {})) as Record<string, unknown>;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_KEY})`);
    const [last] = await tx.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
    const unhashed = {
      seq: (last?.seq ?? 0) + 1,
      // Taken under the lock, so times never go backwards along the chain (short of the clock itself).
      at: new Date(),
      kind: entry.kind,
      orderId: entry.orderId ?? null,
      actorUserId: entry.actorUserId ?? null,
      actorRole: entry.actorRole ?? null,
      action: entry.action,
      detail,
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const row: AuditRow = { ...unhashed, hash: auditHash(unhashed) };
    await tx.insert(auditLog).values(row);
    return row;
  });
}

/**
 * Walks the chain in seq order. For each row: its seq follows the previous one (a gap is a deleted row), its hash
 * is its content's (else the row was changed or moved), and its prev_hash is the previous row's hash (else the
 * previous row was rewritten together with its hash).
 */
export async function verifyAuditChain(db: Pick<Database, 'select'>): Promise<AuditVerification> {
  let prev: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH };
  let rows = 0;
  for (;;) {
    const page = await db.select().from(auditLog).where(gt(auditLog.seq, prev.seq)).orderBy(asc(auditLog.seq)).limit(PAGE);
    for (const row of page) {
      const expected = prev.seq + 1;
      if (row.seq !== expected) {
        const missing = row.seq - 1 === expected ? `row ${expected} is` : `rows ${expected} to ${row.seq - 1} are`;
        return { ok: false, firstBrokenSeq: expected, reason: `${missing} missing (deleted): the chain jumps from ${prev.seq} to ${row.seq}` };
      }
      if (auditHash(row) !== row.hash) {
        return { ok: false, firstBrokenSeq: row.seq, reason: `row ${row.seq} does not match its hash: it was changed or moved` };
      }
      if (row.prevHash !== prev.hash) {
        const broken = prev.seq === 0 ? row.seq : prev.seq;
        return { ok: false, firstBrokenSeq: broken, reason: `row ${row.seq} is chained to a hash that row ${prev.seq === 0 ? '(genesis)' : prev.seq} no longer has: that row was rewritten` };
      }
      prev = { seq: row.seq, hash: row.hash };
      rows += 1;
    }
    if (page.length < PAGE) return { ok: true, rows, headHash: prev.hash };
  }
}
