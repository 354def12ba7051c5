/**
 * The ACME server (RFC 8555, SPEC §11) under /acme/: directory, nonces, accounts bound with an EAB key, key
 * rollover. Every answer carries a fresh Replay-Nonce and a Link to the directory; errors are ACME problem documents.
 *
 * URLs are built from the request's own scheme and host (`trust proxy` decides whether X-Forwarded-* count), so the
 * JWS `url` a client signs is compared with the URL it actually reached.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { JWK } from 'jose';
import type { Logger } from '../../config/logger.js';
import { changeAcmeAccountKey, createAcmeAccount, findAccountByThumbprint, issueNonce, updateAcmeAccount, type AcmeAccountRow } from '../../db/acme.js';
import type { Database } from '../../db/client.js';
import { verifyExternalAccountBinding } from './eab.js';
import { parseJws, publicJwk, thumbprintOf, verifyPost, verifyWithJwk, JWS_ALGORITHMS, isPublicJwk, type VerifiedPost } from './jws.js';
import { acmeErrorHandler, AcmeProblem } from './problem.js';
import { ACME_ORDER_PATHS, acmeOrderRoutes, type AcmeOrderDeps } from './orders.js';
import { acmeRevocationRoutes, REVOKE_CERT_PATH } from './revoke.js';
import { acmeRenewalInfoRoutes, RENEWAL_INFO_PATH } from './renewal-info.js';

export interface AcmeDeps extends AcmeOrderDeps {
  readonly db: Database;
  /** The key EAB HMAC keys are sealed under: `secrets.derive('acme-eab')`. */
  readonly eabSealKey: Buffer;
  readonly log: Logger;
}

/** The resources' paths under /acme. */
export const ACME_PATHS = {
  directory: '/directory',
  newNonce: '/new-nonce',
  newAccount: '/new-account',
  keyChange: '/key-change',
  account: '/acct/',
} as const;

export interface AcmeUrls {
  readonly base: string;
  readonly requested: string;
  readonly of: (path: string) => string;
  readonly account: (id: string) => string;
  readonly accountIdOf: (kid: string) => string | undefined;
}

