/**
 * Reads one uploaded evidence file from a multipart/form-data request, in memory and bounded.
 *
 * The file's type is sniffed from its bytes: the client's declared Content-Type and the file name are not trusted
 * (a text file named `x.pdf` and sent as application/pdf is refused). The original name is kept as metadata only.
 */
import { createHash } from 'node:crypto';
import busboy from 'busboy';
import type { Request } from 'express';
import { fileTypeFromBuffer } from 'file-type';
import { Problem } from './problem.js';

/** The types that can be recognised from content and may be allowed, with the names used in error messages. */
export const SNIFFABLE_TYPES: Readonly<Record<string, string>> = {
  'application/pdf': 'PDF',
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
};

export interface UploadOptions {
  /** Largest accepted file, in bytes; one more byte is a 413. */
  readonly maxBytes: number;
  /** Media types accepted after sniffing; each must be one of SNIFFABLE_TYPES. */
  readonly allowedTypes: readonly string[];
  /** Names of the text fields that may come with the file (each at most once); any other field is a 400. */
  readonly textFields: readonly string[];
}

export interface UploadedFile {
  readonly buffer: Buffer;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** Sniffed from the content, never the client's declaration. */
  readonly mediaType: string;
  /** The client's file name, without any path or control character, at most 255 characters; null if none. */
  readonly originalName: string | null;
}

export interface Upload {
  /** The text fields present in the request, by name; absent ones are absent (the route decides what is required). */
  readonly fields: Record<string, string>;
  readonly file: UploadedFile;
}

const FILE_PART = 'file';
const MAX_FIELD_BYTES = 8 * 1024;
const MAX_NAME_CHARS = 255;
/** busboy refuses a part header block larger than this (it is Node's own header limit). */
const MAX_PART_HEADER_BYTES = 16 * 1024;

/**
 * Most bytes a valid request can take beyond the file itself: framing, part headers and the text fields. A declared
 * length above maxBytes plus this cannot be a valid upload, and is also how much is discarded after a refusal.
 */
function framingAllowance(textFieldCount: number): number {
  return 64 * 1024 + (textFieldCount + 1) * (MAX_PART_HEADER_BYTES + MAX_FIELD_BYTES);
}

/** Bidirectional overrides and isolates: they make `invoice\u202Efdp.exe` display as `invoiceexe.pdf`. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/gu;
/** C0 and C1 control characters and DEL. */
const CONTROL_CHARS = /\p{Cc}/gu;

/**
 * The client's file name reduced to something safe to store and show: the last path segment (either separator),
 * no control or bidi-override character, at most 255 characters (code points, never a split surrogate pair).
 */
export function sanitizeFileName(name: string | undefined | null): string | null {
  if (name === undefined || name === null) return null;
  const cleaned = name.normalize('NFC').replace(CONTROL_CHARS, '').replace(BIDI_CONTROLS, '');
  const base = (cleaned.split(/[/\\]/).pop() ?? '').trim();
  if (base === '' || base === '.' || base === '..') return null;
  const chars = Array.from(base);
  return chars.length > MAX_NAME_CHARS ? chars.slice(0, MAX_NAME_CHARS).join('') : base;
}

function describeSize(bytes: number): string {
  const mib = 1024 * 1024;
  return bytes % mib === 0 ? `${bytes / mib} MiB` : `${bytes} bytes`;
}

function humanList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function isMultipartFormData(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*multipart\/form-data\s*(;|$)/i.test(contentType);
}

/** A short, printable rendering of a client-supplied name for an error message. */
function quoted(name: string): string {
  return JSON.stringify(name.slice(0, 100));
}

function tooLarge(maxBytes: number): Problem {
  return new Problem(413, 'file-too-large', 'The file is too large', `The file exceeds the limit of ${describeSize(maxBytes)} (${maxBytes} bytes).`, {
    maxBytes,
  });
}

/** How long a connection is kept reading (and dropping) after our side was closed, before it is cut. */
const LINGER_MS = 2000;

/**
 * After a refusal: stops parsing, reads and drops the rest of the body, and only then calls `answer` (which sends the
 * error). Many clients read the response only once they have sent their whole body, and a connection closed under a
 * client still sending is reset, which can wipe the response before it is read: draining first makes the error
 * reach every client and keeps the connection usable. A body that goes on for more than `limit` further bytes is
 * not worth reading: the answer goes at once and the connection is closed, lingering (see closeLingering).
 */
