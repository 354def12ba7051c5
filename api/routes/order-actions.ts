/** Everything that moves an order: evidence, review, proofing, payment, hold, acceptance, unlock, downloads. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { BlobStore } from '../../db/blob-store.js';
import { latestCertificateOfOrder } from '../../db/certificates.js';
import type { Database } from '../../db/client.js';
import { getDocument, insertDocument } from '../../db/documents.js';
import { getOrderRow, type OrderRow } from '../../db/orders.js';
import { DOCUMENT_TYPES, PAYMENT_METHODS } from '../../domain/catalog.js';
import type { OrderView } from '../../domain/order.js';
import { ROLES, STAFF_ROLES, type Principal } from '../../domain/roles.js';
import {
  acceptanceUpdate,
  cancelUpdate,
  faceToFaceUpdate,
  ORDER_ACTION_ROLES,
  holdUpdate,
  type OrderAction,
  originalsUpdate,
  orderWorkflowId,
  paymentUpdate,
  releaseUpdate,
  resumeUpdate,
  reviewUpdate,
  submitUpdate,
  stateQuery,
  unlockCodeUpdate,
  uploadEvidenceUpdate,
  verifyUnlockUpdate,
} from '../../workflows/definitions.js';
import { findUnstorableText } from '../input-guards.js';
import { readSingleUpload } from '../multipart.js';
import { checkCodeThenShowPin, codeSentResponse, pinShownResponse, SmsCodeBody } from '../pin-reveal.js';
import { actorOf, requireActionCaller, requireOwner, updateOrder, visibleOrder, withActions } from '../order-updates.js';
import { Problem } from '../problem.js';
import type { RateLimits } from '../rate-limits.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { sendStoredFile } from '../stored-file.js';
import { OrderWithActionsSchema, problemResponse } from '../schemas.js';

export interface OrderActionDeps {
  readonly db: Database;
  readonly temporal: Client;
  readonly blobs: BlobStore;
  /** Key of the unlock-code digests (shared with the activity that sends the codes). */
  readonly unlockKey: Buffer;
  readonly paymentWebhookSecret: string;
  /** Shows the token's PIN once (then undefined for ever). */
  revealPinOnce(orderId: string): Promise<string | undefined>;
  /** PEM of the certificate, its issuing CA, then the root. */
  chainPem(serial: string): Promise<string>;
  /** The SMS codes asked and typed, per order, account and address, shared by every API process. */
  readonly limits: RateLimits;
}

export const MAX_EVIDENCE_BYTES = 10 * 1024 * 1024;
const EVIDENCE_TYPES = ['application/pdf', 'image/png', 'image/jpeg'] as const;
/** A signed webhook older than this is refused: a captured request cannot be replayed later. */
const WEBHOOK_TOLERANCE_MS = 5 * 60 * 1000;

const IdParams = z.object({ id: z.uuid() });
const DocParams = z.object({ id: z.uuid(), docId: z.uuid() });
const orderJson = { 'application/json': { schema: OrderWithActionsSchema } };
const ok = (description: string) => ({ description, content: orderJson });
const refusals = {
  401: problemResponse('No or bad API key'),
  403: problemResponse('Role not allowed, or not this caller'),
  404: problemResponse('No such order, or not yours'),
  409: problemResponse('Not allowed in the current state (with state and waitingOn)'),
  422: problemResponse('A rule is not met'),
};

const Reasons = z.array(z.object({ documentType: z.enum(DOCUMENT_TYPES), reason: z.string().trim().min(3).max(500) })).min(1).max(20);
const ReviewBody = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve') }).strict(),
  z.object({ decision: z.literal('reject'), reasons: Reasons }).strict(),
]);
const FaceToFaceBody = z.object({ interventionFormDocumentId: z.uuid(), meetingDate: z.iso.date() }).strict();
const PaymentBody = z
  .object({ status: z.enum(['received', 'failed']), reference: z.string().trim().min(1).max(100), method: z.enum(PAYMENT_METHODS).optional() })
  .strict();