export function acmeUrls(req: Request): AcmeUrls {
  const base = `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;
  const of = (path: string): string => `${base}${path}`;
  const accountPrefix = of(ACME_PATHS.account);
  return {
    base,
    requested: `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`,
    of,
    account: (id) => `${accountPrefix}${id}`,
    accountIdOf: (kid) => (kid.startsWith(accountPrefix) ? kid.slice(accountPrefix.length) : undefined),
  };
}

const MAX_CONTACTS = 4;
const MAILTO = /^mailto:[^\s@,?]+@[a-z0-9.-]+\.[a-z]{2,}$/i;

/** RFC 8555 §7.3: mailto: contacts only, each a single address without header fields. */
function checkContacts(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((c) => typeof c !== 'string')) throw AcmeProblem.malformed('contact must be an array of URLs.');
  const contacts = value as string[];
  if (contacts.length > MAX_CONTACTS) throw new AcmeProblem(400, 'invalidContact', `At most ${MAX_CONTACTS} contacts.`);
  for (const c of contacts) {
    if (!c.toLowerCase().startsWith('mailto:')) throw new AcmeProblem(400, 'unsupportedContact', `Only mailto: contacts are supported, not ${c}.`);
    if (!MAILTO.test(c)) throw new AcmeProblem(400, 'invalidContact', `${c} is not one email address.`);
  }
  return contacts;
}

const accountBody = (urls: AcmeUrls, a: AcmeAccountRow) => ({
  status: a.status,
  contact: a.contact,
  orders: `${urls.account(a.id)}/orders`,
  createdAt: a.createdAt.toISOString(),
});

export function acmeRouter(deps: AcmeDeps): Router {
  const { db } = deps;
  const router = express.Router();
  // A fresh nonce and the directory's Link on every answer, errors included (RFC 8555 §6.5, §7.1).
  router.use(async (req, res, next) => {
    const urls = acmeUrls(req);
    res.setHeader('Replay-Nonce', await issueNonce(db));
    res.setHeader('Link', `<${urls.of(ACME_PATHS.directory)}>;rel="index"`);
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  router.use(express.json({ type: 'application/jose+json', limit: '64kb' }));

  router.get(ACME_PATHS.directory, (req, res) => {
    const urls = acmeUrls(req);
    res.json({
      newNonce: urls.of(ACME_PATHS.newNonce),
      newAccount: urls.of(ACME_PATHS.newAccount),
      newOrder: urls.of(ACME_ORDER_PATHS.newOrder),
      revokeCert: urls.of(REVOKE_CERT_PATH),
      renewalInfo: urls.of(RENEWAL_INFO_PATH),
      keyChange: urls.of(ACME_PATHS.keyChange),
      meta: {
        externalAccountRequired: true,
        website: urls.base.replace(/\/acme$/, '/'),
      },
    });
  });

  router.head(ACME_PATHS.newNonce, (_req, res) => {
    res.status(200).end();
  });
  router.get(ACME_PATHS.newNonce, (_req, res) => {
    res.status(204).end();
  });

  /** Every POST: the JWS content type (415 otherwise, RFC 8555 §6.2), then the signature and nonce. */
  const post = async (req: Request, key: 'jwk' | 'kid' | 'either'): Promise<{ urls: AcmeUrls; v: VerifiedPost }> => {
    if (!req.is('application/jose+json')) throw new AcmeProblem(415, 'malformed', 'Send the JWS as application/jose+json.');
    const urls = acmeUrls(req);
    return { urls, v: await verifyPost(db, req.body, { url: urls.requested, key, accountIdOf: urls.accountIdOf }) };
  };

  router.post(ACME_PATHS.newAccount, async (req: Request, res: Response) => {
    const { urls, v } = await post(req, 'jwk');
    const payload = (v.payload ?? {}) as Record<string, unknown>;
    const thumbprint = v.thumbprint as string;
    const existing = await findAccountByThumbprint(db, thumbprint);
    if (existing !== undefined) {
      if (existing.status !== 'valid') throw AcmeProblem.unauthorized(`The account of this key is ${existing.status}.`);
      res.status(200).location(urls.account(existing.id)).json(accountBody(urls, existing));
      return;
    }
    if (payload.onlyReturnExisting === true) throw new AcmeProblem(400, 'accountDoesNotExist', 'No account has this key.');
    const contact = checkContacts(payload.contact);
    const eab = await verifyExternalAccountBinding(db, deps.eabSealKey, payload.externalAccountBinding, { url: urls.requested, thumbprint });
    const account = await createAcmeAccount(db, { jwk: publicJwk(v.jwk as JWK), thumbprint, contact, eab });
    res.status(201).location(urls.account(account.id)).json(accountBody(urls, account));
  });

  router.post(`${ACME_PATHS.account}:id`, async (req: Request, res: Response) => {
    const { urls, v } = await post(req, 'kid');
    const account = v.account as AcmeAccountRow;
    if (v.header.kid !== urls.requested) throw AcmeProblem.unauthorized('An account is read or changed with its own key only.');
    if (v.payload === null) {
      res.status(200).location(urls.account(account.id)).json(accountBody(urls, account));
      return;
    }
    const payload = v.payload as Record<string, unknown>;
    const change: { contact?: string[]; status?: 'deactivated' } = {};
    if (payload.status !== undefined) {
      if (payload.status !== 'deactivated') throw AcmeProblem.malformed('A client may only set status to deactivated.');
      change.status = 'deactivated';
    }
    if (payload.contact !== undefined) change.contact = checkContacts(payload.contact);
    const updated = Object.keys(change).length === 0 ? account : await updateAcmeAccount(db, account.id, change);
    res.status(200).location(urls.account(account.id)).json(accountBody(urls, updated));
  });

  // Key rollover (RFC 8555 §7.3.5): the inner JWS, signed by the new key, names the account and its old key.
  router.post(ACME_PATHS.keyChange, async (req: Request, res: Response) => {
    const { urls, v } = await post(req, 'kid');
    const account = v.account as AcmeAccountRow;
    const { jws: inner, header } = parseJws(v.payload, 'The key change payload');
    if (!(JWS_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw new AcmeProblem(400, 'badSignatureAlgorithm', `The inner JWS algorithm ${header.alg} is not supported.`, { fields: { algorithms: [...JWS_ALGORITHMS] } });
    }
    if (!isPublicJwk(header.jwk) || header.kid !== undefined) throw AcmeProblem.malformed('The inner JWS must be signed with the new key as jwk.');
    if (header.url !== urls.requested) throw AcmeProblem.malformed('The inner JWS url must be the outer one.');
    if (header.nonce !== undefined) throw AcmeProblem.malformed('The inner JWS must not carry a nonce.');
    const newJwk = header.jwk;
    const innerPayload = await verifyWithJwk(inner, header.alg as (typeof JWS_ALGORITHMS)[number], newJwk);
    let change: { account?: unknown; oldKey?: unknown };
    try {
      change = JSON.parse(Buffer.from(innerPayload).toString('utf8')) as typeof change;
    } catch {
      throw AcmeProblem.malformed('The inner JWS payload is not JSON.');
    }
    if (change.account !== urls.account(account.id)) throw AcmeProblem.unauthorized('The inner JWS names another account.');
    if (!isPublicJwk(change.oldKey) || (await thumbprintOf(change.oldKey)) !== account.jwkThumbprint) {
      throw AcmeProblem.unauthorized("oldKey is not the account's current key.");
    }
    const thumbprint = await thumbprintOf(newJwk);
    const holder = await findAccountByThumbprint(db, thumbprint);
    if (holder !== undefined || !(await changeAcmeAccountKey(db, account.id, publicJwk(newJwk), thumbprint))) {
      const other = holder ?? (await findAccountByThumbprint(db, thumbprint));
      throw new AcmeProblem(409, 'malformed', 'Another account already has the new key.', other === undefined ? {} : { headers: { Location: urls.account(other.id) } });
    }
    res.status(200).location(urls.account(account.id)).json(accountBody(urls, { ...account, jwk: publicJwk(newJwk), jwkThumbprint: thumbprint }));
  });

  acmeOrderRoutes(router, deps, post);
  acmeRevocationRoutes(router, deps, post);
  acmeRenewalInfoRoutes(router, deps);

  router.use((req, _res, next) => next(AcmeProblem.notFound(`No ACME resource ${req.method} ${req.path}.`)));
  router.use(acmeErrorHandler(deps.log));
  return router;
}
