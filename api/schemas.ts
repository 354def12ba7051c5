/** Response schemas shared by several routes; they document the API (responses are built from typed values). */
import { z } from 'zod';
import { DOCUMENT_TYPES, DURATIONS_YEARS, OPERATING_SYSTEMS, PAYMENT_METHODS, PRODUCT_CODES } from '../domain/catalog.js';
import { ORDER_STATUSES, WAITING_ON } from '../domain/order.js';
import { ORDER_ACTIONS } from '../workflows/definitions.js';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

export const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

export const OrderViewSchema = z
  .object({
    id: z.uuid(),
    product: z.enum(PRODUCT_CODES),
    durationYears: z.union(DURATIONS_YEARS.map((d) => z.literal(d))),
    os: z.enum(OPERATING_SYSTEMS),
    partnerCode: z.string().nullable(),
    status: z.enum(ORDER_STATUSES),
    waitingOn: z.enum(WAITING_ON),
    holderUserId: z.uuid(),
    orderedByUserId: z.uuid(),
    organisationId: z.uuid(),
    checklist: z.array(
      z.object({
        documentType: z.enum(DOCUMENT_TYPES),
        status: z.enum(['missing', 'uploaded', 'accepted', 'rejected']),
        documentId: z.uuid().optional(),
        rejectionReason: z.string().optional(),
      }),
    ),
    deadlines: z.array(z.object({ kind: z.string(), at: z.iso.datetime() })),
    payment: z.object({
      method: z.enum(PAYMENT_METHODS),
      status: z.enum(['pending', 'received', 'failed', 'purchase_order_accepted']),
      purchaseOrderNumber: z.string().nullable(),
      priceCents: z.number().int(),
    }),
    certificateSerial: z.string().nullable(),
    keyOrigin: z.enum(['token', 'customer_csr']),
    domains: z.object({
      required: z.boolean(),
      items: z.array(
        z.object({
          name: z.string(),
          status: z.enum(['pending', 'validated']),
          method: z.enum(['http', 'dns', 'operator']).nullable(),
          validatedAt: z.iso.datetime().nullable(),
          evidence: z.string().nullable(),
          challenge: z
            .object({
              domain: z.string(),
              authorizationDomain: z.string(),
              method: z.enum(['http', 'dns']),
              token: z.string(),
              createdAt: z.iso.datetime(),
              expiresAt: z.iso.datetime(),
              http: z.object({ url: z.string(), path: z.string(), content: z.string() }).optional(),
              dns: z.object({ recordName: z.string(), recordType: z.literal('TXT'), value: z.string() }).optional(),
            })
            .nullable()
            .meta({ description: 'What to publish: the file (http) or the TXT record (dns)' }),
          lastCheck: z.object({ at: z.iso.datetime(), reason: z.string() }).nullable(),
        }),
      ),
    }),
    attention: z
      .object({
        step: z.string(),
        activity: z.string(),
        message: z.string(),
        since: z.iso.datetime(),
        resumeTo: z.enum(ORDER_STATUSES),
      })
      .nullable()
      .optional()
      .meta({ description: 'While the order is needs_attention: the step that failed with a refusal no retry fixes, its message, and the status a resume (POST …/resume) goes back to' }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    version: z.number().int(),
  })
  .meta({ id: 'Order' });

/** One order as its caller reads it (GET /v1/orders/{id}, and the answer of an action): with what the caller may do now. */
export const OrderWithActionsSchema = OrderViewSchema.extend({
  actions: z.array(z.enum(ORDER_ACTIONS)).meta({
    description:
      "The actions the caller may ask for now: the caller's role may (the table of actions and roles) and the order's state takes it. Each is a route: upload_evidence POST …/evidence, submit …/submit, review …/review, record_face_to_face …/face-to-face, record_originals …/originals-received, record_payment …/payment, hold, release, resume, cancel, respond_to_certificate …/acceptance, request_unlock_code …/unlock-code, verify_unlock_code …/unlock-code/verify, domain_validation …/domain-validation",
  }),
}).meta({ id: 'OrderWithActions' });

export const CertificateLifeSchema = z
  .object({
    orderId: z.uuid(),
    product: z.enum(PRODUCT_CODES),
    status: z.enum(['active', 'held', 'awaiting_revalidation', 'revoked', 'expired']),
    subscription: z.boolean(),
    termEndsAt: z.iso.datetime(),
    current: z.string(),
    certificates: z.array(
      z.object({
        serial: z.string(),
        notBefore: z.iso.datetime(),
        notAfter: z.iso.datetime(),
        status: z.enum(['valid', 'held', 'revoked']),
        revokedAt: z.iso.datetime().nullable(),
        reason: z.string().nullable(),
      }),
    ),
    deadlines: z.array(z.object({ kind: z.string(), at: z.iso.datetime() })),
    unblockable: z.boolean(),
    problem: z.string().nullable(),
  })
  .meta({ id: 'CertificateLife' });
