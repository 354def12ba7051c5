/**
 * Hostile and malformed input over HTTP, against the real stack: each refusal is a problem+json with the right
 * status, and nothing is created, lost or changed (rows, blobs, the order's state are checked after each).
 *
 * Already covered elsewhere, and not repeated here: Idempotency-Key replay and reuse with another body (422,
 * test/api/orders.test.ts), invalid and non-JSON bodies and a 413 on POST /v1/orders (same file), the multipart
 * reader's limits, lying types and name sanitising on its own app (test/documents/upload.test.ts,
 * test/documents/file-name.test.ts), every CSR rule on checkCsr itself (test/ca/csr.test.ts), webhook signatures
 * (test/api/security.test.ts) and a replayed failed card result (test/workflows/actions.test.ts).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentsDir } from '../../activities/services.js';
import { signWebhook } from '../../api/routes/order-actions.js';
import { listDocuments } from '../../db/documents.js';
import { listOrderEvents } from '../../db/order-events.js';
import type { OrderView } from '../../domain/order.js';
import { openssl } from '../ca/support.js';
import { fakeExe, minimalPdf, minimalZip, PNG_1X1, pdfOfSize } from '../documents/fixtures.js';
import { rgsStarOrder, sslOrder, startTestStack, type Account, type ProblemBody as Problem, type TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';

const WEBHOOK_SECRET = 'whsec_bad_input_test';
const PROBLEM = /^application\/problem\+json/;

interface ProblemBody extends Problem {
  problems?: { rule: string; message: string }[];
  detectedType?: string | null;
}

let stack: TestStack;
let holder: Account;
let ra: Account;
let drive: Driver;

beforeAll(async () => {
  stack = await startTestStack({ env: { PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  holder = await stack.account('customer', { locality: 'Paris' });
  ra = await stack.account('ra_operator');
  drive = new Driver(stack, { holder, ra, dra: await stack.account('dra_operator') });
});
afterAll(async () => {
  await stack?.close();
});

const post = <T = ProblemBody>(key: string, path: string, json: unknown, headers: Record<string, string> = {}) => stack.http<T>('POST', path, { key, json, headers });

function expectProblem(res: { status: number; headers: Headers; body: unknown }, status: number, type: string): ProblemBody {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(PROBLEM);
  const body = res.body as ProblemBody;
  expect(body).toMatchObject({ type: `urn:certflow:problem:${type}`, status });
  expect(body.title.length).toBeGreaterThan(0);
  return body;
}

/** The caller's orders, as the API lists them: a refusal must leave this unchanged. */
async function orderIds(account: Account = holder): Promise<string[]> {
  const res = await stack.http<{ items: OrderView[] }>('GET', '/v1/orders?limit=200', { key: account.key });
  expect(res.status).toBe(200);
  return res.body.items.map((o) => o.id).sort();
}

/** Every file under the blob store: a refused upload leaves none behind. */
function blobFiles(): string[] {
  const root = documentsDir(stack.dataDir);
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(path);
    }
  };
  walk(root);
  return out.sort();
}


function newCsr(subj: string, san?: string): string {
  const args = ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '{key.pem}', '-subj', subj];
  if (san !== undefined) args.push('-addext', `subjectAltName=${san}`);
  const run = openssl(args);
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

