/** Reading issued certificates (the CA activities write them). */
import { and, desc, eq, isNotNull } from 'drizzle-orm';
import type { Database } from './client.js';
import { certificates } from './schema.js';

export type CertificateRow = typeof certificates.$inferSelect;

export async function getCertificate(db: Database, serial: string): Promise<CertificateRow | undefined> {
  const [row] = await db.select().from(certificates).where(eq(certificates.serial, serial));
  return row;
}

export interface KeyInUse {
  readonly orderId: string;
  readonly serial: string;
  /** `compromised`: revoked for keyCompromise (BR §6.1.1.3: refused forever); `in_use`: certified for another order. */
  readonly reason: 'in_use' | 'compromised';
}

/**
 * Why a public key (base64 DER SPKI) may not be certified: a certificate of any order revoked for keyCompromise, even
 * on the asking order, or any certificate row (reserved, valid, held or revoked) of another order. Undefined: free.
 */
export async function keyInUse(db: Database, publicKeySpki: string, opts: { exceptOrderId?: string } = {}): Promise<KeyInUse | undefined> {
  const rows = await db
    .select({ orderId: certificates.orderId, serial: certificates.serial, revocationReason: certificates.revocationReason })
    .from(certificates)
    .where(eq(certificates.publicKeySpki, publicKeySpki));
  const compromised = rows.find((row) => row.revocationReason === 'keyCompromise');
  if (compromised) return { orderId: compromised.orderId, serial: compromised.serial, reason: 'compromised' };
  const other = rows.find((row) => row.orderId !== opts.exceptOrderId);
  return other && { orderId: other.orderId, serial: other.serial, reason: 'in_use' };
}

/** The order's newest issued certificate: a TLS subscription's latest reissue, or its only one. */
export async function latestCertificateOfOrder(db: Database, orderId: string): Promise<CertificateRow | undefined> {
  const [row] = await db
    .select()
    .from(certificates)
    .where(and(eq(certificates.orderId, orderId), isNotNull(certificates.pem)))
    .orderBy(desc(certificates.notBefore))
    .limit(1);
  return row;
}
