import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';

/**
 * What never reaches a log line: credentials in headers (API keys, access tokens, cookies, the payment provider's
 * signature) and any field that holds a password, a token, a key, a PIN or an SMS code, at any depth pino can name.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-signature"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.apiKey',
  '*.password',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.unlockPin',
  '*.pin',
  '*.authToken',
  '*.masterKey',
  '*.secret',
  // The Temporal SDK's activity lines: the task token completes the activity for whoever holds it.
  'taskToken',
] as const;

/** Query parameters whose value is a credential (a link's token, a key): the name stays, the value does not. */
const SECRET_PARAM = /token|key|secret|password|signature|code|pin|jwt/i;

/** The URL as logged: its path, and its query with the values of credential-like parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed escape: judged as written
      }
      return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=[Redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/**
 * pino-http's request as logged: method, redacted URL, route params and a few harmless headers. The parsed query is
 * left out (the URL already shows it, redacted) and so is every other header.
 */
export function logRequest(req: { id?: unknown; method?: string; url?: string; params?: unknown; headers?: Record<string, unknown>; remoteAddress?: string }): Record<string, unknown> {
  const h = req.headers ?? {};
  const keep = ['host', 'user-agent', 'content-type', 'content-length', 'accept', 'x-request-id', 'idempotency-key'];
  return {
    id: req.id,
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
    params: req.params,
    headers: Object.fromEntries(keep.filter((k) => h[k] !== undefined).map((k) => [k, h[k]])),
    remoteAddress: req.remoteAddress,
  };
}

/** Properties of a database error that hold the values a query carried (addresses, names, phone numbers, hashes). */
const QUERY_VALUES = new Set(['params', 'parameters', 'detail']);

/**
 * An error as it may be logged: a failed query's (drizzle's DrizzleQueryError writes its parameters into its message)
 * keeps its SQL, with `$1` placeholders, and loses the values; the same down its chain of causes.
 */
function withoutQueryValues(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 8) return err;
  const e = err as Error & { query?: unknown; cause?: unknown };
  const failedQuery = typeof e.query === 'string' && 'params' in e;
  const cause = withoutQueryValues(e.cause, depth + 1);
  const hasValues = Object.keys(e).some((k) => QUERY_VALUES.has(k));
  if (!failedQuery && !hasValues && cause === e.cause) return err;
  const clean = Object.create(Object.getPrototypeOf(e) as object) as Record<string, unknown>;
  for (const [k, v] of Object.entries(e)) if (!QUERY_VALUES.has(k)) clean[k] = v;
  const message = failedQuery ? `Failed query: ${String(e.query)}` : e.message;
  for (const [k, v] of [['message', message], ['stack', (e.stack ?? '').replace(e.message, message)], ['cause', cause]] as const) {
    if (k !== 'cause' || cause !== undefined) Object.defineProperty(clean, k, { value: v, enumerable: false, writable: true, configurable: true });
  }
  return clean;
}

/** pino's `err` serializer (type, message, stack, causes) over an error without its query values. */
export const logError = (err: unknown): unknown => pino.stdSerializers.err(withoutQueryValues(err) as Error);

/**
 * One structured logger per process; secrets never reach it (request bodies are not logged; credentials are
 * redacted). `destination` (default stdout) lets a test read what the process logs.
 */
export function createLogger(level: string, name = 'certflow', destination?: DestinationStream): Logger {
  const options = { name, level, serializers: { err: logError }, redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export type { Logger };

/** The order a workflow id concerns: `order-<id>` and `certificate-<id>` (workflows/definitions.ts). */
export function orderIdOfWorkflow(workflowId: unknown): string | undefined {
  if (typeof workflowId !== 'string') return undefined;
  return /^(?:order|certificate)-(.+)$/.exec(workflowId)?.[1];
}

const WORKFLOW_ID_IN_TEXT = /(?<![0-9A-Za-z-])(?:order|certificate)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![0-9A-Za-z])/;

/** Rust core names the workflow inside its fields (a `workflow_id` in a span, a debug dump of a task), if at all. */
function orderIdInCoreFields(fields: Record<string, unknown>): string | undefined {
  if (fields.sdkComponent !== 'core') return undefined;
  try {
    return WORKFLOW_ID_IN_TEXT.exec(JSON.stringify(fields))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Rust core's own lines, forwarded to the runtime logger (Runtime.install's telemetryOptions.logging) at the
 * process's LOG_LEVEL, but at most INFO unless LOG_LEVEL is trace: core's debug lines dump every workflow task
 * (task tokens included), several per activation. The crates under it (gRPC, HTTP/2): warnings and worse.
 */
export function coreLogging(level: string): { filter: { core: LogLevel; other: LogLevel }; forward: Record<string, never> } {
  const core: LogLevel = level === 'trace' ? 'DEBUG' : level === 'debug' || level === 'info' ? 'INFO' : level === 'warn' ? 'WARN' : 'ERROR';
  return { filter: { core, other: core === 'ERROR' ? 'ERROR' : 'WARN' }, forward: {} };
}

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * The Temporal SDK's logger (Runtime.install) writing into the process's pino stream: the worker's own lines, the
 * workflows' and activities' `log`, and Rust core's lines when forwarded. A line about an order's workflow or one of
 * its activities carries `orderId`; the SDK's `error` becomes pino's `err` (message and stack).
 */
export function temporalLogger(log: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta: LogMetadata = {}): void => {
    const { error, ...rest } = meta as Record<string, unknown>;
    const orderId = orderIdOfWorkflow(rest.workflowId) ?? orderIdOfWorkflow(rest.workflow_id) ?? orderIdInCoreFields(rest);
    const fields: Record<string, unknown> = { ...rest, ...(orderId !== undefined ? { orderId } : {}), ...(error !== undefined ? { err: error } : {}) };
    log[PINO_LEVEL[level]](fields, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

/** An X-Request-Id a caller (or its proxy) may choose: a short token, nothing that could smuggle data into a line. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** pino-http's genReqId: the caller's X-Request-Id when it is a plain token, else a new UUID; answered back. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * pino-http's customProps: `orderId` on the line of a request about an order, from its path (`/v1/orders/<id>/…`)
 * or, for the creation, from the Location it answered.
 */
export function orderOfRequest(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse): { orderId?: string } {
  const location = res.getHeader('location');
  const path = `${req.originalUrl ?? req.url ?? ''} ${typeof location === 'string' ? location : ''}`;
  const orderId = /\/v1\/orders\/([A-Za-z0-9-]+)/.exec(path)?.[1];
  return orderId !== undefined ? { orderId } : {};
}