function drainThen(req: Request, limit: number, answer: () => void): void {
  let answered = false;
  const once = (): void => {
    if (answered) return;
    answered = true;
    answer();
  };
  if (req.readableEnded || req.destroyed) return once();
  let discarded = 0;
  const giveUp = (): void => {
    closeLingering(req);
    once();
  };
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > limit && !answered) giveUp();
  });
  req.once('end', once);
  // The client went away: nobody will read the answer, but the handler must not wait for ever.
  req.once('close', once);
  req.once('error', once);
  if (limit <= 0) giveUp();
  req.resume();
}

/**
 * Closes a connection on which the client is still sending, the way web servers do (a "lingering close"): once the
 * response is sent, end our side (the client sees a complete answer), keep reading and dropping for a moment so the
 * system does not reset the connection under the unread response, then cut it.
 * (A client that asked for `Connection: close` is closed by Node itself right after the response, without lingering.)
 */
function closeLingering(req: Request): void {
  const socket = req.socket;
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
  const res = req.res;
  if (res === undefined || res.writableFinished) socket.end();
  else res.once('finish', () => socket.end());
}

function checkOptions(opts: UploadOptions): void {
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes <= 0) throw new Error(`readSingleUpload: maxBytes must be a positive integer, got ${opts.maxBytes}`);
  const unknown = opts.allowedTypes.filter((t) => !Object.hasOwn(SNIFFABLE_TYPES, t));
  if (unknown.length > 0 || opts.allowedTypes.length === 0) {
    throw new Error(`readSingleUpload: allowedTypes must be among ${Object.keys(SNIFFABLE_TYPES).join(', ')}; got ${opts.allowedTypes.join(', ')}`);
  }
  if (opts.textFields.includes(FILE_PART)) throw new Error(`readSingleUpload: "${FILE_PART}" is the file part, not a text field`);
}

