/**
 * BR §3.2.2.4.18 Agreed-Upon Change to Website v2: GET the file under /.well-known/pki-validation/ on the
 * authorization domain, over an authorized port, and find the token in a 2xx body. Addresses come from the check's
 * own resolver and the connection goes to that address with the name in the Host header (and SNI).
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { ACME_CHALLENGE_PATH, PKI_VALIDATION_PATH, type DcvChallenge } from './challenge.js';
import { CheckFailed, type Deadline } from './deadline.js';
import type { DcvLookup } from './resolver.js';

export interface HttpPorts {
  /** The only port an http:// URL may use (80 in production). */
  readonly httpPort: number;
  /** The only port an https:// redirect target may use (443 in production). */
  readonly httpsPort: number;
}

/** BR §3.2.2.4.18: redirects must be 301, 302, 307 or 308, at the HTTP layer. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 307, 308]);
/** A few hops cover http→https and a www. canonicalisation; more is a loop or a maze. */
export const MAX_REDIRECTS = 5;
/** The file holds a 43-character token; a page large enough to hide it in is still read, up to this. */
const MAX_BODY_BYTES = 64 * 1024;
const USER_AGENT = 'CertFlow-DCV/1 (+BR 3.2.2.4.18)';
/** Connection failures after which the next address of the name is worth a try. */
const NEXT_ADDRESS_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET']);

interface Fetched {
  readonly status: number;
  readonly statusText: string;
  readonly location: string | undefined;
  readonly body: string;
  readonly address: string;
}

const defaultPort = (url: URL): number => (url.protocol === 'https:' ? 443 : 80);
const portOf = (url: URL): number => (url.port === '' ? defaultPort(url) : Number(url.port));
const bare = (hostname: string): string => hostname.replace(/^\[(.*)\]$/, '$1');
const shown = (body: string): string => JSON.stringify(body.length > 60 ? `${body.slice(0, 60)}…` : body);

/** Resolves to the evidence, or throws CheckFailed saying what failed and where. */
export async function checkHttpChallenge(ch: DcvChallenge, ports: HttpPorts, lookup: DcvLookup, deadline: Deadline): Promise<string> {
  if (ch.domain.startsWith('*.')) throw new CheckFailed(`${ch.domain} is a wildcard: only a DNS challenge can validate it`);
  const path = ch.http?.path;
  // BR §3.2.2.4.19 (ACME http-01): the key authorization, alone, under /.well-known/acme-challenge/.
  const acme = path?.startsWith(ACME_CHALLENGE_PATH) === true;
  const folder = acme ? ACME_CHALLENGE_PATH : PKI_VALIDATION_PATH;
  if (path === undefined || !path.startsWith(folder)) {
    throw new CheckFailed(`the challenge has no file under ${PKI_VALIDATION_PATH}`);
  }
  const holdsToken = (body: string): boolean => (acme ? body.trim() === ch.token : body.includes(ch.token));
  let url = new URL(`http://${ch.authorizationDomain}:${ports.httpPort}${path}`);
  const hops: string[] = [];
  for (;;) {
    const fetched = await fetchFrom(url, lookup, deadline);
    const where = `${url.href} (${fetched.address})`;
    if (fetched.status >= 200 && fetched.status < 300) {
      const trail = hops.length > 0 ? ` after redirects from ${hops.join(' → ')}` : '';
      if (holdsToken(fetched.body)) return `HTTP ${fetched.status} from ${where} contains the token${trail}`;
      throw new CheckFailed(`wrong content: ${where} answered HTTP ${fetched.status}${trail} without the token; body starts ${shown(fetched.body)}`);
    }
    if (fetched.status === 404) throw new CheckFailed(`no such file: ${where} answered HTTP 404 Not Found`);
    if (!REDIRECT_STATUSES.has(fetched.status)) {
      const kind = fetched.status >= 300 && fetched.status < 400 ? 'a redirect BR 3.2.2.4.18 does not allow' : 'a 2xx is needed';
      throw new CheckFailed(`${where} answered HTTP ${fetched.status} ${fetched.statusText}: ${kind}`);
    }
    if (fetched.location === undefined) throw new CheckFailed(`${where} answered HTTP ${fetched.status} without a Location`);
    if (hops.length >= MAX_REDIRECTS) throw new CheckFailed(`too many redirects: more than ${MAX_REDIRECTS} from ${hops[0] ?? url.href}`);
    hops.push(url.href);
    url = redirectTarget(url, fetched.location, ports, folder);
  }
}

