import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRODUCT_CODES } from '../../domain/catalog.js';
import { startTestStack, type TestStack } from '../support.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('system routes', () => {
  it('answers /healthz and /readyz with the dependencies checked', async () => {
    expect((await stack.http('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await stack.http('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
  });

  it('publishes an OpenAPI 3.1 document listing the routes and their roles', async () => {
    const res = await stack.http<{ openapi: string; paths: Record<string, Record<string, { 'x-roles'?: string[] }>> }>('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/v1/orders', '/v1/orders/{id}', '/v1/catalog', '/healthz', '/readyz']));
    expect(res.body.paths['/v1/orders']?.post?.['x-roles']).toEqual(['customer', 'agent']);
    // The codec server, mounted apart from the other routes for its CORS preflight, is described too.
    interface PayloadsSchema {
      properties: { payloads: { type: string; items: { properties: { metadata: { additionalProperties: { pattern: string } }; data: { pattern: string } } } } };
    }
    type CodecOperation = { 'x-roles'?: string[]; requestBody?: { content: { 'application/json': { schema: PayloadsSchema } } } } & {
      responses: Record<string, { content?: { 'application/json': { schema: PayloadsSchema } } }>;
    };
    for (const path of ['/codec/decode', '/codec/encode']) {
      const op = res.body.paths[path]?.post as CodecOperation | undefined;
      expect(op?.['x-roles'], path).toEqual(['ra_operator', 'dra_operator', 'auditor', 'admin']);
      for (const schema of [op?.requestBody?.content['application/json'].schema, op?.responses['200']?.content?.['application/json'].schema]) {
        expect(schema?.properties.payloads.type, path).toBe('array');
        expect(schema?.properties.payloads.items.properties.data.pattern, path).toBe('^[A-Za-z0-9+/]*={0,2}$');
        expect(schema?.properties.payloads.items.properties.metadata.additionalProperties.pattern, path).toBe('^[A-Za-z0-9+/]*={0,2}$');
      }
      expect(Object.keys(op?.responses ?? {}).sort(), path).toEqual(['200', '400', '401', '403', '422']);
    }
  });

  it('lists the whole catalog with prices and checklists, without a key', async () => {
    const res = await stack.http<{ products: { code: string; orderable: boolean; checklist: unknown[]; durations: { years: number; priceCentsExVat: number }[] }[] }>(
      'GET',
      '/v1/catalog',
    );
    expect(res.status).toBe(200);
    expect(res.body.products.map((p) => p.code)).toEqual([...PRODUCT_CODES]);
    const rgs = res.body.products.find((p) => p.code === 'ID_RGS_STAR');
    expect(rgs?.orderable).toBe(true);
    expect(rgs?.durations).toContainEqual({ years: 3, priceCentsExVat: 10500 });
    expect(rgs?.checklist.length).toBe(3);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await stack.http<{ type: string }>('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe('urn:certflow:problem:not-found');
  });
});

describe('readiness when a dependency is down', () => {
  it('answers 503 naming the dependency', async () => {
    const broken = await startTestStack({
      readinessChecks: { database: () => Promise.resolve(), temporal: () => Promise.reject(new Error('connection refused')) },
    });
    try {
      const res = await broken.http<{ status: number; checks: Record<string, string>; detail: string }>('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.body.checks).toEqual({ database: 'ok', temporal: 'down' });
      expect(res.body.detail).toMatch(/temporal/);
    } finally {
      await broken.close();
    }
  });
});
