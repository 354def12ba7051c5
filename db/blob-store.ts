/**
 * Evidence files, stored content-addressed on the file system: `<root>/<2 hex>/<2 hex>/<sha256>`.
 *
 * A blob is written once and never changed: same content, same name, so a second upload of the same file reuses the
 * existing blob, and nothing ever replaces one. The database rows point at blobs by their SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, openSync, type ReadStream } from 'node:fs';
import { link, lstat, mkdir, open, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

export interface PutResult {
  readonly sha256: string;
  readonly sizeBytes: number;
  /** False when the same content was already stored (the existing blob was checked and kept untouched). */
  readonly created: boolean;
}

export interface BlobStore {
  put(data: Buffer): Promise<PutResult>;
  /** A stream of the blob's bytes; throws `BlobNotFoundError` at once when there is no such blob. */
  open(sha256: string): ReadStream;
  has(sha256: string): Promise<boolean>;
  pathOf(sha256: string): string;
}

export class InvalidDigestError extends Error {
  constructor(value: string) {
    // Only a short, printable prefix of the value: it came from outside and may be anything.
    super(`not a SHA-256 digest (64 lower-case hex characters): ${JSON.stringify(value.slice(0, 80))}`);
    this.name = 'InvalidDigestError';
  }
}

export class BlobNotFoundError extends Error {
  constructor(readonly sha256: string) {
    super(`no blob ${sha256} in the store`);
    this.name = 'BlobNotFoundError';
  }
}

/** The file stored under a digest does not have that digest: disk corruption or tampering. Never repaired silently. */
export class BlobCorruptedError extends Error {
  constructor(
    readonly sha256: string,
    readonly path: string,
    reason: string,
  ) {
    super(`blob ${path} does not match its name: ${reason}`);
    this.name = 'BlobCorruptedError';
  }
}

const DIGEST = /^[0-9a-f]{64}$/;
const READ_ONLY = 0o444;

export function isSha256Hex(value: string): boolean {
  return DIGEST.test(value);
}

const sha256Of = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Hashes a stored file by streaming it, so checking a large blob does not load it whole. */
async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Makes a directory entry durable: without it a crash may lose the name of a file whose data was synced. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function createBlobStore(rootDir: string): BlobStore {
  const root = resolve(rootDir);

  const pathOf = (sha256: string): string => {
    // Checked before any path is built: the digest often comes from a URL or a database row.
    if (!isSha256Hex(sha256)) throw new InvalidDigestError(sha256);
    return join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  };

  /** Checks that an existing blob really holds the content its name promises. */
  async function verifyExisting(sha256: string, path: string, expectedSize: number): Promise<void> {
    const info = await lstat(path);
    if (!info.isFile()) throw new BlobCorruptedError(sha256, path, 'it is not a regular file');
    if (info.size !== expectedSize) throw new BlobCorruptedError(sha256, path, `its size is ${info.size} bytes, not ${expectedSize}`);
    const actual = await hashFile(path);
    if (actual !== sha256) throw new BlobCorruptedError(sha256, path, `its content hashes to ${actual}`);
  }

  async function put(data: Buffer): Promise<PutResult> {
    const sha256 = sha256Of(data);
    const path = pathOf(sha256);
    const dir = dirname(path);
    const result = (created: boolean): PutResult => ({ sha256, sizeBytes: data.length, created });

    try {
      await verifyExisting(sha256, path, data.length);
      return result(false);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }

    const firstCreated = await mkdir(dir, { recursive: true, mode: 0o755 });
    // A unique temporary name in the same directory: link() below cannot cross file systems.
    const tmp = join(dir, `.tmp-${sha256}-${randomBytes(8).toString('hex')}`);
    try {
      const handle = await open(tmp, 'wx', READ_ONLY);
      try {
        await handle.writeFile(data);
        // The umask may have removed bits, never added any; chmod states the intent whatever it is.
        await handle.chmod(READ_ONLY);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        // link() fails if the name exists, unlike rename(): an existing blob is never replaced, even in a race.
        await link(tmp, path);
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        // Another writer stored the same content first: keep theirs, after checking it.
        await verifyExisting(sha256, path, data.length);
        return result(false);
      }
      await syncDirectory(dir);
      if (firstCreated !== undefined) {
        // New fan-out directories: each one's entry in its parent must be durable too.
        const top = dirname(firstCreated);
        for (let d = dirname(dir); ; d = dirname(d)) {
          await syncDirectory(d);
          if (d === top || d === dirname(d)) break;
        }
      }
      return result(true);
    } finally {
      // After link() the temporary name is only a second name of the blob; a leftover one is harmless, so a
      // failure to remove it must not turn a stored blob into an error.
      await unlink(tmp).catch(() => undefined);
    }
  }

  function openBlob(sha256: string): ReadStream {
    const path = pathOf(sha256);
    let fd: number;
    try {
      // Opened synchronously so that a missing blob throws here, not later as a stream error.
      fd = openSync(path, 'r');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') throw new BlobNotFoundError(sha256);
      throw err;
    }
    return createReadStream(path, { fd, autoClose: true });
  }

  async function has(sha256: string): Promise<boolean> {
    const path = pathOf(sha256);
    try {
      return (await lstat(path)).isFile();
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  return { put, open: openBlob, has, pathOf };
}
