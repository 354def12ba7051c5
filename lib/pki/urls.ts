/**
 * The URLs written into certificates (CRL distribution points, AIA OCSP and caIssuers) and served by the API's
 * /v1/ca/… and /v1/ocsp routes. One place for their shape, so the certificates and the routes that answer them cannot
 * drift apart. `pkiBaseUrl` is config's PKI_HTTP_BASE_URL: http:// (BR §7.1.2.11.2, S/MIME BR §7.1.2.3 b–c), no
 * trailing slash; never the web pages' https base.
 */
import type { CaId } from './ca-ids.js';

export const caCrlUrl = (pkiBaseUrl: string, caId: CaId): string => `${pkiBaseUrl}/v1/ca/${caId}/crl`;
export const caCertificateUrl = (pkiBaseUrl: string, caId: CaId): string => `${pkiBaseUrl}/v1/ca/${caId}/certificate`;
export const caChainUrl = (pkiBaseUrl: string, caId: CaId): string => `${pkiBaseUrl}/v1/ca/${caId}/chain`;
export const ocspUrl = (pkiBaseUrl: string): string => `${pkiBaseUrl}/v1/ocsp`;
