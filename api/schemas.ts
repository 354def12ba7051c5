/** Response schemas shared by several routes; they document the API (responses are built from typed values). */
import { z } from 'zod';
import { DOCUMENT_TYPES, DURATIONS_YEARS, OPERATING_SYSTEMS, PAYMENT_METHODS, PRODUCT_CODES } from '../domain/catalog.js';
import { ORDER_STATUSES, WAITING_ON } from '../domain/order.js';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
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
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    version: z.number().int(),
  })
  .meta({ id: 'Order' });