const pem = (der: Buffer): string => `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;

describe('hostile CSRs on POST /v1/orders', () => {
  it('accepts a good CSR (the baseline the refusals below are measured against)', async () => {
    const before = await orderIds();
    const res = await post<OrderView>(holder.key, '/v1/orders', sslOrder(newCsr('/CN=www.example.com', 'DNS:www.example.com')));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await orderIds()).toEqual([...before, res.body.id].sort());
  });

  it.each<[string, () => string, number, string]>([
    // Longer than the 32 KiB the schema allows for a CSR, inside the 256 KiB body limit: named as the field at fault.
    ['a huge CSR (200 KB of base64)', () => pem(Buffer.alloc(150_000, 0x41)), 400, 'bad-request'],
    // 5,000 SEQUENCEs each inside the previous one, indefinite length: a recursive parser would overflow its stack.
    ['nested garbage DER (5,000 levels)', () => pem(Buffer.concat([Buffer.alloc(10_000).fill(Buffer.from([0x30, 0x80])), Buffer.alloc(10_000)])), 422, 'csr-unreadable'],
    // The same depth with definite lengths (each level's length field is right for what it holds).
    ['nested DER with consistent lengths (3,000 levels)', () => pem(nestedSequences(3_000)), 422, 'csr-unreadable'],
    ['random bytes as DER', () => pem(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))), 422, 'csr-unreadable'],
    ['a DER length of 4 GiB', () => pem(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00])), 422, 'csr-unreadable'],
    ['a valid CSR with a junk byte appended to its DER', () => pem(Buffer.concat([derOf(newCsr('/CN=www.example.com', 'DNS:www.example.com')), Buffer.from([0x00])])), 422, 'csr-unreadable'],
    ['a PEM block holding no base64', () => '-----BEGIN CERTIFICATE REQUEST-----\n!!!! not base64 !!!!\n-----END CERTIFICATE REQUEST-----\n', 422, 'csr-unreadable'],
    ['two CSRs in one text', () => newCsr('/CN=a.example.com', 'DNS:a.example.com') + newCsr('/CN=b.example.com', 'DNS:b.example.com'), 422, 'csr-unreadable'],
  ])('refuses %s with a problem, fast, creating nothing', async (_what, make, status, type) => {
    const csr = make();
    const before = await orderIds();
    const started = Date.now();
    const res = await post(holder.key, '/v1/orders', sslOrder(csr));
    expect(Date.now() - started).toBeLessThan(5_000);
    const problem = expectProblem(res, status, type);
    if (status === 400) expect(problem.errors?.map((e) => e.path)).toEqual(['csr']);
    expect(await orderIds()).toEqual(before);
  });

  it('reads a PEM block and ignores text around it, but never the junk inside it', async () => {
    const good = newCsr('/CN=junk.example.com', 'DNS:junk.example.com');
    // Text before and after the block (a pasted e-mail) is no part of the request.
    const around = await post<OrderView>(holder.key, '/v1/orders', sslOrder(`Here is my CSR:\n${good}\nThanks, Camille\n`));
    expect(around.status, JSON.stringify(around.body)).toBe(201);
    expect(around.body.domains.items.map((d) => d.name)).toEqual(['junk.example.com']);

    // Junk inside the block is part of what is decoded: refused, with what is wrong.
    const before = await orderIds();
    const [head, ...rest] = newCsr('/CN=junk2.example.com', 'DNS:junk2.example.com').split('\n');
    const inside = [head, 'AAAA====junk', ...rest].join('\n');
    expectProblem(await post(holder.key, '/v1/orders', sslOrder(inside)), 422, 'csr-unreadable');
    expect(await orderIds()).toEqual(before);
  });

  it('refuses a CSR with thousands of names: the body limit first, then the name count', async () => {
    const before = await orderIds();
    // 3,000 names: the CSR is larger than a CSR field may be.
    const huge = newCsr('/CN=n0.example.com', Array.from({ length: 3_000 }, (_, i) => `DNS:n${i}.example.com`).join(','));
    expect(huge.length).toBeGreaterThan(32_768);
    expectProblem(await post(holder.key, '/v1/orders', sslOrder(huge)), 400, 'bad-request');
    // 1,000 short names fit in the field: the CSR rules count them (at most 100 per certificate).
    const many = newCsr('/CN=n0.example.com', Array.from({ length: 1_000 }, (_, i) => `DNS:n${i}.example.com`).join(','));
    expect(many.length).toBeLessThan(32_768);
    const started = Date.now();
    const problem = expectProblem(await post(holder.key, '/v1/orders', sslOrder(many)), 422, 'too-many-names');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(problem.detail).toContain('at most 100');
    // The response does not echo a thousand names back.
    expect(JSON.stringify(problem).length).toBeLessThan(4_000);
    expect(await orderIds()).toEqual(before);
  });
});

/** `depth` SEQUENCEs, each holding the next, the innermost empty: lengths all correct. */
function nestedSequences(depth: number): Buffer {
  let inner = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) {
    const n = inner.length;
    const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : n < 0x10000 ? Buffer.from([0x82, n >> 8, n & 0xff]) : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
    inner = Buffer.concat([Buffer.from([0x30]), length, inner]);
  }
  return inner;
}

function derOf(text: string): Buffer {
  return Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

describe('evidence uploads that lie, over the real route', () => {
  async function upload(orderId: string, bytes: Buffer, name: string, declaredType: string, key = holder.key) {
    const form = new FormData();
    form.append('documentType', 'holder_identity');
    form.append('file', new Blob([new Uint8Array(bytes)], { type: declaredType }), name);
    const res = await fetch(`${stack.baseUrl}/v1/orders/${orderId}/evidence`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text === '' ? {} : JSON.parse(text)) as ProblemBody & { document?: { id: string }; order?: OrderView } };
  }

  it.each([
    ['a Windows executable', fakeExe(), 'application/x-msdownload'],
    ['a ZIP archive', minimalZip(), 'application/zip'],
    ['an HTML page', Buffer.from('<!doctype html><html><script>alert(1)</script></html>'), null],
  ])('refuses %s named kbis.pdf and sent as application/pdf (415), storing nothing', async (_what, bytes, detected) => {
    const order = await drive.create('ID_RGS_STAR');
    const blobsBefore = blobFiles();
    const res = await upload(order.id, bytes, 'kbis.pdf', 'application/pdf');
    const problem = expectProblem(res, 415, 'unsupported-file-type');
    expect(problem.detectedType ?? null).toBe(detected);
    expect(await listDocuments(stack.db, order.id)).toEqual([]);
    expect(blobFiles()).toEqual(blobsBefore);
    expect((await drive.get(order.id)).checklist.find((c) => c.documentType === 'holder_identity')?.status).toBe('missing');
  });

  it('refuses 10 MiB + 1 byte with a 413 problem, storing nothing, and the order takes a good file afterwards', async () => {
    const order = await drive.create('ID_RGS_STAR');
    const blobsBefore = blobFiles();
    const res = await upload(order.id, pdfOfSize(10 * 1024 * 1024 + 1), 'big.pdf', 'application/pdf');
    expect(expectProblem(res, 413, 'file-too-large').detail).toContain('10 MiB');
    expect(await listDocuments(stack.db, order.id)).toEqual([]);
    expect(blobFiles()).toEqual(blobsBefore);
    // The store is where these checks look: a good file lands there.
    expect((await upload(order.id, pdfOfSize(4096), 'ok.pdf', 'application/pdf')).status).toBe(201);
    expect(blobFiles()).toHaveLength(blobsBefore.length + 1);
  });

  /** A multipart body written byte for byte: `disposition` is the file part's name parameter(s), as sent. */
  async function rawUpload(orderId: string, disposition: string, bytes: Buffer) {
    const boundary = 'certflow-bad-input-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="documentType"\r\n\r\nholder_identity\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; ${disposition}\r\nContent-Type: image/png\r\n\r\n`, 'utf8'),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${stack.baseUrl}/v1/orders/${orderId}/evidence`, {
      method: 'POST',
      headers: { authorization: `Bearer ${holder.key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as ProblemBody & { document?: { id: string } } };
  }

  it('keeps a safe name for path tricks, NUL, bidi overrides and very long names; the blob path is its hash', async () => {
    const order = await drive.create('ID_RGS_STAR');
    const cases: [string, string][] = [
      ['filename="../../../../etc/passwd"', 'passwd'],
      ["filename*=UTF-8''..%5C..%5Cwindows%5Csystem32%5Cdrivers%5Cetc%5Chosts", 'hosts'],
      ["filename*=UTF-8''scan%00.exe.png", 'scan.exe.png'],
      ["filename*=UTF-8''invoice%E2%80%AEgnp.exe", 'invoicegnp.exe'],
      [`filename*=UTF-8''${'%C3%A9'.repeat(400)}.png`, 'é'.repeat(255)],
      ['filename="/dev/null"', 'null'],
    ];
    const ids: string[] = [];
    for (const [disposition] of cases) {
      const res = await rawUpload(order.id, disposition, PNG_1X1);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(res.body.document?.id ?? '');
    }
    const rows = await listDocuments(stack.db, order.id);
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(rows.map((r) => r.originalName)).toEqual(cases.map(([, stored]) => stored));
    // Stored once, under its hash, inside the store: no name reaches the file system.
    const blobRoot = documentsDir(stack.dataDir);
    expect(blobFiles().filter((f) => f.endsWith(rows[0]?.sha256 ?? '-'))).toHaveLength(1);
    for (const f of blobFiles()) expect(f.startsWith(blobRoot)).toBe(true);
    // Served back under a name of the server's own, never the client's.
    const served = await fetch(`${stack.baseUrl}/v1/orders/${order.id}/evidence/${ids[3]}`, { headers: { authorization: `Bearer ${holder.key}` } });
    expect(served.status).toBe(200);
    expect(served.headers.get('content-disposition')).toBe(`inline; filename="holder_identity-${ids[3]}"`);
  });

  it('refuses a raw NUL inside the part header with a 400 problem, storing nothing', async () => {
    const order = await drive.create('ID_RGS_STAR');
    const blobsBefore = blobFiles();
    const problem = expectProblem(await rawUpload(order.id, 'filename="scan\u0000.png"', minimalPdf()), 400, 'bad-request');
    expect(problem.detail).toContain('multipart');
    expect(await listDocuments(stack.db, order.id)).toEqual([]);
    expect(blobFiles()).toEqual(blobsBefore);
  });
});

