/** Orders: creation (starts the order workflow), reading one, listing. */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { getOrganisation, getUser, holderOf, orderOrganisationOf, type User } from '../../db/accounts.js';
import type { Database } from '../../db/client.js';
import { checkCsr } from '../../lib/pki/csr.js';
import { keyInUse } from '../../db/certificates.js';
import { claimIdempotencyKey, listOrderRows } from '../../db/orders.js';
import { activePartnerTerms } from '../../db/partner-codes.js';
import {
  CATALOG,
  certifiesDnsNames,
  DURATIONS_YEARS,
  OPERATING_SYSTEMS,
  ORDERABLE_PRODUCTS,
  PAYMENT_METHODS,
  PRODUCT_CODES,
  type ProductCode,
} from '../../domain/catalog.js';
import { partnerAllows, partnerPriceOf, type PartnerTerms } from '../../domain/partner.js';
import type { Deadlines } from '../../domain/deadlines.js';
import { ORDER_STATUSES, WAITING_ON, type OrderInput, type OrderView } from '../../domain/order.js';
import { isE164 } from '../../domain/rules/phone.js';
import { checkSiret } from '../../domain/rules/siret.js';
import { ROLES, STAFF_ROLES, type Principal } from '../../domain/roles.js';
import { orderWorkflowId, registeredUpdate, SEARCH_ATTRIBUTES } from '../../workflows/definitions.js';
import type { orderWorkflow } from '../../workflows/order.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { visibleOrder, withActions } from '../order-updates.js';
import { OrderViewSchema, OrderWithActionsSchema, problemResponse } from '../schemas.js';

export interface OrdersDeps {
  readonly db: Database;
  readonly temporal: Client;
  readonly taskQueue: string;
  /** How long a creation waits for the workflow to confirm the order before answering 202. */
  readonly registrationTimeoutMs: number;
  readonly deadlines: Deadlines;
}

const CreateOrderBody = z
  .object({
    product: z.enum(PRODUCT_CODES),
    durationYears: z.union(DURATIONS_YEARS.map((d) => z.literal(d))),
    os: z.enum(OPERATING_SYSTEMS),
    partnerCode: z.string().trim().min(1).max(64).optional(),
    holderUserId: z.uuid().optional(),
    payment: z.object({
      method: z.enum(PAYMENT_METHODS),
      purchaseOrderNumber: z.string().trim().min(1).max(64).optional(),
    }),
    termsAccepted: z.boolean(),
    csr: z.string().max(32_768).optional(),
    extraSans: z.array(z.string().max(253)).max(100).optional(),
    domainOwner: z.string().max(200).optional(),
  })
  .strict()
  .meta({ id: 'CreateOrder' });
type CreateOrderBody = z.infer<typeof CreateOrderBody>;

const IdParams = z.object({ id: z.uuid() });

const ListQuery = z.object({
  status: z.enum(ORDER_STATUSES).optional(),
  product: z.enum(PRODUCT_CODES).optional(),
  waitingOn: z.enum(WAITING_ON).optional(),
  organisationId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

const IdempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().meta({ description: 'Retrying with the same key returns the same order' }),
});

/** Canonical JSON (sorted keys) so that the same request always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The holder of a new order: the caller, or, for an agent, a user of the agent's organisation. */
async function resolveHolder(db: Database, caller: Principal, body: CreateOrderBody): Promise<User> {
  if (body.holderUserId === undefined || body.holderUserId === caller.userId) {
    const self = await getUser(db, caller.userId);
    if (self === undefined) throw Problem.unauthorized('The account behind this key no longer exists.');
    return self;
  }
  if (caller.role !== 'agent') {
    throw Problem.forbidden('Only a certification agent (mandataire) may order for another person.', 'agent-mandate-required');
  }
  const holder = await getUser(db, body.holderUserId);
  // Same answer for an unknown user and a user of another organisation: ids of other tenants are not disclosed.
  if (holder === undefined || holder.organisationId !== caller.organisationId) {
    throw Problem.unprocessable('holder-not-in-organisation', 'The holder must be a user of your organisation.');
  }
  return holder;
}

