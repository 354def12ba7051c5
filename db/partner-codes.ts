/** Partner codes (admin-managed): which products a code opens and the discount it gives. */
import { and, asc, eq } from 'drizzle-orm';
import { isProductCode, type ProductCode } from '../domain/catalog.js';
import type { PartnerTerms } from '../domain/partner.js';
import type { Database } from './client.js';
import { partnerCodes } from './schema.js';

export type PartnerCodeRow = typeof partnerCodes.$inferSelect;

/** Codes are compared in upper case: a customer typing `acme10` means `ACME10`. */
export const normalisePartnerCode = (code: string): string => code.trim().toUpperCase();

/** Inserts a code; undefined when the code already exists (nothing is changed then). */
export async function createPartnerCode(
  db: Database,
  code: { code: string; name: string; products: readonly ProductCode[] | null; discountPercent: number },
): Promise<PartnerCodeRow | undefined> {
  const [row] = await db
    .insert(partnerCodes)
    .values({ code: normalisePartnerCode(code.code), name: code.name, products: code.products === null ? null : [...code.products], discountPercent: code.discountPercent })
    .onConflictDoNothing({ target: partnerCodes.code })
    .returning();
  return row;
}

export async function listPartnerCodes(db: Database): Promise<PartnerCodeRow[]> {
  return db.select().from(partnerCodes).orderBy(asc(partnerCodes.code));
}

export function termsOf(row: PartnerCodeRow): PartnerTerms {
  return {
    code: row.code,
    // A product name the catalog no longer knows opens nothing.
    products: row.products === null ? null : row.products.filter(isProductCode),
    discountPercent: row.discountPercent,
  };
}

/** The terms of an active code, or undefined for an unknown or inactive one. */
export async function activePartnerTerms(db: Database, code: string): Promise<PartnerTerms | undefined> {
  const [row] = await db
    .select()
    .from(partnerCodes)
    .where(and(eq(partnerCodes.code, normalisePartnerCode(code)), eq(partnerCodes.active, true)));
  return row === undefined ? undefined : termsOf(row);
}

/** Ends (or restores) a code: orders and quotes already made keep it; new ones are refused it. */
export async function setPartnerCodeActive(db: Database, code: string, active: boolean): Promise<PartnerCodeRow | undefined> {
  const [row] = await db.update(partnerCodes).set({ active }).where(eq(partnerCodes.code, normalisePartnerCode(code))).returning();
  return row;
}
