/**
 * What the "done when" asks of the embedded stack: after an order, the dev server's SQLite file (and its
 * write-ahead log) holds no name, email or phone of the holder in clear, while the order's id, which is not encrypted, is
 * found there: the search really reads the store.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SIRETS } from '../support.js';
import { cliCustomerKey, createRgsStarOrder, embeddedStack, type EmbeddedStack } from './process-group.js';

const EMAIL = 'codec.holder@example.test';
const PHONE = '+33687654321';
/** Names no other text of the store holds, so that finding one would mean it was stored in clear. */
const GIVEN_NAME = 'Séverine';
const SURNAME = 'Quillebœuf';

let stack: EmbeddedStack | undefined;

afterAll(async () => {
  await stack?.dispose();
});

describe('the embedded dev server store', () => {
  it('keeps no holder name, email or phone in clear after an order', async () => {
    // Without MASTER_KEY: the embedded stack makes its own, as a new user's would.
    stack = await embeddedStack({ logLevel: 'warn', withoutMasterKey: true });
    const { env, dataDir, base } = stack;
    await stack.start();

    const apiKey = await cliCustomerKey(env, EMAIL, SIRETS.acme, { phone: PHONE, givenName: GIVEN_NAME, surname: SURNAME });
    const order = await createRgsStarOrder(base, apiKey);
    // Stopping checkpoints the write-ahead log into the file; the log is read too in case it was not.
    await stack.stop();

    const dir = join(dataDir, 'temporal');
    expect(existsSync(join(dir, 'temporal.db'))).toBe(true);
    const store = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('temporal.db')).map((f) => readFileSync(join(dir, f))));
    expect(store.includes(order.id)).toBe(true);
    for (const clear of [EMAIL, PHONE, PHONE.slice(3), GIVEN_NAME, SURNAME]) {
      expect(store.includes(clear), clear).toBe(false);
      expect(store.includes(Buffer.from(clear, 'utf16le')), `${clear} (UTF-16)`).toBe(false);
    }
  }, 180_000);
});
