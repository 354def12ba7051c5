/**
 * The public URLs written into certificates (CRL distribution points, AIA) and served by the API. One place for their
 * shape, so the certificates and the routes that answer them cannot drift apart. publicBaseUrl has no trailing slash.
 */
import type { CaId } from './ca-ids.js';

export const caCrlUrl = (publicBaseUrl: string, caId: CaId): string => `${publicBaseUrl}/v1/ca/${caId}/crl`;
export const caCertificateUrl = (publicBaseUrl: string, caId: CaId): string => `${publicBaseUrl}/v1/ca/${caId}/certificate`;
export const caChainUrl = (publicBaseUrl: string, caId: CaId): string => `${publicBaseUrl}/v1/ca/${caId}/chain`;
export const ocspUrl = (publicBaseUrl: string): string => `${publicBaseUrl}/v1/ocsp`;
