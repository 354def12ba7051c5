/** A tiny upload app over the real pieces (multipart reader, blob store, documents table), for the tests of this folder. */
import { readdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { readSingleUpload } from '../../api/multipart.js';
import { Problem, problemHandler } from '../../api/problem.js';
import { listen } from '../../api/server.js';
import { createLogger } from '../../config/logger.js';
import type { User } from '../../db/accounts.js';
import type { BlobStore } from '../../db/blob-store.js';
import type { Database } from '../../db/client.js';
import { insertDocument } from '../../db/documents.js';
import { DOCUMENT_TYPES, type DocumentType } from '../../domain/catalog.js';
import { seedOrder } from '../orders.js';

export const MAX_BYTES = 10 * 1024 * 1024;

const isDocumentType = (v: string | undefined): v is DocumentType => (DOCUMENT_TYPES as readonly string[]).includes(v ?? '');

/** POST /orders/:orderId/evidence as a route would do it: read, store the blob, then record the row. */
export function uploadApp(db: Database, store: BlobStore, uploaderId: () => string): Express {
  const app = express();
  // As in the real app: the JSON parser runs first and must leave multipart bodies alone.
  app.use(express.json({ limit: '256kb' }));
  app.post('/orders/:orderId/evidence', async (req, res) => {
    const upload = await readSingleUpload(req, {
      maxBytes: MAX_BYTES,
      allowedTypes: ['application/pdf', 'image/png', 'image/jpeg'],
      textFields: ['documentType'],
    });
    const documentType = upload.fields.documentType;
    if (!isDocumentType(documentType)) throw Problem.badRequest('documentType is missing or unknown.');
    const blob = await store.put(upload.file.buffer);
    const row = await insertDocument(db, {
      orderId: req.params.orderId,
      documentType,
      sha256: blob.sha256,
      sizeBytes: blob.sizeBytes,
      mediaType: upload.file.mediaType,
      originalName: upload.file.originalName,
      uploadedByUserId: uploaderId(),
    });
    res.status(201).json({ ...row, blobCreated: blob.created, uploadSha256: upload.file.sha256 });
  });
  app.use(problemHandler(createLogger('silent')));
  return app;
}

export async function startUploadApp(app: Express): Promise<{ server: Server; baseUrl: string; port: number }> {
  const server = await listen(app, '127.0.0.1', 0);
  const { port } = server.address() as AddressInfo;
  return { server, baseUrl: `http://127.0.0.1:${port}`, port };
}

/** An organisation, a customer and an order of theirs, so that document rows have their foreign keys. */
export async function customerWithOrder(db: Database): Promise<{ user: User; orderId: string }> {
  const { user, orderId } = await seedOrder(db, 'doc');
  return { user, orderId };
}

/** Every file under the blob root, temporary ones included (relative paths). */
export async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1));
}
