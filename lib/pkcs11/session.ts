/**
 * A token opened for one purpose: its slot found by label on the process's module, one read-write session logged in
 * with the user PIN, and node-webcrypto-p11's WebCrypto over that session, whose keys sign on the token. A process
 * opens only the tokens it needs: the worker certflow-ca, the API certflow-ocsp, the ceremony all three.
 */
import * as graphene from 'graphene-pk11';
import { Crypto, type CryptoKey as TokenCryptoKey } from 'node-webcrypto-p11';
import { findTokenSlot, pkcs11Module, useSoftHsmConfig } from './module.js';
import { findPrivateKey } from './keys.js';

/** The token labels, one per kind of key: what opens one never reaches the keys of another. */
export const TOKEN_LABELS = {
  /** The roots' keys: opened by the ceremony command only. */
  root: 'certflow-root',
  /** The issuing CAs' keys: opened by the worker (and the ceremony, to sign their OCSP responders and first CRLs). */
  ca: 'certflow-ca',
  /** The delegated OCSP responders' keys: opened by the API (and the ceremony, which makes them). */
  ocsp: 'certflow-ocsp',
} as const;
export type TokenLabel = (typeof TOKEN_LABELS)[keyof typeof TOKEN_LABELS];

export interface TokenAccess {
  /** The PKCS#11 module (libsofthsm2.so for SoftHSM2). */
  readonly modulePath: string;
  readonly label: string;
  /** The token's user PIN. */
  readonly pin: string;
}

export interface OpenToken {
  readonly label: string;
  readonly session: graphene.Session;
  /** WebCrypto whose operations run on the token (node-webcrypto-p11). */
  readonly crypto: Crypto;
  /** The private key labelled `keyLabel` as a WebCrypto key usable for ECDSA P-384 signatures only; it stays on the token. */
  signingKey(keyLabel: string): Promise<TokenCryptoKey>;
  /**
   * Runs `op` when every operation asked before it has ended: a PKCS#11 session does one operation at a time
   * (CKR_OPERATION_ACTIVE otherwise), and node-webcrypto-p11's signatures run off the event loop.
   */
  run<T>(op: () => T | Promise<T>): Promise<T>;
  close(): void;
}

/** Opens the token labelled `access.label` and logs in. A missing token or a wrong PIN throws, saying which. */
export function openToken(access: TokenAccess): OpenToken {
  const module = pkcs11Module(access.modulePath);
  const slot = findTokenSlot(module, access.label);
  if (slot === undefined) {
    throw new Error(`no PKCS#11 token labelled "${access.label}" on ${access.modulePath} (SOFTHSM2_CONF=${process.env.SOFTHSM2_CONF ?? 'unset'}): run \`npm run ceremony -- init\``);
  }
  const session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
  try {
    session.login(access.pin, graphene.UserType.USER);
  } catch (err) {
    // Another session of this process on the same token is logged in already: the login is the token's, not the session's.
    if (!(err instanceof Error && /CKR_USER_ALREADY_LOGGED_IN/.test(err.message))) {
      session.close();
      throw new Error(`cannot log in to the PKCS#11 token "${access.label}": ${(err as Error).message}`, { cause: err });
    }
  }
  const crypto = new Crypto({ session, name: access.label });
  crypto.login(access.pin);
  const keys = new Map<string, Promise<TokenCryptoKey>>();
  let queue: Promise<unknown> = Promise.resolve();
  const run = <T>(op: () => T | Promise<T>): Promise<T> => {
    const next = queue.then(op, op);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    run,
    label: access.label,
    session,
    crypto,
    signingKey(keyLabel) {
      let key = keys.get(keyLabel);
      if (key === undefined) {
        key = run(async () => {
          const object = findPrivateKey(session, keyLabel);
          if (object === undefined) throw new Error(`the PKCS#11 token "${access.label}" holds no key labelled "${keyLabel}": run \`npm run ceremony -- init\``);
          return crypto.keyStorage.getItem(keyStorageId(object), { name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign']);
        });
        keys.set(keyLabel, key);
        // A failed look-up is forgotten: the ceremony may make the key later.
        key.catch(() => keys.delete(keyLabel));
      }
      return key;
    },
    close() {
      keys.clear();
      try {
        session.logout();
      } catch {
        // Already logged out by another session of the same token.
      }
      session.close();
    },
  };
}

/** node-webcrypto-p11's id of a stored key: its class, handle and CKA_ID. */
function keyStorageId(key: graphene.PrivateKey): string {
  return `private-${key.handle.toString('hex')}-${key.id.toString('hex')}`;
}

/** How a process reaches its tokens (config/index.ts `pkcs11`): the module, and the PINs of the tokens it may open. */
export interface Pkcs11Settings {
  readonly modulePath: string;
  /** SoftHSM2's configuration file (its token directory), set before the module loads (module.ts useSoftHsmConfig). */
  readonly softHsmConf?: string;
  /** certflow-ca's user PIN: the worker's. */
  readonly caPin?: string;
  /** certflow-ocsp's user PIN: the API's. */
  readonly ocspPin?: string;
}

/** The token, opened at the first call and kept for the process; a failed opening is tried again at the next call. */
export function lazyToken(settings: Pkcs11Settings, label: TokenLabel, pin: string | undefined, who: string): () => OpenToken {
  let token: OpenToken | undefined;
  return () => {
    if (token !== undefined) return token;
    if (pin === undefined) throw new Error(`${who} holds no PIN for the PKCS#11 token "${label}" and never opens it`);
    useSoftHsmConfig(settings.softHsmConf);
    token = openToken({ modulePath: settings.modulePath, label, pin });
    return token;
  };
}
