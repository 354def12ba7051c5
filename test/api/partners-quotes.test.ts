/**
 * Partner codes and quotes over HTTP on the real stack: an admin creates codes; the catalog and orders follow a
 * code's products and discount; quotes are numbered from the database sequence and read back as JSON or PDF.
 */
import { eq, sql } from 'drizzle-orm';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerCodes, quotes } from '../../db/schema.js';
import type { OrderView } from '../../domain/order.js';
import { rgsStarOrder, SIRETS, startTestStack, type Account, type TestStack } from '../support.js';

interface ProblemBody {
  type: string;
  status: number;
  detail?: string;
}
interface CatalogBody {
  partner?: { code: string; discountPercent: number };
  products: { code: string; durations: { years: number; priceCentsExVat: number }[] }[];
}
interface Quote {
  number: string;
  siret: string;
  organisationName: string | null;
  product: string;
  durationYears: number;
  quantity: number;
  partnerCode: string | null;
  currency: string;
  listUnitPriceCents: number;
  discountPercent: number;
  unitPriceCents: number;
  totalExVatCents: number;
  vatPercent: number;
  vatCents: number;
  totalInclVatCents: number;
  createdAt: string;
  validUntil: string;
}

let stack: TestStack;
let admin: Account;
let alice: Account;
const suffix = Math.random().toString(36).slice(2, 8).toUpperCase();
/** Opens the personal online products at 10 % off. */
const ONLINE10 = `ONLINE10-${suffix}`;
/** Every product, 25 % off. */
const ALL25 = `ALL25-${suffix}`;

beforeAll(async () => {
  stack = await startTestStack();
  admin = await stack.account('admin');
  alice = await stack.account('customer');
});
afterAll(async () => {
  await stack?.close();
});

const problemType = (slug: string): string => `urn:certflow:problem:${slug}`;
const codeCount = async (code: string): Promise<number> =>
  (await stack.db.select({ n: sql<number>`count(*)::int` }).from(partnerCodes).where(eq(partnerCodes.code, code)))[0]?.n ?? 0;
/** Alice's quotes: other test files share the database and may run at the same time. */
const quoteCount = async (): Promise<number> =>
  (await stack.db.select({ n: sql<number>`count(*)::int` }).from(quotes).where(eq(quotes.requestedByUserId, alice.user.id)))[0]?.n ?? 0;
const orderCount = async (key: string): Promise<number> =>
  (await stack.http<{ items: OrderView[] }>('GET', '/v1/orders?limit=200', { key })).body.items.length;

