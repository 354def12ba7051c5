/** The audit chain's head as the workflows, activities and database all name it (db/audit-log.ts keeps the chain). */

/** A row of the chain named by its seq and hash: the head a verification returns, or an anchor kept from one. */
export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}
