/**
 * Encryption of every Temporal payload (workflow inputs, results, signals, queries, activity arguments, memos):
 * the Temporal server and its store only ever see ciphertext, so personal data never lies there in clear.
 *
 * Each payload is re-encoded whole (its metadata and data as a Payload protobuf) and sealed with AES-256-GCM under a
 * random 96-bit nonce. The key id travels in the clear metadata, so that a key rotation leaves old histories readable:
 * encoding always uses the current key, decoding takes whichever known key the payload names.
 * Codecs run outside the workflow sandbox (client, worker, codec server), hence plain node:crypto.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module whose named exports Node's ESM loader cannot see: take them from its default export.
import proto from '@temporalio/proto';
import type { Secrets } from './secrets.js';

const PayloadProto = proto.temporal.api.common.v1.Payload;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  readonly id: string;
  readonly key: Buffer;
}

export interface CodecKeys {
  readonly current: CodecKey;
  /** Retired keys: still decrypt what they encrypted, never encrypt again. */
  readonly previous?: readonly CodecKey[];
}

export class PayloadCodecError extends Error {
  override readonly name = 'PayloadCodecError';
}

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));
const text = (bytes: Uint8Array | null | undefined): string | undefined => (bytes == null ? undefined : Buffer.from(bytes).toString('utf8'));
// The key id is bound as associated data: ciphertext moved under another id's label does not decrypt.
const aad = (keyId: string): Buffer => Buffer.from(`certflow-payload:${keyId}`, 'utf8');

export function createPayloadCodec(keys: CodecKeys): PayloadCodec {
  const byId = new Map<string, Buffer>();
  for (const k of [keys.current, ...(keys.previous ?? [])]) {
    if (k.key.length !== 32) throw new PayloadCodecError(`payload key ${k.id} must be 32 bytes`);
    if (k.id === '' || byId.has(k.id)) throw new PayloadCodecError(`payload key ids must be distinct and not empty (${k.id})`);
    byId.set(k.id, k.key);
  }
  const current = keys.current;

  const encrypt = (payload: Payload): Payload => {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, nonce);
    cipher.setAAD(aad(current.id));
    const plain = PayloadProto.encode(payload).finish();
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(current.id) },
      data: new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()])),
    };
  };

  const decrypt = (payload: Payload): Payload => {
    // Payloads written before encryption was switched on stay readable as they are.
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (keyId === undefined) throw new PayloadCodecError(`encrypted payload without an ${KEY_ID_METADATA}`);
    const key = byId.get(keyId);
    if (key === undefined) {
      throw new PayloadCodecError(`payload encrypted under key id "${keyId}", which this process does not know (known: ${[...byId.keys()].join(', ')})`);
    }
    const raw = Buffer.from(payload.data ?? new Uint8Array());
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new PayloadCodecError('encrypted payload too short');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(aad(keyId));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(`encrypted payload (key id "${keyId}") failed authentication: altered or not ours`);
    }
    return PayloadProto.decode(plain);
  };

  return {
    // A bad payload rejects the promise rather than throwing at the call.
    encode: (payloads) => new Promise((resolve) => resolve(payloads.map(encrypt))),
    decode: (payloads) => new Promise((resolve) => resolve(payloads.map(decrypt))),
  };
}

/** The purpose under which a key id's key is derived from the master key. */
export const payloadKeyPurpose = (keyId: string): string => `payload-codec:${keyId}`;

/** Keys derived from the master key: CODEC_KEY_ID encrypts, CODEC_PREVIOUS_KEY_IDS still decrypt. */
export function payloadCodecFromSecrets(secrets: Pick<Secrets, 'derive' | 'payloadKeyIds'>): PayloadCodec {
  const { current, previous } = secrets.payloadKeyIds;
  const key = (id: string): CodecKey => ({ id, key: secrets.derive(payloadKeyPurpose(id)) });
  return createPayloadCodec({ current: key(current), previous: previous.filter((id) => id !== current).map(key) });
}

/** config/failure-converter.ts (or its build output), resolved from here: from the sources and from dist/ alike. */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js'), import.meta.url));

/**
 * What Client, Worker and TestWorkflowEnvironment take as `dataConverter`: every payload encrypted, and failures'
 * messages and stack traces moved into an encoded payload so that they are encrypted too. A prebuilt workflow
 * bundle must be built with the same failureConverterPath (worker/worker.ts bundleWorkflows).
 */
export const dataConverterFor = (codec: PayloadCodec): DataConverter => ({ payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH });
