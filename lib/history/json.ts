/**
 * The JSON of a Temporal history, in its two forms:
 * - proto3 JSON, as `temporal workflow show --output json` writes it (int64 as strings, enums as names, bytes in
 *   base64, timestamps RFC 3339): each payload is `{ metadata: { encoding: <base64> }, data: <base64> }`. What the
 *   archive keeps and hashes, byte for byte what Temporal holds.
 * - the same with Temporal's "shorthand payloads" (go.temporal.io/api temporalproto, the Temporal CLI's JSON output
 *   and the server's HTTP API): a `json/plain` payload is its JSON value, a `json/protobuf` one its object with
 *   `_protoMessageType`, a list of such payloads an array of them. What auditors read: the words are there.
 * The reader takes either form, as temporalproto's does.
 */
import { createRequire } from 'node:module';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import type * as Proto from '@temporalio/proto';
import { canonicalJson } from '../../db/audit-log.js';

/**
 * The SDK's historyToJSON/historyFromJSON (common/lib/proto-utils) fail here with "type must be a Type": npm
 * installed three copies of protobufjs 8 (proto, common, worker) and protojson checks `instanceof Type` against its
 * own copy. The same functions, taken from the copy @temporalio/proto's types come from.
 */
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}
/** The reflection of a message type, as far as the payload walk reads it. */
interface MessageType {
  readonly fullName: string;
  readonly fieldsArray: readonly Field[];
}
interface Field {
  readonly name: string;
  readonly jsonName?: string;
  readonly repeated: boolean;
  readonly map: boolean;
  readonly resolvedType: unknown;
  resolve(): Field;
}

const requireFromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
// Required, not imported: Node's ESM loader sees no named exports in the generated CommonJS module.
export const { temporal } = requireFromProto('@temporalio/proto') as typeof Proto;
const protojson = requireFromProto('protobufjs/ext/protojson') as ProtoJson;
const historyType = (
  requireFromProto('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(root: unknown): { lookupType(name: string): MessageType } }
)
  .patchProtobufRoot(requireFromProto('@temporalio/proto'))
  .lookupType('temporal.api.history.v1.History');

/** The history in the JSON of `temporal workflow show --output json`, as an object (payloads in base64). */
export const historyAsJson = (history: History): unknown => protojson.toJson(historyType, temporal.api.history.v1.History.fromObject(history));

/**
 * The history JSON as `temporal workflow show --output json` writes it, serialised with sorted keys: what the archive
 * keeps and hashes. Sorted, because the server gives map fields (payload metadata, search attributes) in any order.
 */
export const historyJsonText = (history: History): string => canonicalJson(historyAsJson(history));

// --- shorthand payloads ---

const PAYLOAD = '.temporal.api.common.v1.Payload';
const PAYLOADS = '.temporal.api.common.v1.Payloads';
const MESSAGE_TYPE_KEY = '_protoMessageType';

type JsonObject = Record<string, unknown>;
/** A payload in proto3 JSON: metadata values and data in base64. */
interface PayloadJson {
  metadata?: Record<string, string>;
  data?: string;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string): string => Buffer.from(text, 'base64').toString('utf8');
const BINARY_NULL = b64('binary/null');

const isMessageType = (t: unknown): t is MessageType => typeof t === 'object' && t !== null && Array.isArray((t as MessageType).fieldsArray);

const fieldIndexes = new WeakMap<MessageType, Map<string, Field>>();
/** A message's fields by every name protojson accepts for them (the JSON name, the field name). */
function fieldsOf(type: MessageType): Map<string, Field> {
  let index = fieldIndexes.get(type);
  if (index === undefined) {
    index = new Map();
    for (const f of type.fieldsArray) {
      const field = f.resolve();
      index.set(field.name, field);
      if (field.jsonName !== undefined) index.set(field.jsonName, field);
    }
    fieldIndexes.set(type, index);
  }
  return index;
}

interface PayloadForms {
  readonly payload: (json: unknown) => unknown;
  readonly payloads: (json: unknown) => unknown;
}

/**
 * Rewrites every Payload and Payloads field of a message's JSON, following the schema (the same field names mean
 * a payload in one message and not in another). Well-known types (timestamps, durations, Any) hold no payload.
 */
function rewritePayloads(json: unknown, type: MessageType, forms: PayloadForms): unknown {
  if (!isObject(json)) return json;
  const out: JsonObject = {};
  const fields = fieldsOf(type);
  for (const [key, value] of Object.entries(json)) {
    const field = fields.get(key);
    const target = field?.resolvedType;
    if (field === undefined || !isMessageType(target) || value === null || target.fullName.startsWith('.google.protobuf.')) {
      out[key] = value;
      continue;
    }
    const one =
      target.fullName === PAYLOAD ? forms.payload : target.fullName === PAYLOADS ? forms.payloads : (v: unknown): unknown => rewritePayloads(v, target, forms);
    if (field.map && isObject(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, one(v)]));
    else if (field.repeated && Array.isArray(value)) out[key] = value.map(one);
    else out[key] = one(value);
  }
  return out;
}

