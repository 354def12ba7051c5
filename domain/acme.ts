/** ACME (RFC 8555) facts every layer shares: which products it sells and how its accounts stand. */
import { CATALOG, PRODUCT_CODES, type ProductCode } from './catalog.js';

/** The TLS products an EAB key may be bound to (SPEC §11). */
export const ACME_PRODUCTS = ['SSL', 'SSL_RGS_STAR', 'SSL_WILDCARD'] as const satisfies readonly ProductCode[];
export type AcmeProduct = (typeof ACME_PRODUCTS)[number];
export const isAcmeProduct = (value: string): value is AcmeProduct => (ACME_PRODUCTS as readonly string[]).includes(value);

/** Orders whose approved review validated an organisation's identity (OV): the server products. */
export const OV_PRODUCTS: readonly ProductCode[] = PRODUCT_CODES.filter((code) => CATALOG[code].kind === 'server');

export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';
