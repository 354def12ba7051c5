/**
 * The holder's token, on PKCS#11. Personalisation initialises a soft token of its own for the order (SoftHSM2 as the
 * embedded and test token; a personalisation station's module in its place), whose security officer PIN is the RA's
 * unblock code and whose user PIN is the PIN the SMS unlock reveals; the holder's ECDSA P-256 key pair is generated
 * ON the token, its private key sensitive and never extractable, and only the public key is read out (SPKI) for the
 * certificate. The tokens row keeps the token's label, the two PINs sealed (secrets.derive('tokens'), each bound to
 * its row and role) and the public key; never a private key.
 *
 * Order of the steps, so that no crash leaves two tokens for one order: the row is inserted first (pending: label and
 * PINs, no public key), then the token is initialised under that label, then the key pair is made and the public key
 * recorded. A retry finds the row by personalisation key, the token by label (initialised again only if absent) and
 * the key pair by its CKA_ID (generated again only if absent).
 *
 * One process's view of the token directory: SoftHSM2 reads the token directory at C_Initialize and never again, so a
 * process does not see a token another process initialised after it loaded the module (and keeps the PINs of the
 * tokens it loaded as they were then). Hence `token_init_at`: set (and committed) right before a token is initialised;
 * a process that does not see the token initialises it only if no process set out to do so since this one started,
 * else it fails retryably rather than initialise a second token under the same label (see tokenNotVisible).
 */
import { randomInt } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { and, desc, eq, isNull, lt, ne, or } from 'drizzle-orm';
import * as graphene from 'graphene-pk11';
import { v7 as uuidv7 } from 'uuid';
import { seal, unseal, type Secrets } from '../../config/secrets.js';
import type { Database } from '../../db/client.js';
import { tokens } from '../../db/schema.js';
import { SIGNING_PRIVATE_KEY } from '../../lib/pkcs11/keys.js';
import { findTokenSlot, initToken, pkcs11Module, useSoftHsmConfig } from '../../lib/pkcs11/module.js';
import { CA_FAILURE, refuse } from './errors.js';

export interface TokenAdapter {
  /** Generates the token's key pair and unlock PIN; a retry under the same key returns the same token. */
  personaliseToken(req: { personalisationKey: string; orderId: string }): Promise<{ tokenId: string; publicKeySpki: string }>;
  /** The order's token PIN, the first time only; undefined once it was shown. */
  revealPinOnce(req: { orderId: string }): Promise<string | undefined>;
  /**
   * Unblocks the order's token: a new random PIN replaces the old one and can be revealed once more. Idempotent on
   * resetKey: a retry under the key of the last reset changes nothing (the PIN it drew stands, revealed or not).
   */
  resetPin(req: { orderId: string; resetKey: string }): Promise<void>;
}

export interface TokenDeps {
  readonly db: Database;
  readonly secrets: Secrets;
  /** The clock of reveal times; tests move it. The token view's own reasoning uses the real clock. */
  readonly now: () => Date;
}

export interface Pkcs11TokenDeps extends TokenDeps {
  /** The PKCS#11 module holders' tokens are made on, and SoftHSM2's configuration (its token directory) if any. */
  readonly pkcs11: { readonly modulePath: string; readonly softHsmConf?: string };
}

export const PIN_DIGITS = 8;
/** The security officer PIN: the RA's unblock code, never shown to the holder. */
export const SO_PIN_DIGITS = 16;

/** AEAD purposes bound to the token row, so a sealed PIN cannot be passed off as another token's, nor as its SO PIN. */
export const tokenPinPurpose = (tokenId: string): string => `token-pin:${tokenId}`;
export const tokenSoPinPurpose = (tokenId: string): string => `token-so-pin:${tokenId}`;

/** The token's label: "holder-" and the row id in base64url, 29 characters (PKCS#11 labels are 32 at most). */
export const tokenLabel = (tokenId: string): string => `holder-${Buffer.from(tokenId.replaceAll('-', ''), 'hex').toString('base64url')}`;
/** CKA_ID of the holder's key pair on its token (the row id's 16 bytes), CKA_LABEL "holder". */
const keyIdOf = (tokenId: string): Buffer => Buffer.from(tokenId.replaceAll('-', ''), 'hex');
const KEY_LABEL = 'holder';

/** Uniform over 0…10^digits − 1 (randomInt has no modulo bias; at most 2^48 per draw, hence two halves for 16). */
const randomDigits = (digits: number): string =>
  digits <= 12 ? randomInt(0, 10 ** digits).toString().padStart(digits, '0') : randomDigits(digits - 8) + randomDigits(8);
const randomPin = (): string => randomDigits(PIN_DIGITS);

/** DER of the named curve P-256 (1.2.840.10045.3.1.7), CKA_EC_PARAMS of the key pair. */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
/** SubjectPublicKeyInfo up to the BIT STRING's content: id-ecPublicKey, P-256, then the 65-byte uncompressed point. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 2.40 §2.3.3); some modules give the bare point. */
export function p256SpkiFromEcPoint(ecPoint: Buffer): Buffer {
  const point = ecPoint.length === 67 && ecPoint[0] === 0x04 && ecPoint[1] === 0x41 ? ecPoint.subarray(2) : ecPoint;
  if (point.length !== 65 || point[0] !== 0x04) throw new Error(`not an uncompressed P-256 point (${ecPoint.length} bytes)`);
  const spki = Buffer.concat([P256_SPKI_PREFIX, point]);
  // OpenSSL checks the point is on the curve: a corrupt read fails here, not in the certificate.
  createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return spki;
}

type TokenRow = typeof tokens.$inferSelect;

/** The order's token in the holder's hands: the latest one, should a replacement ever be made. */
const latestToken = (db: Database, orderId: string) =>
  db.select({ id: tokens.id }).from(tokens).where(eq(tokens.orderId, orderId)).orderBy(desc(tokens.createdAt), desc(tokens.id)).limit(1);

async function findToken(db: Database, where: ReturnType<typeof eq>): Promise<TokenRow | undefined> {
  const [row] = await db.select().from(tokens).where(where);
  return row;
}

/** The one-time PIN reveal alone, database only: the API process shows the PIN without loading any PKCS#11 module. */
export function createTokenPinReveal(deps: TokenDeps): Pick<TokenAdapter, 'revealPinOnce'> {
  return {
    async revealPinOnce(req) {
      // One statement marks and returns, so two concurrent reveals cannot both get the PIN.
      const [row] = await deps.db
        .update(tokens)
        .set({ pinRevealedAt: deps.now() })
        .where(and(eq(tokens.id, latestToken(deps.db, req.orderId)), isNull(tokens.pinRevealedAt)))
        .returning({ id: tokens.id, encryptedPin: tokens.encryptedPin });
      if (row === undefined) return undefined;
      return unseal(deps.secrets.derive('tokens'), row.encryptedPin, tokenPinPurpose(row.id)).toString('utf8');
    },
  };
}

/**
 * This process's start: it loaded the module later, so it sees every token initialised before. A token another
 * process set out to initialise less than VIEW_MARGIN_MS before this instant may have been initialised after it.
 */
const PROCESS_START_MS = performance.timeOrigin;
const VIEW_MARGIN_MS = 1_000;

/** A token another live process may have initialised after this one loaded the module: retried, never made twice. */
const tokenNotVisible = (label: string): Error =>
  new Error(
    `token ${label} is not visible to this process: another process set out to initialise it after this one loaded the PKCS#11 module (SoftHSM2 reads its token directory once); retried, on another worker or after a restart`,
  );

// Per process, as the module's view is (every adapter of the process shares the one loaded module), by label:
/** Labels this process set out to initialise: it sees its own tokens, whenever it made them. */
const initialisedHere = new Set<string>();
/** One initialisation at a time per label in this process: concurrent calls wait for it rather than claim again. */
const initialising = new Map<string, Promise<graphene.Slot>>();

