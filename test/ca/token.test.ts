/**
 * The holder's token on PKCS#11 (SoftHSM2): personalisation initialises a token of its own for the order whose user PIN
 * is the one revealed, generates the key pair on it (sensitive, never extractable, read back from the token and by
 * OpenSC's pkcs11-tool in a process of its own), keeps no private key in the row, survives retries and crashes
 * without a second token; a PIN reset changes the PIN on the token itself.
 */
import { createHash, randomUUID, verify } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import * as graphene from 'graphene-pk11';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createPkcs11TokenAdapter,
  PIN_DIGITS,
  tokenLabel,
  tokenPinPurpose,
  tokenSoPinPurpose,
  type TokenAdapter,
} from '../../activities/ca/token.js';
import { seal, unseal, type Secrets } from '../../config/secrets.js';
import { openPostgres, type Database, type DatabaseHandle } from '../../db/client.js';
import { tokens } from '../../db/schema.js';
import { findTokenSlot, pkcs11Module, writeSoftHsmConfig } from '../../lib/pkcs11/module.js';
import { insertOrder, testSecrets } from './support.js';

let handle: DatabaseHandle;
let db: Database;
let secrets: Secrets;
let adapter: TokenAdapter;
let modulePath: string;
let module: graphene.Module;

const newAdapter = (): TokenAdapter => createPkcs11TokenAdapter({ db, secrets, now: () => new Date(), pkcs11: { modulePath } });

beforeAll(() => {
  // The global set-up's token directory when it gives one; else one of this file's own, before the module loads.
  process.env.SOFTHSM2_CONF ??= writeSoftHsmConfig(mkdtempSync(join(tmpdir(), 'certflow-holder-tokens-')));
  handle = openPostgres(inject('databaseUrl'), 4);
  db = handle.db;
  secrets = testSecrets();
  modulePath = inject('pkcs11ModulePath');
  adapter = newAdapter();
  module = pkcs11Module(modulePath);
});
afterAll(async () => {
  await handle?.close();
});

async function personalised(): Promise<{ orderId: string; tokenId: string; publicKeySpki: string }> {
  const orderId = await insertOrder(db);
  const token = await adapter.personaliseToken({ personalisationKey: `order-${orderId}/token`, orderId });
  return { orderId, ...token };
}

const rowOf = async (tokenId: string) => {
  const [row] = await db.select().from(tokens).where(eq(tokens.id, tokenId));
  if (row === undefined) throw new Error(`no token ${tokenId}`);
  return row;
};
const storedPin = async (tokenId: string) => unseal(secrets.derive('tokens'), (await rowOf(tokenId)).encryptedPin, tokenPinPurpose(tokenId)).toString('utf8');

const slotOf = (tokenId: string): graphene.Slot => {
  const slot = findTokenSlot(module, tokenLabel(tokenId));
  if (slot === undefined) throw new Error(`no token labelled ${tokenLabel(tokenId)}`);
  return slot;
};
const tokensLabelled = (label: string): number => {
  const list = module.getSlots(true);
  return Array.from({ length: list.length }, (_, i) => list.items(i).getToken().label.trim()).filter((l) => l === label).length;
};

/** C_Login as the holder on the token, in this process: 'ok' or the PKCS#11 error's code. */
function login<T>(tokenId: string, pin: string, work?: (session: graphene.Session) => T): { result: string; value?: T } {
  const session = slotOf(tokenId).open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
  try {
    session.login(pin, graphene.UserType.USER);
  } catch (err) {
    session.close();
    return { result: /CKR_\w+/.exec((err as Error).message)?.[0] ?? (err as Error).message };
  }
  try {
    return { result: 'ok', value: work?.(session) };
  } finally {
    session.logout();
    session.close();
  }
}

/** OpenSC's pkcs11-tool, a fresh process with a view of the token directory of its own. */
const pkcs11Tool = (...args: string[]) => spawnSync(inject('pkcs11ToolPath'), ['--module', modulePath, ...args], { encoding: 'utf8', env: process.env });

