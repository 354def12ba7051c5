/**
 * The catalog says the originals' delay the server is configured with (ORDER_DEADLINES.originalsDue), so the order
 * page words "within N days" from it rather than from a number typed into the text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import { startTestStack, type TestStack } from '../support.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ deadlines: { ...DEFAULT_DEADLINES, originalsDue: '10 days' } });
});
afterAll(async () => {
  await stack?.close();
});

describe('GET /v1/catalog', () => {
  it('gives the configured days for the originals of face-to-face products, null for the others', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/catalog`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { products: { code: string; originalsDueDays: number | null; dnsNames: string }[] };
    const of = (code: string) => body.products.find((p) => p.code === code);
    expect(of('ID_RGS_2STAR')?.originalsDueDays).toBe(10);
    expect(of('ID_RGS_STAR')?.originalsDueDays).toBeNull();
    expect(of('SSL_WILDCARD')?.dnsNames).toBe('wildcard');
    expect(of('SERVER_SEAL')?.dnsNames).toBe('none');
  });
});
