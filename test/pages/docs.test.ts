/**
 * /docs in Debian's chromium: Swagger UI renders /openapi.json from files this server serves (swagger-ui-dist),
 * every operation of the document shown, POST /v1/orders opening on its idempotency-key header; the page's policy lets it
 * load nothing from elsewhere, and nothing is refused or thrown.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_CSP } from '../../api/routes/docs.js';
import { startTestStack, type TestStack } from '../support.js';
import { launchBrowser, openPage } from './browser.js';

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startTestStack(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('/docs', () => {
  it('renders every operation of /openapi.json from its own files only, POST /v1/orders with its idempotency-key header', async () => {
    const doc = (await stack.http<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json')).body;
    const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).filter((k) => ['get', 'post', 'patch', 'put', 'delete'].includes(k)).length, 0);
    expect(operations).toBeGreaterThan(30);

    const opened = await openPage(browser, { locale: 'en-GB' });
    const { page, errors } = opened;
    const origins = new Set<string>();
    page.on('request', (req) => origins.add(new URL(req.url()).origin));
    try {
      const res = await page.goto(`${stack.baseUrl}/docs`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-security-policy']).toBe(DOCS_CSP);

      const createOrder = page.locator('.opblock.opblock-post', { has: page.locator('.opblock-summary-path[data-path="/v1/orders"]') });
      await expect.poll(() => createOrder.count(), { timeout: 20_000 }).toBe(1);
      await expect.poll(() => page.locator('.opblock').count(), { timeout: 10_000 }).toBe(operations);

      await createOrder.locator('.opblock-summary').first().click();
      await expect.poll(() => createOrder.locator('.parameters').innerText(), { timeout: 10_000 }).toContain('idempotency-key');

      expect([...origins]).toEqual([stack.baseUrl]);
      expect(errors).toEqual([]);
    } finally {
      await opened.close();
    }
  }, 90_000);

  it('serves only the files the page loads, and none of the package beside them', async () => {
    const css = await fetch(`${stack.baseUrl}/docs/assets/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    for (const path of ['/docs/assets/index.html', '/docs/assets/swagger-initializer.js', '/docs/assets/../package.json']) {
      expect((await fetch(`${stack.baseUrl}${path}`)).status, path).toBe(404);
    }
  });
});