describe('personalisation on a PKCS#11 token', () => {
  it('makes the key pair on a token of its own, sensitive and never extractable, opened by the PIN revealed', async () => {
    const { orderId, tokenId, publicKeySpki } = await personalised();
    const pin = await adapter.revealPinOnce({ orderId });
    expect(pin).toMatch(new RegExp(`^\\d{${PIN_DIGITS}}$`));
    if (pin === undefined) throw new Error('no PIN');
    expect(tokenLabel(tokenId)).toMatch(/^holder-[\w-]{22}$/);
    expect(tokensLabelled(tokenLabel(tokenId))).toBe(1);

    const read = login(tokenId, pin, (session) => {
      const privateKeys = session.find({ class: graphene.ObjectClass.PRIVATE_KEY });
      const publicKeys = session.find({ class: graphene.ObjectClass.PUBLIC_KEY });
      expect([privateKeys.length, publicKeys.length]).toEqual([1, 1]);
      const key = privateKeys.items(0);
      const attributes = key.getAttribute({
        token: null,
        private: null,
        sensitive: null,
        alwaysSensitive: null,
        extractable: null,
        neverExtractable: null,
        local: null,
        sign: null,
        decrypt: null,
        derive: null,
        keyType: null,
      });
      // A signature by the token's key verifies under the public key the row (and so the certificate) carries.
      const message = Buffer.from(`holder of ${tokenId}`);
      const signature = session.createSign(graphene.MechanismEnum.ECDSA, key.toType<graphene.PrivateKey>()).once(createHash('sha256').update(message).digest());
      return { attributes, message, signature, pointEC: publicKeys.items(0).getAttribute({ pointEC: null }).pointEC };
    });
    expect(read.result).toBe('ok');
    expect(read.value?.attributes).toEqual({
      token: true,
      private: true,
      sensitive: true,
      alwaysSensitive: true,
      extractable: false,
      neverExtractable: true,
      local: true,
      sign: true,
      decrypt: false,
      derive: false,
      keyType: graphene.KeyType.EC,
    });
    if (read.value === undefined) throw new Error('nothing read');
    const publicKey = { key: Buffer.from(publicKeySpki, 'base64'), format: 'der', type: 'spki', dsaEncoding: 'ieee-p1363' } as const;
    expect(verify('sha256', read.value.message, publicKey, read.value.signature)).toBe(true);
    expect(read.value.pointEC?.subarray(-65).toString('hex')).toBe(Buffer.from(publicKeySpki, 'base64').subarray(-65).toString('hex'));

    // A wrong PIN does not open it.
    const wrong = String((Number(pin) + 1) % 10 ** PIN_DIGITS).padStart(PIN_DIGITS, '0');
    expect(login(tokenId, wrong).result).toBe('CKR_PIN_INCORRECT');

    // Another process (pkcs11-tool) finds the token by its label, opens it with the PIN and sees the key as kept.
    const listed = pkcs11Tool('--token-label', tokenLabel(tokenId), '--login', '--pin', pin, '--list-objects');
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/Private Key Object; EC[\s\S]*label:\s+holder[\s\S]*Access:\s+sensitive, always sensitive, never extractable, local/);
    expect(listed.stdout).toContain('Public Key Object; EC');
    expect(pkcs11Tool('--token-label', tokenLabel(tokenId), '--login', '--pin', wrong, '--list-objects').status).not.toBe(0);

    // The row: label, public key and sealed PINs, and no private key at all.
    const row = await rowOf(tokenId);
    expect(row.tokenLabel).toBe(tokenLabel(tokenId));
    expect(row.encryptedPrivateKey).toBeNull();
    expect(row.encryptedPin).toMatch(/^v1\./);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(pin);
    expect(stored).not.toContain('PRIVATE KEY');
    if (row.encryptedSoPin === null) throw new Error('no SO PIN');
    const soPin = unseal(secrets.derive('tokens'), row.encryptedSoPin, tokenSoPinPurpose(tokenId)).toString('utf8');
    expect(soPin).toMatch(/^\d{16}$/);
    expect(stored).not.toContain(soPin);
    // Each sealed PIN opens only in its own role.
    expect(() => unseal(secrets.derive('tokens'), row.encryptedPin, tokenSoPinPurpose(tokenId))).toThrow();
    const so = slotOf(tokenId).open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    try {
      so.login(soPin, graphene.UserType.SO);
      so.logout();
    } finally {
      so.close();
    }
  });

  it('is personalised once per key, whatever the retries: one token, one key pair', async () => {
    const orderId = await insertOrder(db);
    const req = { personalisationKey: `order-${orderId}/token`, orderId };
    const other = newAdapter();
    const racing = await Promise.all([adapter.personaliseToken(req), other.personaliseToken(req), adapter.personaliseToken(req), other.personaliseToken(req)]);
    const first = racing[0];
    if (first === undefined) throw new Error('no token');
    for (const result of racing) expect(result).toEqual(first);
    expect(await adapter.personaliseToken(req)).toEqual(first);
    expect(await db.select().from(tokens).where(eq(tokens.orderId, orderId))).toHaveLength(1);
    expect(tokensLabelled(tokenLabel(first.tokenId))).toBe(1);
    const pin = await storedPin(first.tokenId);
    expect(login(first.tokenId, pin, (session) => session.find().length).value).toBe(2);
    await expect(adapter.personaliseToken({ ...req, orderId: await insertOrder(db) })).rejects.toMatchObject({ type: 'CaIdempotencyConflict' });
  });

  it('after a crash before the public key was recorded, the retry takes the same token and key pair', async () => {
    const { orderId, tokenId, publicKeySpki } = await personalised();
    await db.update(tokens).set({ publicKeySpki: null }).where(eq(tokens.id, tokenId));
    const retried = await newAdapter().personaliseToken({ personalisationKey: `order-${orderId}/token`, orderId });
    expect(retried).toEqual({ tokenId, publicKeySpki });
    expect(tokensLabelled(tokenLabel(tokenId))).toBe(1);
  });

  it('after a crash between the token and its key pair, the retry makes the key pair on that token', async () => {
    const { orderId, tokenId, publicKeySpki } = await personalised();
    const pin = await storedPin(tokenId);
    login(tokenId, pin, (session) => session.destroy({}));
    expect(login(tokenId, pin, (session) => session.find().length).value).toBe(0);
    await db.update(tokens).set({ publicKeySpki: null }).where(eq(tokens.id, tokenId));

    const retried = await adapter.personaliseToken({ personalisationKey: `order-${orderId}/token`, orderId });
    expect(retried.tokenId).toBe(tokenId);
    expect(retried.publicKeySpki).not.toBe(publicKeySpki);
    expect(tokensLabelled(tokenLabel(tokenId))).toBe(1);
    expect(login(tokenId, pin, (session) => session.find().length).value).toBe(2);
  });

  it('does not initialise a token another process may have made unseen, and does once none can have', async () => {
    // A pending row whose token another process set out to initialise after this one started: this process's view of
    // the token directory cannot tell whether it exists, so it refuses (retryably) rather than make a second one.
    const orderId = await insertOrder(db);
    const id = uuidv7();
    const sealed = (text: string, purpose: string) => seal(secrets.derive('tokens'), text, purpose);
    await db.insert(tokens).values({
      id,
      orderId,
      personalisationKey: `order-${orderId}/token`,
      tokenLabel: tokenLabel(id),
      tokenInitAt: new Date(),
      encryptedPin: sealed('12345678', tokenPinPurpose(id)),
      encryptedSoPin: sealed('1234567812345678', tokenSoPinPurpose(id)),
    });
    const req = { personalisationKey: `order-${orderId}/token`, orderId };
    const refused = await newAdapter()
      .personaliseToken(req)
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(/is not visible to this process/);
    expect(refused).not.toHaveProperty('nonRetryable', true);
    expect(tokensLabelled(tokenLabel(id))).toBe(0);

    // Set out before this process started (the attempt died before C_InitToken): nobody made it, so it is made now.
    await db
      .update(tokens)
      .set({ tokenInitAt: new Date(performance.timeOrigin - 60_000) })
      .where(eq(tokens.id, id));
    const made = await newAdapter().personaliseToken(req);
    expect(made.tokenId).toBe(id);
    expect(tokensLabelled(tokenLabel(id))).toBe(1);
    expect(login(id, '12345678').result).toBe('ok');
  });
});