describe('oversized JSON bodies', () => {
  it.each([
    ['POST /v1/orders/{id}/cancel', (id: string) => `/v1/orders/${id}/cancel`, { reason: 'x'.repeat(300_000) }],
    ['POST /v1/orders/{id}/hold', (id: string) => `/v1/orders/${id}/hold`, { comment: 'x'.repeat(2_000_000) }],
    ['POST /v1/quotes', () => '/v1/quotes', { lines: Array.from({ length: 20_000 }, () => ({ product: 'ID_RGS_STAR', durationYears: 3 })) }],
  ])('answers 413 problem+json to %s and changes nothing', async (_route, path, json) => {
    const order = await drive.create('ID_RGS_STAR');
    const key = path(order.id).endsWith('/hold') ? ra.key : holder.key;
    const [viewBefore, eventsBefore] = [await drive.get(order.id), await listOrderEvents(stack.db, order.id)];
    const res = await post(key, path(order.id), json);
    expectProblem(res, 413, 'payload-too-large');
    expect(await drive.get(order.id)).toEqual(viewBefore);
    expect(await listOrderEvents(stack.db, order.id)).toEqual(eventsBefore);
  });

  it('answers 413 on a public route too (login), before any credential is looked at', async () => {
    const huge = await fetch(`${stack.baseUrl}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"email":"${'a'.repeat(1_000_000)}"}` });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toMatch(PROBLEM);
  });
});