describe('partner codes (admin)', () => {
  it('creates codes, lists them, and refuses a duplicate', async () => {
    const online = await stack.http('POST', '/v1/admin/partner-codes', {
      key: admin.key,
      json: { code: ONLINE10.toLowerCase(), name: 'Online partner', products: ['ID_RGS_STAR', 'ENCRYPTION'], discountPercent: 10 },
    });
    expect(online.status).toBe(201);
    // Stored upper case: codes are typed by people.
    expect(online.body).toMatchObject({ code: ONLINE10, products: ['ID_RGS_STAR', 'ENCRYPTION'], discountPercent: 10, active: true });
    const all = await stack.http('POST', '/v1/admin/partner-codes', { key: admin.key, json: { code: ALL25, name: 'Reseller', discountPercent: 25 } });
    expect(all.status).toBe(201);
    expect(all.body).toMatchObject({ code: ALL25, products: null, discountPercent: 25 });

    const dup = await stack.http<ProblemBody>('POST', '/v1/admin/partner-codes', { key: admin.key, json: { code: ALL25, name: 'Other', discountPercent: 50 } });
    expect(dup.status).toBe(409);
    expect(dup.body.type).toBe(problemType('partner-code-exists'));
    const [row] = await stack.db.select().from(partnerCodes).where(eq(partnerCodes.code, ALL25));
    expect(row).toMatchObject({ name: 'Reseller', discountPercent: 25 });

    const list = await stack.http<{ items: { code: string }[] }>('GET', '/v1/admin/partner-codes', { key: admin.key });
    expect(list.status).toBe(200);
    expect(list.body.items.map((c) => c.code)).toEqual(expect.arrayContaining([ONLINE10, ALL25]));
  });

  it('refuses other roles (403) and bad codes (400), creating nothing', async () => {
    for (const role of ['customer', 'agent', 'org_admin', 'ra_operator', 'auditor'] as const) {
      const caller = await stack.account(role);
      const res = await stack.http<ProblemBody>('POST', '/v1/admin/partner-codes', { key: caller.key, json: { code: `X-${suffix}`, name: 'x', discountPercent: 5 } });
      expect(res.status, role).toBe(403);
    }
    expect(await codeCount(`X-${suffix}`)).toBe(0);
    const customer = await stack.account('customer');
    expect((await stack.http('GET', '/v1/admin/partner-codes', { key: customer.key })).status).toBe(403);
    for (const bad of [
      { code: `B1-${suffix}`, name: 'x', discountPercent: 101 },
      { code: `B2-${suffix}`, name: 'x', discountPercent: 5.5 },
      { code: `B3-${suffix}`, name: 'x', discountPercent: 5, products: ['NOPE'] },
      { code: `B4-${suffix}`, name: 'x', discountPercent: 5, products: [] },
      { code: `B5 ${suffix}`, name: 'x', discountPercent: 5 },
    ]) {
      const res = await stack.http<ProblemBody>('POST', '/v1/admin/partner-codes', { key: admin.key, json: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(await codeCount(bad.code.toUpperCase())).toBe(0);
    }
  });
});

describe('GET /v1/catalog?partnerCode=', () => {
  it("shows only the code's products, at its prices", async () => {
    const res = await stack.http<CatalogBody>('GET', `/v1/catalog?partnerCode=${ONLINE10.toLowerCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.partner).toEqual({ code: ONLINE10, discountPercent: 10 });
    expect(res.body.products.map((p) => p.code)).toEqual(['ID_RGS_STAR', 'ENCRYPTION']);
    // RGS* 3 years: 105 € → 94.50 €.
    expect(res.body.products[0]?.durations).toEqual([
      { years: 1, priceCentsExVat: 4950 },
      { years: 2, priceCentsExVat: 7650 },
      { years: 3, priceCentsExVat: 9450 },
    ]);
    const plain = await stack.http<CatalogBody>('GET', '/v1/catalog');
    expect(plain.body.products).toHaveLength(10);
    expect(plain.body.partner).toBeUndefined();
  });

  it('answers 422 for an unknown code and for one the admin ended', async () => {
    const off = `OFF-${suffix}`;
    expect((await stack.http('POST', '/v1/admin/partner-codes', { key: admin.key, json: { code: off, name: 'Ended', discountPercent: 50 } })).status).toBe(201);
    expect((await stack.http('GET', `/v1/catalog?partnerCode=${off}`)).status).toBe(200);
    const customer = await stack.account('customer');
    expect((await stack.http('POST', `/v1/admin/partner-codes/${off}/active`, { key: customer.key, json: { active: false } })).status).toBe(403);
    const ended = await stack.http<{ active: boolean }>('POST', `/v1/admin/partner-codes/${off.toLowerCase()}/active`, { key: admin.key, json: { active: false } });
    expect(ended.status).toBe(200);
    expect(ended.body.active).toBe(false);
    expect((await stack.http('POST', '/v1/admin/partner-codes/NOPE-NOPE/active', { key: admin.key, json: { active: false } })).status).toBe(404);
    for (const code of ['NOPE', off]) {
      const res = await stack.http<ProblemBody>('GET', `/v1/catalog?partnerCode=${code}`);
      expect(res.status).toBe(422);
      expect(res.body.type).toBe(problemType('unknown-partner-code'));
    }
    const order = await stack.http<ProblemBody>('POST', '/v1/orders', { key: alice.key, json: rgsStarOrder({ partnerCode: off }) });
    expect(order.status).toBe(422);
    expect(order.body.type).toBe(problemType('unknown-partner-code'));
  });
});

describe('POST /v1/orders with a partner code', () => {
  it('records the code and the discounted price', async () => {
    const res = await stack.http<OrderView>('POST', '/v1/orders', { key: alice.key, json: rgsStarOrder({ partnerCode: ONLINE10.toLowerCase() }) });
    expect(res.status).toBe(201);
    expect(res.body.partnerCode).toBe(ONLINE10);
    expect(res.body.payment.priceCents).toBe(9450);
    // Face-to-face products: the discount covers the whole price, meeting fee included (250 € + 50 €, 25 % off).
    const f2f = await stack.http<OrderView>('POST', '/v1/orders', { key: alice.key, json: rgsStarOrder({ product: 'ID_RGS_2STAR', partnerCode: ALL25 }) });
    expect(f2f.status).toBe(201);
    expect(f2f.body.payment.priceCents).toBe(22500);
  });

  it('refuses a product outside the code and an unknown code (422), creating no order', async () => {
    const before = await orderCount(alice.key);
    const outside = await stack.http<ProblemBody>('POST', '/v1/orders', { key: alice.key, json: rgsStarOrder({ product: 'ID_RGS_2STAR', partnerCode: ONLINE10 }) });
    expect(outside.status).toBe(422);
    expect(outside.body.type).toBe(problemType('product-not-in-partner-code'));
    const unknown = await stack.http<ProblemBody>('POST', '/v1/orders', { key: alice.key, json: rgsStarOrder({ partnerCode: 'NOPE' }) });
    expect(unknown.status).toBe(422);
    expect(unknown.body.type).toBe(problemType('unknown-partner-code'));
    expect(await orderCount(alice.key)).toBe(before);
  });
});

describe('quotes', () => {
  const quoteBody = (overrides: Record<string, unknown> = {}) => ({
    siret: '732 829 320 00074',
    organisationName: 'ACME',
    product: 'ID_RGS_STAR',
    durationYears: 3,
    quantity: 12,
    ...overrides,
  });

  it('numbers a quote from the sequence, with the amounts, VAT and 30 days of validity', async () => {
    const res = await stack.http<Quote>('POST', '/v1/quotes', { key: alice.key, json: quoteBody({ partnerCode: ONLINE10 }) });
    expect(res.status).toBe(201);
    const q = res.body;
    const year = new Date().getUTCFullYear();
    expect(q.number).toMatch(new RegExp(`^D-${year}-\\d{6}$`));
    expect(res.headers.get('location')).toBe(`/v1/quotes/${q.number}`);
    expect(q).toMatchObject({
      siret: SIRETS.acme,
      organisationName: 'ACME',
      product: 'ID_RGS_STAR',
      durationYears: 3,
      quantity: 12,
      partnerCode: ONLINE10,
      currency: 'EUR',
      listUnitPriceCents: 10500,
      discountPercent: 10,
      unitPriceCents: 9450,
      totalExVatCents: 113400,
      vatPercent: 20,
      vatCents: 22680,
      totalInclVatCents: 136080,
    });
    const days = (Date.parse(q.validUntil) - Date.parse(q.createdAt)) / 86_400_000;
    expect(days).toBe(30);

    const [row] = await stack.db.select().from(quotes).where(eq(quotes.number, q.number));
    expect(row).toMatchObject({ siret: SIRETS.acme, quantity: 12, unitPriceCents: 10500, discountPercent: 10, totalCents: 113400, requestedByUserId: alice.user.id });

    const read = await stack.http<Quote>('GET', `/v1/quotes/${q.number}`, { key: alice.key });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(q);
  });

  it('gives each of concurrent quotes its own number', async () => {
    const made = await Promise.all([1, 2, 3, 4, 5].map(() => stack.http<Quote>('POST', '/v1/quotes', { key: alice.key, json: quoteBody({ quantity: 1 }) })));
    for (const m of made) expect(m.status).toBe(201);
    expect(new Set(made.map((m) => m.body.number)).size).toBe(5);
    for (const m of made) expect(m.body).toMatchObject({ partnerCode: null, discountPercent: 0, unitPriceCents: 10500, totalExVatCents: 10500, vatCents: 2100, totalInclVatCents: 12600 });
  });

  it('serves the quote as a PDF that parses and carries its number', async () => {
    const created = await stack.http<Quote>('POST', '/v1/quotes', { key: alice.key, json: quoteBody({ quantity: 3, partnerCode: ALL25, organisationName: 'Société Générale d’Études' }) });
    expect(created.status).toBe(201);
    const number = created.body.number;
    for (const lang of ['fr', 'en'] as const) {
      const res = await fetch(`${stack.baseUrl}/v1/quotes/${number}?lang=${lang}`, { headers: { authorization: `Bearer ${alice.key}`, accept: 'application/pdf' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      expect(res.headers.get('content-disposition')).toContain(number);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(Buffer.from(bytes.subarray(0, 5)).toString()).toBe('%PDF-');
      const pdf = await PDFDocument.load(bytes);
      expect(pdf.getPageCount()).toBe(1);
      expect(pdf.getTitle()).toContain(number);
      expect(pdf.getKeywords()).toContain(number);
      expect(pdf.getTitle()).toMatch(lang === 'fr' ? /^Devis / : /^Quote /);
    }
    // Without asking for PDF, JSON.
    const json = await stack.http<Quote>('GET', `/v1/quotes/${number}`, { key: alice.key, headers: { accept: 'application/json' } });
    expect(json.headers.get('content-type')).toMatch(/application\/json/);
    expect(json.body.number).toBe(number);
  });

  it('shows a quote to its requester and staff only (404 otherwise)', async () => {
    const created = await stack.http<Quote>('POST', '/v1/quotes', { key: alice.key, json: quoteBody() });
    const colleague = await stack.account('customer');
    expect((await stack.http('GET', `/v1/quotes/${created.body.number}`, { key: colleague.key })).status).toBe(404);
    expect((await stack.http('GET', `/v1/quotes/${created.body.number}`)).status).toBe(401);
    for (const role of ['ra_operator', 'auditor', 'admin'] as const) {
      const staff = await stack.account(role);
      expect((await stack.http('GET', `/v1/quotes/${created.body.number}`, { key: staff.key })).status, role).toBe(200);
    }
    expect((await stack.http('GET', '/v1/quotes/D-2026-999999', { key: alice.key })).status).toBe(404);
    expect((await stack.http('GET', '/v1/quotes/not-a-number', { key: alice.key })).status).toBe(404);
  });

  it('refuses a wrong SIRET, a bad quantity, a partner code that does not fit, and anonymous callers, recording nothing', async () => {
    const before = await quoteCount();
    const cases: [Record<string, unknown>, number, string][] = [
      [quoteBody({ siret: '73282932000075' }), 422, 'invalid-siret'],
      [quoteBody({ siret: '1234' }), 422, 'invalid-siret'],
      [quoteBody({ quantity: 0 }), 400, 'bad-request'],
      [quoteBody({ quantity: 1001 }), 400, 'bad-request'],
      [quoteBody({ quantity: 2.5 }), 400, 'bad-request'],
      [quoteBody({ durationYears: 4 }), 400, 'bad-request'],
      [quoteBody({ product: 'ID_RGS_3STAR', partnerCode: ONLINE10 }), 422, 'product-not-in-partner-code'],
      [quoteBody({ partnerCode: 'NOPE' }), 422, 'unknown-partner-code'],
    ];
    for (const [body, status, slug] of cases) {
      const res = await stack.http<ProblemBody>('POST', '/v1/quotes', { key: alice.key, json: body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.type).toBe(problemType(slug));
    }
    const anonymous = await stack.http<ProblemBody>('POST', '/v1/quotes', { json: quoteBody() });
    expect(anonymous.status).toBe(401);
    expect(await quoteCount()).toBe(before);
    // La Poste's establishments follow their own rule, not Luhn.
    const laPoste = await stack.http<Quote>('POST', '/v1/quotes', { key: alice.key, json: quoteBody({ siret: SIRETS.laPoste, quantity: 1000 }) });
    expect(laPoste.status).toBe(201);
    expect(laPoste.body.totalExVatCents).toBe(10_500_000);
  });
});