const RW_SESSION = graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION;

/** A read-write session logged in as `user` for the length of `work` (synchronous: no other call interleaves). */
function withLogin<T>(slot: graphene.Slot, pin: string, user: graphene.UserType, work: (session: graphene.Session) => T): T {
  const session = slot.open(RW_SESSION);
  try {
    session.login(pin, user);
    try {
      return work(session);
    } finally {
      session.logout();
    }
  } finally {
    session.close();
  }
}

/** The holder's key pair on its token, generated if absent; its public key as SPKI. */
function holderKeyPair(session: graphene.Session, tokenId: string): Buffer {
  const id = keyIdOf(tokenId);
  const existing = session.find({ class: graphene.ObjectClass.PUBLIC_KEY, id });
  if (existing.length > 0) return p256SpkiFromEcPoint(existing.items(0).getAttribute({ pointEC: null }).pointEC as Buffer);
  if (session.find({ class: graphene.ObjectClass.PRIVATE_KEY, id }).length > 0) throw new Error(`token of ${tokenId} has a private key without its public key`);
  const pair = session.generateKeyPair(
    graphene.KeyGenMechanism.EC,
    { keyType: graphene.KeyType.EC, token: true, private: false, verify: true, paramsEC: P256_PARAMS, id, label: KEY_LABEL },
    // The private key never leaves the token: sensitive, never extractable, good for signing only.
    { keyType: graphene.KeyType.EC, ...SIGNING_PRIVATE_KEY, id, label: KEY_LABEL },
  );
  return p256SpkiFromEcPoint(pair.publicKey.getAttribute({ pointEC: null }).pointEC as Buffer);
}

