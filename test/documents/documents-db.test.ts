/** The documents table: insert, get, list by order. */
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getDocument, insertDocument, listDocuments } from '../../db/documents.js';
import { customerWithOrder } from './support.js';
import { runDatabase } from '../run-database.js';

const digest = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('documents table', () => {
  const handle = runDatabase(4);

  it('inserts, gets and lists an order’s documents in upload order', async () => {
    const { user, orderId } = await customerWithOrder(handle.db);
    const base = { orderId, sizeBytes: 10, mediaType: 'application/pdf', uploadedByUserId: user.id };
    const first = await insertDocument(handle.db, { ...base, documentType: 'holder_identity', sha256: digest('a'), originalName: 'id.pdf' });
    const second = await insertDocument(handle.db, { ...base, documentType: 'organisation_registration', sha256: digest('b'), originalName: null });
    expect(first).toMatchObject({ orderId, documentType: 'holder_identity', sha256: digest('a'), sizeBytes: 10, originalName: 'id.pdf', uploadedByUserId: user.id });
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.createdAt).toBeInstanceOf(Date);
    expect(await getDocument(handle.db, first.id)).toEqual(first);
    expect(await listDocuments(handle.db, orderId)).toEqual([first, second]);
  });

  it('keeps an id given by the caller', async () => {
    const { user, orderId } = await customerWithOrder(handle.db);
    const id = randomUUID();
    const row = await insertDocument(handle.db, { id, orderId, documentType: 'signed_order_form', sha256: digest('c'), sizeBytes: 1, mediaType: 'image/png', originalName: null, uploadedByUserId: user.id });
    expect(row.id).toBe(id);
  });

  it('finds nothing for an unknown or malformed id, without a database error', async () => {
    expect(await getDocument(handle.db, randomUUID())).toBeUndefined();
    expect(await getDocument(handle.db, 'not-a-uuid')).toBeUndefined();
    expect(await listDocuments(handle.db, randomUUID())).toEqual([]);
    expect(await listDocuments(handle.db, "1' or '1'='1")).toEqual([]);
  });

  it('refuses a row that points at no possible blob', async () => {
    const { user, orderId } = await customerWithOrder(handle.db);
    const row = { orderId, documentType: 'holder_identity' as const, sizeBytes: 1, mediaType: 'image/png', originalName: null, uploadedByUserId: user.id };
    await expect(insertDocument(handle.db, { ...row, sha256: '../etc/passwd' })).rejects.toThrow(/sha256/);
    await expect(insertDocument(handle.db, { ...row, sha256: digest('d'), sizeBytes: -1 })).rejects.toThrow(/size/);
    expect(await listDocuments(handle.db, orderId)).toEqual([]);
  });
});