/** The next URL, or a refusal: http(s) only, each scheme on its one authorized port, the path kept in the folder. */
function redirectTarget(from: URL, location: string, ports: HttpPorts, folder: string): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new CheckFailed(`redirect from ${from.href} to an invalid Location ${JSON.stringify(location)}`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new CheckFailed(`redirect from ${from.href} to ${next.href} refused: only http and https are allowed`);
  }
  const allowed = next.protocol === 'http:' ? ports.httpPort : ports.httpsPort;
  if (portOf(next) !== allowed) {
    throw new CheckFailed(
      `redirect from ${from.href} to ${next.href} refused: port ${portOf(next)} is not authorized (${next.protocol.slice(0, -1)} only on port ${allowed})`,
    );
  }
  // BR: the file MUST be under /.well-known/pki-validation; this also keeps a redirect from turning the check into
  // a fetch of any page the worker can reach, whose start a failure would quote.
  if (!next.pathname.startsWith(folder)) {
    throw new CheckFailed(`redirect from ${from.href} to ${next.href} refused: the file must stay under ${folder}`);
  }
  next.hash = '';
  return next;
}

/** One GET of `url`, trying its addresses in turn while they refuse the connection. */
async function fetchFrom(url: URL, lookup: DcvLookup, deadline: Deadline): Promise<Fetched> {
  const addresses = await lookup.addresses(bare(url.hostname));
  let lastError: unknown;
  for (const address of addresses) {
    try {
      return await get(url, address, deadline.signal);
    } catch (err) {
      if (deadline.expired) throw new CheckFailed(`timeout: no complete answer from ${url.href} (${address}) within ${deadline.ms} ms`);
      lastError = err;
      if (!NEXT_ADDRESS_CODES.has((err as { code?: string }).code ?? '')) break;
    }
  }
  const code = (lastError as { code?: string } | undefined)?.code ?? (lastError as Error | undefined)?.message ?? 'unknown error';
  throw new CheckFailed(`could not fetch ${url.href} from ${addresses.join(', ')} port ${portOf(url)}: ${code}`);
}

function get(url: URL, address: string, signal: AbortSignal): Promise<Fetched> {
  const secure = url.protocol === 'https:';
  const options = {
    host: address,
    port: portOf(url),
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    // url.host carries the port only when it is not the scheme's default, as a browser would send it.
    headers: { host: url.host, 'user-agent': USER_AGENT, accept: '*/*' },
    agent: false as const,
    signal,
  };
  const hostname = bare(url.hostname);
  // The BR do not ask the CA to trust the site's certificate, only to reach the file (as ACME http-01 does).
  const req: ClientRequest = secure
    ? httpsRequest({ ...options, rejectUnauthorized: false, ...(isIP(hostname) === 0 ? { servername: hostname } : {}) })
    : httpRequest(options);

  return new Promise<Fetched>((resolve, reject) => {
    // The signal destroys the request, but a body already streaming may just stop: settle on the abort itself.
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => signal.removeEventListener('abort', onAbort));
    req.once('error', reject);
    req.once('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const head = { status, statusText: res.statusMessage ?? '', location: res.headers.location, address };
      if (status < 200 || status >= 300) {
        res.resume();
        req.destroy();
        resolve({ ...head, body: '' });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void => {
        req.destroy();
        resolve({ ...head, body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8') });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) finish();
      });
      res.once('end', finish);
      res.once('error', reject);
      res.once('aborted', () => reject(new Error('connection closed before the end of the body')));
    });
    req.end();
  });
}
