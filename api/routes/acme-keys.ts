/**
 * ACME external account binding keys (SPEC §9, §11): an organisation admin, or CA staff, makes a key bound to the
 * organisation and to one TLS product, once the RA has validated the organisation (an approved review of an OV order
 * within the BR §4.2.1 reuse period). The HMAC key is in the creation's answer only; the list never shows it.
 * Revoking a key revokes the ACME accounts bound with it. Creation and revocation go into the audit chain
 * (db/acme.ts, as the CLI's `acme eab create/revoke`).
 */
import { z } from 'zod';
import { createEabKey, findEabKey, listEabKeys, organisationValidated, revokeEabKey, type AcmeEabKeyRow } from '../../db/acme.js';
import type { Database } from '../../db/client.js';
import { ACME_PRODUCTS, isAcmeProduct } from '../../domain/acme.js';
import { PRODUCT_CODES } from '../../domain/catalog.js';
import type { Principal } from '../../domain/roles.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';
import { visibleOrganisation } from './organisations.js';

export interface AcmeKeyDeps {
  readonly db: Database;
  /** `secrets.derive('acme-eab')`, the key the ACME server opens the HMAC keys with. */
  readonly eabSealKey: Buffer;
  readonly publicBaseUrl: string;
}

const OrgParams = z.object({ id: z.uuid() });
const KeyParams = z.object({ id: z.uuid(), kid: z.string().regex(/^eab_[A-Za-z0-9_-]{1,64}$/) });

/** Any product code parses, so that a product sold outside ACME is refused in words (422), not as a bad body. */
const NewAcmeKeyBody = z
  .object({ product: z.enum(PRODUCT_CODES).meta({ description: `One of ${ACME_PRODUCTS.join(', ')}` }) })
  .strict()
  .meta({ id: 'NewAcmeKey' });

export const AcmeKeySchema = z
  .object({
    kid: z.string(),
    product: z.enum(ACME_PRODUCTS),
    createdAt: z.iso.datetime(),
    /** The last newAccount bound with it; null while unused. */
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
    status: z.enum(['active', 'revoked']),
  })
  .meta({ id: 'AcmeKey' });

const NewAcmeKeySchema = z
  .object({
    kid: z.string(),
    hmacKey: z.string().meta({ description: 'base64url; shown in this answer only' }),
    product: z.enum(ACME_PRODUCTS),
    createdAt: z.iso.datetime(),
    directoryUrl: z.url(),
  })
  .meta({ id: 'CreatedAcmeKey' });

const keyView = (k: Omit<AcmeEabKeyRow, 'sealedHmacKey'>): z.infer<typeof AcmeKeySchema> => ({
  kid: k.kid,
  product: k.product as z.infer<typeof AcmeKeySchema>['product'],
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
  status: k.revokedAt === null ? 'active' : 'revoked',
});

const actorOf = (p: Principal) => ({ userId: p.userId, role: p.role });

/** The organisation's admin, or the RA and the admin staff; an admin of another organisation gets a 404. */
const ACCESS = ['org_admin', 'ra_operator', 'admin'] as const;

export function acmeKeyRoutes(deps: AcmeKeyDeps): AnyRoute[] {
  const { db } = deps;
  const directoryUrl = `${deps.publicBaseUrl.replace(/\/$/, '')}/acme/directory`;
  return [
    defineRoute({
      method: 'get',
      path: '/v1/organisations/{id}/acme-keys',
      summary: "The organisation's ACME external account binding keys, newest first, without their HMAC key: its admin, the RA, the admin",
      tags: ['acme'],
      access: ACCESS,
      params: OrgParams,
      responses: {
        200: { description: 'The keys', content: { 'application/json': { schema: z.object({ items: z.array(AcmeKeySchema), directoryUrl: z.url() }) } } },
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such organisation, or not yours'),
      },
      async handle({ res, params, principal }) {
        await visibleOrganisation(db, principal, params.id);
        res.json({ items: (await listEabKeys(db, params.id)).map(keyView), directoryUrl });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/organisations/{id}/acme-keys',
      summary: 'A new ACME external account binding key for a TLS product; the HMAC key is in this answer only (recorded in the audit chain)',
      tags: ['acme'],
      access: ACCESS,
      params: OrgParams,
      body: NewAcmeKeyBody,
      responses: {
        201: { description: 'The key: keep the HMAC key now, it is never shown again', content: { 'application/json': { schema: NewAcmeKeySchema } } },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such organisation, or not yours'),
        409: problemResponse('organisation-not-validated: no approved review of an OV order of the organisation within the reuse period'),
        422: problemResponse('product-not-acme: the product is not sold over ACME'),
      },
      async handle({ res, params, body, principal }) {
        await visibleOrganisation(db, principal, params.id);
        const product = body.product;
        if (!isAcmeProduct(product)) {
          throw Problem.unprocessable('product-not-acme', `ACME sells the TLS products ${ACME_PRODUCTS.join(', ')}, not ${product}.`, { products: [...ACME_PRODUCTS] });
        }
        if (!(await organisationValidated(db, params.id))) {
          throw Problem.conflict(
            'organisation-not-validated',
            "The RA has not validated the organisation's identity within the reuse period: an ACME key is made once a TLS order of the organisation has been approved.",
          );
        }
        const { kid, hmacKey } = await createEabKey(db, deps.eabSealKey, { organisationId: params.id, product, actor: actorOf(principal) });
        const row = await findEabKey(db, kid);
        res.status(201).json({ kid, hmacKey, product, createdAt: (row?.createdAt ?? new Date()).toISOString(), directoryUrl });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/organisations/{id}/acme-keys/{kid}',
      summary: 'Revoke an ACME key and the ACME accounts bound with it (recorded in the audit chain)',
      tags: ['acme'],
      access: ACCESS,
      params: KeyParams,
      responses: {
        200: { description: 'The key, revoked', content: { 'application/json': { schema: AcmeKeySchema } } },
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such organisation or key, or not yours'),
        409: problemResponse('already-revoked: the key was revoked before'),
      },
      async handle({ res, params, principal }) {
        await visibleOrganisation(db, principal, params.id);
        const key = await findEabKey(db, params.kid);
        if (key === undefined || key.organisationId !== params.id) throw Problem.notFound('No such ACME key.');
        if (!(await revokeEabKey(db, key.kid, actorOf(principal)))) throw Problem.conflict('already-revoked', 'This ACME key was revoked before.');
        const after = await findEabKey(db, key.kid);
        res.json(keyView(after ?? key));
      },
    }),
  ];
}
