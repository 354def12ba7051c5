/**
 * Logs (config/logger.ts) on the real stack: the API's pino logger and the Temporal runtime's logger (the worker's
 * lines, the workflows' and activities', Rust core's) write one JSON stream, here a buffer, at debug. An order goes
 * from creation to the token's PIN over HTTP, its holder logged in with a password; then every line is parsed, the
 * order's lines carry `orderId`, the requests' lines a request id, and no line holds the holder's e-mail address,
 * phone number (in any of its spellings), names, password, SMS code or PIN.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { closeServer, listen } from '../../api/server.js';
import { createLogger, temporalLogger } from '../../config/logger.js';
import { createUser, upsertOrganisation } from '../../db/accounts.js';
import { hashPassword } from '../../db/passwords.js';
import type { OrderView } from '../../domain/order.js';
import { workerRuntimeOptions } from '../../worker/worker.js';
import type { TestStack } from '../support.js';
import { appDepsOn } from '../app-deps.js';

// One stream for every line of this process. The Temporal runtime is installed once per process: here, before
// test/support.ts (which installs one at WARN when none is) is loaded.
const lines: string[] = [];
const stream = { write: (chunk: string) => void lines.push(...chunk.split('\n').filter((l) => l !== '')) };
const workerLog = createLogger('debug', 'certflow-worker', stream);
const apiLog = createLogger('debug', 'certflow-api', stream);
Runtime.install(workerRuntimeOptions(workerLog, 'debug', 0));
const { freshSiret, httpClient, startTestStack } = await import('../support.js');
const { Driver } = await import('../workflows/drive.js');

const suffix = randomBytes(4).toString('hex');
const HOLDER = {
  givenName: 'Séraphine',
  surname: 'Quintavalle',
  email: `seraphine.quintavalle.${suffix}@example.test`,
  // A French mobile: E.164 as stored, and the national spellings a mail, an SMS or a form might use.
  phone: '+33698765432',
  password: `Pw-${randomBytes(12).toString('hex')}`,
};
const PHONE_SPELLINGS = ['+33698765432', '0698765432', '06 98 76 54 32', '06.98.76.54.32', '06-98-76-54-32', '+33 6 98 76 54 32', '33698765432', '698765432'];

let stack: TestStack;
let server: Server;
let orderId: string;
let smsCode: string;
let pin: string;
const REQUEST_ID = `req-${suffix}`;

beforeAll(async () => {
  stack = await startTestStack();
  const app = createApp(
    appDepsOn(stack, {
      log: apiLog,
      rateLimits: { keyPrefix: `logs-${suffix}`, sweepExpired: false },
      // Two cores shared with other test files: the order's registration may take longer than the usual 10 s.
      registrationTimeoutMs: 60_000,
    }),
  );
  server = await listen(app, '127.0.0.1', 0);
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const logged: TestStack = { ...stack, baseUrl, http: httpClient(baseUrl) };

  // The holder logs in with a password: the request carries it, no line may.
  const org = await upsertOrganisation(stack.db, { siret: freshSiret(), name: 'Quintavalle Conseil', locality: 'Lyon' });
  const user = await createUser(stack.db, {
    email: HOLDER.email,
    role: 'customer',
    organisationId: org.id,
    givenName: HOLDER.givenName,
    surname: HOLDER.surname,
    phone: HOLDER.phone,
    passwordHash: await hashPassword(HOLDER.password),
  });
  const login = await logged.http<{ accessToken: string }>('POST', '/v1/auth/login', { json: { email: HOLDER.email, password: HOLDER.password } });
  expect(login.status).toBe(200);
  const holder = { user, key: login.body.accessToken };

  const driver = new Driver(logged, { holder, ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator') });
  const order = await driver.toAcceptance('ID_RGS_STAR');
  orderId = order.id;
  expect((await driver.post(holder.key, `/v1/orders/${orderId}/acceptance`, { decision: 'accept' })).status).toBe(200);
  expect((await driver.post(holder.key, `/v1/orders/${orderId}/unlock-code`)).status).toBe(200);
  const outbox = join(stack.dataDir, 'outbox', 'sms.jsonl');
  for (let waited = 0; smsCode === undefined && waited < 20_000; waited += 200) {
    const last = existsSync(outbox) ? readFileSync(outbox, 'utf8').trim().split('\n').at(-1) : undefined;
    const code = /\b(\d{6})\b/.exec(last ?? '')?.[1];
    if (code !== undefined) smsCode = code;
    else await new Promise((r) => setTimeout(r, 200));
  }
  expect(smsCode).toMatch(/^\d{6}$/);
  const verified = await logged.http<{ unlockPin: string }>('POST', `/v1/orders/${orderId}/unlock-code/verify`, {
    key: holder.key,
    json: { code: smsCode },
    headers: { 'x-request-id': REQUEST_ID },
  });
  expect(verified.status, JSON.stringify(verified.body)).toBe(200);
  expect(verified.headers.get('x-request-id')).toBe(REQUEST_ID);
  pin = verified.body.unlockPin;
  await driver.until(orderId, (o: OrderView) => o.status === 'completed');

  // A failed query: drizzle writes the query's values (here the holder's e-mail, names, phone) into its error, which
  // reaches a line as the API's problem handler and the SDK's "Activity failed" log it.
  const failed = await createUser(stack.db, { email: HOLDER.email, role: 'customer', organisationId: org.id, givenName: HOLDER.givenName, surname: HOLDER.surname, phone: HOLDER.phone }).then(
    () => new Error('the second account with the same e-mail address was created'),
    (err: unknown) => err as Error,
  );
  expect(failed.message).toContain(HOLDER.email);
  apiLog.error({ err: failed }, 'unhandled error');
  temporalLogger(workerLog).warn('Activity failed', { error: failed, workflowId: `order-${orderId}`, activityType: 'recordOrderView' });
  // The runtime logger buffers forwarded lines for 100 ms before it writes them.
  await new Promise((r) => setTimeout(r, 500));
}, 180_000);

afterAll(async () => {
  if (server !== undefined) await closeServer(server);
  await stack?.close();
});

type Line = Record<string, unknown> & { req?: { id?: unknown; url?: unknown } };
const parsed = (): Line[] => lines.map((l) => JSON.parse(l) as Line);

/** `value` standing alone: not part of a longer run of letters or digits (a 6-digit code inside a timestamp). */
const standalone = (value: string): RegExp => new RegExp(`(?<![0-9A-Za-z])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`, 'i');

