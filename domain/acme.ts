/** ACME (RFC 8555) facts every layer shares: which products it sells and how its accounts stand. */
import { CATALOG, PRODUCT_CODES, type ProductCode } from './catalog.js';

/** The TLS products an EAB key may be bound to (SPEC §11). */
export const ACME_PRODUCTS = ['SSL', 'SSL_RGS_STAR', 'SSL_WILDCARD'] as const satisfies readonly ProductCode[];
export type AcmeProduct = (typeof ACME_PRODUCTS)[number];
export const isAcmeProduct = (value: string): value is AcmeProduct => (ACME_PRODUCTS as readonly string[]).includes(value);

/** Orders whose approved review validated an organisation's identity (OV): the server products. */
export const OV_PRODUCTS: readonly ProductCode[] = PRODUCT_CODES.filter((code) => CATALOG[code].kind === 'server');

export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';

/**
 * ACME Renewal Information (RFC 9773): when the CA would like a certificate renewed. In force: the fifth sixth of its
 * life begins at two thirds (clients spread themselves inside the window); its term is the certificate's own (an
 * ACME order is one certificate). Revoked: at once, a window that has already begun and ends within the hour.
 */
export function suggestedRenewalWindow(cert: { notBefore: Date; notAfter: Date; revokedAt: Date | null }, now: Date): { start: Date; end: Date } {
  if (cert.revokedAt !== null) {
    const start = new Date(Math.min(cert.revokedAt.getTime(), now.getTime()));
    return { start, end: new Date(now.getTime() + 60 * 60_000) };
  }
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  return { start: new Date(cert.notBefore.getTime() + (life * 2) / 3), end: new Date(cert.notBefore.getTime() + (life * 5) / 6) };
}

/**
 * The window once staff asked for early renewal (a renewal advice): it begins when the advice was made (or earlier,
 * if the usual window had begun) and ends at its renewBy, never later than the usual window would.
 */
export function advisedRenewalWindow(window: { start: Date; end: Date }, advice: { createdAt: Date; renewBy: Date }): { start: Date; end: Date } {
  return {
    start: new Date(Math.min(window.start.getTime(), advice.createdAt.getTime())),
    end: new Date(Math.min(window.end.getTime(), advice.renewBy.getTime())),
  };
}
