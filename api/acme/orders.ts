/**
 * ACME orders (RFC 8555 §7.4-7.5): newOrder, authorizations, challenges (http-01, dns-01; wildcards by dns-01
 * only), finalize and the certificate. Each challenge is checked by the worker (workflows/acme.ts runs the
 * domain-validation activity); a finalize with a CSR under the ordering rules starts the CertFlow order
 * (orderWorkflow with its `acme` input, docs/acme.md says why there), whose id is the ACME order's own, so that one
 * ACME order makes one CertFlow order however often finalize is retried.
 */
import { createHash, randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Request, Response, Router } from 'express';
import type { DomainCheckResult } from '../../activities/types.js';
import { getOrganisation, getUser, holderOf, orderOrganisationOf } from '../../db/accounts.js';
import {
  createAcmeOrder,
  deactivateAuthorization,
  getAcmeOrder,
  getAuthorization,
  lastOrganisationApproval,
  listAcmeOrderIds,
  moveAcmeOrder,
  orderAuthorizations,
  recordChallenge,
  reusableAuthorization,
  type AcmeAccountRow,
  type AcmeAuthorizationRow,
  type AcmeOrderRow,
} from '../../db/acme.js';
import type { Database } from '../../db/client.js';
import { getOrderRow } from '../../db/orders.js';
import type { AcmeChallengeState } from '../../db/schema.js';
import { isAcmeProduct } from '../../domain/acme.js';
import { priceOf } from '../../domain/catalog.js';
import type { Deadlines } from '../../domain/deadlines.js';
import type { DomainChallenge, OrderInput } from '../../domain/order.js';
import { checkDnsName } from '../../domain/rules/fqdn.js';
import { identityReusableAt } from '../../domain/rules/identity-reuse.js';
import { dcvReusableAt } from '../../domain/rules/validity.js';
import { DAY_MS } from '../../domain/time.js';
import type { acmeChallengeWorkflow } from '../../workflows/acme.js';
import { Problem } from '../problem.js';
import type { RateLimits } from '../rate-limits.js';
import { checkOrderCsr, orderWorkflowStartOptions } from '../routes/orders.js';
import { AcmeProblem, acmeErrorUrn } from './problem.js';
import type { AcmeUrls } from './router.js';
import type { VerifiedPost } from './jws.js';

export interface AcmeOrderDeps {
  readonly db: Database;
  readonly temporal: Client;
  readonly taskQueue: string;
  readonly deadlines: Deadlines;
  /** The certificate and its CAs up to the root (the CA view). */
  readonly chainPem: (serial: string) => Promise<string>;
  /** The API's shared counters (api/rate-limits.ts): new orders and failed validations per account and organisation. */
  readonly limits: RateLimits;
}

/** A CertFlow 429 as ACME says it: rateLimited, with Retry-After. */
async function limited(count: () => Promise<unknown>): Promise<void> {
  try {
    await count();
  } catch (err) {
    if (!(err instanceof Problem && err.status === 429)) throw err;
    throw new AcmeProblem(429, 'rateLimited', err.detail ?? 'Too many requests.', { headers: { 'Retry-After': String(err.extra.retryAfter) } });
  }
}

const limitKeys = (account: AcmeAccountRow) => ({ account: account.id, organisation: account.organisationId });

type Post = (req: Request, key: 'jwk' | 'kid') => Promise<{ urls: AcmeUrls; v: VerifiedPost }>;

export const ACME_ORDER_PATHS = { newOrder: '/new-order', order: '/order/', authz: '/authz/', challenge: '/chall/', certificate: '/cert/' } as const;

/** How long an order and its authorizations wait for the client (RFC 8555 leaves it to the CA). */
const ORDER_LIFETIME_MS = 7 * DAY_MS;
const MAX_IDENTIFIERS = 100;
/** A client polls a processing order after this many seconds. */
const RETRY_AFTER_SECONDS = '2';

const keyAuthorization = (token: string, thumbprint: string): string => `${token}.${thumbprint}`;
const nameOf = (authz: AcmeAuthorizationRow): string => (authz.wildcard ? `*.${authz.identifier}` : authz.identifier);

