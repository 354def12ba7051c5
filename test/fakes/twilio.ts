/**
 * An HTTP server that speaks the part of Twilio's REST API CertFlow uses: the Messages resource of API 2010-04-01.
 * It checks HTTP Basic auth like Twilio (account SID : auth token), answers with Twilio's JSON shapes and error
 * codes, records every accepted message, and can be told to fail the next requests as an outage would.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Recorder, Refusals } from './recorder.js';

export interface TwilioMessage {
  readonly sid: string;
  readonly accountSid: string;
  readonly to: string;
  readonly from: string | null;
  readonly messagingServiceSid: string | null;
  readonly body: string;
  readonly dateCreated: Date;
}

export interface FakeTwilio {
  /** Base URL to give as TWILIO_API_URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly accountSid: string;
  readonly authToken: string;
  readonly messages: readonly TwilioMessage[];
  /** Every request received, failed ones included. */
  readonly requestCount: number;
  waitFor(match?: (message: TwilioMessage) => boolean, timeoutMs?: number): Promise<TwilioMessage>;
  /** The next `count` requests answer this status (Twilio's 20500 / 20503 errors) before anything else is checked. */
  failNext(count: number, status?: 500 | 503): void;
  /** An outage: every request answers this status until `endOutage()` (off by default). */
  startOutage(status?: 500 | 503): void;
  endOutage(): void;
  /** Requests answered with an error by `failNext` or an outage. */
  readonly refusedCount: number;
  close(): Promise<void>;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
/** Twilio's dates are RFC 2822 with a numeric zone. */
const rfc2822 = (d: Date): string => d.toUTCString().replace('GMT', '+0000');
const API = '/2010-04-01';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function messageJson(m: TwilioMessage): Record<string, unknown> {
  const uri = `${API}/Accounts/${m.accountSid}/Messages/${m.sid}.json`;
  return {
    account_sid: m.accountSid,
    api_version: '2010-04-01',
    body: m.body,
    date_created: rfc2822(m.dateCreated),
    date_sent: null,
    date_updated: rfc2822(m.dateCreated),
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messagingServiceSid,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid: m.sid,
    status: 'queued',
    subresource_uris: { media: uri.replace(/\.json$/, '/Media.json') },
    to: m.to,
    uri,
  };
}

export async function startFakeTwilio(opts: { accountSid?: string; authToken?: string } = {}): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? `AC${hex(16)}`;
  const authToken = opts.authToken ?? hex(16);
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const recorder = new Recorder<TwilioMessage>();
  const refusals = new Refusals<500 | 503>(503);
  let requestCount = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requestCount++;
    const body = await readBody(req);
    const status = refusals.next();
    if (status !== undefined) {
      if (status === 500) sendError(res, 500, 20500, 'Internal Server Error');
      else sendError(res, 503, 20503, 'Service Unavailable');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages(?:\/([^/]+))?\.json$/.exec(path);
    if (route === null) return sendError(res, 404, 20404, 'The requested resource was not found');
    if (req.headers.authorization !== expectedAuth || route[1] !== accountSid) return sendError(res, 401, 20003, 'Authenticate');

    const messageSid = route[2];
    if (messageSid !== undefined) {
      if (req.method !== 'GET') return sendError(res, 405, 20004, 'Method not allowed');
      const found = recorder.items.find((m) => m.sid === messageSid);
      return found === undefined ? sendError(res, 404, 20404, `The requested resource ${path} was not found`) : sendJson(res, 200, messageJson(found));
    }
    if (req.method === 'GET') {
      // The list, newest first as Twilio gives it, filtered by recipient.
      const to = new URL(req.url ?? '/', 'http://localhost').searchParams.get('To');
      const listed = recorder.items.filter((m) => to === null || m.to === to).reverse();
      return sendJson(res, 200, { messages: listed.map(messageJson), page: 0, page_size: 50, uri: path, next_page_uri: null });
    }
    if (req.method !== 'POST') return sendError(res, 405, 20004, 'Method not allowed');

    const form = new URLSearchParams(body);
    const to = form.get('To');
    const from = form.get('From');
    const messagingServiceSid = form.get('MessagingServiceSid');
    const text = form.get('Body');
    if (to === null || to === '') return sendError(res, 400, 21604, "A 'To' phone number is required.");
    if ((from === null || from === '') && (messagingServiceSid === null || messagingServiceSid === '')) {
      return sendError(res, 400, 21603, "A 'From' phone number is required.");
    }
    if (!/^\+[1-9]\d{6,14}$/.test(to) && !to.includes(':')) return sendError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (text === null || text === '') return sendError(res, 400, 21602, 'Message body is required.');
    const message: TwilioMessage = { sid: `SM${hex(16)}`, accountSid, to, from, messagingServiceSid, body: text, dateCreated: new Date() };
    sendJson(res, 201, messageJson(message));
    recorder.push(message);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 20500, err instanceof Error ? err.message : 'Internal Server Error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages: recorder.items,
    get requestCount() {
      return requestCount;
    },
    waitFor: (match, timeoutMs) => recorder.waitFor(match, timeoutMs),
    failNext: (count, status) => refusals.failNext(count, status),
    startOutage: (status) => refusals.startOutage(status),
    endOutage: () => refusals.endOutage(),
    get refusedCount() {
      return refusals.count;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