/** The partner code's terms (null without a code): the code must be active and open the product ordered. */
async function partnerTermsFor(db: Database, body: CreateOrderBody): Promise<PartnerTerms | null> {
  if (body.partnerCode === undefined) return null;
  const terms = await activePartnerTerms(db, body.partnerCode);
  if (terms === undefined) throw Problem.unprocessable('unknown-partner-code', 'This partner code is unknown or no longer valid.');
  if (!partnerAllows(terms, body.product)) {
    throw Problem.unprocessable('product-not-in-partner-code', `The partner code ${terms.code} does not cover ${body.product}.`, { products: terms.products });
  }
  return terms;
}

/** Every rule of an order that can be checked before the workflow exists (SPEC §3, creation). */
async function buildOrderInput(deps: OrdersDeps, caller: Principal, body: CreateOrderBody, orderId: string): Promise<OrderInput> {
  const { db } = deps;
  const product = CATALOG[body.product];
  if (!ORDERABLE_PRODUCTS.has(body.product)) {
    throw Problem.unprocessable('product-not-orderable', `${body.product} cannot be ordered through the API yet.`, {
      orderable: [...ORDERABLE_PRODUCTS],
    });
  }
  if (!body.termsAccepted) throw Problem.unprocessable('terms-not-accepted', 'The terms and conditions must be accepted.');
  const partner = await partnerTermsFor(db, body);
  const holder = await resolveHolder(db, caller, body);
  if (holder.organisationId === null) {
    throw Problem.unprocessable('holder-without-organisation', 'The holder must belong to an organisation.');
  }
  const organisation = await getOrganisation(db, holder.organisationId);
  if (organisation === undefined) throw Problem.unprocessable('holder-without-organisation', 'The holder must belong to an organisation.');
  const siret = checkSiret(organisation.siret);
  if (!siret.ok) throw Problem.unprocessable('invalid-siret', `The organisation's SIRET is not valid: ${siret.reason}.`);

  const { method } = body.payment;
  const purchaseOrderNumber = body.payment.purchaseOrderNumber ?? null;
  if (organisation.publicAdministration && method !== 'purchase_order') {
    throw Problem.unprocessable('payment-method-not-allowed', 'A public administration pays by purchase order only.');
  }
  if (method === 'purchase_order' && purchaseOrderNumber === null) {
    throw Problem.unprocessable('purchase-order-number-required', 'Payment by purchase order needs the purchase order number.');
  }
  if (product.proofing === 'organisation_domain' && (organisation.locality ?? '').trim() === '') {
    // BR §7.1.4.2: an OV certificate names the organisation's locality.
    throw Problem.unprocessable('organisation-locality-required', "A TLS certificate names the organisation's locality: the organisation has none on file.");
  }
  const certificateRequest = await readCertificateRequest(db, body, orderId);
  // A persons certificate names its holder (CN, givenName, surname): an account without them would be accepted here
  // and stopped on hold at issuance, after review and payment.
  if (product.kind === 'person') {
    const missingName = holder.givenName.trim() === '' ? 'givenName' : holder.surname.trim() === '' ? 'surname' : undefined;
    if (missingName !== undefined) {
      throw Problem.unprocessable('holder-name-required', `${body.product} names its holder: the holder's account has no ${missingName === 'givenName' ? 'given name' : 'surname'}.`, {
        field: `holder.${missingName}`,
      });
    }
  }
  if (product.smsUnlock && certificateRequest === null && (holder.phone === null || !isE164(holder.phone))) {
    throw Problem.unprocessable(
      'mobile-phone-required',
      `${body.product} is unlocked by SMS: the holder's account needs a mobile number in E.164 form (+33612345678).`,
    );
  }
  return {
    orderId,
    product: body.product,
    durationYears: body.durationYears,
    os: body.os,
    partnerCode: partner?.code ?? null,
    holder: holderOf(holder),
    orderedByUserId: caller.userId,
    organisation: orderOrganisationOf(organisation),
    certificateRequest,
    domainOwner: body.domainOwner?.trim() ?? null,
    payment: { method, purchaseOrderNumber },
    priceCents: partnerPriceOf(body.product, body.durationYears, partner),
    createdAt: new Date().toISOString(),
    deadlines: deps.deadlines,
  };
}

/**
 * A CSR under the ordering rules: checkCsr's rules (each problem named, the first as the type), then its key neither
 * certified for another order nor reported compromised. POST /v1/orders and POST /v1/csr/verify both ask this.
 */
