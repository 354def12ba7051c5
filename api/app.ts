/** The HTTP API as an Express app, built from its dependencies (tests build it the same way). */
import type { Client, Connection } from '@temporalio/client';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { logError, logRequest, orderOfRequest, requestId, type Logger } from '../config/logger.js';
import { traceRequests } from '../config/tracing.js';
import type { ApiServices } from '../activities/services.js';
import type { Database } from '../db/client.js';
import { DEFAULT_DEADLINES, type Deadlines } from '../domain/deadlines.js';
import { acceptAccessTokens, accessTokens } from './auth.js';
import { browserSessions, type BrowserSessions } from './session.js';
import { secondFactorKeys } from './second-factor.js';
import { webRoutes } from './web/routes.js';
import { buildOpenApiDocument } from './openapi.js';
import { Problem, problemHandler } from './problem.js';
import { RateLimits, type RateLimitOptions } from './rate-limits.js';
import type { CaId } from '../lib/pki/ca-ids.js';
import { ocspInternalErrorResponse } from '../lib/pki/ocsp-status.js';
import { caRoutes, MAX_OCSP_REQUEST_BYTES } from './routes/ca.js';
import { authRoutes } from './routes/auth.js';
import { catalogRoutes } from './routes/catalog.js';
import { csrRoutes } from './routes/csr.js';
import { certificateRoutes } from './routes/certificates.js';
import { customerAreaRoutes } from './routes/customer-area.js';
import { timelineRoutes } from './routes/timeline.js';
import { codecServer } from './routes/codec.js';
import { payloadCodecFromSecrets } from '../config/payload-codec.js';
import { auditRoutes } from './routes/audit.js';
import { historyRoutes } from './routes/history.js';
import { orderActionRoutes } from './routes/order-actions.js';
import { orderRoutes } from './routes/orders.js';
import { acmeKeyRoutes } from './routes/acme-keys.js';
import { peopleRoutes } from './routes/organisations.js';
import { systemRoutes } from './routes/system.js';
import { docsRoutes } from './routes/docs.js';
import { createMetrics, type MetricsOptions } from './metrics.js';
import { acmeRouter } from './acme/router.js';
import { mountRoutes, type AnyRoute } from './routing.js';

export interface AppDeps {
  readonly db: Database;
  readonly temporal: Client;
  /** The worker's full Services fit too (tests share one set); the API's own are createApiServices's. */
  readonly services: Pick<ApiServices, 'blobs' | 'ca' | 'unlockKey' | 'secrets' | 'notifier'>;
  readonly taskQueue: string;
  readonly log: Logger;
  readonly publicBaseUrl: string;
  readonly readinessChecks: Readonly<Record<string, () => Promise<void>>>;
  readonly registrationTimeoutMs?: number;
  readonly deadlines?: Deadlines;
  /** Browser origins (the Temporal Web UI) allowed to call /codec/*: CODEC_CORS_ORIGIN. */
  readonly codecCorsOrigin?: string;
  /** /metrics: the stuck-order SLA, the scrape token, the process's other registries (api/metrics.ts). */
  readonly metrics?: Omit<MetricsOptions, 'db'>;
  /** Express's `trust proxy` (TRUST_PROXY): whom to believe about the client's address; false by default. */
  readonly trustProxy?: false | number | readonly string[];
  /** Overrides of the shared rate limits (api/rate-limits.ts): tests give each stack its own key prefix. */
  readonly rateLimits?: RateLimitOptions;
}

/** What /readyz checks in a running process: a database round trip and the Temporal frontend's answer. */
export function readinessChecks(database: { ping(): Promise<void> }, connection: Connection): AppDeps['readinessChecks'] {
  return {
    database: () => database.ping(),
    temporal: async () => {
      await connection.workflowService.getSystemInfo({});
    },
  };
}

/** Browser sessions: cookies Secure (and __Host-) when the public URL is https. */
export const sessionsFor = (deps: AppDeps): BrowserSessions =>
  browserSessions((purpose) => deps.services.secrets.derive(purpose), deps.publicBaseUrl.startsWith('https:'));

