/**
 * Revocation and hold of a certificate (states in db/schema.ts). Every change is one UPDATE conditioned on the state
 * it was decided from, so concurrent calls cannot both apply: the loser reads the row again and answers from it.
 * A final revocation is idempotent: whatever is asked afterwards, the first revocation's time and reason stand.
 */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { appendAudit } from '../../db/audit-log.js';
import { certificates } from '../../db/schema.js';
import { isProductCode } from '../../domain/catalog.js';
import { isFinalRevocation, isRevocationReason, REVOCATION_REASONS, revocationReasonsFor, type RevocationReason } from '../../domain/revocation.js';
import { CA_FAILURE, refuse } from './errors.js';

export interface Revocation {
  readonly serial: string;
  readonly status: 'revoked' | 'held';
  readonly revokedAt: string;
  readonly reason: RevocationReason;
  readonly issuingCa: string;
}

export interface HoldRelease {
  readonly serial: string;
  readonly status: 'valid';
  readonly issuingCa: string;
}

export interface Revoker {
  /** certificateHold puts a (non-TLS) certificate on hold; any other reason revokes it for good, held or not. */
  revoke(req: { serial: string; reason: string }): Promise<Revocation>;
  /** Lifts a hold: the certificate is valid again. A valid one is answered as is (a retried release). */
  releaseHold(req: { serial: string }): Promise<HoldRelease>;
}

type Row = typeof certificates.$inferSelect;

/** Each lost race means another caller changed the row; a few rounds always settle (the states only move forward or off hold). */
const MAX_ROUNDS = 5;

export function createRevoker(deps: { readonly db: Database; readonly now: () => Date }): Revoker {
  const load = async (serial: string): Promise<Row> => {
    const [row] = await deps.db.select().from(certificates).where(eq(certificates.serial, serial));
    if (row === undefined) throw refuse(CA_FAILURE.certificateNotFound, `no certificate ${serial}`);
    return row;
  };

  /** Moves the row from `from` to the new state; undefined when someone else moved it first. */
  const transition = async (row: Row, from: string, set: Partial<Row>): Promise<Row | undefined> => {
    // The change and its audit entry commit together; a lost race appends nothing.
    return deps.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(certificates)
        .set(set)
        .where(and(eq(certificates.serial, row.serial), eq(certificates.status, from)))
        .returning();
      if (updated !== undefined) {
        const action = updated.status === 'valid' ? 'certificate_released' : updated.status === 'held' ? 'certificate_held' : 'certificate_revoked';
        await appendAudit(tx, {
          kind: 'certificate',
          orderId: updated.orderId,
          actorRole: 'system',
          action,
          detail: { serial: updated.serial, issuingCa: updated.issuingCa, from, reason: updated.revocationReason, revokedAt: updated.revokedAt },
        });
      }
      return updated;
    });
  };

  return {
    async revoke(req) {
      if (!isRevocationReason(req.reason)) {
        throw refuse(CA_FAILURE.badRevocationReason, `revocation reason ${req.reason} is not one of ${REVOCATION_REASONS.join(', ')}`);
      }
      const reason = req.reason;
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const row = await load(req.serial);
        const allowed = allowedReasons(row.profile);
        if (!allowed.includes(reason)) {
          throw refuse(CA_FAILURE.badRevocationReason, `a ${row.profile} certificate cannot be revoked for ${reason} (allowed: ${allowed.join(', ')})`);
        }
        const hold = !isFinalRevocation(reason);
        let changed: Row | undefined;
        switch (row.status) {
          case 'revoked':
            return revocationOf(row);
          case 'held':
            if (hold) return revocationOf(row); // already on hold: the first hold's time stands
            // Made final now: the CRL and OCSP change the reason from certificateHold to this one, dated now.
            changed = await transition(row, 'held', { status: 'revoked', revokedAt: deps.now(), revocationReason: reason });
            break;
          case 'valid':
            changed = await transition(row, 'valid', { status: hold ? 'held' : 'revoked', revokedAt: deps.now(), revocationReason: reason });
            break;
          case 'reserved':
            throw refuse(CA_FAILURE.certificateNotIssued, `certificate ${req.serial} is reserved, not issued`);
          default:
            throw new Error(`certificate ${req.serial} has an unknown status ${row.status}`);
        }
        if (changed !== undefined) return revocationOf(changed);
      }
      throw new Error(`certificate ${req.serial}: its status kept changing under revocation`);
    },

    async releaseHold(req) {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const row = await load(req.serial);
        switch (row.status) {
          case 'valid':
            return { serial: row.serial, status: 'valid', issuingCa: row.issuingCa };
          case 'held': {
            const changed = await transition(row, 'held', { status: 'valid', revokedAt: null, revocationReason: null });
            if (changed !== undefined) return { serial: changed.serial, status: 'valid', issuingCa: changed.issuingCa };
            break;
          }
          case 'revoked':
            throw refuse(CA_FAILURE.certificateNotHeld, `certificate ${req.serial} is revoked for good (${row.revocationReason ?? 'no reason'}), not on hold`);
          case 'reserved':
            throw refuse(CA_FAILURE.certificateNotIssued, `certificate ${req.serial} is reserved, not issued`);
          default:
            throw new Error(`certificate ${req.serial} has an unknown status ${row.status}`);
        }
      }
      throw new Error(`certificate ${req.serial}: its status kept changing under release`);
    },
  };
}

/** The row's profile is the product it was issued for; a profile we no longer know gets no hold, the safe side. */
const allowedReasons = (profile: string): readonly RevocationReason[] =>
  isProductCode(profile) ? revocationReasonsFor(profile) : REVOCATION_REASONS.filter(isFinalRevocation);

function revocationOf(row: Row): Revocation {
  if ((row.status !== 'revoked' && row.status !== 'held') || row.revokedAt === null || row.revocationReason === null || !isRevocationReason(row.revocationReason)) {
    throw new Error(`certificate ${row.serial} is ${row.status} without a proper revocation (${row.revocationReason ?? 'no reason'})`);
  }
  return { serial: row.serial, status: row.status, revokedAt: row.revokedAt.toISOString(), reason: row.revocationReason, issuingCa: row.issuingCa };
}