/** What the worker looks for: the key authorization in the http-01 file, its digest in the dns-01 TXT record. */
function dcvChallengeOf(authz: AcmeAuthorizationRow, ch: AcmeChallengeState, thumbprint: string): DomainChallenge {
  const keyAuth = keyAuthorization(ch.token, thumbprint);
  const base = { domain: nameOf(authz), authorizationDomain: authz.identifier, createdAt: authz.createdAt.toISOString(), expiresAt: authz.expiresAt.toISOString() };
  if (ch.type === 'dns-01') {
    const value = createHash('sha256').update(keyAuth).digest('base64url');
    return { ...base, method: 'dns', token: value, dns: { recordName: `_acme-challenge.${authz.identifier}`, recordType: 'TXT', value } };
  }
  const path = `/.well-known/acme-challenge/${ch.token}`;
  return { ...base, method: 'http', token: keyAuth, http: { url: `http://${authz.identifier}${path}`, path, content: keyAuth } };
}

const newChallenge = (type: AcmeChallengeState['type']): AcmeChallengeState => ({ type, token: randomBytes(32).toString('base64url'), status: 'pending' });

function challengeBody(urls: AcmeUrls, authz: AcmeAuthorizationRow, ch: AcmeChallengeState) {
  return {
    type: ch.type,
    url: urls.of(`${ACME_ORDER_PATHS.challenge}${authz.id}/${ch.type}`),
    token: ch.token,
    status: ch.status,
    ...(ch.validatedAt !== undefined ? { validated: ch.validatedAt } : {}),
    ...(ch.error !== undefined ? { error: ch.error } : {}),
  };
}

const authzBody = (urls: AcmeUrls, authz: AcmeAuthorizationRow) => ({
  identifier: { type: 'dns', value: authz.identifier },
  status: authz.status,
  expires: authz.expiresAt.toISOString(),
  ...(authz.wildcard ? { wildcard: true } : {}),
  challenges: authz.challenges.map((ch) => challengeBody(urls, authz, ch)),
});

async function orderBody(deps: AcmeOrderDeps, urls: AcmeUrls, order: AcmeOrderRow) {
  const authzs = await orderAuthorizations(deps.db, order.id);
  return {
    status: order.status,
    expires: order.expiresAt.toISOString(),
    identifiers: order.identifiers,
    authorizations: authzs.map((a) => urls.of(`${ACME_ORDER_PATHS.authz}${a.id}`)),
    finalize: urls.of(`${ACME_ORDER_PATHS.order}${order.id}/finalize`),
    ...(order.status === 'valid' ? { certificate: urls.of(`${ACME_ORDER_PATHS.certificate}${order.id}`) } : {}),
    ...(order.error != null ? { error: order.error } : {}),
  };
}

/** A processing order follows its CertFlow order: valid once the certificate is issued, invalid if it closed without. */
async function refreshed(deps: AcmeOrderDeps, order: AcmeOrderRow): Promise<AcmeOrderRow> {
  if (order.status !== 'processing' || order.certflowOrderId === null) return order;
  const row = await getOrderRow(deps.db, order.certflowOrderId);
  if (row === undefined) return order;
  if (row.view.certificateSerial !== null && (row.status === 'completed' || row.status === 'awaiting_acceptance')) {
    await moveAcmeOrder(deps.db, order.id, 'processing', { status: 'valid' });
  } else if (row.status === 'cancelled' || row.status === 'abandoned' || row.status === 'refused') {
    const error = { type: acmeErrorUrn('serverInternal'), detail: `The order was ${row.status}${row.view.closedReason === null ? '' : `: ${row.view.closedReason}`}.` };
    await moveAcmeOrder(deps.db, order.id, 'processing', { status: 'invalid', error });
  } else {
    return order;
  }
  return (await getAcmeOrder(deps.db, order.id)) ?? order;
}

/** The account's own order, authorization or other resource; another account's is as unknown as a missing one. */
async function ownOrder(db: Database, account: AcmeAccountRow, id: string): Promise<AcmeOrderRow> {
  const order = await getAcmeOrder(db, id);
  if (order === undefined || order.accountId !== account.id) throw AcmeProblem.notFound('No such order.');
  return order;
}

async function ownAuthorization(db: Database, account: AcmeAccountRow, id: string): Promise<{ authz: AcmeAuthorizationRow; order: AcmeOrderRow }> {
  const authz = await getAuthorization(db, id);
  const order = authz === undefined ? undefined : await getAcmeOrder(db, authz.orderId);
  if (authz === undefined || order === undefined || order.accountId !== account.id) throw AcmeProblem.notFound('No such authorization.');
  return { authz, order };
}

