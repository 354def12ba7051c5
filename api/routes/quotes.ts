/**
 * Quotes (devis): a numbered offer for a quantity of one product, with the partner code's terms, VAT and 30 days of
 * validity; read back as JSON or as the PDF to send to a purchasing department.
 */
import { z } from 'zod';
import { buildQuotePdf, quoteFileName, type QuoteDocument } from '../../lib/documents/quote-pdf.js';
import type { CaIdentity } from '../../config/ca-identity.js';
import type { Database } from '../../db/client.js';
import { activePartnerTerms } from '../../db/partner-codes.js';
import { getQuoteByNumber, insertQuote, type QuoteRow } from '../../db/quotes.js';
import { DURATIONS_YEARS, isProductCode, PRODUCT_CODES, type DurationYears } from '../../domain/catalog.js';
import {
  discounted,
  MAX_QUOTE_QUANTITY,
  partnerAllows,
  type PartnerTerms,
  QUOTE_NUMBER_PATTERN, QUOTE_VALIDITY_DAYS, quoteAmounts, VAT_PERCENT } from '../../domain/partner.js';
import { ROLES, STAFF_ROLES } from '../../domain/roles.js';
import { checkSiret } from '../../domain/rules/siret.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

export interface QuoteDeps {
  readonly db: Database;
  /** The CA on the quote's letterhead (config `caIdentity`). */
  readonly caIdentity: CaIdentity;
}

const QuoteBody = z
  .object({
    // Spaces are allowed as people write a SIRET (732 829 320 00074); the check itself is a rule (422), not syntax.
    siret: z.string().max(32),
    organisationName: z.string().trim().min(1).max(200).optional(),
    product: z.enum(PRODUCT_CODES),
    durationYears: z.union(DURATIONS_YEARS.map((d) => z.literal(d))),
    quantity: z.number().int().min(1).max(MAX_QUOTE_QUANTITY),
    partnerCode: z.string().trim().min(1).max(64).optional(),
  })
  .strict()
  .meta({ id: 'QuoteRequest' });

const NumberParams = z.object({ number: z.string().regex(QUOTE_NUMBER_PATTERN) });
const LangQuery = z.object({ lang: z.enum(['fr', 'en']).default('fr').meta({ description: 'Language of the PDF' }) });

export const QuoteSchema = z
  .object({
    number: z.string(),
    siret: z.string(),
    organisationName: z.string().nullable(),
    product: z.enum(PRODUCT_CODES),
    durationYears: z.number().int(),
    quantity: z.number().int(),
    partnerCode: z.string().nullable(),
    currency: z.literal('EUR'),
    listUnitPriceCents: z.number().int().meta({ description: 'Catalog unit price ex-VAT' }),
    discountPercent: z.number().int(),
    unitPriceCents: z.number().int().meta({ description: 'Unit price ex-VAT after the discount' }),
    totalExVatCents: z.number().int(),
    vatPercent: z.number().int(),
    vatCents: z.number().int(),
    totalInclVatCents: z.number().int(),
    createdAt: z.iso.datetime(),
    validUntil: z.iso.datetime(),
  })
  .meta({ id: 'Quote' });
type QuoteView = z.infer<typeof QuoteSchema> & QuoteDocument;

/**
 * The quote as stored: the row keeps the catalog unit price and the discount, so every amount is derived the same
 * way whenever it is read, whatever the catalog says later.
 */
function quoteView(row: QuoteRow): QuoteView {
  if (!isProductCode(row.product)) throw new Error(`quote ${row.number} names an unknown product ${row.product}`);
  const unitPriceCents = discounted(row.unitPriceCents, row.discountPercent);
  const vatCents = Math.round((row.totalCents * VAT_PERCENT) / 100);
  return {
    number: row.number,
    siret: row.siret,
    organisationName: row.organisationName,
    product: row.product,
    durationYears: row.durationYears as DurationYears,
    quantity: row.quantity,
    partnerCode: row.partnerCode,
    currency: 'EUR',
    listUnitPriceCents: row.unitPriceCents,
    discountPercent: row.discountPercent,
    unitPriceCents,
    totalExVatCents: row.totalCents,
    vatPercent: VAT_PERCENT,
    vatCents,
    totalInclVatCents: row.totalCents + vatCents,
    createdAt: row.createdAt.toISOString(),
    validUntil: row.validUntil.toISOString(),
  };
}