export function createPkcs11TokenAdapter(deps: Pkcs11TokenDeps): TokenAdapter {
  const sealingKey = (): Buffer => deps.secrets.derive('tokens');
  // Loaded at the first personalisation or reset, so a process that never makes a token never loads the module.
  const module = (): graphene.Module => {
    useSoftHsmConfig(deps.pkcs11.softHsmConf);
    return pkcs11Module(deps.pkcs11.modulePath);
  };
  const pins = (row: TokenRow): { userPin: string; soPin: string } => {
    if (row.encryptedSoPin === null) throw new Error(`token ${row.id} predates PKCS#11 tokens and has no security officer PIN`);
    return {
      userPin: unseal(sealingKey(), row.encryptedPin, tokenPinPurpose(row.id)).toString('utf8'),
      soPin: unseal(sealingKey(), row.encryptedSoPin, tokenSoPinPurpose(row.id)).toString('utf8'),
    };
  };

  /** The pending row: label and PINs, no key yet. Whoever inserts first, everyone goes on with the stored row. */
  async function pendingRow(req: { personalisationKey: string; orderId: string }): Promise<TokenRow> {
    const id = uuidv7();
    await deps.db
      .insert(tokens)
      .values({
        id,
        orderId: req.orderId,
        personalisationKey: req.personalisationKey,
        tokenLabel: tokenLabel(id),
        encryptedPin: seal(sealingKey(), randomPin(), tokenPinPurpose(id)),
        encryptedSoPin: seal(sealingKey(), randomDigits(SO_PIN_DIGITS), tokenSoPinPurpose(id)),
      })
      .onConflictDoNothing({ target: tokens.personalisationKey });
    const row = await findToken(deps.db, eq(tokens.personalisationKey, req.personalisationKey));
    if (row === undefined) throw new Error(`token ${req.personalisationKey} vanished`);
    return row;
  }

  /** The row's token, initialised here if no process can have done it unseen (the header's view argument). */
  function tokenSlot(row: TokenRow, label: string): Promise<graphene.Slot> {
    const seen = findTokenSlot(module(), label);
    if (seen !== undefined) return Promise.resolve(seen);
    let pending = initialising.get(label);
    if (pending === undefined) {
      pending = initialise(row, label).finally(() => initialising.delete(label));
      initialising.set(label, pending);
    }
    return pending;
  }

  async function initialise(row: TokenRow, label: string): Promise<graphene.Slot> {
    const decidedAt = new Date();
    const mine = initialisedHere.has(label);
    const freshView = new Date(PROCESS_START_MS - VIEW_MARGIN_MS);
    // Committed before C_InitToken: a process that starts later and does not see the token knows it was never made.
    const [claimed] = await deps.db
      .update(tokens)
      .set({ tokenInitAt: decidedAt })
      .where(and(eq(tokens.id, row.id), mine ? undefined : or(isNull(tokens.tokenInitAt), lt(tokens.tokenInitAt, freshView))))
      .returning({ id: tokens.id });
    if (claimed === undefined) throw tokenNotVisible(label);
    initialisedHere.add(label);
    return findTokenSlot(module(), label) ?? initToken(module(), { label, ...pins(row) });
  }

  return {
    async personaliseToken(req) {
      const row = (await findToken(deps.db, eq(tokens.personalisationKey, req.personalisationKey))) ?? (await pendingRow(req));
      if (row.orderId !== req.orderId) throw refuse(CA_FAILURE.idempotencyConflict, `personalisation key ${req.personalisationKey} belongs to another order`);
      if (row.publicKeySpki !== null) return { tokenId: row.id, publicKeySpki: row.publicKeySpki };
      if (row.tokenLabel === null) throw new Error(`token ${row.id} has neither a public key nor a label`);
      const slot = await tokenSlot(row, row.tokenLabel);
      const { userPin } = pins(row);
      // The key pair is looked up or made and its public key recorded under the row's lock: of two processes
      // personalising the same order at once, the second finds the first one's key pair.
      const publicKeySpki = await deps.db.transaction(async (tx) => {
        const [locked] = await tx.select({ spki: tokens.publicKeySpki }).from(tokens).where(eq(tokens.id, row.id)).for('update');
        if (locked?.spki != null) return locked.spki;
        const spki = withLogin(slot, userPin, graphene.UserType.USER, (session) => holderKeyPair(session, row.id)).toString('base64');
        await tx.update(tokens).set({ publicKeySpki: spki }).where(eq(tokens.id, row.id));
        return spki;
      });
      return { tokenId: row.id, publicKeySpki };
    },

    revealPinOnce: createTokenPinReveal(deps).revealPinOnce,

    async resetPin(req) {
      const [latest] = await latestToken(deps.db, req.orderId);
      if (latest === undefined) throw refuse(CA_FAILURE.tokenNotFound, `order ${req.orderId} has no token to unblock`);
      // Conditioned on the key, so of a retry and its original (or two concurrent retries) only one draws a PIN.
      await deps.db
        .update(tokens)
        .set({ encryptedPin: seal(sealingKey(), randomPin(), tokenPinPurpose(latest.id)), pinRevealedAt: null, pinResetKey: req.resetKey })
        .where(and(eq(tokens.id, latest.id), or(isNull(tokens.pinResetKey), ne(tokens.pinResetKey, req.resetKey))));
      const row = await findToken(deps.db, eq(tokens.id, latest.id));
      // Another reset, under another key, came after this one: its PIN stands.
      if (row === undefined || row.pinResetKey !== req.resetKey) return;
      // A row of the former software mock: its PIN lives in the row only.
      if (row.tokenLabel === null) return;
      if (row.publicKeySpki === null) throw refuse(CA_FAILURE.tokenNotFound, `the token of order ${req.orderId} is not personalised yet`);
      const slot = findTokenSlot(module(), row.tokenLabel);
      if (slot === undefined) throw tokenNotVisible(row.tokenLabel);
      // The stored PIN is set on the token by every attempt under this key (the same PIN again on a retry), so a crash
      // between the row and the token cannot leave a PIN in the row that the token refuses.
      const { userPin, soPin } = pins(row);
      withLogin(slot, soPin, graphene.UserType.SO, (session) => session.initPin(userPin));
    },
  };
}