const CommentBody = z.object({ comment: z.string().trim().min(3).max(1000) }).strict();
const ReasonBody = z.object({ reason: z.string().trim().min(3).max(1000) }).strict();
const EmptyBody = z.object({}).strict();
const AcceptanceBody = z.object({ decision: z.enum(['accept', 'refuse']) }).strict();
const WebhookBody = z
  .object({ orderId: z.uuid(), status: z.enum(['succeeded', 'failed']), reference: z.string().trim().min(1).max(100) })
  .strict();

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, compared in constant time. */
export function signWebhook(secret: string, body: string, timestampSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/**
 * The timestamp is public and checked first; the MAC is compared in constant time whatever was sent: the given
 * value is decoded into a buffer of the MAC's own length (zero-padded or cut), compared with timingSafeEqual, and its
 * length is checked only afterwards, so neither its length nor its content changes how long the comparison takes.
 */
export function verifyWebhook(secret: string, header: string | undefined, body: string, now: number): void {
  const parts = Object.fromEntries((header ?? '').split(',').map((kv) => kv.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || parts.v1 === undefined) throw Problem.unauthorized('Missing or malformed signature.');
  if (Math.abs(now - t * 1000) > WEBHOOK_TOLERANCE_MS) throw Problem.unauthorized('The signature is too old or from the future.');
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = parts.v1.slice(0, 2 * expected.length + 2);
  const decoded = /^[0-9a-fA-F]*$/.test(given) ? Buffer.from(given, 'hex') : Buffer.alloc(0);
  const candidate = Buffer.alloc(expected.length);
  decoded.copy(candidate, 0, 0, expected.length);
  const sameBytes = timingSafeEqual(expected, candidate);
  if (!sameBytes || given.length !== 2 * expected.length) throw Problem.unauthorized('Bad signature.');
}

export function orderActionRoutes(deps: OrderActionDeps): AnyRoute[] {
  const { db } = deps;
  /** The payment reference the order's workflow holds now; the read model's when the workflow has ended. */
  const recordedPaymentReference = async (order: OrderRow): Promise<string | null | undefined> => {
    try {
      return (await deps.temporal.workflow.getHandle(orderWorkflowId(order.id)).query(stateQuery)).payment.reference;
    } catch {
      return (await getOrderRow(db, order.id))?.view.payment.reference;
    }
  };
  /** An action's route: its access from the actions table; it answers the order after it, with what comes next. */
  const post = <B>(
    path: string,
    summary: string,
    action: OrderAction,
    body: z.ZodType<B>,
    handle: (ctx: { order: OrderRow; body: B; principal: Principal; ip: string }) => Promise<unknown>,
    answer?: { description: string; content: Record<string, { schema: z.ZodType }> },
  ): AnyRoute =>
    defineRoute({
      method: 'post',
      path: `/v1/orders/{id}${path}`,
      summary,
      tags: ['order actions'],
      access: ORDER_ACTION_ROLES[action],
      params: IdParams,
      body,
      responses: { 200: answer ?? ok('The order after the action, with the actions open now'), 400: problemResponse('Bad input'), ...refusals },
      async handle({ req, res, params, body: b, principal }) {
        const order = await visibleOrder(db, principal, params.id);
        requireActionCaller(principal, order, action);
        const result = await handle({ order, body: b, principal, ip: req.ip ?? 'unknown' });
        res.json(answer === undefined ? withActions(principal, result as OrderView) : result);
      },
    });

  return [
    defineRoute({
      method: 'post',
      path: '/v1/orders/{id}/evidence',
      summary: 'Upload a supporting document (multipart: documentType, file); PDF, PNG or JPEG, at most 10 MiB',
      tags: ['order actions'],
      access: ORDER_ACTION_ROLES.upload_evidence,
      params: IdParams,
      responses: {
        201: ok('The order with the document in its checklist'),
        400: problemResponse('No file, or bad fields'),
        413: problemResponse('File larger than 10 MiB'),
        415: problemResponse('Not a PDF, PNG or JPEG'),
        ...refusals,
      },
      async handle({ req, res, params, principal }) {
        const order = await visibleOrder(db, principal, params.id);
        const upload = await readSingleUpload(req, { maxBytes: MAX_EVIDENCE_BYTES, allowedTypes: EVIDENCE_TYPES, textFields: ['documentType'] });
        const documentType = z.enum(DOCUMENT_TYPES).safeParse(upload.fields.documentType);
        if (!documentType.success) throw Problem.badRequest(`documentType must be one of ${DOCUMENT_TYPES.join(', ')}.`);
        // A DRA operator brings the signed intervention form; the file itself is the customer's.
        if (principal.role === 'dra_operator') {
          if (documentType.data !== 'intervention_form') throw Problem.forbidden('A DRA operator uploads only the intervention form.');
        } else {
          requireOwner(principal, order);
        }
        // Stored before the workflow hears of it, content-addressed: nothing uploaded is ever lost or overwritten.
        await deps.blobs.put(upload.file.buffer);
        const doc = await insertDocument(db, {
          orderId: order.id,
          documentType: documentType.data,
          sha256: upload.file.sha256,
          sizeBytes: upload.file.sizeBytes,
          mediaType: upload.file.mediaType,
          originalName: upload.file.originalName,
          uploadedByUserId: principal.userId,
        });
        const view = await updateOrder(deps, actorOf(principal), order, 'upload_evidence', uploadEvidenceUpdate, {
          actor: actorOf(principal),
          documentType: documentType.data,
          documentId: doc.id,
        }, { documentType: documentType.data, documentId: doc.id, sha256: doc.sha256 });
        res.status(201).location(`/v1/orders/${order.id}/evidence/${doc.id}`).json({ document: { id: doc.id, documentType: doc.documentType, mediaType: doc.mediaType, sizeBytes: doc.sizeBytes, sha256: doc.sha256 }, order: withActions(principal, view) });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orders/{id}/evidence/{docId}',
      summary: 'A supporting document, as uploaded',
      tags: ['order actions'],
      // Identity documents: the owner (and agents of the organisation), staff and auditors; not an organisation admin.
      access: ROLES.filter((r) => r !== 'org_admin'),
      params: DocParams,
      responses: { 200: { description: 'The file' }, 404: problemResponse('No such document, or not yours') },
      async handle({ res, params, principal }) {
        const order = await visibleOrder(db, principal, params.id);
        const doc = await getDocument(db, params.docId);
        if (doc === undefined || doc.orderId !== order.id) throw Problem.notFound('No such document.');
        await sendStoredFile(res, deps.blobs, { sha256: doc.sha256, mediaType: doc.mediaType, fileName: `${doc.documentType}-${doc.id}`, sizeBytes: doc.sizeBytes });
      },
    }),
    post('/submit', 'The file is complete: ask for review', 'submit', EmptyBody, async ({ order, principal }) => {
      requireOwner(principal, order);
      return updateOrder(deps, actorOf(principal), order, 'submit', submitUpdate, { actor: actorOf(principal) });
    }),
    post('/review', 'Approve the file, or reject it with a reason per document', 'review', ReviewBody, ({ order, body, principal }) =>
      updateOrder(deps, actorOf(principal), order, body.decision === 'approve' ? 'approve' : 'reject', reviewUpdate, { actor: actorOf(principal), ...body }, { ...body }),
    ),
    post('/face-to-face', 'Record the face-to-face check with its signed intervention form', 'record_face_to_face', FaceToFaceBody, async ({ order, body, principal }) => {
      if (principal.role === 'agent' && principal.organisationId !== order.organisationId) throw Problem.notFound('No such order.');
      const form = await getDocument(db, body.interventionFormDocumentId);
      if (form === undefined || form.orderId !== order.id || form.documentType !== 'intervention_form') {
        throw Problem.unprocessable('intervention-form-required', 'interventionFormDocumentId must be an intervention_form uploaded to this order.');
      }
      return updateOrder(deps, actorOf(principal), order, 'record_face_to_face', faceToFaceUpdate, { actor: actorOf(principal), ...body }, { ...body });
    }),
    post('/originals-received', 'The originals arrived by post', 'record_originals', EmptyBody, ({ order, principal }) =>
      updateOrder(deps, actorOf(principal), order, 'record_originals', originalsUpdate, { actor: actorOf(principal) }),
    ),
    post('/payment', 'Record a transfer, cheque or purchase order payment, or a failure', 'record_payment', PaymentBody, ({ order, body, principal }) =>
      updateOrder(deps, actorOf(principal), order, 'record_payment', paymentUpdate, { actor: actorOf(principal), ...body }, { ...body }),
    ),
    post('/hold', 'Put the order on hold with a comment', 'hold', CommentBody, ({ order, body, principal }) =>
      updateOrder(deps, actorOf(principal), order, 'hold', holdUpdate, { actor: actorOf(principal), comment: body.comment }, { comment: body.comment }),
    ),
    post('/release', 'Release an order on hold', 'release', EmptyBody, ({ order, principal }) =>
      updateOrder(deps, actorOf(principal), order, 'release', releaseUpdate, { actor: actorOf(principal) }),
    ),
    post('/resume', 'Retry the step that failed with a refusal no retry fixes (the order needs_attention)', 'resume', EmptyBody, ({ order, principal }) =>
      updateOrder(deps, actorOf(principal), order, 'resume', resumeUpdate, { actor: actorOf(principal) }),
    ),
    post('/cancel', 'Cancel the order (staff, or the customer before issuance)', 'cancel', ReasonBody, async ({ order, body, principal }) => {
      if (!STAFF_ROLES.has(principal.role)) requireOwner(principal, order);
      return updateOrder(deps, actorOf(principal), order, 'cancel', cancelUpdate, { actor: actorOf(principal), reason: body.reason }, { reason: body.reason });
    }),
    post('/acceptance', 'The holder accepts or refuses the issued certificate', 'respond_to_certificate', AcceptanceBody, ({ order, body, principal }) =>
      updateOrder(deps, actorOf(principal), order, body.decision, acceptanceUpdate, { actor: actorOf(principal), decision: body.decision }),
    ),
    post('/unlock-code', 'Send a 6-digit unlock code by SMS to the holder (10 minutes, 5 a day)', 'request_unlock_code', EmptyBody, ({ order, principal, ip }) =>
      deps.limits.run('unlock-code', { order: order.id, account: principal.userId, ip }, () => updateOrder(deps, actorOf(principal), order, 'request_unlock_code', unlockCodeUpdate, { actor: actorOf(principal) })),
    codeSentResponse),
    post('/unlock-code/verify', "Check the SMS code; the right one shows the token's PIN once", 'verify_unlock_code', SmsCodeBody, async ({ order, body, principal, ip }) => {
      return checkCodeThenShowPin(deps, 'unlock-code-verify', { orderId: order.id, userId: principal.userId, ip }, body.code, (digest) =>
        updateOrder(deps, actorOf(principal), order, 'verify_unlock_code', verifyUnlockUpdate, { actor: actorOf(principal), digest }),
      );
    }, pinShownResponse("The right code: the token's PIN, shown once")),
    defineRoute({
      method: 'get',
      path: '/v1/orders/{id}/certificate',
      summary: 'The certificate: PEM (default), DER (Accept: application/pkix-cert) or the chain (Accept: application/pem-certificate-chain)',
      tags: ['order actions'],
      access: ROLES,
      params: IdParams,
      responses: { 200: { description: 'The certificate' }, 404: problemResponse('No certificate (yet), or not yours') },
      async handle({ req, res, params, principal }) {
        const order = await visibleOrder(db, principal, params.id);
        // A TLS subscription's latest certificate, once reissued; otherwise the order's one.
        const cert = order.view.certificateSerial === null ? undefined : await latestCertificateOfOrder(db, order.id);
        if (cert?.pem == null) throw Problem.notFound('This order has no certificate yet.');
        const accept = req.get('accept') ?? '';
        if (accept.includes('application/pkix-cert')) {
          const der = Buffer.from(cert.pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
          res.type('application/pkix-cert').send(der);
        } else if (accept.includes('application/pem-certificate-chain')) {
          res.type('application/pem-certificate-chain').send(await deps.chainPem(cert.serial));
        } else {
          res.type('application/x-pem-file').send(`${cert.pem.trim()}\n`);
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/payments/webhook',
      summary: "The payment provider's card result, signed (X-Signature: t=…,v1=HMAC-SHA256)",
      tags: ['payments'],
      access: 'public',
      responses: { 200: { description: 'Recorded (or already recorded)' }, 401: problemResponse('Bad signature'), 404: problemResponse('Unknown order') },
      async handle({ req, res }) {
        const raw = (req as { rawBody?: Buffer }).rawBody?.toString('utf8') ?? '';
        verifyWebhook(deps.paymentWebhookSecret, req.get('x-signature'), raw, Date.now());
        const parsed = WebhookBody.safeParse(req.body);
        if (!parsed.success || findUnstorableText(req.body) !== undefined) throw Problem.badRequest('The webhook body is not valid.');
        const order = await getOrderRow(db, parsed.data.orderId);
        if (order === undefined) throw Problem.notFound('No such order.');
        const provider = { userId: null, role: 'payment_provider' };
        try {
          const view = await updateOrder(deps, provider, order, 'payment_webhook', paymentUpdate, {
            actor: provider,
            status: parsed.data.status === 'succeeded' ? 'received' : 'failed',
            reference: parsed.data.reference,
            method: 'card',
          }, { reference: parsed.data.reference, status: parsed.data.status });
          res.json({ received: true, status: view.payment.status });
        } catch (err) {
          // A replayed delivery of a result already recorded is acknowledged, so the provider stops retrying. The
          // reference is read from the workflow itself: a duplicate racing the first delivery is refused while the
          // read model (and `order`, read before) may not show the payment yet.
          if (err instanceof Problem && err.status === 409 && (await recordedPaymentReference(order)) === parsed.data.reference) {
            res.json({ received: true, duplicate: true });
            return;
          }
          throw err;
        }
      },
    }),
  ];
}
