/** Answering with a file kept in the blob store (a supporting document, a mandate contract), as it was uploaded. */
import type { Response } from 'express';
import type { BlobStore } from '../db/blob-store.js';

export interface StoredFile {
  /** The blob's key and the answer's ETag. */
  readonly sha256: string;
  readonly mediaType: string;
  /** Shown by the browser (`inline`), under this name if saved. */
  readonly fileName: string;
  readonly sizeBytes?: number;
}

/** Streams the file to `res` with its type, length (when known), name and ETag; resolves once it is sent. */
export async function sendStoredFile(res: Response, blobs: BlobStore, file: StoredFile): Promise<void> {
  res.setHeader('Content-Type', file.mediaType);
  if (file.sizeBytes !== undefined) res.setHeader('Content-Length', String(file.sizeBytes));
  res.setHeader('Content-Disposition', `inline; filename="${file.fileName}"`);
  res.setHeader('ETag', `"${file.sha256}"`);
  await new Promise<void>((resolve, reject) => {
    const stream = blobs.open(file.sha256);
    stream.once('error', reject);
    stream.once('end', () => resolve());
    stream.pipe(res);
  });
}