/**
 * A payload's shorthand, where it has one, as temporalproto gives it: `json/plain` with no other metadata is its
 * value, `json/protobuf` with only its message type is its object naming that type, `binary/null` stays as it is
 * (the metadata alone). Any other payload (binary, or still encrypted) keeps its base64 form.
 */
function shorthandOf(payload: unknown): { value: unknown } | undefined {
  if (!isObject(payload) || !isObject(payload.metadata)) return undefined;
  const { metadata, data } = payload as PayloadJson;
  const keys = Object.keys(metadata ?? {});
  const encoding = typeof metadata?.encoding === 'string' ? unb64(metadata.encoding) : undefined;
  if (encoding === 'binary/null') return { value: payload };
  let parsed: unknown;
  try {
    parsed = JSON.parse(unb64(typeof data === 'string' ? data : ''));
  } catch {
    return undefined;
  }
  // JSON null stays whole: temporalproto would write it as binary/null, which reads back as another payload
  // (undefined, not null, to the SDK), and what is read back must be the history Temporal holds.
  if (encoding === 'json/plain' && keys.length === 1) return parsed === null ? undefined : { value: parsed };
  const messageType = typeof metadata?.messageType === 'string' ? unb64(metadata.messageType) : '';
  if (encoding === 'json/protobuf' && messageType !== '' && keys.length === 2 && isObject(parsed)) return { value: { ...parsed, [MESSAGE_TYPE_KEY]: messageType } };
  return undefined;
}

const toShorthand: PayloadForms = {
  payload: (json) => shorthandOf(json)?.value ?? json,
  // As temporalproto: a list is an array of values when every payload of it has a shorthand; else it stays a
  // `payloads` message, each payload in it still its shorthand where it has one (the reader tells the forms apart).
  payloads: (json) => {
    const list: unknown[] = isObject(json) && Array.isArray(json.payloads) ? json.payloads : [];
    const values = list.map(shorthandOf);
    if (values.every((v) => v !== undefined)) return values.map((v) => v.value);
    return { ...(json as JsonObject), payloads: list.map((p, i) => values[i]?.value ?? p) };
  },
};

const isBase64 = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(v);

/** A payload in its full form (temporalproto's test): metadata with an encoding and data, both base64, nothing else. */
function isFullPayload(json: JsonObject): boolean {
  const { metadata } = json;
  if (!isObject(metadata) || !isBase64(metadata.encoding) || !Object.values(metadata).every(isBase64)) return false;
  const keys = Object.keys(json);
  if (keys.length === 1) return metadata.encoding === BINARY_NULL;
  return keys.length === 2 && isBase64(json.data);
}

/** A payload back from either form: a shorthand value becomes the `json/plain` (or `json/protobuf`) payload it was. */
function payloadFromJson(json: unknown): unknown {
  if (json === null) return { metadata: { encoding: BINARY_NULL } };
  if (isObject(json) && isFullPayload(json)) return json;
  if (isObject(json) && typeof json[MESSAGE_TYPE_KEY] === 'string') {
    const { [MESSAGE_TYPE_KEY]: messageType, ...message } = json;
    return { metadata: { encoding: b64('json/protobuf'), messageType: b64(messageType) }, data: b64(JSON.stringify(message)) };
  }
  return { metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify(json)) };
}

const fromShorthand: PayloadForms = {
  payload: payloadFromJson,
  payloads: (json) => {
    if (Array.isArray(json)) return { payloads: json.map(payloadFromJson) };
    return isObject(json) && Array.isArray(json.payloads) ? { ...json, payloads: json.payloads.map(payloadFromJson) } : json;
  },
};

/**
 * The history as auditors read it: the JSON of `temporal workflow show --output json` with shorthand payloads, as
 * the Temporal CLI prints payloads elsewhere and the server's HTTP API gives histories. Give it a decoded history:
 * an encrypted payload has no shorthand and stays base64.
 */
export const readableHistoryJson = (history: History): unknown => rewritePayloads(historyAsJson(history), historyType, toShorthand);

/** A history read back from its JSON, in either form (shorthand payloads or base64 ones, mixed alike). */
export function historyFromJson(json: unknown): History {
  if (!isObject(json) || !Array.isArray(json.events)) {
    throw new TypeError('Not a history: expected an object with an array of events');
  }
  return protojson.fromJson(historyType, rewritePayloads(json, historyType, fromShorthand), { ignoreUnknownFields: true }) as History;
}
