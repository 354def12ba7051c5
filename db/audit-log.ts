/**
 * The tamper-evident audit log: an append-only, hash-chained table. Each row's hash is SHA-256 over a canonical
 * serialisation (sorted keys, no whitespace) of the row and the previous row's hash, so changing, deleting or
 * reordering any row breaks the chain at that row; `verifyAuditChain` walks it and names the first broken one.
 *
 * Deleting the last rows, or rewriting the tail with fresh hashes, leaves a valid chain: only a copy of an earlier
 * head kept outside the table shows it. The verification returns the head (seq and hash) for an auditor to keep, and
 * checks anchors given back: the anchor's row must still be there (else `truncated`) with the same hash (else
 * `anchor-mismatch`). A hash pins every row up to its own, so one intact anchor vouches for the chain up to it.
 * The system anchors the head itself in a Temporal workflow's history (workflows/audit-anchor.ts).
 */
import { createHash } from 'node:crypto';
import { asc, desc, gt, sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { auditLog } from './schema.js';
import type { AuditHead } from '../domain/audit.js';

export const AUDIT_KINDS = ['decision', 'refused', 'document', 'message', 'certificate', 'archive'] as const;
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

/** A head kept outside the table, and where it was kept: the verify request, a Temporal history. */
export interface AuditAnchor extends AuditHead {
  readonly source: string;
  /** When it was taken, if known. */
  readonly at?: string;
}

export type AnchorStatus = 'ok' | 'truncated' | 'anchor-mismatch' | 'unchecked';

/** `truncated`: the anchor's row is gone; `anchor-mismatch`: it is there with another hash; `unchecked`: past a broken row. */
export interface AnchorCheck extends AuditAnchor {
  readonly status: AnchorStatus;
}

export type AuditFinding = 'broken' | 'truncated' | 'anchor-mismatch';

interface ChainAsFound {
  /** Rows found intact, from seq 1 up to the head (up to the first broken row when the chain is broken). */
  readonly count: number;
  /** The last intact row; seq 0 and the genesis hash for an empty chain. */
  readonly head: AuditHead;
  /** Each anchor given, checked (left out when none was given). */
  readonly anchors?: readonly AnchorCheck[];
}

export type AuditVerification =
  | (ChainAsFound & { readonly ok: true })
  | (ChainAsFound & {
      readonly ok: false;
      /** `broken` inside the chain (changed, deleted or moved rows), else what an anchor shows. */
      readonly finding: AuditFinding;
      /** The first row missing or not as it was. */
      readonly firstBrokenSeq: number;
      readonly reason: string;
      /** The anchor that shows the finding. */
      readonly anchor?: AnchorCheck;
    });

/** `<seq>:<hash>` as an auditor writes an anchor down (the hash in lowercase hex); undefined if it is not one. */
export function parseAuditHead(text: string): AuditHead | undefined {
  const m = /^(\d{1,15}):([0-9a-fA-F]{64})$/.exec(text.trim());
  if (m === null) return undefined;
  return { seq: Number(m[1]), hash: (m[2] as string).toLowerCase() };
}

export const formatAuditHead = (head: AuditHead): string => `${head.seq}:${head.hash}`;

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
 * previous row was rewritten together with its hash). Then each anchor: its row must be in the chain with its hash.
 * A broken chain is reported first (its first broken row); then a changed anchor row, then a missing one.
 */
export async function verifyAuditChain(db: Pick<Database, 'select'>, opts: { readonly anchors?: readonly AuditAnchor[] } = {}): Promise<AuditVerification> {
  const anchors = opts.anchors ?? [];
  // The hash each anchored row has in the table, as the walk passes it (the genesis for seq 0).
  const seen = new Map<number, string>([[0, GENESIS_HASH]]);
  const wanted = new Set(anchors.map((a) => a.seq));
  let prev: AuditHead = { seq: 0, hash: GENESIS_HASH };
  let count = 0;
  let broken: { firstBrokenSeq: number; reason: string } | undefined;
  walk: for (;;) {
    const page = await db.select().from(auditLog).where(gt(auditLog.seq, prev.seq)).orderBy(asc(auditLog.seq)).limit(PAGE);
    for (const row of page) {
      const expected = prev.seq + 1;
      if (row.seq !== expected) {
        const missing = row.seq - 1 === expected ? `row ${expected} is` : `rows ${expected} to ${row.seq - 1} are`;
        broken = { firstBrokenSeq: expected, reason: `${missing} missing (deleted): the chain jumps from ${prev.seq} to ${row.seq}` };
        break walk;
      }
      if (auditHash(row) !== row.hash) {
        broken = { firstBrokenSeq: row.seq, reason: `row ${row.seq} does not match its hash: it was changed or moved` };
        break walk;
      }
      if (row.prevHash !== prev.hash) {
        const at = prev.seq === 0 ? row.seq : prev.seq;
        broken = { firstBrokenSeq: at, reason: `row ${row.seq} is chained to a hash that row ${prev.seq === 0 ? '(genesis)' : prev.seq} no longer has: that row was rewritten` };
        break walk;
      }
      if (wanted.has(row.seq)) seen.set(row.seq, row.hash);
      prev = { seq: row.seq, hash: row.hash };
      count += 1;
    }
    if (page.length < PAGE) break;
  }
  const head = prev;
  const checks: AnchorCheck[] = anchors.map((a) => {
    const found = seen.get(a.seq);
    // Past a broken row the walk stopped: an anchor beyond it is left unchecked (the break is the finding).
    const status: AnchorStatus = found === undefined ? (broken !== undefined ? 'unchecked' : 'truncated') : found === a.hash.toLowerCase() ? 'ok' : 'anchor-mismatch';
    return { ...a, status };
  });
  const found: Pick<ChainAsFound, 'count' | 'head'> & { anchors?: AnchorCheck[] } = { count, head, ...(anchors.length > 0 ? { anchors: checks } : {}) };
  if (broken !== undefined) return { ok: false, finding: 'broken', ...broken, ...found };
  const mismatch = checks.find((c) => c.status === 'anchor-mismatch');
  if (mismatch !== undefined) {
    return {
      ok: false,
      finding: 'anchor-mismatch',
      firstBrokenSeq: mismatch.seq,
      reason: `row ${mismatch.seq} no longer has the hash of the anchor ${describeAnchor(mismatch)}: the chain up to it was rewritten`,
      anchor: mismatch,
      ...found,
    };
  }
  const truncated = checks.filter((c) => c.status === 'truncated').sort((a, b) => b.seq - a.seq)[0];
  if (truncated !== undefined) {
    const gone = truncated.seq === head.seq + 1 ? `row ${truncated.seq} was` : `rows ${head.seq + 1} to ${truncated.seq} were`;
    return {
      ok: false,
      finding: 'truncated',
      firstBrokenSeq: head.seq + 1,
      reason: `the chain ends at row ${head.seq} but the anchor ${describeAnchor(truncated)} names row ${truncated.seq}: ${gone} deleted from the end`,
      anchor: truncated,
      ...found,
    };
  }
  return { ok: true, ...found };
}

const describeAnchor = (a: AuditAnchor): string => `${formatAuditHead(a)} (${a.source}${a.at !== undefined ? `, ${a.at}` : ''})`;
