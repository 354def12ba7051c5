import { randomBytes } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { decodeOptionalFailureToOptionalError, encodeErrorToFailure, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import {
  createPayloadCodec,
  dataConverterFor,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  payloadCodecFromSecrets,
  PayloadCodecError,
} from '../../config/payload-codec.js';
import { loadSecrets } from '../../config/secrets.js';
import { decodeHistory } from '../../lib/history/read.js';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const holder = { givenName: 'Camille', surname: 'Durand', email: 'camille.durand@example.test', phone: '+33612345678' };
const text = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const payload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

describe('payload codec', () => {
  it('round-trips payloads whole, metadata included, with nothing in clear', async () => {
    const codec = createPayloadCodec({ current: k1 });
    const original = payload(holder);
    const [encoded] = await codec.encode([original]);
    expect(text(encoded?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded?.metadata?.[KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(encoded?.metadata ?? {}).sort()).toEqual(['encoding', KEY_ID_METADATA]);
    for (const clear of [holder.email, holder.surname, holder.phone, 'json/plain']) expect(text(encoded?.data)).not.toContain(clear);
    const [decoded] = await codec.decode([encoded as Payload]);
    expect(text(decoded?.metadata?.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded as Payload)).toEqual(holder);
  });

  it('uses a fresh nonce each time: the same value never encrypts the same', async () => {
    const codec = createPayloadCodec({ current: k1 });
    const [a, b] = await codec.encode([payload(holder), payload(holder)]);
    expect(Buffer.from(a?.data ?? []).equals(Buffer.from(b?.data ?? []))).toBe(false);
  });

  it('detects tampering with the ciphertext and with the key id', async () => {
    const codec = createPayloadCodec({ current: k1, previous: [k2] });
    const [encoded] = (await codec.encode([payload(holder)])) as [Payload];
    const flipped = new Uint8Array(encoded.data ?? []);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    await expect(codec.decode([{ ...encoded, data: flipped }])).rejects.toThrow(/failed authentication/);
    const relabelled = { ...encoded, metadata: { ...encoded.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(PayloadCodecError);
  });

  it('rotates: what k1 encrypted still decodes when k2 is current, and new payloads use k2', async () => {
    const before = createPayloadCodec({ current: k1 });
    const [old] = (await before.encode([payload(holder)])) as [Payload];
    const after = createPayloadCodec({ current: k2, previous: [k1] });
    expect(defaultPayloadConverter.fromPayload((await after.decode([old]))[0] as Payload)).toEqual(holder);
    const [fresh] = await after.encode([payload(holder)]);
    expect(text(fresh?.metadata?.[KEY_ID_METADATA])).toBe('k2');
  });

  it('fails clearly on an unknown key id, and passes unencrypted payloads through', async () => {
    const [old] = (await createPayloadCodec({ current: k1 }).encode([payload(holder)])) as [Payload];
    const retired = createPayloadCodec({ current: k2 });
    await expect(retired.decode([old])).rejects.toThrow(/key id "k1".*does not know/);
    const clear = payload('legacy');
    expect(await retired.decode([clear])).toEqual([clear]);
  });

  it('derives its keys from the master key and the configured ids', async () => {
    const masterKey = randomBytes(32).toString('base64');
    const secretsFor = (env: Record<string, string>) => loadSecrets(loadConfig({ MASTER_KEY: masterKey, DATABASE_URL: 'postgres://x@y/z', ...env }));
    const v1 = payloadCodecFromSecrets(secretsFor({}));
    const [old] = (await v1.encode([payload(holder)])) as [Payload];
    expect(text(old.metadata?.[KEY_ID_METADATA])).toBe('k1');
    const v2 = payloadCodecFromSecrets(secretsFor({ CODEC_KEY_ID: 'k2', CODEC_PREVIOUS_KEY_IDS: 'k0, k1' }));
    expect(defaultPayloadConverter.fromPayload((await v2.decode([old]))[0] as Payload)).toEqual(holder);
    await expect(payloadCodecFromSecrets(secretsFor({ CODEC_KEY_ID: 'k2' })).decode([old])).rejects.toThrow(/k1/);
    // Another master key derives other keys: same id, no decryption.
    const other = payloadCodecFromSecrets(loadSecrets(loadConfig({ MASTER_KEY: randomBytes(32).toString('base64'), DATABASE_URL: 'postgres://x@y/z' })));
    await expect(other.decode([old])).rejects.toThrow(/failed authentication/);
    expect(() => loadConfig({ CODEC_KEY_ID: 'no spaces' })).toThrow(/CODEC_KEY_ID/);
  });

  it('encrypts failure messages and stack traces; clients and the history decoder read them back', async () => {
    const codec = createPayloadCodec({ current: k1 });
    // As a Client or a Worker loads it: the failure converter is required by its path.
    const converter = loadDataConverter(dataConverterFor(codec));
    const message = `the key is already certified for ${holder.email}`;
    const failure = await encodeErrorToFailure(converter, ApplicationFailure.nonRetryable(message, 'KeyInUse'));
    expect(failure).toMatchObject({ message: 'Encoded failure', stackTrace: '' });
    expect(text(failure.encodedAttributes?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    // What the server stores: the failure as protobuf, the type in clear, the message and stack nowhere.
    const stored = Buffer.from(proto.temporal.api.failure.v1.Failure.encode(failure).finish());
    expect(stored.includes('KeyInUse')).toBe(true);
    for (const clear of [holder.email, 'already certified', 'payload-codec.test.ts']) expect(stored.includes(clear), clear).toBe(false);

    // A client (the API reading an Update's failure, the workflow reading an activity's: refusalMessage) gets it whole.
    const error = await decodeOptionalFailureToOptionalError(converter, failure);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ message, type: 'KeyInUse', nonRetryable: true });

    // A decoded history (the history route, exports, replays) reads as if it had never been encrypted.
    const history = { events: [{ eventId: 7, activityTaskFailedEventAttributes: { failure } }] } as unknown as History;
    const decoded = (await decodeHistory(history, [codec])).events?.[0]?.activityTaskFailedEventAttributes?.failure;
    expect(decoded?.message).toBe(message);
    expect(decoded?.stackTrace).toContain('payload-codec.test.ts');
    expect(decoded?.encodedAttributes).toBeNull();
    expect(decoded?.applicationFailureInfo?.type).toBe('KeyInUse');
  });
});