/** RFC 8555 §7.4: dns identifiers the account's product may certify; a wildcard only for SSL_WILDCARD. */
function checkIdentifiers(account: AcmeAccountRow, value: unknown): { type: 'dns'; value: string }[] {
  if (!Array.isArray(value) || value.length === 0) throw AcmeProblem.malformed('identifiers must be a non-empty array.');
  if (value.length > MAX_IDENTIFIERS) throw new AcmeProblem(400, 'rejectedIdentifier', `At most ${MAX_IDENTIFIERS} identifiers.`);
  const seen = new Set<string>();
  const out: { type: 'dns'; value: string }[] = [];
  for (const id of value as unknown[]) {
    const { type, value: name } = (id ?? {}) as { type?: unknown; value?: unknown };
    if (type !== 'dns') throw new AcmeProblem(400, 'unsupportedIdentifier', `Only dns identifiers are certified, not ${String(type)}.`);
    if (typeof name !== 'string') throw AcmeProblem.malformed('An identifier has no value.');
    const wildcard = name.startsWith('*.');
    if (wildcard && account.product !== 'SSL_WILDCARD') throw new AcmeProblem(400, 'rejectedIdentifier', `${name}: wildcards are certified by SSL_WILDCARD only; this account orders ${account.product}.`);
    const checked = checkDnsName(name, { wildcardAllowed: wildcard });
    if (!checked.ok) throw new AcmeProblem(400, 'rejectedIdentifier', checked.message);
    if (!seen.has(checked.name)) out.push({ type: 'dns', value: checked.name });
    seen.add(checked.name);
  }
  return out;
}

