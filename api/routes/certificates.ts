/**
 * A certificate after its order: its state and life, revocation (final or a hold), lifting a hold, the token's
 * unblock; domain control of a TLS order (during the order, or when a subscription re-validates); the CSR command.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { CsrCommandError, opensslReqCommand } from '../../lib/pki/csr.js';
import { getCertificate, latestCertificateOfOrder, type CertificateRow } from '../../db/certificates.js';
import type { Database } from '../../db/client.js';
import { getDocument } from '../../db/documents.js';
import type { OrderRow } from '../../db/orders.js';
import { PRODUCT_CODES } from '../../domain/catalog.js';
import type { CertificateLifeView } from '../../domain/certificate-life.js';
import { REVOCATION_REASONS } from '../../domain/revocation.js';
import { ROLES, STAFF_ROLES, type Principal } from '../../domain/roles.js';
import {
  certificateLifeQuery,
  certificateWorkflowId,
  domainValidationUpdate,
  ORDER_ACTION_ROLES,
  lifeDomainValidationUpdate,
  releaseHoldUpdate,
  revokeUpdate,
  unblockCodeUpdate,
  verifyUnblockUpdate,
  type DomainValidationRequest,
} from '../../workflows/definitions.js';
import { actorOf, orderStillClosing, requireHolder, requireOwner, updateOrder, visibleOrder, withActions, type UpdateTarget } from '../order-updates.js';
import { checkCodeThenShowPin, codeSentResponse, pinShownResponse, SmsCodeBody } from '../pin-reveal.js';
import { Problem } from '../problem.js';
import type { RateLimits } from '../rate-limits.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { CertificateLifeSchema, OrderWithActionsSchema, problemResponse } from '../schemas.js';

export interface CertificateRouteDeps {
  readonly db: Database;
  readonly temporal: Client;
  readonly unlockKey: Buffer;
  /** Shows the token's (new) PIN once. */
  revealPinOnce(orderId: string): Promise<string | undefined>;
  /** The SMS codes asked and typed, per order, account and address, shared by every API process. */
  readonly limits: RateLimits;
}

/** Serials are hex: `openssl x509 -serial` prints them in capitals, the CA stores them in small letters. */
const SerialParams = z.object({
  serial: z
    .string()
    .regex(/^[0-9a-fA-F]{16,40}$/)
    .transform((s) => s.toLowerCase()),
});
const IdParams = z.object({ id: z.uuid() });
const RevokeBody = z.object({ reason: z.enum(REVOCATION_REASONS) }).strict();
const EmptyBody = z.object({}).strict();
const Fqdn = z.string().trim().min(1).max(253);
const DomainValidationBody = z.discriminatedUnion('action', [
  z.object({ action: z.literal('start'), method: z.enum(['http', 'dns']), domains: z.array(Fqdn).min(1).max(100).optional() }).strict(),
  z.object({ action: z.literal('check') }).strict(),
  z.object({ action: z.literal('record'), domain: Fqdn, evidenceDocumentId: z.uuid(), note: z.string().trim().max(500).optional() }).strict(),
]);
const CsrCommandBody = z
  .object({
    product: z.enum(PRODUCT_CODES),
    commonName: Fqdn,
    sans: z.array(Fqdn).max(100).optional(),
    keyType: z.enum(['rsa', 'ec']).optional(),
  })
  .strict();

const refusals = {
  401: problemResponse('No or bad API key'),
  403: problemResponse('Role not allowed, or not this caller'),
  404: problemResponse('No such certificate, or not yours'),
  409: problemResponse('Not allowed in the current state'),
  422: problemResponse('A rule is not met'),
};

