/** The content-addressed blob store on a real file system. */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobCorruptedError, BlobNotFoundError, createBlobStore, InvalidDigestError, type BlobStore } from '../../db/blob-store.js';
import { minimalPdf, PNG_1X1 } from './fixtures.js';
import { filesUnder } from './support.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function readAll(store: BlobStore, digest: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of store.open(digest)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('blob store', () => {
  let root: string;
  let store: BlobStore;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'certflow-blob-store-'));
    // A root that does not exist yet: the store creates what it needs.
    store = createBlobStore(join(root, 'blobs'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores under <2 hex>/<2 hex>/<sha256>, read-only, and gives back exactly the bytes', async () => {
    const data = minimalPdf();
    const digest = sha256(data);
    expect(await store.has(digest)).toBe(false);
    expect(await store.put(data)).toEqual({ sha256: digest, sizeBytes: data.length, created: true });
    const path = store.pathOf(digest);
    expect(path).toBe(join(root, 'blobs', digest.slice(0, 2), digest.slice(2, 4), digest));
    expect(await store.has(digest)).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o444);
    expect((await readAll(store, digest)).equals(data)).toBe(true);
    // Only the blob: no temporary file left next to it.
    expect(await filesUnder(join(root, 'blobs'))).toEqual([join(digest.slice(0, 2), digest.slice(2, 4), digest)]);
  });

  it('keeps the first copy of the same content and never rewrites it', async () => {
    const data = PNG_1X1;
    await store.put(data);
    const was = await stat(store.pathOf(sha256(data)));
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.put(Buffer.from(data))).toEqual({ sha256: sha256(data), sizeBytes: data.length, created: false });
    const is = await stat(store.pathOf(sha256(data)));
    expect([is.ino, is.mtimeMs, is.ctimeMs, is.nlink]).toEqual([was.ino, was.mtimeMs, was.ctimeMs, 1]);
  });

  it('stores concurrent puts of the same content once', async () => {
    const data = Buffer.concat([minimalPdf(), Buffer.alloc(256 * 1024, 0x20)]);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.put(Buffer.from(data))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.sha256))).toEqual(new Set([sha256(data)]));
    expect(await filesUnder(join(root, 'blobs'))).toHaveLength(1);
    expect((await readAll(store, sha256(data))).equals(data)).toBe(true);
  });

  it('refuses to go on over a corrupted blob, and leaves it as found', async () => {
    const data = minimalPdf();
    const digest = sha256(data);
    await store.put(data);
    const path = store.pathOf(digest);
    // Same size, other content: only the hash can tell.
    const tampered = Buffer.from(data);
    tampered[tampered.length - 2] = 0x41;
    await chmod(path, 0o644);
    await writeFile(path, tampered);
    await chmod(path, 0o444);
    await expect(store.put(data)).rejects.toBeInstanceOf(BlobCorruptedError);
    expect((await readFile(path)).equals(tampered)).toBe(true);
    // Another size: caught before hashing.
    await chmod(path, 0o644);
    await writeFile(path, 'short');
    await expect(store.put(data)).rejects.toThrow(/size is 5 bytes/);
    expect(await readFile(path, 'utf8')).toBe('short');
  });

  it('throws a clear error when opening a blob that is not there', () => {
    const digest = sha256(Buffer.from('never stored'));
    expect(() => store.open(digest)).toThrow(BlobNotFoundError);
    expect(() => store.open(digest)).toThrow(`no blob ${digest} in the store`);
  });

  it.each([
    ['upper case', 'A'.repeat(64)],
    ['too short', 'a'.repeat(63)],
    ['too long', 'a'.repeat(65)],
    ['a path', `../../${'a'.repeat(58)}`],
    ['a slash', `${'a'.repeat(32)}/${'a'.repeat(31)}`],
    ['empty', ''],
    ['a trailing newline', `${'a'.repeat(64)}\n`],
  ])('refuses a digest that is %s before touching the file system', async (_why, digest) => {
    expect(() => store.pathOf(digest)).toThrow(InvalidDigestError);
    expect(() => store.open(digest)).toThrow(InvalidDigestError);
    await expect(store.has(digest)).rejects.toBeInstanceOf(InvalidDigestError);
  });
});