/** A PEM CSR from finalize's base64url DER. */
function csrPemOf(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) throw new AcmeProblem(400, 'badCSR', 'csr must be the base64url of a DER CSR.');
  const b64 = Buffer.from(value, 'base64url').toString('base64');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${(b64.match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

export function acmeOrderRoutes(router: Router, deps: AcmeOrderDeps, post: Post): void {
  const { db } = deps;

  router.post(ACME_ORDER_PATHS.newOrder, async (req: Request, res: Response) => {
    const { urls, v } = await post(req, 'kid');
    const account = v.account as AcmeAccountRow;
    const payload = (v.payload ?? {}) as Record<string, unknown>;
    if (payload.notBefore !== undefined || payload.notAfter !== undefined) throw AcmeProblem.malformed('notBefore and notAfter are not supported: the validity follows the BR schedule.');
    if (!isAcmeProduct(account.product)) throw AcmeProblem.unauthorized(`The account's product ${account.product} is not sold over ACME.`);
    await limited(() => deps.limits.take('acme-new-order', limitKeys(account)));
    const identifiers = checkIdentifiers(account, payload.identifiers);
    const now = new Date();
    const expiresAt = new Date(now.getTime() + ORDER_LIFETIME_MS);
    const authorizations = [];
    for (const { value } of identifiers) {
      const wildcard = value.startsWith('*.');
      const identifier = wildcard ? value.slice(2) : value;
      // A name the organisation proved within the BR's reuse window need not be proved again.
      const earlier = (await reusableAuthorization(db, { organisationId: account.organisationId, identifier, wildcard })).find((a) =>
        a.challenges.some((c) => c.status === 'valid' && c.validatedAt !== undefined && dcvReusableAt(c.validatedAt, now)),
      );
      const reused = earlier?.challenges.find((c) => c.status === 'valid');
      authorizations.push(
        reused !== undefined
          ? { identifier, wildcard, status: 'valid' as const, expiresAt, challenges: [reused] }
          : { identifier, wildcard, status: 'pending' as const, expiresAt, challenges: wildcard ? [newChallenge('dns-01')] : [newChallenge('http-01'), newChallenge('dns-01')] },
      );
    }
    const { order } = await createAcmeOrder(db, { accountId: account.id, identifiers, expiresAt, authorizations });
    res.status(201).location(urls.of(`${ACME_ORDER_PATHS.order}${order.id}`)).json(await orderBody(deps, urls, order));
  });

  router.post(`${ACME_ORDER_PATHS.order}:id`, async (req: Request, res: Response) => {
    const { urls, v } = await post(req, 'kid');
    const order = await refreshed(deps, await ownOrder(db, v.account as AcmeAccountRow, String(req.params.id)));
    if (order.status === 'processing') res.setHeader('Retry-After', RETRY_AFTER_SECONDS);
    res.status(200).json(await orderBody(deps, urls, order));
  });

  router.post('/acct/:id/orders', async (req: Request, res: Response) => {
    const { urls, v } = await post(req, 'kid');
    const account = v.account as AcmeAccountRow;
    if (account.id !== req.params.id) throw AcmeProblem.unauthorized("An account lists its own orders only.");
    res.status(200).json({ orders: (await listAcmeOrderIds(db, account.id)).map((id) => urls.of(`${ACME_ORDER_PATHS.order}${id}`)) });
  });

  router.post(`${ACME_ORDER_PATHS.authz}:id`, async (req: Request, res: Response) => {
    const { urls, v } = await post(req, 'kid');
    const account = v.account as AcmeAccountRow;
    let { authz } = await ownAuthorization(db, account, String(req.params.id));
    const payload = v.payload as Record<string, unknown> | null;
    if (payload !== null && payload.status === 'deactivated') {
      authz = await deactivateAuthorization(db, authz.id) ?? authz;
    } else if (payload !== null) {
      throw AcmeProblem.malformed('An authorization is read (POST-as-GET) or deactivated.');
    }
    res.status(200).json(authzBody(urls, authz));
  });

  router.post(`${ACME_ORDER_PATHS.challenge}:authz/:type`, async (req: Request, res: Response) => {
    const { urls, v } = await post(req, 'kid');
    const account = v.account as AcmeAccountRow;
    let { authz } = await ownAuthorization(db, account, String(req.params.authz));
    const ch = authz.challenges.find((c) => c.type === req.params.type);
    if (ch === undefined) throw AcmeProblem.notFound('No such challenge.');
    res.setHeader('Link', [res.getHeader('Link') as string, `<${urls.of(`${ACME_ORDER_PATHS.authz}${authz.id}`)}>;rel="up"`].join(', '));
    // A POST-as-GET reads it; any JSON object (normally {}) tells the server to check it, once.
    if (v.payload === null || ch.status !== 'pending' || authz.status !== 'pending') {
      res.status(200).json(challengeBody(urls, authz, ch));
      return;
    }
    if (authz.expiresAt.getTime() <= Date.now()) throw AcmeProblem.malformed('The authorization has expired: place a new order.');
    await limited(() => deps.limits.refuseIfSpent('acme-failed-validation', limitKeys(account)));
    authz = await recordChallenge(db, authz, { ...ch, status: 'processing' });
    const result = await deps.temporal.workflow.execute<typeof acmeChallengeWorkflow>('acmeChallengeWorkflow', {
      taskQueue: deps.taskQueue,
      workflowId: `acme-challenge-${authz.id}-${ch.type}`,
      args: [{ challenge: dcvChallengeOf(authz, ch, account.jwkThumbprint) }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const checked = outcome(ch, result);
    if (checked.status === 'invalid') await deps.limits.allow('acme-failed-validation', limitKeys(account));
    authz = await recordChallenge(db, authz, checked);
    res.status(200).json(challengeBody(urls, authz, checked));
  });

  router.post(`${ACME_ORDER_PATHS.order}:id/finalize`, async (req: Request, res: Response) => {
    const { urls, v } = await post(req, 'kid');
    const account = v.account as AcmeAccountRow;
    let order = await refreshed(deps, await ownOrder(db, account, String(req.params.id)));
    if (order.status === 'pending' || order.status === 'invalid') {
      throw new AcmeProblem(403, 'orderNotReady', `The order is ${order.status}: every authorization must be valid before finalize.`);
    }
    if (order.status === 'ready') {
      const payload = (v.payload ?? {}) as Record<string, unknown>;
      const input = await certflowOrderInput(deps, account, order, csrPemOf(payload.csr));
      try {
        await deps.temporal.workflow.start('orderWorkflow', orderWorkflowStartOptions(deps.taskQueue, input));
      } catch (err) {
        // An earlier finalize of this order started it: one CertFlow order per ACME order.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      await moveAcmeOrder(db, order.id, 'ready', { status: 'processing', certflowOrderId: order.id });
      order = (await getAcmeOrder(db, order.id)) ?? order;
    }
    if (order.status === 'processing') res.setHeader('Retry-After', RETRY_AFTER_SECONDS);
    res.status(200).location(urls.of(`${ACME_ORDER_PATHS.order}${order.id}`)).json(await orderBody(deps, urls, order));
  });

  router.post(`${ACME_ORDER_PATHS.certificate}:id`, async (req: Request, res: Response) => {
    const { v } = await post(req, 'kid');
    const order = await refreshed(deps, await ownOrder(db, v.account as AcmeAccountRow, String(req.params.id)));
    const row = order.status === 'valid' && order.certflowOrderId !== null ? await getOrderRow(db, order.certflowOrderId) : undefined;
    const serial = row?.view.certificateSerial ?? null;
    if (serial === null) throw AcmeProblem.notFound('The order has no certificate yet.');
    // The certificate and its issuing CAs; the root is the relying party's own.
    const blocks = (await deps.chainPem(serial)).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    const chain = blocks.length > 1 ? blocks.slice(0, -1) : blocks;
    res.status(200).type('application/pem-certificate-chain').send(chain.map((b) => `${b.trim()}\n`).join(''));
  });
}

/** The challenge after the worker's check: valid with its evidence, or invalid with what was seen. */
function outcome(ch: AcmeChallengeState, result: DomainCheckResult): AcmeChallengeState {
  if (result.validated) return { type: ch.type, token: ch.token, status: 'valid', validatedAt: result.checkedAt, evidence: result.evidence };
  const type = /timeout|connect|refused|unreachable/i.test(result.reason) ? 'connection' : ch.type === 'dns-01' ? 'dns' : 'incorrectResponse';
  return { type: ch.type, token: ch.token, status: 'invalid', error: { type: acmeErrorUrn(type === 'dns' && /wrong TXT/.test(result.reason) ? 'incorrectResponse' : type), detail: result.reason } };
}

/**
 * The CertFlow order of a finalize: the account's product for its organisation, the CSR under the ordering rules with
 * exactly the order's names, the holder whose approved file vouches for the organisation, billed to it.
 */
async function certflowOrderInput(deps: AcmeOrderDeps, account: AcmeAccountRow, order: AcmeOrderRow, csrPem: string): Promise<OrderInput> {
  const { db } = deps;
  const product = account.product;
  if (!isAcmeProduct(product)) throw AcmeProblem.unauthorized(`The account's product ${product} is not sold over ACME.`);
  let checked: Awaited<ReturnType<typeof checkOrderCsr>>;
  try {
    checked = await checkOrderCsr(db, { product, csr: csrPem }, order.id);
  } catch (err) {
    if (err instanceof Problem) throw new AcmeProblem(400, 'badCSR', err.detail ?? err.message);
    throw err;
  }
  const wanted = new Set(order.identifiers.map((i) => i.value));
  const names = new Set(checked.names);
  const extra = [...names].filter((n) => !wanted.has(n));
  const missing = [...wanted].filter((n) => !names.has(n));
  if (extra.length > 0 || missing.length > 0) {
    throw new AcmeProblem(400, 'badCSR', `The CSR's names must be the order's identifiers${extra.length > 0 ? `; not in the order: ${extra.join(', ')}` : ''}${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}.`);
  }
  const approval = await lastOrganisationApproval(db, account.organisationId);
  const now = new Date();
  if (approval === undefined || !identityReusableAt(approval.at, now)) throw AcmeProblem.unauthorized("The RA's validation of your organisation is too old to be reused: order once through the customer area.");
  const holder = await getUser(db, approval.holderUserId);
  const organisation = await getOrganisation(db, account.organisationId);
  if (holder === undefined || organisation === undefined) throw AcmeProblem.unauthorized('The organisation or its validated holder no longer exists.');
  if ((organisation.locality ?? '').trim() === '') throw AcmeProblem.unauthorized("A TLS certificate names the organisation's locality: the organisation has none on file.");
  const validations = (await orderAuthorizations(db, order.id)).map((authz) => {
    const ch = authz.challenges.find((c) => c.status === 'valid');
    return { name: nameOf(authz), method: ch?.type === 'http-01' ? ('http' as const) : ('dns' as const), validatedAt: ch?.validatedAt ?? now.toISOString(), evidence: `ACME ${ch?.type ?? 'dns-01'}: ${ch?.evidence ?? ''}` };
  });
  return {
    orderId: order.id,
    product,
    durationYears: 1,
    os: 'other',
    partnerCode: null,
    holder: holderOf(holder),
    orderedByUserId: holder.id,
    organisation: orderOrganisationOf(organisation),
    certificateRequest: { csrPem: csrPem.trim(), publicKeySpki: checked.csr.publicKeySpki, keyDescription: checked.csr.keyDescription, dnsNames: checked.names },
    domainOwner: null,
    payment: { method: 'purchase_order', purchaseOrderNumber: `ACME-${order.id}` },
    priceCents: priceOf(product, 1),
    createdAt: now.toISOString(),
    deadlines: deps.deadlines,
    acme: { accountId: account.id, acmeOrderId: order.id, identity: { approvedOrderId: approval.orderId, approvedAt: approval.at.toISOString() }, validations },
  };
}