export function createRoutes(
  deps: AppDeps,
  openApiDocument: () => unknown,
  sessions: BrowserSessions = sessionsFor(deps),
  limits: RateLimits = new RateLimits(deps.db, deps.rateLimits),
): AnyRoute[] {
  return [
    ...systemRoutes({ readinessChecks: deps.readinessChecks, openApiDocument }),
    ...authRoutes({
      db: deps.db,
      notifier: deps.services.notifier,
      publicBaseUrl: deps.publicBaseUrl,
      tokens: accessTokens(deps.services.secrets.derive('jwt')),
      sessions,
      limits,
      secondFactorKeys: secondFactorKeys((purpose) => deps.services.secrets.derive(purpose)),
    }),
    ...catalogRoutes({ db: deps.db, deadlines: deps.deadlines ?? DEFAULT_DEADLINES }),
    ...csrRoutes({ db: deps.db }),
    ...peopleRoutes(deps),
    ...acmeKeyRoutes({ db: deps.db, eabSealKey: deps.services.secrets.derive('acme-eab'), publicBaseUrl: deps.publicBaseUrl }),
    ...orderRoutes({
      db: deps.db,
      temporal: deps.temporal,
      taskQueue: deps.taskQueue,
      registrationTimeoutMs: deps.registrationTimeoutMs ?? 10_000,
      deadlines: deps.deadlines ?? DEFAULT_DEADLINES,
    }),
    ...orderActionRoutes({
      db: deps.db,
      temporal: deps.temporal,
      blobs: deps.services.blobs,
      unlockKey: deps.services.unlockKey,
      paymentWebhookSecret: deps.services.secrets.paymentWebhookSecret,
      revealPinOnce: (orderId) => deps.services.ca.revealPinOnce({ orderId }),
      chainPem: (serial) => deps.services.ca.chainPem({ serial }),
      limits,
    }),
    ...customerAreaRoutes({ db: deps.db, caIdentity: deps.services.notifier.caIdentity, publicBaseUrl: deps.publicBaseUrl }),
    ...timelineRoutes({ db: deps.db, temporal: deps.temporal }),
    ...auditRoutes({ db: deps.db, temporal: deps.temporal }),
    ...historyRoutes({ db: deps.db, temporal: deps.temporal }),
    ...certificateRoutes({
      db: deps.db,
      temporal: deps.temporal,
      unlockKey: deps.services.unlockKey,
      revealPinOnce: (orderId) => deps.services.ca.revealPinOnce({ orderId }),
      limits,
    }),
    ...caRoutes({
      caCertificates: () => deps.services.ca.caCertificates(),
      // caRoutes asks for a CA it found in caCertificates() only, so the id is one of ours.
      chainPem: (caId) => deps.services.ca.chainPem({ caId: caId as CaId }),
      currentCrl: (caId) => deps.services.ca.currentCrl(caId as CaId),
      ocspRespond: (request) => deps.services.ca.ocspRespond(request),
      ocspInternalError: ocspInternalErrorResponse,
    }),
  ];
}

export function createApp(deps: AppDeps): Express {
  // The document describes the routes and is itself served by one of them; it is read only when requested.
  const sessions = sessionsFor(deps);
  const limits = new RateLimits(deps.db, deps.rateLimits);
  const routes = createRoutes(deps, () => openApiDocument, sessions, limits);
  const openApiDocument = buildOpenApiDocument(routes, deps.publicBaseUrl);

  const app = express();
  app.disable('x-powered-by');
  // Behind a load balancer, req.ip (rate limits, logs) is the client's only if TRUST_PROXY names the proxies.
  app.set('trust proxy', typeof deps.trustProxy === 'object' ? [...deps.trustProxy] : (deps.trustProxy ?? false));
  // First, so that the request's span holds everything after it: the Temporal client's calls are its children.
  app.use(traceRequests());
  // Security headers first, so that every answer has them, the body parsers' problems (400, 413, 415) included.
  // An API answer is no page: nothing may load, frame or submit from it. The pages (api/web/) set their own CSP.
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );
  // Answers hold personal data, tokens and PINs: no cache keeps them unless a route says otherwise (CRL, OCSP, the pages' assets).
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use(
    pinoHttp({
      logger: deps.log,
      serializers: { req: logRequest, err: logError },
      // The caller's X-Request-Id, or a new one, on every line of the request (req.log) and in the answer.
      genReqId: requestId,
      customProps: orderOfRequest,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
    }),
  );
  // Before the credential middleware: a scrape's bearer token is METRICS_TOKEN, no account's.
  const metrics = createMetrics({ db: deps.db, stuckOrderSlaMs: 2 * 86_400_000, ...deps.metrics });
  app.use(metrics.measure);
  app.get('/metrics', metrics.handler);
  app.use(docsRoutes());
  // ACME (RFC 8555) before the JSON parser and the credential middleware: its requests are JWS, signed by their account.
  app.use(
    '/acme',
    acmeRouter({
      db: deps.db,
      eabSealKey: deps.services.secrets.derive('acme-eab'),
      log: deps.log,
      temporal: deps.temporal,
      taskQueue: deps.taskQueue,
      deadlines: deps.deadlines ?? DEFAULT_DEADLINES,
      chainPem: (serial) => deps.services.ca.chainPem({ serial }),
      limits,
    }),
  );
  // The raw bytes are kept for signature checks (the payment webhook's HMAC is over the body as sent).
  app.use(
    express.json({
      limit: '256kb',
      verify: (req, _res, buf) => {
        (req as { rawBody?: Buffer }).rawBody = buf;
      },
    }),
  );
  // OCSP requests are DER, not JSON.
  app.use('/v1/ocsp', express.raw({ type: 'application/ocsp-request', limit: MAX_OCSP_REQUEST_BYTES }));
  app.use(cookieParser());
  // A valid access token (password login) or a browser session's cookie becomes the principal before the routes;
  // API keys are checked by each route. A change a cookie authenticated must carry the page's CSRF token.
  app.use(acceptAccessTokens(deps.db, accessTokens(deps.services.secrets.derive('jwt')), { cookieName: sessions.cookieName, tokens: sessions.tokens }));
  app.use(webRoutes({ db: deps.db, sessions }));
  app.use(sessions.csrfCheck);
  app.use(codecServer({ db: deps.db, codec: payloadCodecFromSecrets(deps.services.secrets), corsOrigin: deps.codecCorsOrigin }));
  const router = express.Router();
  mountRoutes(router, routes, deps.db);
  app.use(router);
  app.use((req, _res, next) => next(Problem.notFound(`No route ${req.method} ${req.path}.`)));
  // Through the request's logger: its lines carry the request id (and the order's).
  app.use(((err, req, res, next) => problemHandler(req.log)(err, req, res, next)) as express.ErrorRequestHandler);
  return app;
}