export async function checkOrderCsr(
  db: Database,
  request: { readonly product: ProductCode; readonly csr: string; readonly extraSans?: readonly string[] | undefined },
  exceptOrderId?: string,
): Promise<Extract<Awaited<ReturnType<typeof checkCsr>>, { ok: true }>> {
  const extraSans = request.extraSans !== undefined && request.extraSans.length > 0 ? { extraSans: [...request.extraSans] } : {};
  const checked = await checkCsr(request.csr, { product: request.product, ...extraSans });
  if (!checked.ok) {
    const [firstProblem] = checked.problems;
    throw Problem.unprocessable(firstProblem?.rule ?? 'csr-invalid', checked.problems.map((p) => p.message).join(' '), { problems: checked.problems });
  }
  const used = await keyInUse(db, checked.csr.publicKeySpki, exceptOrderId === undefined ? {} : { exceptOrderId });
  if (used !== undefined) {
    throw Problem.unprocessable(
      used.reason === 'compromised' ? 'key-compromised' : 'key-in-use',
      used.reason === 'compromised' ? 'This key was reported compromised: generate a new one.' : 'This key is already certified for another order: generate a new one.',
    );
  }
  return checked;
}

/**
 * The customer's CSR, checked (SPEC §5): required for the server products, accepted for personal products delivered as
 * software, refused where the CA personalises a token. Every problem is named with its rule.
 */
async function readCertificateRequest(db: Database, body: CreateOrderBody, orderId: string): Promise<OrderInput['certificateRequest']> {
  const product = CATALOG[body.product];
  const hasNames = certifiesDnsNames(body.product);
  if (body.extraSans !== undefined && !hasNames) {
    throw Problem.unprocessable('extra-sans-not-accepted', `${body.product} certifies no domain names: extraSans is not accepted.`);
  }
  if (body.domainOwner !== undefined && product.proofing !== 'organisation_domain') {
    throw Problem.unprocessable('domain-owner-not-accepted', `${body.product} certifies no domain names: domainOwner is not accepted.`);
  }
  if (body.csr === undefined) {
    if (product.keyOrigin === 'customer_csr') {
      throw Problem.unprocessable('csr-required', `${body.product} is issued for your own key: send its CSR (PEM). POST /v1/csr-command gives the openssl command.`);
    }
    return null;
  }
  if (product.keyOrigin === 'token') {
    throw Problem.unprocessable('csr-not-accepted', `${body.product} is issued on a token the CA personalises: no CSR is accepted.`);
  }
  const checked = await checkOrderCsr(db, { product: body.product, csr: body.csr, extraSans: body.extraSans }, orderId);
  return {
    csrPem: body.csr.trim(),
    publicKeySpki: checked.csr.publicKeySpki,
    keyDescription: checked.csr.keyDescription,
    dnsNames: hasNames ? checked.names : [],
  };
}

/** How an order's workflow is started (also by the parked-orders benchmark): one workflow per order id, ever. */
export function orderWorkflowStartOptions(taskQueue: string, input: OrderInput): WorkflowStartOptions<typeof orderWorkflow> {
  return {
    taskQueue,
    workflowId: orderWorkflowId(input.orderId),
    args: [input],
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.status, value: 'created' },
      { key: SEARCH_ATTRIBUTES.waitingOn, value: 'nobody' },
      { key: SEARCH_ATTRIBUTES.product, value: input.product },
      { key: SEARCH_ATTRIBUTES.organisation, value: input.organisation.id },
    ],
  };
}

/** Starts the order's workflow, or finds it already started by an earlier attempt of the same idempotent request. */
async function startOrder(deps: OrdersDeps, input: OrderInput, replay: boolean): Promise<void> {
  try {
    await deps.temporal.workflow.start<typeof orderWorkflow>('orderWorkflow', orderWorkflowStartOptions(deps.taskQueue, input));
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    if (!replay) throw Problem.conflict('order-exists', `An order with id ${input.orderId} already exists.`);
  }
}

/** Waits until the workflow has recorded the order; undefined when it did not within the timeout (no worker yet). */
async function awaitRegistration(deps: OrdersDeps, orderId: string): Promise<OrderView | undefined> {
  const handle = deps.temporal.workflow.getHandle(orderWorkflowId(orderId));
  try {
    return await deps.temporal.withAbortSignal(AbortSignal.timeout(deps.registrationTimeoutMs), () =>
      handle.executeUpdate(registeredUpdate),
    );
  } catch (err) {
    // The abort reaches the client as a cancelled gRPC call, which the SDK rethrows as its own error type.
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return undefined;
    if ((err as { name?: string }).name === 'AbortError' || (err as { code?: number }).code === 1) return undefined;
    throw err;
  }
}

