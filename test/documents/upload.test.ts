/**
 * Evidence uploads over real HTTP: multipart reading, sniffing, size limit, content-addressed storage and the
 * documents table, on the run's Postgres database.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { Agent, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeServer } from '../../api/server.js';
import { createBlobStore, type BlobStore } from '../../db/blob-store.js';
import { openPostgres, type DatabaseHandle } from '../../db/client.js';
import { listDocuments, type DocumentRow } from '../../db/documents.js';
import { fakeExe, minimalJpeg, minimalPdf, minimalZip, PNG_1X1, pdfOfSize } from './fixtures.js';
import { customerWithOrder, filesUnder, MAX_BYTES, startUploadApp, uploadApp } from './support.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  detectedType?: string | null;
}

describe('evidence upload', () => {
  let handle: DatabaseHandle;
  let root: string;
  let store: BlobStore;
  let server: Server;
  let baseUrl: string;
  let port: number;
  let uploaderId = '';

  beforeAll(async () => {
    handle = openPostgres(inject('databaseUrl'), 4);
    root = await mkdtemp(join(tmpdir(), 'certflow-blobs-'));
    store = createBlobStore(root);
    ({ server, baseUrl, port } = await startUploadApp(uploadApp(handle.db, store, () => uploaderId)));
  });
  afterAll(async () => {
    if (server !== undefined) await closeServer(server);
    await handle?.close();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  /** A fresh order (so row counts are its own) whose uploads are made by its customer. */
  async function order(): Promise<string> {
    const { user, orderId } = await customerWithOrder(handle.db);
    uploaderId = user.id;
    return orderId;
  }

  function form(file: { bytes: Buffer; declaredType?: string; name?: string } | undefined, fields: Record<string, string> = { documentType: 'holder_identity' }): FormData {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.append(k, v);
    if (file !== undefined) f.append('file', new Blob([file.bytes], { type: file.declaredType ?? 'application/octet-stream' }), file.name ?? 'upload.bin');
    return f;
  }

  async function post(orderId: string, body: FormData | string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string | null; json: unknown }> {
    const res = await fetch(`${baseUrl}/orders/${orderId}/evidence`, { method: 'POST', body, headers });
    return { status: res.status, contentType: res.headers.get('content-type'), json: await res.json() };
  }

  async function expectNothingStored(orderId: string, blobsBefore: string[]): Promise<void> {
    expect(await listDocuments(handle.db, orderId)).toEqual([]);
    // No new blob and no temporary file left behind.
    expect(await filesUnder(root)).toEqual(blobsBefore);
  }

  it.each([
    { kind: 'PDF', bytes: minimalPdf(), mediaType: 'application/pdf', declaredType: 'application/pdf', name: 'kbis.pdf' },
    // The declared type and name are wrong on purpose: only the content counts.
    { kind: 'PNG', bytes: PNG_1X1, mediaType: 'image/png', declaredType: 'application/octet-stream', name: 'scan.pdf' },
    { kind: 'JPEG', bytes: minimalJpeg(), mediaType: 'image/jpeg', declaredType: 'text/plain', name: 'photo' },
  ])('accepts a $kind and stores it under its SHA-256 with the sniffed media type', async ({ bytes, mediaType, declaredType, name }) => {
    const orderId = await order();
    const res = await post(orderId, form({ bytes, declaredType, name }));
    expect(res.status).toBe(201);
    const row = res.json as DocumentRow & { blobCreated: boolean; uploadSha256: string };
    expect(row).toMatchObject({ orderId, documentType: 'holder_identity', sha256: sha256(bytes), sizeBytes: bytes.length, mediaType, originalName: name });
    expect(row.uploadSha256).toBe(sha256(bytes));
    expect(await listDocuments(handle.db, orderId)).toMatchObject([{ id: row.id, sha256: sha256(bytes), mediaType }]);

    const path = store.pathOf(row.sha256);
    expect(path).toBe(join(root, row.sha256.slice(0, 2), row.sha256.slice(2, 4), row.sha256));
    expect((await stat(path)).mode & 0o777).toBe(0o444);
    const chunks: Buffer[] = [];
    for await (const chunk of store.open(row.sha256)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('refuses a text file declared as application/pdf and named x.pdf (415), storing nothing', async () => {
    const orderId = await order();
    const before = await filesUnder(root);
    const res = await post(orderId, form({ bytes: Buffer.from('This is plain text, not a PDF.\n'), declaredType: 'application/pdf', name: 'x.pdf' }));
    expect(res.status).toBe(415);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    const problem = res.json as Problem;
    expect(problem.type).toBe('urn:certflow:problem:unsupported-file-type');
    expect(problem.detail).toContain('not a PDF, PNG or JPEG');
    expect(problem.detectedType).toBeNull();
    await expectNothingStored(orderId, before);
  });

  it.each([
    { kind: 'an EXE', bytes: fakeExe(), detected: 'application/x-msdownload' },
    { kind: 'a ZIP', bytes: minimalZip(), detected: 'application/zip' },
  ])('refuses $kind (415) and says what was detected', async ({ bytes, detected }) => {
    const orderId = await order();
    const before = await filesUnder(root);
    const res = await post(orderId, form({ bytes, declaredType: 'application/pdf', name: 'evidence.pdf' }));
    expect(res.status).toBe(415);
    const problem = res.json as Problem;
    expect(problem.type).toBe('urn:certflow:problem:unsupported-file-type');
    expect(problem.detectedType).toBe(detected);
    expect(problem.detail).toContain(detected);
    await expectNothingStored(orderId, before);
  });

  it('refuses a file of 10 MiB + 1 byte with a 413 problem, storing nothing, and accepts exactly 10 MiB', async () => {
    const orderId = await order();
    const before = await filesUnder(root);
    const tooBig = await post(orderId, form({ bytes: pdfOfSize(MAX_BYTES + 1), declaredType: 'application/pdf', name: 'big.pdf' }));
    expect(tooBig.status).toBe(413);
    expect(tooBig.contentType).toMatch(/^application\/problem\+json/);
    expect(tooBig.json).toMatchObject({ type: 'urn:certflow:problem:file-too-large', status: 413 });
    await expectNothingStored(orderId, before);

    const exact = pdfOfSize(MAX_BYTES);
    const ok = await post(orderId, form({ bytes: exact, declaredType: 'application/pdf', name: 'big.pdf' }));
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ sizeBytes: MAX_BYTES, sha256: sha256(exact), mediaType: 'application/pdf' });
    expect(await store.has(sha256(exact))).toBe(true);
  });

  it('refuses a declared length far over the limit before reading the body', async () => {
    const orderId = await order();
    const before = await filesUnder(root);
    const res = await post(orderId, form({ bytes: pdfOfSize(3 * MAX_BYTES), name: 'huge.pdf' }));
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ type: 'urn:certflow:problem:file-too-large' });
    await expectNothingStored(orderId, before);
  });

  /**
   * A chunked upload (no Content-Length) over raw HTTP from a client that keeps sending whatever the server answers,
   * to see exactly what it gets: the status, the body, and how much of the upload the server took before closing.
   */
  function chunkedUpload(orderId: string, fileBytes: number, connection: 'close' | 'keep-alive'): Promise<{ status: number; body: string; sent: number; cutOff: boolean }> {
    const boundary = 'certflow-test-boundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="documentType"\r\n\r\nholder_identity\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    return new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/orders/${orderId}/evidence`,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked', connection },
        agent: new Agent({ keepAlive: connection === 'keep-alive' }),
      });
      let status = 0;
      let body = '';
      let cutOff = false;
      let sent = 0;
      req.on('response', (res) => {
        status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        res.on('data', (s: string) => (body += s));
      });
      // Writing into a connection the server closed fails: the expected end of an oversized, endless upload.
      req.on('error', () => (cutOff = true));
      req.on('close', () => (status === 0 ? reject(new Error(`no response after ${sent} bytes`)) : resolve({ status, body, sent, cutOff })));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      chunk.write('%PDF-1.4\n');
      const pump = (): void => {
        while (sent < fileBytes) {
          if (req.destroyed) return;
          const n = Math.min(chunk.length, fileBytes - sent);
          sent += n;
          if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            req.once('drain', pump);
            return;
          }
        }
        req.end(tail);
      };
      req.write(head);
      pump();
    });
  }

  it('answers 413 to a chunked upload once the file passes the limit, reads the rest, and stores nothing', async () => {
    const orderId = await order();
    const before = await filesUnder(root);
    const fileBytes = MAX_BYTES + 512 * 1024;
    const res = await chunkedUpload(orderId, fileBytes, 'close');
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ type: 'urn:certflow:problem:file-too-large' });
    // A little over the limit: the server drains it before answering, so even a client that reads only after sending
    // everything (and asked to close the connection) gets the answer cleanly.
    expect(res).toMatchObject({ sent: fileBytes, cutOff: false });
    await expectNothingStored(orderId, before);
  });

  it('does not read an endless chunked upload for ever: the 413 arrives, then the connection is closed', async () => {
    const orderId = await order();
    const before = await filesUnder(root);
    // The client would send for ever: it stops only because the server answered and closed its side.
    const res = await chunkedUpload(orderId, Number.POSITIVE_INFINITY, 'keep-alive');
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ type: 'urn:certflow:problem:file-too-large' });
    await expectNothingStored(orderId, before);
    // The server still serves the next request.
    expect((await post(orderId, form({ bytes: PNG_1X1, name: 'a.png' }))).status).toBe(201);
  });

  it('cuts a client that keeps sending after the answer and the end of the connection were sent', async () => {
    const orderId = await order();
    const boundary = 'b';
    // A raw socket that stays half-open: it ignores the server's end of the connection and keeps writing.
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let received = '';
    let sent = 0;
    const startedAt = Date.now();
    const done = new Promise<{ error: boolean }>((resolve) => {
      let error = false;
      socket.setEncoding('latin1');
      socket.on('data', (s: string) => (received += s));
      socket.on('error', () => (error = true));
      socket.on('close', () => resolve({ error }));
    });
    socket.write(
      `POST /orders/${orderId}/evidence HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4\n`;
    socket.write(`${head.length.toString(16)}\r\n${head}\r\n`);
    const data = Buffer.alloc(256 * 1024, 0x20);
    const chunk = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    const pump = (): void => {
      while (!socket.destroyed) {
        sent += data.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
    await done;
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toContain('urn:certflow:problem:file-too-large');
    // Cut after the linger time, having taken a bounded amount of the endless body.
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(sent).toBeGreaterThan(MAX_BYTES);
  });

  it.each([
    { why: 'no file', body: () => form(undefined), detail: /No file/ },
    { why: 'two files', body: () => withExtraFile(form({ bytes: PNG_1X1 }), 'file'), detail: /exactly one file/ },
    { why: 'a file part with another name', body: () => withExtraFile(form(undefined), 'document'), detail: /Unexpected file part "document"/ },
    { why: 'an unknown field', body: () => form({ bytes: PNG_1X1 }, { documentType: 'holder_identity', comment: 'hi' }), detail: /Unknown field "comment"/ },
    { why: 'a field given twice', body: () => withField(form({ bytes: PNG_1X1 }), 'documentType', 'holder_identity'), detail: /more than once/ },
    { why: 'the file sent as a text field', body: () => withField(form(undefined), 'file', 'hello'), detail: /must be a file/ },
    { why: 'an empty file', body: () => form({ bytes: Buffer.alloc(0) }), detail: /empty/ },
    { why: 'a field too long', body: () => form({ bytes: PNG_1X1 }, { documentType: 'x'.repeat(9000) }), detail: /longer than 8192 bytes/ },
  ])('answers 400 for $why, storing nothing', async ({ body, detail }) => {
    const orderId = await order();
    const before = await filesUnder(root);
    const res = await post(orderId, body());
    expect(res.status).toBe(400);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.json).toMatchObject({ type: 'urn:certflow:problem:bad-request' });
    expect((res.json as Problem).detail).toMatch(detail);
    await expectNothingStored(orderId, before);
  });

  it('answers 400 to a multipart body that is cut short or has no boundary', async () => {
    const orderId = await order();
    const cut = await post(orderId, '--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4', { 'content-type': 'multipart/form-data; boundary=b' });
    expect(cut.status).toBe(400);
    expect((cut.json as Problem).detail).toMatch(/Unexpected end of (form|file)/);
    const noBoundary = await post(orderId, 'x', { 'content-type': 'multipart/form-data' });
    expect(noBoundary.status).toBe(400);
  });

  it.each([
    { why: 'JSON', body: JSON.stringify({ documentType: 'holder_identity' }), contentType: 'application/json' },
    { why: 'a raw PDF', body: '%PDF-1.4', contentType: 'application/pdf' },
    { why: 'a urlencoded form', body: 'documentType=holder_identity', contentType: 'application/x-www-form-urlencoded' },
  ])('answers 415 unsupported-media-type to $why', async ({ body, contentType }) => {
    const orderId = await order();
    const res = await post(orderId, body, { 'content-type': contentType });
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ type: 'urn:certflow:problem:unsupported-media-type' });
  });

  it('stores the same content once: one blob, two rows, the blob untouched by the second upload', async () => {
    const orderId = await order();
    const bytes = minimalPdf();
    const first = await post(orderId, form({ bytes, name: 'a.pdf' }));
    expect(first.status).toBe(201);
    const path = store.pathOf(sha256(bytes));
    const was = await stat(path);
    // Time enough for a rewrite to show in the timestamps.
    await new Promise((r) => setTimeout(r, 20));
    const second = await post(orderId, form({ bytes, name: 'b.pdf' }, { documentType: 'signed_order_form' }));
    expect(second.status).toBe(201);
    expect((second.json as { blobCreated: boolean }).blobCreated).toBe(false);

    const is = await stat(path);
    expect({ ino: is.ino, mtimeMs: is.mtimeMs, ctimeMs: is.ctimeMs, nlink: is.nlink, mode: is.mode }).toEqual({
      ino: was.ino,
      mtimeMs: was.mtimeMs,
      ctimeMs: was.ctimeMs,
      nlink: 1,
      mode: was.mode,
    });
    expect((await filesUnder(root)).filter((f) => f.endsWith(sha256(bytes)))).toHaveLength(1);
    const rows = await listDocuments(handle.db, orderId);
    expect(rows.map((r) => [r.documentType, r.sha256, r.originalName])).toEqual([
      ['holder_identity', sha256(bytes), 'a.pdf'],
      ['signed_order_form', sha256(bytes), 'b.pdf'],
    ]);
  });

  it('keeps only the last segment of a path-trick file name', async () => {
    const orderId = await order();
    for (const [name, stored] of [
      ['../../etc/passwd', 'passwd'],
      ['..\\..\\windows\\system32\\evil.png', 'evil.png'],
    ]) {
      const res = await post(orderId, form({ bytes: PNG_1X1, name }));
      expect(res.status).toBe(201);
      expect((res.json as DocumentRow).originalName).toBe(stored);
    }
    expect((await listDocuments(handle.db, orderId)).map((r) => r.originalName)).toEqual(['passwd', 'evil.png']);
  });

  it('keeps a UTF-8 file name as sent', async () => {
    const orderId = await order();
    const res = await post(orderId, form({ bytes: PNG_1X1, name: 'pièce d’identité.png' }));
    expect((res.json as DocumentRow).originalName).toBe('pièce d’identité.png');
  });
});

function withExtraFile(f: FormData, name: string): FormData {
  f.append(name, new Blob([minimalPdf()], { type: 'application/pdf' }), 'second.pdf');
  return f;
}

function withField(f: FormData, name: string, value: string): FormData {
  f.append(name, value);
  return f;
}
