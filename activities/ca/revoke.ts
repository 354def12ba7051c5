/** Revocation of a person's certificate, idempotent: the first revocation's time and reason stand. */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { certificates } from '../../db/schema.js';
import { CA_FAILURE, refuse } from './errors.js';

/**
 * RFC 5280 §5.3.1 reasons a subscriber certificate may be revoked for. cACompromise and aACompromise concern CAs,
 * removeFromCRL only undoes a hold, and certificateHold is refused because revocation here is final (BR §7.2.2).
 */
export const REVOCATION_REASONS = ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export const isRevocationReason = (reason: string): reason is RevocationReason => (REVOCATION_REASONS as readonly string[]).includes(reason);

export function createRevoker(deps: { readonly db: Database; readonly now: () => Date }) {
  return async function revoke(req: { serial: string; reason: string }): Promise<void> {
    if (!isRevocationReason(req.reason)) {
      throw refuse(CA_FAILURE.badRevocationReason, `revocation reason ${req.reason} is not one of ${REVOCATION_REASONS.join(', ')}`);
    }
    const updated = await deps.db
      .update(certificates)
      .set({ status: 'revoked', revokedAt: deps.now(), revocationReason: req.reason })
      .where(and(eq(certificates.serial, req.serial), eq(certificates.status, 'valid')))
      .returning({ serial: certificates.serial });
    if (updated.length > 0) return;
    const [row] = await deps.db.select({ status: certificates.status }).from(certificates).where(eq(certificates.serial, req.serial));
    if (row === undefined) throw refuse(CA_FAILURE.certificateNotFound, `no certificate ${req.serial}`);
    if (row.status === 'revoked') return; // a retry, or revoked earlier: nothing more to do
    throw refuse(CA_FAILURE.certificateNotIssued, `certificate ${req.serial} is ${row.status}, not issued`);
  };
}
