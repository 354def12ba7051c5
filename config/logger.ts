import { pino, type DestinationStream, type Logger } from 'pino';

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

/**
 * One structured logger per process; secrets never reach it (request bodies are not logged; credentials are
 * redacted). `destination` (default stdout) lets a test read what the process logs.
 */
export function createLogger(level: string, name = 'certflow', destination?: DestinationStream): Logger {
  const options = { name, level, redact: { paths: [...REDACTED_PATHS], censor: '[Redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export type { Logger };
