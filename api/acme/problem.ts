/**
 * ACME errors (RFC 8555 §6.7): problem documents (RFC 7807) whose type is `urn:ietf:params:acme:error:<type>`. Every
 * refusal of a client's request is one of these, with the status the RFC (or its common reading) gives it; only a
 * bug or a dependency down answers serverInternal.
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../../config/logger.js';
import { Problem } from '../problem.js';

export type AcmeErrorType =
  | 'accountDoesNotExist'
  | 'alreadyRevoked'
  | 'badCSR'
  | 'badNonce'
  | 'badPublicKey'
  | 'badRevocationReason'
  | 'badSignatureAlgorithm'
  | 'caa'
  | 'connection'
  | 'dns'
  | 'externalAccountRequired'
  | 'incorrectResponse'
  | 'invalidContact'
  | 'malformed'
  | 'orderNotReady'
  | 'rateLimited'
  | 'rejectedIdentifier'
  | 'serverInternal'
  | 'unauthorized'
  | 'unsupportedContact'
  | 'unsupportedIdentifier';

export const acmeErrorUrn = (type: AcmeErrorType): string => `urn:ietf:params:acme:error:${type}`;

export class AcmeProblem extends Error {
  constructor(
    readonly status: number,
    readonly type: AcmeErrorType,
    readonly detail: string,
    readonly extra: { readonly headers?: Readonly<Record<string, string>>; readonly fields?: Readonly<Record<string, unknown>> } = {},
  ) {
    super(detail);
    this.name = 'AcmeProblem';
  }

  static malformed(detail: string): AcmeProblem {
    return new AcmeProblem(400, 'malformed', detail);
  }
  static unauthorized(detail: string): AcmeProblem {
    return new AcmeProblem(403, 'unauthorized', detail);
  }
  static badNonce(detail: string): AcmeProblem {
    return new AcmeProblem(400, 'badNonce', detail);
  }
  static notFound(detail = 'No such resource.'): AcmeProblem {
    return new AcmeProblem(404, 'malformed', detail);
  }
}

export function sendAcmeProblem(res: Response, p: AcmeProblem): void {
  for (const [name, value] of Object.entries(p.extra.headers ?? {})) res.setHeader(name, value);
  res
    .status(p.status)
    .type('application/problem+json')
    .send(JSON.stringify({ type: acmeErrorUrn(p.type), detail: p.detail, status: p.status, ...p.extra.fields }));
}

/** The ACME router's last handler: its own problems as they are, a body parser's as malformed, anything else internal. */
export function acmeErrorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (err instanceof AcmeProblem) return sendAcmeProblem(res, err);
    const parser = err as { type?: unknown; status?: unknown };
    if (typeof parser.type === 'string' && parser.type.startsWith('entity.')) {
      return sendAcmeProblem(res, new AcmeProblem(parser.status === 413 ? 413 : 400, 'malformed', 'The body is not a JSON object of at most 64 KiB.'));
    }
    if (err instanceof Problem && err.status === 503) return sendAcmeProblem(res, new AcmeProblem(503, 'serverInternal', err.message));
    log.error({ err }, 'ACME request failed');
    sendAcmeProblem(res, new AcmeProblem(500, 'serverInternal', 'The server could not handle the request.'));
  };
}