export function certificateRoutes(deps: CertificateRouteDeps): AnyRoute[] {
  const { db } = deps;

  /** The certificate and its order, if the caller may see them (404 otherwise). */
  async function visibleCertificate(principal: Principal, serial: string): Promise<{ cert: CertificateRow; order: OrderRow }> {
    const cert = await getCertificate(db, serial);
    if (cert === undefined || cert.pem === null) throw Problem.notFound('No such certificate.');
    return { cert, order: await visibleOrder(db, principal, cert.orderId) };
  }

  /**
   * The certificate's own workflow, which runs once its order is completed (before, the order itself decides), and
   * what a refusal says once that life has ended: the certificate's state, not the order's.
   */
  function requireLife(order: OrderRow, serial?: string): UpdateTarget {
    if (order.status !== 'completed') {
      throw Problem.conflict('certificate-not-active', `The order is ${order.status}: the certificate is managed through its order until the order completes.`, {
        state: order.status,
        waitingOn: order.waitingOn,
      });
    }
    return {
      workflowId: certificateWorkflowId(order.id),
      startsSoon: orderStillClosing(deps.temporal, order.id),
      async ended() {
        const row = serial === undefined ? await latestCertificateOfOrder(db, order.id) : await getCertificate(db, serial);
        const state = row === undefined ? 'ended' : row.status === 'revoked' ? 'revoked' : row.notAfter.getTime() <= Date.now() ? 'expired' : row.status;
        return { code: 'certificate-ended', state, detail: `The certificate is ${state}: it takes no more action.` };
      },
    };
  }

  async function lifeOf(order: OrderRow): Promise<CertificateLifeView | null> {
    if (order.status !== 'completed') return null;
    try {
      return await deps.temporal.workflow.getHandle(certificateWorkflowId(order.id)).query(certificateLifeQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  const certificatePost = <B>(
    path: string,
    summary: string,
    access: readonly Principal['role'][],
    body: z.ZodType<B>,
    handle: (ctx: { cert: CertificateRow; order: OrderRow; body: B; principal: Principal; ip: string }) => Promise<unknown>,
    answer: { description: string; content: Record<string, { schema: z.ZodType }> } = { description: 'The certificate after the action', content: { 'application/json': { schema: CertificateLifeSchema } } },
  ): AnyRoute =>
    defineRoute({
      method: 'post',
      path: `/v1/certificates/{serial}${path}`,
      summary,
      tags: ['certificates'],
      access,
      params: SerialParams,
      body,
      responses: { 200: answer, 400: problemResponse('Bad input'), ...refusals },
      async handle({ req, res, params, body: b, principal }) {
        const { cert, order } = await visibleCertificate(principal, params.serial);
        res.json(await handle({ cert, order, body: b, principal, ip: req.ip ?? 'unknown' }));
      },
    });

  return [
    defineRoute({
      method: 'get',
      path: '/v1/certificates/{serial}',
      summary: 'A certificate: status, validity, revocation, and its life (reminders, reissues) once its order is completed',
      tags: ['certificates'],
      access: ROLES,
      params: SerialParams,
      responses: { 200: { description: 'The certificate' }, ...refusals },
      async handle({ res, params, principal }) {
        const { cert, order } = await visibleCertificate(principal, params.serial);
        res.json({
          serial: cert.serial,
          orderId: cert.orderId,
          product: cert.profile,
          issuingCa: cert.issuingCa,
          subject: cert.subject,
          status: cert.status,
          notBefore: cert.notBefore.toISOString(),
          notAfter: cert.notAfter.toISOString(),
          revokedAt: cert.revokedAt?.toISOString() ?? null,
          revocationReason: cert.revocationReason,
          life: await lifeOf(order),
        });
      },
    }),
    certificatePost('/revoke', 'Revoke the certificate (RFC 5280 reason; certificateHold only for non-TLS certificates)', ['customer', 'agent', 'ra_operator'], RevokeBody, ({ cert, order, body, principal }) => {
      if (!STAFF_ROLES.has(principal.role)) requireOwner(principal, order);
      const actor = actorOf(principal);
      return updateOrder(deps, actor, order, 'revoke', revokeUpdate, { actor, serial: cert.serial, reason: body.reason }, { serial: cert.serial, reason: body.reason }, requireLife(order, cert.serial));
    }),
    certificatePost('/release-hold', 'Lift a certificateHold: the certificate is valid again', ['ra_operator'], EmptyBody, ({ cert, order, principal }) => {
      const actor = actorOf(principal);
      return updateOrder(deps, actor, order, 'release_hold', releaseHoldUpdate, { actor, serial: cert.serial }, { serial: cert.serial }, requireLife(order, cert.serial));
    }),
    certificatePost('/unblock-code', "Send an SMS code to unblock the holder's token", ['customer', 'agent'], EmptyBody, ({ cert, order, principal, ip }) => {
      requireHolder(principal, order);
      const actor = actorOf(principal);
      return deps.limits.run('unblock-code', { order: order.id, account: principal.userId, ip }, () => updateOrder(deps, actor, order, 'request_unblock_code', unblockCodeUpdate, { actor }, {}, requireLife(order, cert.serial)));
    }, codeSentResponse),
    certificatePost('/unblock-code/verify', "Check the SMS code; the right one shows the token's new PIN once", ['customer', 'agent'], SmsCodeBody, async ({ cert, order, body, principal, ip }) => {
      requireHolder(principal, order);
      const actor = actorOf(principal);
      return checkCodeThenShowPin(deps, 'unblock-code-verify', { orderId: order.id, userId: principal.userId, ip }, body.code, (digest) =>
        updateOrder(deps, actor, order, 'verify_unblock_code', verifyUnblockUpdate, { actor, digest }, {}, requireLife(order, cert.serial)),
      );
    }, pinShownResponse("The right code: the token's new PIN, shown once")),
    defineRoute({
      method: 'post',
      path: '/v1/orders/{id}/domain-validation',
      summary: 'Domain control: start (draw a file or TXT challenge per name), check (the CA looks), record (RA, with evidence)',
      tags: ['order actions'],
      access: ORDER_ACTION_ROLES.domain_validation,
      params: IdParams,
      body: DomainValidationBody,
      responses: { 200: { description: 'The order after the action, with the actions open now (or, for a subscription, its certificate)', content: { 'application/json': { schema: OrderWithActionsSchema } } }, 400: problemResponse('Bad input'), ...refusals },
      async handle({ res, params, body, principal }) {
        const order = await visibleOrder(db, principal, params.id);
        if (!STAFF_ROLES.has(principal.role)) requireOwner(principal, order);
        const actor = actorOf(principal);
        let request: DomainValidationRequest;
        if (body.action === 'record') {
          if (principal.role !== 'ra_operator') throw Problem.forbidden('Only an RA operator records a validation by hand.', 'operator-only');
          const doc = await getDocument(db, body.evidenceDocumentId);
          if (doc === undefined || doc.orderId !== order.id) throw Problem.unprocessable('evidence-required', 'evidenceDocumentId must be a document uploaded to this order.');
          request = { actor, action: 'record', domain: body.domain.toLowerCase(), evidence: `document ${doc.id} (${doc.documentType}, sha256 ${doc.sha256})${body.note ? `: ${body.note}` : ''}` };
        } else if (body.action === 'start') {
          request = { actor, action: 'start', method: body.method, ...(body.domains ? { domains: body.domains.map((d) => d.toLowerCase()) } : {}) };
        } else {
          request = { actor, action: 'check' };
        }
        const detail = { action: body.action, ...(body.action === 'record' ? { domain: body.domain } : {}) };
        // After completion a TLS subscription re-validates in its certificate's workflow.
        res.json(
          order.status === 'completed'
            ? await updateOrder(deps, actor, order, 'domain_validation', lifeDomainValidationUpdate, request, detail, requireLife(order))
            : withActions(principal, await updateOrder(deps, actor, order, 'domain_validation', domainValidationUpdate, request, detail)),
        );
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/csr-command',
      summary: 'The openssl command that generates your key and CSR (the CA never generates a server key)',
      tags: ['certificates'],
      access: 'public',
      body: CsrCommandBody,
      responses: { 200: { description: 'The command' }, 400: problemResponse('Bad input'), 422: problemResponse('A name breaks the rules') },
      handle({ res, body }) {
        let command: string;
        try {
          command = opensslReqCommand({ product: body.product, commonName: body.commonName, ...(body.sans ? { sans: body.sans } : {}), ...(body.keyType ? { keyType: body.keyType } : {}) });
        } catch (err) {
          if (err instanceof CsrCommandError) throw Problem.unprocessable(err.rule, err.message);
          throw err;
        }
        res.json({ command });
      },
    }),
  ];
}