/** Parses the request's multipart body: exactly one file part named `file`, plus the allowed text fields. */
export async function readSingleUpload(req: Request, opts: UploadOptions): Promise<Upload> {
  checkOptions(opts);
  const allowance = framingAllowance(opts.textFields.length);
  const discardLimit = opts.maxBytes + allowance;

  const refuse = (problem: Problem, limit = discardLimit): Promise<never> =>
    new Promise((_resolve, reject) => drainThen(req, limit, () => reject(problem)));

  const contentType = req.headers['content-type'];
  if (!isMultipartFormData(contentType)) {
    return refuse(
      new Problem(
        415,
        'unsupported-media-type',
        'Unsupported media type',
        `Send multipart/form-data with the document in a part named "${FILE_PART}"; the request's Content-Type is ${contentType === undefined ? 'missing' : quoted(contentType)}.`,
      ),
    );
  }
  // Refused before reading anything: a declared length this large cannot be a file within the limit, and there is no
  // point reading it (the connection is closed once the answer is sent).
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > discardLimit) return refuse(tooLarge(opts.maxBytes), 0);
  if (req.readableEnded) throw new Error('readSingleUpload: the request body was already consumed');

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      // Browsers send UTF-8 file names; busboy's default for parameters is latin1.
      defParamCharset: 'utf8',
      limits: {
        // busboy flags a file once it *reaches* the limit: one byte more than allowed marks it too large.
        fileSize: opts.maxBytes + 1,
        // One more file and field than allowed, so that the extra one is seen and named in the error.
        files: 2,
        fields: opts.textFields.length + 1,
        parts: opts.textFields.length + 3,
        fieldSize: MAX_FIELD_BYTES,
        headerPairs: 20,
      },
    });
  } catch (err) {
    // A multipart Content-Type without a boundary, or with a malformed one.
    return refuse(Problem.badRequest(`The multipart body cannot be read: ${(err as Error).message}.`));
  }
  const bb = parser;

  return new Promise<Upload>((resolve, reject) => {
    let settled = false;
    const fields = new Map<string, string>();
    let file: { chunks: Buffer[]; size: number; hash: ReturnType<typeof createHash>; name: string | null; ended: boolean } | undefined;

    const fail = (problem: Problem): void => {
      if (settled) return;
      settled = true;
      req.unpipe(bb);
      // Deferred: fail() runs inside busboy's own event handlers, and busboy still touches its file stream after
      // emitting 'limit'. Destroying it ends any file stream in progress; their errors are ignored from now on.
      setImmediate(() => bb.destroy());
      drainThen(req, discardLimit, () => reject(problem));
    };

    const finish = async (): Promise<void> => {
      settled = true;
      if (file === undefined || !file.ended) {
        reject(Problem.badRequest(`No file: send the document in a multipart part named "${FILE_PART}" (with a file name).`));
        return;
      }
      if (file.size === 0) {
        reject(Problem.badRequest('The file is empty.'));
        return;
      }
      const buffer = Buffer.concat(file.chunks, file.size);
      // A detector failing on hostile content must refuse the file, not fail the request with a 500.
      const detected = await fileTypeFromBuffer(buffer).catch(() => undefined);
      if (detected === undefined || !opts.allowedTypes.includes(detected.mime)) {
        const wanted = humanList(opts.allowedTypes.map((t) => SNIFFABLE_TYPES[t] ?? t));
        const seen = detected === undefined ? 'its format was not recognised' : `it looks like ${detected.mime} (.${detected.ext})`;
        reject(
          new Problem(
            415,
            'unsupported-file-type',
            'Unsupported file type',
            `The content is not a ${wanted}: ${seen}. The type is read from the content; the file name and declared type do not count.`,
            { detectedType: detected?.mime ?? null, allowedTypes: [...opts.allowedTypes] },
          ),
        );
        return;
      }
      resolve({
        fields: Object.fromEntries(fields),
        file: { buffer, sha256: file.hash.digest('hex'), sizeBytes: file.size, mediaType: detected.mime, originalName: file.name },
      });
    };

    bb.on('field', (name, value, info) => {
      if (settled) return;
      if (!opts.textFields.includes(name)) {
        fail(
          Problem.badRequest(
            name === FILE_PART
              ? `The "${FILE_PART}" part must be a file (with a file name in its Content-Disposition), not a text field.`
              : `Unknown field ${quoted(name)}; the fields accepted are "${FILE_PART}" (the document)${opts.textFields.map((f) => `, "${f}"`).join('')}.`,
          ),
        );
        return;
      }
      if (info.valueTruncated) return fail(Problem.badRequest(`The field ${quoted(name)} is longer than ${MAX_FIELD_BYTES} bytes.`));
      if (fields.has(name)) return fail(Problem.badRequest(`The field ${quoted(name)} is given more than once.`));
      fields.set(name, value);
    });

    bb.on('file', (name, stream, info) => {
      // Listened to first: destroying busboy after a refusal makes an unfinished file stream emit an error.
      stream.on('error', (err) => fail(Problem.badRequest(`The multipart body cannot be read: ${err.message}.`)));
      if (settled) {
        stream.resume();
        return;
      }
      if (name !== FILE_PART) return fail(Problem.badRequest(`Unexpected file part ${quoted(name)}: send the document in a part named "${FILE_PART}".`));
      if (file !== undefined) return fail(Problem.badRequest('Send exactly one file: this request has more than one.'));
      const current = { chunks: [] as Buffer[], size: 0, hash: createHash('sha256'), name: sanitizeFileName(info.filename), ended: false };
      file = current;
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        current.chunks.push(chunk);
        current.size += chunk.length;
        current.hash.update(chunk);
      });
      stream.on('limit', () => fail(tooLarge(opts.maxBytes)));
      stream.on('end', () => {
        current.ended = true;
      });
    });

    bb.on('filesLimit', () => fail(Problem.badRequest('Send exactly one file: this request has more than one.')));
    bb.on('fieldsLimit', () => fail(Problem.badRequest(`Too many fields: the fields accepted are "${FILE_PART}"${opts.textFields.map((f) => `, "${f}"`).join('')}.`)));
    bb.on('partsLimit', () => fail(Problem.badRequest('Too many parts in the multipart body.')));
    bb.on('error', (err: Error) => fail(Problem.badRequest(`The multipart body cannot be read: ${err.message}.`)));
    // busboy's 'close' comes after every part, and the file stream's end, was handled.
    bb.on('close', () => {
      if (settled) return;
      finish().catch((err: unknown) => reject(err instanceof Error ? err : new Error(String(err))));
    });

    // A client that goes away mid-upload: settle, so the handler does not wait for ever (nobody reads the answer).
    req.on('error', () => fail(Problem.badRequest('The upload was interrupted.')));
    req.on('close', () => {
      if (!req.complete) fail(Problem.badRequest('The upload was interrupted.'));
    });

    req.pipe(bb);
  });
}
