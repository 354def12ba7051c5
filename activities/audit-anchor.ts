/**
 * The activity of the audit anchor (workflows/audit-anchor.ts): verifies the hash-chained audit log against the
 * previous anchor and returns the head, which the workflow's history then keeps, out of reach of whoever can edit
 * the table. A finding is returned, not thrown: the history records it, and retrying would not change it.
 */
import type { Database } from '../db/client.js';
import { verifyAuditChain, type AuditFinding } from '../db/audit-log.js';
import type { AuditHead } from '../domain/audit.js';

/** What one anchoring round records in the workflow's history. */
export interface AuditAnchorRecord {
  /** The chain verified, against the previous anchor too: `head` is a new anchor. */
  readonly ok: boolean;
  readonly head: AuditHead;
  readonly count: number;
  /** When the head was read (the worker's clock). */
  readonly at: string;
  readonly finding?: AuditFinding;
  readonly firstBrokenSeq?: number;
  readonly reason?: string;
}

export interface AuditAnchorActivities {
  /** Walks the chain, checks the previous anchor still holds, and returns the head to anchor. */
  anchorAuditHead(req: { previous: AuditHead | null }): Promise<AuditAnchorRecord>;
}

export function createAuditAnchorActivities(db: Database, now: () => Date = () => new Date()): AuditAnchorActivities {
  return {
    async anchorAuditHead({ previous }) {
      const at = now().toISOString();
      const result = await verifyAuditChain(db, { anchors: previous === null ? [] : [{ ...previous, source: 'previous anchor' }] });
      const base = { head: result.head, count: result.count, at };
      if (result.ok) return { ok: true, ...base };
      return { ok: false, ...base, finding: result.finding, firstBrokenSeq: result.firstBrokenSeq, reason: result.reason };
    },
  };
}
