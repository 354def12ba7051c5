/**
 * Text that no column can hold, refused at the door: PostgreSQL's text and jsonb refuse U+0000, and jsonb refuses a
 * UTF-16 surrogate without its pair (JSON can carry both as \u0000 and \ud800). Let through, such a string fails
 * the request deep inside (a 500), or worse an activity that retries for ever; refused here, it is a 400 that names
 * the field (api/routing.ts checks every JSON body a route declares).
 */

/** Matched on UTF-16 code units (no `u` flag): a high surrogate not followed by a low one, or a low one alone. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const unstorable = { test: (text: string): boolean => text.includes('\0') || LONE_SURROGATE.test(text) };

/** The path of the first string (value or key) that cannot be stored, or undefined. */
export function findUnstorableText(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return unstorable.test(value) ? path || '(body)' : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], path === '' ? String(i) : `${path}.${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (unstorable.test(key)) return at;
      const found = findUnstorableText(item, at);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
