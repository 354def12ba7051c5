/**
 * ACME Renewal Information (RFC 9773): GET renewalInfo/<certID>, no JWS. The certID is
 * base64url(AKI keyIdentifier) "." base64url(serial number's DER content octets); the window is
 * domain/acme.ts's, earlier once the certificate is revoked or while staff ask for its early renewal (a renewal advice,
 * with its explanationURL).
 */
import type { Request, Response, Router } from 'express';
import { getCertificate } from '../../db/certificates.js';
import type { Database } from '../../db/client.js';
import { renewalAdviceFor } from '../../db/renewal-advice.js';
import { advisedRenewalWindow, suggestedRenewalWindow } from '../../domain/acme.js';
import { x509 } from '../../lib/pki/x509.js';
import { AcmeProblem } from './problem.js';

export const RENEWAL_INFO_PATH = '/renewal-info';

/** Clients ask again after this long (RFC 9773 §4.3 Retry-After). */
const RETRY_AFTER_SECONDS = 6 * 3600;

export function acmeRenewalInfoRoutes(router: Router, deps: { readonly db: Database }): void {
  router.get(`${RENEWAL_INFO_PATH}/:certId`, async (req: Request, res: Response) => {
    const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(String(req.params.certId));
    if (m === null) throw AcmeProblem.malformed('The certificate identifier is base64url(AKI keyIdentifier).base64url(serial).');
    const keyId = Buffer.from(m[1] as string, 'base64url').toString('hex');
    const serialHex = Buffer.from(m[2] as string, 'base64url').toString('hex');
    const cert = (await getCertificate(deps.db, serialHex)) ?? (await getCertificate(deps.db, serialHex.replace(/^(00)+(?=.)/, '')));
    const aki = cert?.pem == null ? undefined : new x509.X509Certificate(cert.pem).getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId?.toLowerCase();
    if (cert === undefined || aki !== keyId) throw AcmeProblem.notFound('This server issued no such certificate.');
    const now = new Date();
    const usual = suggestedRenewalWindow(cert, now);
    // A revoked certificate's window is already the earliest; an advice only adds its explanation.
    const advice = await renewalAdviceFor(deps.db, cert.serial, now);
    const window = advice === undefined || cert.revokedAt !== null ? usual : advisedRenewalWindow(usual, advice);
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(200).json({
      suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() },
      ...(advice?.explanationUrl == null ? {} : { explanationURL: advice.explanationUrl }),
    });
  });
}