describe('text that no column can hold (found by the fuzzer: these were 500s)', () => {
  it.each<[string, (order: OrderView) => [Account, string, unknown]]>([
    ['a NUL in a payment reference', (o) => [ra, `/v1/orders/${o.id}/payment`, { status: 'received', method: 'transfer', reference: 'VIR\u0000-1' }]],
    ['a NUL in a hold comment', (o) => [ra, `/v1/orders/${o.id}/hold`, { comment: 'check\u0000ing' }]],
    ['a lone surrogate in a cancellation reason', (o) => [holder, `/v1/orders/${o.id}/cancel`, { reason: 'wrong \ud800 product' }]],
    ['a lone low surrogate in a hold comment', (o) => [ra, `/v1/orders/${o.id}/hold`, { comment: 'a \udc00 b c' }]],
  ])('answers 400 naming the field for %s, and the order is unchanged', async (_what, make) => {
    const order = await drive.create('ID_RGS_STAR');
    const [viewBefore, eventsBefore] = [await drive.get(order.id), await listOrderEvents(stack.db, order.id)];
    const [who, path, json] = make(order);
    const problem = expectProblem(await post(who.key, path, json), 400, 'bad-request');
    expect(problem.errors?.length).toBe(1);
    expect(await drive.get(order.id)).toEqual(viewBefore);
    expect(await listOrderEvents(stack.db, order.id)).toEqual(eventsBefore);
  });

  it('refuses a NUL in a new order (it was accepted, then its workflow could never record it)', async () => {
    const before = await orderIds();
    const res = await post(holder.key, '/v1/orders', rgsStarOrder({ payment: { method: 'purchase_order', purchaseOrderNumber: 'PO\u0000-7' } }));
    expect(expectProblem(res, 400, 'bad-request').errors?.map((e) => e.path)).toEqual(['payment.purchaseOrderNumber']);
    const keyed = await post(holder.key, '/v1/orders', rgsStarOrder({ partnerCode: 'P\u0000' }), { 'Idempotency-Key': 'nul-partner' });
    expectProblem(keyed, 400, 'bad-request');
    expect(await orderIds()).toEqual(before);
  });

  it('answers 400 naming the parameter for a NUL in a query string (GET /v1/catalog?partnerCode=)', async () => {
    const problem = expectProblem(await stack.http('GET', '/v1/catalog?partnerCode=%F1%91%A5%8B%21%00%C3%9C', { key: ra.key }), 400, 'bad-request');
    expect(problem.errors?.map((e) => e.path)).toEqual(['partnerCode']);
    // The same parameter without the NUL is an ordinary unknown code.
    expect((await stack.http('GET', '/v1/catalog?partnerCode=%F1%91%A5%8B%21%C3%9C', { key: ra.key })).status).toBeLessThan(500);
  });

  it('keeps well-formed text: a surrogate pair (an emoji) and other control-free Unicode pass', async () => {
    const order = await drive.create('ID_RGS_STAR');
    const held = await post<OrderView & { holdComment: string }>(ra.key, `/v1/orders/${order.id}/hold`, { comment: 'Vérification 🔎 du Kbis' });
    expect(held.status).toBe(200);
    expect(held.body.holdComment).toBe('Vérification 🔎 du Kbis');
  });

  it('answers an OCSP GET whose path is not percent-encoding with an OCSP error, not a 500', async () => {
    for (const path of ['/v1/ocsp/%F1%BB%A8%9DP%C2%86%C3%9E%25%C3%9D', '/v1/ocsp/abc%25zz', '/v1/ocsp/%25']) {
      const res = await fetch(stack.baseUrl + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/ocsp-response');
      // OCSPResponse { responseStatus malformedRequest (1) }: SEQUENCE { ENUMERATED 1 }.
      expect(Buffer.from(await res.arrayBuffer()).toString('hex')).toBe('30030a0101');
    }
  });
});

describe('a replayed payment webhook is acted on once', () => {
  async function deliver(raw: string, at = Date.now()) {
    const signature = signWebhook(WEBHOOK_SECRET, raw, Math.floor(at / 1000));
    const res = await fetch(`${stack.baseUrl}/v1/payments/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body: raw });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('records the payment once for the same event delivered again, re-signed, and twice at the same time', async () => {
    const order = await drive.approve((await drive.completeAndSubmit(await drive.create('ID_RGS_STAR', { payment: { method: 'card' } }))).id);
    expect(order.status).toBe('awaiting_payment');
    const raw = JSON.stringify({ orderId: order.id, status: 'succeeded', reference: 'CB-REPLAY-1' });
    const at = Date.now();

    // The provider's first delivery and a duplicate racing it.
    const [a, b] = await Promise.all([deliver(raw, at), deliver(raw, at)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.body, b.body]).toEqual(expect.arrayContaining([{ received: true, status: 'received' }]));
    // The same bytes replayed later, and the provider's retry signed anew.
    const replayed = await deliver(raw, at);
    const resigned = await deliver(raw, at + 30_000);
    expect(replayed).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(resigned).toEqual({ status: 200, body: { received: true, duplicate: true } });

    const paid = await drive.until(order.id, (o) => o.status === 'awaiting_acceptance');
    expect(paid.payment).toMatchObject({ method: 'card', status: 'received' });
    const accepted = (await listOrderEvents(stack.db, order.id)).filter((e) => e.action === 'payment_webhook' && e.outcome === 'accepted');
    expect(accepted).toHaveLength(1);
    // One certificate for the order.
    expect(paid.certificateSerial).toMatch(/^[0-9a-f]+$/);
    const again = await drive.get(order.id);
    expect(again.certificateSerial).toBe(paid.certificateSerial);
  });

  it('refuses a different result for a payment already recorded (409), leaving it as it was', async () => {
    const order = await drive.approve((await drive.completeAndSubmit(await drive.create('ID_RGS_STAR', { payment: { method: 'card' } }))).id);
    expect((await deliver(JSON.stringify({ orderId: order.id, status: 'succeeded', reference: 'CB-FIRST' }))).status).toBe(200);
    const other = await deliver(JSON.stringify({ orderId: order.id, status: 'failed', reference: 'CB-OTHER' }));
    expect(other.status).toBeGreaterThanOrEqual(409);
    expect(other.status).toBeLessThan(500);
    expect((await drive.get(order.id)).payment.status).toBe('received');
  });

  it('refuses a signed webhook whose reference holds a NUL with a 400, recording nothing', async () => {
    const order = await drive.approve((await drive.completeAndSubmit(await drive.create('ID_RGS_STAR', { payment: { method: 'card' } }))).id);
    const eventsBefore = await listOrderEvents(stack.db, order.id);
    const res = await deliver(JSON.stringify({ orderId: order.id, status: 'succeeded', reference: 'CB\u0000' }));
    expect(res.status).toBe(400);
    expect(await listOrderEvents(stack.db, order.id)).toEqual(eventsBefore);
    expect((await drive.get(order.id)).payment.status).toBe('pending');
  });
});

describe('Idempotency-Key reused with another body', () => {
  it('answers 422 (the API convention, SPEC §3 creation), keeps the first order, and the key still replays it', async () => {
    const key = `bad-input-${Date.now()}`;
    const first = await post<OrderView>(holder.key, '/v1/orders', rgsStarOrder(), { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    const before = await orderIds();
    const events = await listOrderEvents(stack.db, first.body.id);

    for (const body of [rgsStarOrder({ durationYears: 1 }), rgsStarOrder({ os: 'macos' }), rgsStarOrder({ payment: { method: 'card' } })]) {
      expectProblem(await post(holder.key, '/v1/orders', body, { 'Idempotency-Key': key }), 422, 'idempotency-key-reused');
    }
    expect(await orderIds()).toEqual(before);
    expect(await drive.get(first.body.id)).toMatchObject({ durationYears: 3, os: 'windows', payment: { method: 'transfer' } });
    expect(await listOrderEvents(stack.db, first.body.id)).toEqual(events);

    // The same body with its keys in another order is the same request: replayed, not refused.
    const { product, durationYears, ...rest } = rgsStarOrder();
    const same = await post<OrderView>(holder.key, '/v1/orders', { ...rest, durationYears, product }, { 'Idempotency-Key': key });
    expect(same.status).toBe(201);
    expect(same.headers.get('idempotent-replayed')).toBe('true');
    expect(same.body.id).toBe(first.body.id);
    expect(await orderIds()).toEqual(before);
  });

  it('keeps keys per caller: another customer using the same key gets an order of their own', async () => {
    const key = `shared-${Date.now()}`;
    const mine = await post<OrderView>(holder.key, '/v1/orders', rgsStarOrder(), { 'Idempotency-Key': key });
    const other = await stack.account('customer');
    const theirs = await post<OrderView>(other.key, '/v1/orders', rgsStarOrder({ durationYears: 1 }), { 'Idempotency-Key': key });
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
  });
});
