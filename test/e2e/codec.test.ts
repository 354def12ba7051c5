/**
 * Payload encryption end to end: an order runs on a test stack (worker and client with the codec), then its history
 * is read raw from the dev server by a client without the codec. No personal data may appear in it; with the codec
 * the payloads decode, and so does the codec server for an auditor.
 */
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, payloadCodecFromSecrets } from '../../config/payload-codec.js';
import { orderWorkflowId } from '../../workflows/definitions.js';
import { startTestStack, type Account, type TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';

let stack: TestStack;
let drive: Driver;
let holder: Account;
let rawConnection: Connection;
let history: temporal.api.history.v1.IHistory;

const text = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? new Uint8Array()).toString('utf8');

/** Where a payload sits in the history, for failure messages. */
const PATH = Symbol('path');
const isPatchMarker = (path: string): boolean => path.includes('markerRecordedEventAttributes.details.patch-data');
/**
 * The trace context the workflow's tracing interceptor puts on each activity it schedules (config/tracing.ts): the
 * SDK writes activity headers without the payload codec, so they are checked below to hold only W3C trace context.
 */
const isTraceHeader = (path: string): boolean => path.endsWith('.header.fields._tracer-data');

/** The clear payloads the SDK writes itself, found by `isClear`: their JSON. */
function clearPayloads(isClear: (path: string) => boolean, value: unknown, out: unknown[] = [], path = ''): unknown[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return out;
  const v = value as Record<string, unknown>;
  if (v.data instanceof Uint8Array && isClear(path)) {
    out.push(JSON.parse(text(v.data)));
    return out;
  }
  for (const [k, child] of Object.entries(v)) clearPayloads(isClear, child, out, `${path}.${k}`);
  return out;
}
/** The patch markers' data: `{id, deprecated}` in clear. */
const patchMarkers = (history: unknown): unknown[] => clearPayloads(isPatchMarker, history);

/** Every Payload in a history (any object with `data` bytes and a `metadata` map), wherever it sits. */
function payloadsIn(value: unknown, out: Payload[] = [], path = ''): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return out;
  const v = value as Record<string, unknown>;
  if (v.data instanceof Uint8Array && typeof v.metadata === 'object' && v.metadata !== null) {
    // Search attributes are indexed by the server, hence never encrypted: they carry no personal data. Nor are the
    // markers of patched(): the SDK's core writes them itself; they are checked below to hold only the patch's id.
    if (!path.includes('searchAttributes') && !isPatchMarker(path) && !isTraceHeader(path)) out.push(Object.assign(v, { [PATH]: path }) as Payload);
    return out;
  }
  for (const [k, child] of Object.entries(v)) payloadsIn(child, out, `${path}.${k}`);
  return out;
}

/** Every string and every byte string (read as UTF-8) of a history: what the server's store holds. */
function textsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(text(value), Buffer.from(value).toString('latin1'));
  else if (value !== null && typeof value === 'object') for (const child of Object.values(value)) textsIn(child, out);
  return out;
}

const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

beforeAll(async () => {
  stack = await startTestStack();
  holder = await stack.account('customer', { phone: '+33698765432' });
  drive = new Driver(stack, { holder, ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator') });
  const order = await drive.toAcceptance('ID_RGS_STAR');
  // A client without the codec sees what the Temporal server stores.
  rawConnection = await Connection.connect({ address: inject('temporalAddress') });
  const raw = new Client({ connection: rawConnection, namespace: 'default' });
  history = await raw.workflow.getHandle(orderWorkflowId(order.id)).fetchHistory();
}, 120_000);
afterAll(async () => {
  await rawConnection?.close();
  await stack?.close();
});

describe('payloads in the Temporal server', () => {
  it('hold no name, email or phone of the holder in clear', () => {
    const payloads = payloadsIn(history);
    expect(payloads.length).toBeGreaterThan(10);
    for (const p of payloads) {
      expect(text(p.metadata?.encoding), (p as { [PATH]?: string })[PATH]).toBe(ENCRYPTED_ENCODING);
      expect(text(p.metadata?.[KEY_ID_METADATA])).toBe('k1');
    }
    for (const marker of patchMarkers(history)) expect(Object.keys(marker as object).sort()).toEqual(['deprecated', 'id']);
    const traces = clearPayloads(isTraceHeader, history);
    expect(traces.length, 'activities carry the trace context').toBeGreaterThan(0);
    for (const trace of traces) expect(trace).toEqual({ traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/) as unknown });
    const all = textsIn(history).join('\n');
    for (const secret of [holder.user.email, holder.user.surname, holder.user.givenName, '+33698765432', '698765432']) {
      expect(all, secret).not.toContain(secret);
      expect(all, `${secret} in base64`).not.toContain(Buffer.from(secret).toString('base64').slice(0, 12));
    }
  });

  it('decode with the codec: the workflow input carries the holder', async () => {
    const codec = payloadCodecFromSecrets(stack.services.secrets);
    const decoded = await codec.decode(payloadsIn(history));
    const values = decoded.map((p) => JSON.stringify(defaultPayloadConverter.fromPayload(p)));
    expect(values.some((v) => v.includes(holder.user.email) && v.includes('+33698765432'))).toBe(true);
  });
});

describe('codec server', () => {
  const post = (op: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.baseUrl}/codec/${op}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('decodes a payload of the history for an auditor, not without a key nor for a customer', async () => {
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (started == null) throw new Error('no workflow input in the history');
    const body = { payloads: [toJson(started)] };
    const auditor = await stack.account('auditor');

    const ok = await post('decode', body, { authorization: `Bearer ${auditor.key}` });
    expect(ok.status).toBe(200);
    const [decoded] = ((await ok.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
    expect(Buffer.from(decoded?.metadata.encoding ?? '', 'base64').toString()).toBe('json/plain');
    expect(Buffer.from(decoded?.data ?? '', 'base64').toString()).toContain(holder.user.email);

    expect((await post('decode', body)).status).toBe(401);
    expect((await post('decode', body, { authorization: 'Bearer not-a-key' })).status).toBe(401);
    expect((await post('decode', body, { authorization: `Bearer ${holder.key}` })).status).toBe(403);
  });

  it('encodes for staff, and the result decodes; an altered payload is refused with a problem', async () => {
    const ra = drive.actors.ra.key;
    const clear = toJson(defaultPayloadConverter.toPayload({ hello: 'world' }));
    const enc = await post('encode', { payloads: [clear] }, { authorization: `Bearer ${ra}` });
    expect(enc.status).toBe(200);
    const encoded = ((await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
    expect(Buffer.from(encoded[0]?.metadata[KEY_ID_METADATA] ?? '', 'base64').toString()).toBe('k1');
    const dec = await post('decode', { payloads: encoded }, { authorization: `Bearer ${ra}` });
    expect(((await dec.json()) as { payloads: unknown[] }).payloads).toEqual([clear]);

    const data = Buffer.from(encoded[0]?.data ?? '', 'base64');
    data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 1;
    const bad = await post('decode', { payloads: [{ ...encoded[0], data: data.toString('base64') }] }, { authorization: `Bearer ${ra}` });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/failed authentication/);
    expect((await post('decode', { payloads: 'x' }, { authorization: `Bearer ${ra}` })).status).toBe(400);
  });

  it('answers the Temporal UI preflight for its origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.baseUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
    const ui = await preflight('http://127.0.0.1:8233');
    expect(ui.status).toBe(204);
    expect(ui.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect(ui.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    // The actual request's answer, even a 401, names the origin so that the UI can read it.
    const denied = await post('decode', { payloads: [] }, { origin: 'http://127.0.0.1:8233' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
  });
});
