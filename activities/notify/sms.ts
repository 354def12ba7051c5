/**
 * Where SMS go: Twilio's Messages API when its credentials are set, otherwise one JSON line each in the outbox.
 * An SMS may carry a one-time code: nothing here logs a body or lets it travel inside an error.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type * as TwilioResponse from 'twilio/lib/http/response.js';

export interface SmsSender {
  /** Resolves with the provider's message id once the provider (or the outbox) took the message. */
  send(sms: { readonly to: string; readonly body: string; readonly id: string }): Promise<string>;
  /** The id of this exact SMS if the provider already has it (sent since `since`), for a retry after a crash. */
  find(sms: { readonly to: string; readonly body: string; readonly id: string }, since: Date): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Sends every REST call of the Twilio client to another base URL (TWILIO_API_URL): a regional gateway, a proxy,
 * or a local server that speaks the Messages API in tests. A custom `httpClient` is the extension point twilio-node
 * documents for changing its requests (advanced-examples/custom-http-client.md); its `edge`/`region` options can only
 * pick another *.twilio.com host, and a domain's `baseUrl` is an internal of each lazily built domain object.
 * The path (/2010-04-01/Accounts/…) is kept and appended to the base URL's own path.
 */
export class RebasedRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(baseUrl: string) {
    super();
    this.base = new URL(baseUrl);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<TwilioResponse.default<TData>> {
    const original = new URL(opts.uri);
    const target = new URL(this.base.href);
    target.pathname = `${this.base.pathname.replace(/\/+$/, '')}${original.pathname}`;
    target.search = original.search;
    return super.request({ ...opts, uri: target.href });
  }
}

export function twilioSender(opts: { accountSid: string; authToken: string; from: string; apiUrl?: string | undefined }): SmsSender {
  const client = twilio(opts.accountSid, opts.authToken, {
    ...(opts.apiUrl !== undefined ? { httpClient: new RebasedRequestClient(opts.apiUrl) } : {}),
    // Temporal retries the activity; the client's own retries (of 429s) would only hide how often the provider refuses.
    autoRetry: false,
  });
  // TWILIO_FROM may name a messaging service (MG…) instead of a number.
  const sender = opts.from.startsWith('MG') ? { messagingServiceSid: opts.from } : { from: opts.from };
  return {
    async send({ to, body }) {
      try {
        const message = await client.messages.create({ to, body, ...sender });
        return message.sid;
      } catch (err) {
        throw providerError(err);
      }
    },
    async find({ to, body }, since) {
      try {
        // Twilio filters by day; the exact time and body are checked here. The body of a retry is the same text
        // (an unlock code is derived from the request's key), so a match is the message the dead attempt sent.
        const recent = await client.messages.list({ to, dateSentAfter: new Date(since.getTime() - 86_400_000), limit: 200 });
        return recent.find((m) => m.to === to && m.body === body && m.dateCreated.getTime() >= since.getTime() - 1000)?.sid;
      } catch (err) {
        throw providerError(err);
      }
    },
    close: () => Promise.resolve(),
  };
}

/**
 * Rebuilds the error from its status and Twilio code only: the client's errors (axios') carry the request, form
 * body and code included, and an error goes into logs and workflow histories.
 */
function providerError(err: unknown): Error {
  const e = err as { status?: unknown; code?: unknown; message?: unknown };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const code = typeof e.code === 'number' || typeof e.code === 'string' ? e.code : undefined;
  const detail = status !== undefined ? `HTTP ${status}${code !== undefined ? `, Twilio code ${code}` : ''}` : `${code ?? 'network error'}`;
  const message = `SMS not sent (${detail})`;
  // 400: Twilio refused the message itself (invalid number…): sending it again cannot succeed.
  if (status === 400) return ApplicationFailure.create({ type: 'SmsRejected', nonRetryable: true, message });
  return new Error(message);
}

/** The dev outbox: one JSON line per SMS, body included — it is the delivery channel a developer reads. */
export function outboxSmsSender(file: string, from: string): SmsSender {
  return {
    async send({ to, body, id }) {
      await mkdir(dirname(file), { recursive: true });
      // One appendFile per line: O_APPEND keeps concurrent lines whole.
      await appendFile(file, `${JSON.stringify({ id, to, from, body, at: new Date().toISOString() })}\n`);
      return id;
    },
    async find({ id }) {
      const text = await readFile(file, 'utf8').catch(() => '');
      return text.split('\n').some((line) => line.includes(`"id":${JSON.stringify(id)}`)) ? id : undefined;
    },
    close: () => Promise.resolve(),
  };
}