export function quoteRoutes(deps: QuoteDeps): AnyRoute[] {
  const { db } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/v1/quotes',
      summary: 'A numbered quote (D-<year>-<number>) for a quantity of one product, valid 30 days; any signed-in caller',
      tags: ['quotes'],
      // Signed in: a public route would let anyone fill the table and burn quote numbers. Auditors only read (SPEC §1).
      access: ROLES.filter((r) => r !== 'auditor'),
      body: QuoteBody,
      responses: {
        201: { description: 'The quote; its PDF at the Location with Accept: application/pdf', content: { 'application/json': { schema: QuoteSchema } } },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad credentials'),
        422: problemResponse('Invalid SIRET, unknown partner code, or a product the code does not open'),
      },
      async handle({ res, body, principal }) {
        const siret = body.siret.replace(/\s+/g, '');
        const check = checkSiret(siret);
        if (!check.ok) throw Problem.unprocessable('invalid-siret', `The SIRET is not valid: ${check.reason}.`);
        let terms: PartnerTerms | null = null;
        if (body.partnerCode !== undefined) {
          terms = (await activePartnerTerms(db, body.partnerCode)) ?? null;
          if (terms === null) throw Problem.unprocessable('unknown-partner-code', 'This partner code is unknown or no longer valid.');
          if (!partnerAllows(terms, body.product)) {
            throw Problem.unprocessable('product-not-in-partner-code', `The partner code ${terms.code} does not cover ${body.product}.`, {
              products: terms.products,
            });
          }
        }
        const amounts = quoteAmounts(body.product, body.durationYears, body.quantity, terms);
        const now = new Date();
        const row = await insertQuote(
          db,
          {
            siret,
            organisationName: body.organisationName ?? null,
            product: body.product,
            durationYears: body.durationYears,
            quantity: body.quantity,
            partnerCode: terms?.code ?? null,
            unitPriceCents: amounts.listUnitPriceCents,
            discountPercent: amounts.discountPercent,
            totalCents: amounts.totalExVatCents,
            validUntil: new Date(now.getTime() + QUOTE_VALIDITY_DAYS * 86_400_000),
            requestedByUserId: principal.userId,
          },
          now,
        );
        res.status(201).location(`/v1/quotes/${row.number}`).json(quoteView(row));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/quotes/{number}',
      summary: 'A quote: JSON, or the PDF with Accept: application/pdf (lang=fr|en); its requester and CA staff',
      tags: ['quotes'],
      access: ROLES,
      params: NumberParams,
      query: LangQuery,
      responses: {
        200: {
          description: 'The quote',
          content: { 'application/json': { schema: QuoteSchema }, 'application/pdf': { schema: z.string().meta({ format: 'binary' }) } },
        },
        401: problemResponse('No or bad credentials'),
        404: problemResponse('No such quote, or not yours'),
      },
      async handle({ req, res, params, query, principal }) {
        const row = await getQuoteByNumber(db, params.number);
        // Another caller's quote is answered like a missing one: numbers are sequential and easy to guess.
        if (row === undefined || (row.requestedByUserId !== principal.userId && !STAFF_ROLES.has(principal.role))) {
          throw Problem.notFound('No such quote.');
        }
        const view = quoteView(row);
        res.vary('Accept');
        if (req.accepts(['application/json', 'application/pdf']) === 'application/pdf') {
          const pdf = await buildQuotePdf(view, query.lang, deps.caIdentity);
          res.setHeader('Content-Disposition', `inline; filename="${quoteFileName(view.number, query.lang)}"`);
          res.type('application/pdf').send(Buffer.from(pdf));
          return;
        }
        res.json(view);
      },
    }),
  ];
}
