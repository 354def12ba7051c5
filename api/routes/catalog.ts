/** The catalog, public: what can be ordered, for how long, at what price, with which documents. */
import { z } from 'zod';
import { CATALOG, checklistFor, DOCUMENT_LABELS, DURATIONS_YEARS, ORDERABLE_PRODUCTS, PRODUCT_CODES, priceOf } from '../../domain/catalog.js';
import { defineRoute, type AnyRoute } from '../routing.js';

const CatalogSchema = z
  .object({
    products: z.array(
      z.object({
        code: z.enum(PRODUCT_CODES),
        name: z.object({ en: z.string(), fr: z.string() }),
        kind: z.enum(['server', 'person']),
        proofing: z.string(),
        originalsByPost: z.boolean(),
        keyOrigin: z.string(),
        delivery: z.string(),
        smsUnlock: z.boolean(),
        orderable: z.boolean(),
        durations: z.array(z.object({ years: z.number().int(), priceCentsExVat: z.number().int() })),
        checklist: z.array(z.object({ documentType: z.string(), label: z.object({ en: z.string(), fr: z.string() }) })),
        conditionalDocuments: z.array(z.object({ documentType: z.string(), when: z.string() })),
      }),
    ),
  })
  .meta({ id: 'Catalog' });

function catalogBody(): z.infer<typeof CatalogSchema> {
  return {
    products: PRODUCT_CODES.map((code) => {
      const p = CATALOG[code];
      return {
        code,
        name: p.name,
        kind: p.kind,
        proofing: p.proofing,
        originalsByPost: p.originalsByPost,
        keyOrigin: p.keyOrigin,
        delivery: p.delivery,
        smsUnlock: p.smsUnlock,
        orderable: ORDERABLE_PRODUCTS.has(code),
        durations: DURATIONS_YEARS.map((years) => ({ years, priceCentsExVat: priceOf(code, years) })),
        checklist: checklistFor(code, { orderedForSomeoneElse: false, paymentMethod: 'transfer' }).map((documentType) => ({
          documentType,
          label: DOCUMENT_LABELS[documentType],
        })),
        conditionalDocuments: [
          { documentType: 'agent_mandate', when: 'an agent orders for another person of its organisation' },
          { documentType: 'purchase_order', when: 'payment by purchase order' },
        ],
      };
    }),
  };
}

export function catalogRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/catalog',
      summary: 'Products, durations, prices, supporting documents and proofing rules',
      tags: ['catalog'],
      access: 'public',
      responses: { 200: { description: 'The catalog', content: { 'application/json': { schema: CatalogSchema } } } },
      handle({ res }) {
        res.json(catalogBody());
      },
    }),
  ];
}
