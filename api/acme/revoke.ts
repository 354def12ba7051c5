/**
 * revokeCert (RFC 8555 §7.6): signed by the account that ordered the certificate (kid), or by the certificate's own
 * key (jwk). It goes the way every revocation goes: the revokeCertificate Update of the certificate's workflow, which
 * checks the reason for the product, revokes at the CA and tells the holder; the attempt is in the audit trail.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Request, Response, Router } from 'express';
import type { JWK } from 'jose';
import { getAcmeOrder } from '../../db/acme.js';
import { getCertificate } from '../../db/certificates.js';
import type { Database } from '../../db/client.js';
import { getOrderRow } from '../../db/orders.js';
import { isProductCode } from '../../domain/catalog.js';
import { REVOCATION_REASON_CODES, revocationReasonsFor, type RevocationReason } from '../../domain/revocation.js';
import { certificateWorkflowId, revokeUpdate } from '../../workflows/definitions.js';
import { orderStillClosing, updateOrder } from '../order-updates.js';
import { Problem } from '../problem.js';
import type { VerifiedPost } from './jws.js';
import { AcmeProblem } from './problem.js';
import type { AcmeUrls } from './router.js';

export const REVOKE_CERT_PATH = '/revoke-cert';

type Post = (req: Request, key: 'jwk' | 'kid' | 'either') => Promise<{ urls: AcmeUrls; v: VerifiedPost }>;

const REASON_OF_CODE = new Map<number, RevocationReason>(Object.entries(REVOCATION_REASON_CODES).map(([name, code]) => [code, name as RevocationReason]));
const ACME_ACTOR = { userId: null, role: 'acme' } as const;

const spkiOfJwk = (jwk: JWK): string => createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'der' }).toString('base64');

export function acmeRevocationRoutes(router: Router, deps: { readonly db: Database; readonly temporal: Client }, post: Post): void {
  const { db } = deps;
  router.post(REVOKE_CERT_PATH, async (req: Request, res: Response) => {
    const { v } = await post(req, 'either');
    const payload = (v.payload ?? {}) as { certificate?: unknown; reason?: unknown };
    if (typeof payload.certificate !== 'string') throw AcmeProblem.malformed('certificate must be the base64url of its DER.');
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(Buffer.from(payload.certificate, 'base64url'));
    } catch {
      throw AcmeProblem.malformed('certificate is not a DER certificate.');
    }
    const serial = x509.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
    const cert = (await getCertificate(db, serial)) ?? (await getCertificate(db, x509.serialNumber.toLowerCase()));
    if (cert === undefined || cert.pem === null || !new X509Certificate(cert.pem).raw.equals(x509.raw)) throw AcmeProblem.notFound('This server issued no such certificate.');

    // Who may: the account whose ACME order it is, or whoever holds the certificate's key.
    if (v.account !== undefined) {
      const acmeOrder = await getAcmeOrder(db, cert.orderId);
      if (acmeOrder?.accountId !== v.account.id) throw AcmeProblem.unauthorized('This account did not order this certificate.');
    } else if (v.jwk === undefined || spkiOfJwk(v.jwk) !== cert.publicKeySpki) {
      throw AcmeProblem.unauthorized("The JWS is signed neither by the ordering account nor by the certificate's key.");
    }
    const order = await getOrderRow(db, cert.orderId);
    if (order === undefined || !isProductCode(order.product)) throw AcmeProblem.notFound('This server issued no such certificate.');
    const code = payload.reason ?? 0;
    const reason = typeof code === 'number' ? REASON_OF_CODE.get(code) : undefined;
    if (reason === undefined || !revocationReasonsFor(order.product).includes(reason)) {
      throw new AcmeProblem(400, 'badRevocationReason', `Reason ${JSON.stringify(code)} is not allowed; allowed: ${revocationReasonsFor(order.product).map((r) => REVOCATION_REASON_CODES[r]).join(', ')}.`);
    }
    if (cert.status === 'revoked') throw new AcmeProblem(400, 'alreadyRevoked', 'The certificate is already revoked.');
    try {
      await updateOrder(deps, ACME_ACTOR, order, 'revoke', revokeUpdate, { actor: ACME_ACTOR, serial: cert.serial, reason }, { serial: cert.serial, reason, via: 'acme' }, {
        workflowId: certificateWorkflowId(order.id),
        // Just issued, the order may still be closing: its certificate's workflow is about to start.
        startsSoon: orderStillClosing(deps.temporal, order.id),
      });
    } catch (err) {
      if (!(err instanceof Problem)) throw err;
      if (err.slug === 'already-revoked') throw new AcmeProblem(400, 'alreadyRevoked', 'The certificate is already revoked.');
      if (err.slug === 'reason-not-allowed') throw new AcmeProblem(400, 'badRevocationReason', err.detail ?? err.message);
      throw new AcmeProblem(err.status === 403 ? 403 : 400, err.status === 403 ? 'unauthorized' : 'malformed', err.detail ?? err.message);
    }
    res.status(200).end();
  });
}
