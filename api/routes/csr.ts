/**
 * A CSR checked without ordering (SPEC §9: "the CSR pasted and verified: names and key read back"): the same rules as
 * POST /v1/orders (lib/pki/csr.ts checkCsr, then the key not already certified nor compromised), answered with
 * the names and key read from it, or the same 422 problem the order would get, so that a page shows the rule before
 * the customer orders.
 */
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { CATALOG, PRODUCT_CODES } from '../../domain/catalog.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';
import { certifiesDnsNames } from '../../domain/catalog.js';
import { checkOrderCsr } from './orders.js';

/** The fields of POST /v1/orders this check reads, with the same bounds. */
const VerifyCsrBody = z
  .object({
    product: z.enum(PRODUCT_CODES),
    csr: z.string().max(32_768),
    extraSans: z.array(z.string().max(253)).max(100).optional(),
  })
  .strict()
  .meta({ id: 'VerifyCsr' });

const VerifiedCsrSchema = z
  .object({
    subject: z.string(),
    commonName: z.string().nullable(),
    keyType: z.enum(['rsa', 'ec']),
    keyDescription: z.string().meta({ description: "'RSA 2048', 'ECDSA P-256'" }),
    csrNames: z.array(z.string()).meta({ description: 'The DNS names of the CSR (CN first), lower-case; empty for products that certify no name' }),
    names: z.array(z.string()).meta({ description: 'Every name the certificate would carry: the CSR names, then the extra SANs' }),
  })
  .meta({ id: 'VerifiedCsr' });

export function csrRoutes(deps: { readonly db: Database }): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/csr/verify',
      summary: 'Check a CSR for a product under the rules of POST /v1/orders, without ordering: the names and key it carries',
      tags: ['certificates'],
      access: ['customer', 'agent'],
      body: VerifyCsrBody,
      responses: {
        200: { description: 'The CSR passes: what it carries', content: { 'application/json': { schema: VerifiedCsrSchema } } },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        422: problemResponse('A rule is broken: the type is the first rule, `problems` lists each {rule, message}'),
      },
      async handle({ res, body }) {
        const hasNames = certifiesDnsNames(body.product);
        if (body.extraSans !== undefined && body.extraSans.length > 0 && !hasNames) {
          throw Problem.unprocessable('extra-sans-not-accepted', `${body.product} certifies no domain names: extraSans is not accepted.`);
        }
        if (CATALOG[body.product].keyOrigin === 'token') {
          throw Problem.unprocessable('csr-not-accepted', `${body.product} is issued on a token the CA personalises: no CSR is accepted.`);
        }
        const checked = await checkOrderCsr(deps.db, body);
        res.json({
          subject: checked.csr.subject,
          commonName: checked.csr.commonName,
          keyType: checked.csr.keyType,
          keyDescription: checked.csr.keyDescription,
          csrNames: hasNames ? checked.csr.dnsNames : [],
          names: hasNames ? checked.names : [],
        });
      },
    }),
  ];
}
