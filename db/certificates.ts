/** Reading issued certificates (the CA activities write them). */
import { eq } from 'drizzle-orm';
import type { Database } from './client.js';
import { certificates } from './schema.js';

export type CertificateRow = typeof certificates.$inferSelect;

export async function getCertificate(db: Database, serial: string): Promise<CertificateRow | undefined> {
  const [row] = await db.select().from(certificates).where(eq(certificates.serial, serial));
  return row;
}