const encodeCursor = (row: { createdAt: Date; id: string }): string =>
  Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || !z.uuid().safeParse(id).success) throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw Problem.badRequest('The cursor is not one this API returned.');
  }
}

export function orderRoutes(deps: OrdersDeps): AnyRoute[] {
  const { db } = deps;
  return [
    defineRoute({
      method: 'post',
      path: '/v1/orders',
      summary: 'Create an order; its workflow starts at once',
      tags: ['orders'],
      access: ['customer', 'agent'],
      body: CreateOrderBody,
      headers: IdempotencyHeader,
      responses: {
        201: { description: 'The order, recorded and waiting for evidence, with the actions the caller may ask for now', content: { 'application/json': { schema: OrderWithActionsSchema } } },
        202: { description: 'The order is started; the workflow has not confirmed it yet' },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad API key'),
        403: problemResponse('Role not allowed'),
        409: problemResponse('An order with that id exists'),
        422: problemResponse('A rule is not met, or the Idempotency-Key was used with another body'),
        503: problemResponse('Temporal or the database is down'),
      },
      async handle({ req, res, body, principal }) {
        const idempotencyKey = req.get('Idempotency-Key');
        if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
          throw Problem.badRequest('Idempotency-Key must be 1 to 255 characters.');
        }
        let orderId = uuidv7();
        let replay = false;
        // Rules first: a refused request does not consume its key.
        const input = await buildOrderInput(deps, principal, body, orderId);
        if (idempotencyKey !== undefined) {
          const requestHash = createHash('sha256').update(canonical(body)).digest('hex');
          const claim = await claimIdempotencyKey(db, { userId: principal.userId, key: idempotencyKey, requestHash, resourceId: orderId });
          if (claim.kind === 'conflict') {
            throw Problem.unprocessable('idempotency-key-reused', 'This Idempotency-Key was already used with a different request body.');
          }
          replay = claim.kind === 'replay';
          orderId = claim.resourceId;
        }
        const started: OrderInput = { ...input, orderId };
        await startOrder(deps, started, replay);
        const location = `/v1/orders/${orderId}`;
        if (replay) res.setHeader('Idempotent-Replayed', 'true');
        const view = await awaitRegistration(deps, orderId);
        if (view === undefined) {
          res.status(202).location(location).json({ id: orderId, status: 'created' });
          return;
        }
        res.status(201).location(location).json(withActions(principal, view));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orders/{id}',
      summary: 'An order: state, checklist, deadlines, payment, who it waits on',
      tags: ['orders'],
      access: ROLES,
      params: IdParams,
      responses: {
        200: { description: 'The order, with the actions the caller may ask for now', content: { 'application/json': { schema: OrderWithActionsSchema } } },
        401: problemResponse('No or bad API key'),
        404: problemResponse('No such order, or not yours'),
      },
      async handle({ res, params, principal }) {
        res.json(withActions(principal, (await visibleOrder(db, principal, params.id)).view));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orders',
      summary: 'Orders visible to the caller, newest first',
      tags: ['orders'],
      access: ROLES,
      query: ListQuery,
      responses: {
        200: {
          description: 'A page of orders',
          content: {
            'application/json': { schema: z.object({ items: z.array(OrderViewSchema), nextCursor: z.string().nullable() }) },
          },
        },
        400: problemResponse('Bad filter or cursor'),
        401: problemResponse('No or bad API key'),
      },
      async handle({ res, query, principal }) {
        const scope = STAFF_ROLES.has(principal.role)
          ? {}
          : principal.role === 'agent' || principal.role === 'org_admin'
            ? { organisationId: principal.organisationId ?? '00000000-0000-0000-0000-000000000000' }
            : { userId: principal.userId };
        const rows = await listOrderRows(db, {
          scope,
          status: query.status,
          product: query.product,
          waitingOn: query.waitingOn,
          organisationId: query.organisationId,
          after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
          limit: query.limit + 1,
        });
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        res.json({ items: page.map((r) => r.view), nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last) : null });
      },
    }),
  ];
}
