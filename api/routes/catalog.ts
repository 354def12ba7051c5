/** The catalog, public: what can be ordered, for how long, at what price, with which documents. */
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { activePartnerTerms } from '../../db/partner-codes.js';
import { CATALOG, checklistFor, DOCUMENT_LABELS, DURATIONS_YEARS, ORDERABLE_PRODUCTS, PRODUCT_CODES } from '../../domain/catalog.js';
import { DEFAULT_DEADLINES, durationMs, type Deadlines } from '../../domain/deadlines.js';
import { partnerPriceOf, productsFor, type PartnerTerms } from '../../domain/partner.js';
import { DAY_MS } from '../../domain/time.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

const CatalogQuery = z.object({
  partnerCode: z.string().trim().min(1).max(64).optional().meta({ description: "A partner code: only its products, at its prices" }),
});

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
        originalsDueDays: z
          .number()
          .int()
          .nullable()
          .meta({ description: 'Days the originals have to reach the CA after the online validation (this server’s ORDER_DEADLINES); null when none go by post' }),
        dnsNames: z.enum(['none', 'dns', 'wildcard']).meta({ description: 'The DNS names the certificate carries: none, FQDNs, FQDNs with a wildcard' }),
        orderable: z.boolean(),
        durations: z.array(z.object({ years: z.number().int(), priceCentsExVat: z.number().int() })),
        checklist: z.array(z.object({ documentType: z.string(), label: z.object({ en: z.string(), fr: z.string() }) })),
        conditionalDocuments: z.array(z.object({ documentType: z.string(), when: z.string() })),
      }),
    ),
    partner: z.object({ code: z.string(), discountPercent: z.number().int() }).optional(),
  })
  .meta({ id: 'Catalog' });

function catalogBody(terms: PartnerTerms | null, originalsDueDays: number): z.infer<typeof CatalogSchema> {
  return {
    ...(terms !== null ? { partner: { code: terms.code, discountPercent: terms.discountPercent } } : {}),
    products: productsFor(terms).map((code) => {
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
        dnsNames: p.dnsNames,
        originalsDueDays: p.originalsByPost ? originalsDueDays : null,
        orderable: ORDERABLE_PRODUCTS.has(code),
        durations: DURATIONS_YEARS.map((years) => ({ years, priceCentsExVat: partnerPriceOf(code, years, terms) })),
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

export function catalogRoutes(deps: { readonly db: Database; readonly deadlines?: Pick<Deadlines, 'originalsDue'> }): AnyRoute[] {
  // Whole days, as the pages and mails say them (the order's own deadlines fix its real due date).
  const originalsDueDays = Math.round(durationMs((deps.deadlines ?? DEFAULT_DEADLINES).originalsDue) / DAY_MS);
  return [
    defineRoute({
      method: 'get',
      path: '/v1/catalog',
      summary: 'Products, durations, prices, supporting documents and proofing rules',
      tags: ['catalog'],
      access: 'public',
      query: CatalogQuery,
      responses: {
        200: { description: 'The catalog', content: { 'application/json': { schema: CatalogSchema } } },
        422: problemResponse('Unknown or inactive partner code'),
      },
      async handle({ res, query }) {
        if (query.partnerCode === undefined) {
          res.json(catalogBody(null, originalsDueDays));
          return;
        }
        const terms = await activePartnerTerms(deps.db, query.partnerCode);
        if (terms === undefined) throw Problem.unprocessable('unknown-partner-code', 'This partner code is unknown or no longer valid.');
        res.json(catalogBody(terms, originalsDueDays));
      },
    }),
  ];
}
