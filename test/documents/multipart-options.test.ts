/** readSingleUpload refuses options it cannot honour (a programming error, before the request is touched). */
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { readSingleUpload } from '../../api/multipart.js';

const untouched = {} as Request;
const ok = { maxBytes: 1024, allowedTypes: ['application/pdf'], textFields: ['documentType'] } as const;

describe('readSingleUpload options', () => {
  it.each([
    ['a type that cannot be sniffed', { ...ok, allowedTypes: ['image/gif'] }, /allowedTypes/],
    ['a name inherited by every object', { ...ok, allowedTypes: ['constructor'] }, /allowedTypes/],
    ['no type at all', { ...ok, allowedTypes: [] }, /allowedTypes/],
    ['a size that is not a positive integer', { ...ok, maxBytes: 0 }, /maxBytes/],
    ['"file" as a text field', { ...ok, textFields: ['file'] }, /file part/],
  ])('refuses %s', async (_why, opts, message) => {
    await expect(readSingleUpload(untouched, opts)).rejects.toThrow(message);
  });
});