describe('PIN reset', () => {
  it('sets a new PIN on the token, revealed once more: the old PIN no longer opens it', async () => {
    const { orderId, tokenId } = await personalised();
    const first = await adapter.revealPinOnce({ orderId });
    expect(first).toMatch(/^\d{8}$/);
    expect(await adapter.revealPinOnce({ orderId })).toBeUndefined();
    if (first === undefined) throw new Error('no PIN');

    await adapter.resetPin({ orderId, resetKey: `order-${orderId}/unblock/1` });
    const second = await adapter.revealPinOnce({ orderId });
    expect(second).toMatch(/^\d{8}$/);
    expect(second).not.toBe(first);
    expect(second).toBe(await storedPin(tokenId));
    expect(await adapter.revealPinOnce({ orderId })).toBeUndefined();
    if (second === undefined) throw new Error('no PIN');
    expect(login(tokenId, first).result).toBe('CKR_PIN_INCORRECT');
    expect(login(tokenId, second).result).toBe('ok');
    // As the token keeps it on disk: a fresh process agrees.
    expect(pkcs11Tool('--token-label', tokenLabel(tokenId), '--login', '--pin', second, '--list-objects').status).toBe(0);
    expect(pkcs11Tool('--token-label', tokenLabel(tokenId), '--login', '--pin', first, '--list-objects').status).not.toBe(0);

    // A second unblock, later, under its own key: yet another PIN.
    await adapter.resetPin({ orderId, resetKey: `order-${orderId}/unblock/2` });
    const third = await adapter.revealPinOnce({ orderId });
    expect(third).toMatch(/^\d{8}$/);
    expect(third).not.toBe(second);
    expect(login(tokenId, third ?? '').result).toBe('ok');
    expect(login(tokenId, second).result).toBe('CKR_PIN_INCORRECT');
  });

  it('does not reset again on a retry under the same key, even five at once on two workers', async () => {
    const { orderId, tokenId } = await personalised();
    const resetKey = `order-${orderId}/unblock/1`;
    const other = newAdapter();
    await Promise.all(Array.from({ length: 5 }, (_, i) => (i % 2 === 0 ? adapter : other).resetPin({ orderId, resetKey })));
    const sealed = (await rowOf(tokenId)).encryptedPin;
    const pin = await adapter.revealPinOnce({ orderId });
    expect(pin).toBe(unseal(secrets.derive('tokens'), sealed, tokenPinPurpose(tokenId)).toString('utf8'));
    // The token took the PIN the row kept, whichever of the five drew it.
    expect(login(tokenId, pin ?? '').result).toBe('ok');

    // The retry after the reveal changes nothing: same sealed PIN, still revealed, still the token's.
    await adapter.resetPin({ orderId, resetKey });
    expect((await rowOf(tokenId)).encryptedPin).toBe(sealed);
    expect(await adapter.revealPinOnce({ orderId })).toBeUndefined();
    expect(login(tokenId, pin ?? '').result).toBe('ok');
  });

  it('replaces a PIN never shown, keeps it sealed as the first one was, and leaves the key pair alone', async () => {
    const { orderId, tokenId, publicKeySpki } = await personalised();
    const before = await storedPin(tokenId);
    await adapter.resetPin({ orderId, resetKey: `order-${orderId}/unblock/1` });

    const row = await rowOf(tokenId);
    const after = await storedPin(tokenId);
    expect(after).toMatch(/^\d{8}$/);
    expect(after).not.toBe(before);
    expect(row.encryptedPin).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(after);
    expect(() => unseal(secrets.derive('tokens'), row.encryptedPin, tokenSoPinPurpose(tokenId))).toThrow();
    expect(row.publicKeySpki).toBe(publicKeySpki);
    expect(row.pinRevealedAt).toBeNull();
    expect(login(tokenId, after, (session) => session.find({ class: graphene.ObjectClass.PRIVATE_KEY }).length).value).toBe(1);
    expect(await adapter.revealPinOnce({ orderId })).toBe(after);
  });

  it('refuses an order without a token', async () => {
    await expect(adapter.resetPin({ orderId: randomUUID(), resetKey: 'nothing/unblock/1' })).rejects.toMatchObject({ type: 'CaTokenNotFound', nonRetryable: true });
  });
});
