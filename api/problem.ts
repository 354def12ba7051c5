/** Errors as RFC 9457 problem details, with a stable `type` per kind of problem. */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../config/logger.js';

export const problemType = (slug: string): string => `urn:certflow:problem:${slug}`;

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'Problem';
  }

  static badRequest(detail: string, errors?: { path: string; message: string }[]): Problem {
    return new Problem(400, 'bad-request', 'The request is not valid', detail, errors === undefined ? {} : { errors });
  }
  static unauthorized(detail: string): Problem {
    return new Problem(401, 'unauthorized', 'Authentication required', detail);
  }
  static forbidden(detail: string, slug = 'forbidden'): Problem {
    return new Problem(403, slug, 'Not allowed', detail);
  }
  static notFound(detail = 'No such resource.'): Problem {
    return new Problem(404, 'not-found', 'Not found', detail);
  }
  static conflict(slug: string, detail: string, extra?: Record<string, unknown>): Problem {
    return new Problem(409, slug, 'Not allowed in the current state', detail, extra);
  }
  static unprocessable(slug: string, detail: string, extra?: Record<string, unknown>): Problem {
    return new Problem(422, slug, 'A rule is not met', detail, extra);
  }
  static rateLimited(retryAfterSeconds: number): Problem {
    return new Problem(429, 'rate-limited', 'Too many attempts', `Too many attempts; try again in ${retryAfterSeconds} seconds.`, { retryAfter: retryAfterSeconds });
  }
  static unavailable(detail: string): Problem {
    return new Problem(503, 'unavailable', 'A dependency is unavailable', detail);
  }
}

export function sendProblem(res: Response, p: Problem, instance?: string): void {
  if (p.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  // A rate-limited answer says when to come back, in the header (RFC 9110) as well as in the document.
  if (p.status === 429 && typeof p.extra.retryAfter === 'number') res.setHeader('Retry-After', String(p.extra.retryAfter));
  res
    .status(p.status)
    .type('application/problem+json')
    .json({ type: problemType(p.slug), title: p.title, status: p.status, detail: p.detail, instance, ...p.extra });
}

/** Errors thrown by body parsers carry a `type` and a `status`; map them to problems. */
function fromParserError(err: unknown): Problem | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  switch (err.type) {
    case 'entity.parse.failed':
      return Problem.badRequest('The body is not valid JSON.');
    case 'entity.too.large':
      return new Problem(413, 'payload-too-large', 'The body is too large', 'The request body exceeds the allowed size.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new Problem(415, 'unsupported-media-type', 'Unsupported encoding', 'Send UTF-8 JSON.');
    default:
      return undefined;
  }
}

/**
 * A dependency that is down (Temporal, the database) is a 503, never a 500. drizzle wraps the driver's error in a
 * DrizzleQueryError (`cause`), so the chain of causes is looked at, a few levels deep.
 */
function isUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
  if (e.name === 'ServiceError' || e.name === 'ConnectionError' || e.name === 'TransportError') return true;
  const codes = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', '57P01'];
  if (typeof e.code === 'string' && codes.includes(e.code)) return true;
  return isUnavailable(e.cause, depth + 1);
}

export function problemHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const known = err instanceof Problem ? err : fromParserError(err);
    if (known !== undefined) {
      sendProblem(res, known, req.originalUrl);
      return;
    }
    if (isUnavailable(err)) {
      log.warn({ err }, 'dependency unavailable');
      sendProblem(res, Problem.unavailable('A service CertFlow depends on did not answer; retry later.'), req.originalUrl);
      return;
    }
    log.error({ err }, 'unhandled error');
    sendProblem(res, new Problem(500, 'internal', 'Internal error', 'Something went wrong on our side.'), req.originalUrl);
  };
}