describe('one JSON log stream', () => {
  it('holds the API’s lines and the Temporal SDK’s (worker, activities, workflows, core), every one JSON', () => {
    expect(lines.length).toBeGreaterThan(50);
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    const all = parsed();
    expect(all.some((l) => l.name === 'certflow-api' && l.req !== undefined)).toBe(true);
    const sdk = all.filter((l) => l.name === 'certflow-worker');
    // The worker's own lines (its activities and workflow runs) and Rust core's, forwarded.
    for (const component of ['worker', 'core']) expect(sdk.some((l) => l.sdkComponent === component), component).toBe(true);
    for (const msg of ['Activity started', 'Activity completed', 'Workflow started']) expect(sdk.some((l) => l.msg === msg), msg).toBe(true);
  });

  it('gives every line about the order its orderId, and every request line a request id (the caller’s when sent)', () => {
    const all = parsed();
    const aboutOrder = all.filter((l, i) => lines[i]?.includes(orderId));
    expect(aboutOrder.length).toBeGreaterThan(20);
    for (const line of aboutOrder) expect(line.orderId, JSON.stringify(line)).toBe(orderId);
    // The SDK's lines about the order's activities and workflow runs are among them.
    expect(aboutOrder.some((l) => l.msg === 'Activity completed' && l.activityType === 'sendOrderMail')).toBe(true);
    expect(aboutOrder.some((l) => l.msg === 'Workflow started')).toBe(true);

    const requests = all.filter((l) => l.req !== undefined);
    expect(requests.length).toBeGreaterThan(10);
    for (const line of requests) expect(line.req?.id, JSON.stringify(line)).toEqual(expect.any(String));
    const verify = requests.filter((l) => l.req?.id === REQUEST_ID);
    expect(verify.length).toBeGreaterThan(0);
    for (const line of verify) expect(line.orderId).toBe(orderId);
    // The order's creation is about the order too, though its id is only in the answer's Location.
    expect(requests.some((l) => String(l.req?.url) === '/v1/orders' && l.orderId === orderId)).toBe(true);
  });

  it('holds no personal data nor secret of the holder: e-mail, phone, names, password, SMS code, PIN', () => {
    const forbidden: [string, RegExp][] = [
      ['e-mail address', standalone(HOLDER.email)],
      ['e-mail local part', standalone(HOLDER.email.split('@')[0] ?? '')],
      ...PHONE_SPELLINGS.map((p): [string, RegExp] => [`phone ${p}`, standalone(p)]),
      ['given name', standalone(HOLDER.givenName)],
      ['given name (ASCII)', standalone('Seraphine')],
      ['surname', standalone(HOLDER.surname)],
      ['password', standalone(HOLDER.password)],
      ['SMS code', standalone(smsCode)],
      ['PIN', standalone(pin)],
    ];
    expect(pin.length).toBeGreaterThanOrEqual(4);
    // The failed query's lines are there, with their SQL.
    expect(parsed().filter((l) => (l.err as { message?: string } | undefined)?.message?.startsWith('Failed query: insert into "users"'))).toHaveLength(2);
    const found = lines.flatMap((line) => forbidden.filter(([, re]) => re.test(line)).map(([what]) => `${what}: ${line.slice(0, 400)}`));
    expect(found).toEqual([]);
  });
});
