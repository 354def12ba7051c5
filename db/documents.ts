/** Evidence documents: one row per upload, pointing at its content-addressed blob (db/blob-store.ts) by SHA-256. */
import { asc, eq } from 'drizzle-orm';
import { v7 as uuidv7 } from 'uuid';
import type { DocumentType } from '../domain/catalog.js';
import { appendAudit } from './audit-log.js';
import type { Database } from './client.js';
import { documents } from './schema.js';

export type DocumentRow = typeof documents.$inferSelect;

export interface NewDocument {
  /** Given by the caller when it must know the id before the insert (e.g. to retry idempotently); else a UUIDv7. */
  readonly id?: string;
  readonly orderId: string;
  readonly documentType: DocumentType;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly mediaType: string;
  readonly originalName: string | null;
  readonly uploadedByUserId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function insertDocument(db: Database, doc: NewDocument): Promise<DocumentRow> {
  // A row that points at no possible blob would be evidence lost for good: refuse it before it is written.
  if (!/^[0-9a-f]{64}$/.test(doc.sha256)) throw new Error(`document sha256 is not a lower-case hex SHA-256: ${doc.sha256}`);
  if (!Number.isSafeInteger(doc.sizeBytes) || doc.sizeBytes < 0) throw new Error(`document size is not a byte count: ${doc.sizeBytes}`);
  const [row] = await db.transaction(async (tx) => {
    const inserted = await tx
      .insert(documents)
      .values({
        id: doc.id ?? uuidv7(),
        orderId: doc.orderId,
        documentType: doc.documentType,
        sha256: doc.sha256,
        sizeBytes: doc.sizeBytes,
        mediaType: doc.mediaType,
        originalName: doc.originalName,
        uploadedByUserId: doc.uploadedByUserId,
      })
      .returning();
    const [stored] = inserted;
    // The evidence's SHA-256 in the chain: the blob it names can be checked against it years later.
    if (stored !== undefined) {
      await appendAudit(tx, {
        kind: 'document',
        orderId: stored.orderId,
        actorUserId: stored.uploadedByUserId,
        action: 'document_stored',
        detail: { documentId: stored.id, documentType: stored.documentType, sha256: stored.sha256, sizeBytes: stored.sizeBytes, mediaType: stored.mediaType },
      });
    }
    return inserted;
  });
  if (row === undefined) throw new Error('document insert returned nothing');
  return row;
}

export async function getDocument(db: Database, id: string): Promise<DocumentRow | undefined> {
  // An id from a URL that is not a UUID names no document; asking Postgres would fail with a cast error instead.
  if (!UUID.test(id)) return undefined;
  const [row] = await db.select().from(documents).where(eq(documents.id, id));
  return row;
}

/** An order's documents, oldest first (ids are UUIDv7, so the id breaks ties in upload order). */
export async function listDocuments(db: Database, orderId: string): Promise<DocumentRow[]> {
  if (!UUID.test(orderId)) return [];
  return db.select().from(documents).where(eq(documents.orderId, orderId)).orderBy(asc(documents.createdAt), asc(documents.id));
}
