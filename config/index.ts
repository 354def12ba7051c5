import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_DEADLINES, durationMs, withOverrides, type Deadlines } from '../domain/deadlines.js';
import { caIdentityFields as ca, caIdentityFrom, checkProductionIdentity, type CaIdentity } from './ca-identity.js';
import { checkPkcs11Pins, pkcs11Config, type Pkcs11Config } from './pkcs11.js';

export type { CaIdentity } from './ca-identity.js';

/**
 * Every environment variable CertFlow reads, in one place. The defaults are the embedded mode of `npm start`:
 * a Temporal dev server started as a child process, PGlite under DATA_DIR, outboxes instead of providers.
 * docker-compose.yml and the README's table are checked against `CONFIG_VARIABLES` by the test suite.
 */
const port = z.coerce.number().int().min(0).max(65535);
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** One DNS server as node:dns setServers takes it: 'ip', 'ip:port' or '[ipv6]:port'. */
function isDnsServer(entry: string): boolean {
  const withPort = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(entry);
  if (withPort === null) return isIP(entry) === 6;
  const port = withPort[2] === undefined ? 53 : Number(withPort[2]);
  return isIP(withPort[1] ?? '') !== 0 && port >= 1 && port <= 65535;
}
const dnsServerList = z
  .string()
  .optional()
  .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''))
  .refine((list) => list.every(isDnsServer), { message: "expected IP addresses separated by commas, each maybe with ':port' ('[v6]:port')" });

/**
 * The CA's CAA issuer domain names (RFC 8659 §4.2, BR §3.2.2.8): a comma list of lower-case DNS names; an `issue`
 * or `issuewild` record naming one of them authorises CertFlow.
 */
export const DEFAULT_CAA_IDENTIFIERS = ['certflow.example'] as const;
const CAA_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const caaIdentifierList = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? [...DEFAULT_CAA_IDENTIFIERS] : v.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')))
  .refine((list) => list.length > 0 && list.every((id) => id.split('.').length >= 2 && id.split('.').every((l) => CAA_LABEL.test(l))), {
    message: "expected issuer domain names separated by commas, e.g. 'pki.example.fr'",
  });
/** Names reserved for examples and tests (RFC 2606, RFC 6761): never a real CA's identifier. */
const PLACEHOLDER_SUFFIXES = ['.example', '.test', '.localhost', '.invalid', '.local'];

/** A Temporal duration ("2 days", "36h") longer than zero. */
function isPositiveDuration(v: string): boolean {
  try {
    return durationMs(v as Parameters<typeof durationMs>[0]) > 0;
  } catch {
    return false;
  }
}

/** A namespace retention of TEMPORAL_RETENTION ('30d', '720h') in seconds. */
export const retentionSeconds = (text: string): number => Number(text.slice(0, -1)) * (text.endsWith('d') ? 86_400 : 3_600);

/** Payload key ids: short names, recorded in every encrypted payload's metadata. */
const keyId = z.string().trim().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected letters, digits, dots, dashes or underscores (at most 64)');
const keyIdList = z
  .string()
  .optional()
  .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''))
  .pipe(z.array(keyId));

/** One entry of a trusted-proxy list: an address, a CIDR, or one of Express's names for a range. */
function isProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
}
/**
 * Express's `trust proxy`: false (the socket's address is the client's), a number of proxy hops in front of the API,
 * or the proxies' addresses. Trusting every sender (`true`) is refused: any client could then choose its address.
 */
const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx): false | number | string[] => {
    const text = (v ?? '').trim();
    if (text === '' || text === 'false' || text === '0') return false;
    if (/^\d+$/.test(text)) return Number(text);
    const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (list.every(isProxyEntry)) return list;
    ctx.addIssue({ code: 'custom', message: "expected false, a number of proxy hops, or comma-separated proxy addresses/CIDRs (or 'loopback', 'linklocal', 'uniquelocal')" });
    return z.NEVER;
  });

/** An absolute URL of that scheme with a host and no query or fragment: a base other paths are appended to. */
function isBaseUrl(text: string, scheme: 'http:' | 'https:'): boolean {
  try {
    const url = new URL(text);
    return url.protocol === scheme && url.hostname !== '' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}
// BR §7.1.2.11.2 (TLS) and S/MIME BR §7.1.2.3 b–c: every CRL, OCSP and caIssuers URI of a certificate is http. A
// relying party fetching revocation over https would need the revocation status of the https server first.
const HTTP_ONLY =
  'expected an http:// URL without query (e.g. http://pki.example.fr): CRL distribution points, OCSP and caIssuers URLs in certificates must be http:// (BR §7.1.2.11.2, S/MIME BR §7.1.2.3), an https:// base is refused';
// ETSI EN 319 412-5 §4.3.4: the QcPDS location is an https URL.
const HTTPS_ONLY = 'expected an https:// URL without query (e.g. https://www.example.fr/pds): the PDS named in QCStatements must be https:// (ETSI EN 319 412-5 §4.3.4)';

/** The documented PDS base when PUBLIC_BASE_URL gives no https one: a placeholder a deployment replaces with PDS_URL. */
export const DEFAULT_PDS_URL = 'https://certflow.example/pds';

export const configSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1').describe('Address the HTTP API binds to'),
  PORT: port.default(3000).describe('Port of the HTTP API'),
  PUBLIC_BASE_URL: optionalText.describe('Base URL clients use to reach the API (Location headers, links); defaults to http://HOST:PORT'),
  PKI_HTTP_BASE_URL: optionalText
    .refine((v) => v === undefined || isBaseUrl(v, 'http:'), { message: HTTP_ONLY })
    .describe('http:// base of the CRL distribution point, OCSP and caIssuers URLs written into certificates (served by /v1/ca/… and /v1/ocsp); defaults to PUBLIC_BASE_URL when that is http://, else http://HOST:PORT'),
  PDS_URL: optionalText
    .refine((v) => v === undefined || isBaseUrl(v, 'https:'), { message: HTTPS_ONLY })
    .describe('https:// base of the PKI disclosure statements (<PDS_URL>/en is the QcPDS of qualified certificates); defaults to PUBLIC_BASE_URL/pds when that is https://, else https://certflow.example/pds'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
  DATA_DIR: z.string().min(1).default('data').describe('Folder for embedded data: PGlite, the Temporal dev server SQLite file, outboxes'),
  DATABASE_URL: optionalText.describe('postgres:// URL; unset means embedded PGlite under DATA_DIR/pglite'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10).describe('postgres.js pool size per process'),
  PGLITE_PORT: port.default(54329).describe('Embedded mode: loopback port where the running stack shares its PGlite with the admin CLI'),
  TEMPORAL_ADDRESS: optionalText.describe('host:port of the Temporal frontend; unset means `npm start` runs a dev server'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('Temporal namespace'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('certflow-orders').describe('Task queue of the order workflows and activities'),
  TEMPORAL_DEV_PORT: port.default(7233).describe('Embedded mode: frontend port of the dev server'),
  TEMPORAL_UI_PORT: port.default(8233).describe('Embedded mode: port of the Temporal Web UI'),
  TEMPORAL_CLI_PATH: optionalText.describe('Path to a `temporal` CLI to use instead of the one installed under .temporal/'),
  TEMPORAL_TEST_SERVER_PATH: optionalText.describe('Path to a `temporal-test-server` to use instead of the one installed under .temporal/'),
  TEMPORAL_RETENTION: z
    .string()
    .trim()
    .regex(/^[1-9]\d{0,5}[dh]$/, "expected days or hours: '30d', '720h'")
    .refine((v) => retentionSeconds(v) >= 86_400, 'at least 1 day, the least Temporal keeps a closed run')
    .default('30d')
    .describe("How long Temporal keeps closed runs ('30d', '720h'); the embedded dev server and compose apply it, the history archive keeps them after"),
  WORKFLOW_BUNDLE_PATH: optionalText.describe('A workflow bundle built by `npm run build:workflows`; unset means the worker bundles the workflows at start'),
  MASTER_KEY: optionalText.describe('Base64 of 32 bytes: encrypts CA keys and token PINs at rest; unset in embedded mode means DATA_DIR/secrets/master.key, made at first start'),
  SMTP_URL: optionalText.describe('smtp:// or smtps:// URL of the mail relay; unset means mails go to DATA_DIR/outbox/mail as .eml files'),
  MAIL_FROM: z.string().min(3).default('CertFlow <no-reply@certflow.localhost>').describe('Sender of every mail'),
  STAFF_EMAIL: z.string().min(3).default('ra@certflow.localhost').describe('Where staff alerts go (originals overdue, …)'),
  TWILIO_ACCOUNT_SID: optionalText.describe("Twilio account SID; unset means SMS go to DATA_DIR/outbox/sms.jsonl"),
  TWILIO_AUTH_TOKEN: optionalText.describe('Twilio auth token'),
  TWILIO_FROM: optionalText.describe('Sender number (E.164) or messaging service of the SMS'),
  TWILIO_API_URL: optionalText.describe("Base URL of Twilio's REST API (a regional edge, or a local server speaking its API in tests)"),
  PAYMENT_WEBHOOK_SECRET: optionalText.describe("Shared secret of the payment provider's HMAC signature; unset in embedded mode means one derived from the master key"),
  ORDER_DEADLINES: optionalText.describe('JSON object overriding order deadlines, e.g. {"originalsDue":"7 days"} (see domain/deadlines.ts)'),
  DCV_DNS_SERVERS: dnsServerList.describe('Comma-separated DNS servers (ip or ip:port) domain validation asks; unset means the system resolvers'),
  DCV_HTTP_PORT: port.min(1).default(80).describe('Port of the HTTP domain-validation check and of the http:// redirects it follows'),
  DCV_HTTPS_PORT: port.min(1).default(443).describe('The only port an https:// redirect of the HTTP domain-validation check may go to'),
  DCV_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000).describe('Time budget of one domain-validation check (DNS, connection, redirects, body)'),
  CAA_IDENTIFIERS: caaIdentifierList.describe("Comma-separated issuer domain names of the CA in CAA records (`0 issue \"<name>\"`): TLS issuance is refused when a name's CAA names none of them; production must set its own"),
  CODEC_KEY_ID: keyId.default('k1').describe('Id of the key that encrypts Temporal payloads now (derived from MASTER_KEY); change it to rotate'),
  CODEC_PREVIOUS_KEY_IDS: keyIdList.describe('Comma-separated ids of earlier payload keys, kept to decrypt histories they encrypted'),
  TRUST_PROXY: trustProxy.describe('Whom to believe about client addresses (X-Forwarded-For), for rate limits and logs: false (default), a number of proxy hops, or comma-separated proxy addresses/CIDRs'),
  CODEC_CORS_ORIGIN: z.string().trim().min(1).default('http://127.0.0.1:8233').describe('Comma-separated origins (the Temporal Web UI) allowed to call the codec server /codec/* from a browser'),
  STUCK_ORDER_SLA: z
    .string()
    .trim()
    .default('2 days')
    .refine(isPositiveDuration, { message: 'expected a positive duration such as "2 days" or "36h"' })
    .describe('How long an order may wait on staff (ra, dra) or the CA since its last change before /metrics counts it stuck (certflow_orders_stuck)'),
  METRICS_TOKEN: optionalText.describe('Bearer token a scrape of /metrics (API and worker) must carry; unset means /metrics answers whoever reaches the port'),
  WORKER_METRICS_PORT: port.default(9464).describe("Standalone worker: port of its own /metrics (the worker's counters and the Temporal SDK's temporal_* metrics); 0 turns it off"),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText
    .refine((v) => v === undefined || /^https?:\/\/[^/]/.test(v), { message: 'expected an http:// or https:// URL (the collector, e.g. http://otel-collector:4318)' })
    .describe('Base URL of an OpenTelemetry collector (OTLP/HTTP): the API (certflow-api) and the worker (certflow-worker) send their traces to <url>/v1/traces; unset means no traces are recorded'),
  TEMPORAL_METRICS_PORT: port.default(9465).describe("Loopback port of the Temporal SDK's Prometheus exporter in the worker process (read through /metrics); 0 turns it off"),
  // PKCS#11 (config/pkcs11.ts): the CA keys live on tokens; the roots' token has no setting (ceremony only).
  PKCS11_MODULE: optionalText.describe("PKCS#11 module the CA keys are used through; unset means Debian's SoftHSM2 (/usr/lib/softhsm/libsofthsm2.so)"),
  SOFTHSM2_CONF: optionalText.describe("SoftHSM2's configuration file (its token directory); unset means DATA_DIR/softhsm/softhsm2.conf outside production, SoftHSM2's own default in production"),
  PKCS11_CA_PIN: optionalText.describe('User PIN of the certflow-ca token (issuing-CA keys): the worker needs it; unset outside production means derived from MASTER_KEY. Never give it to the API'),
  PKCS11_OCSP_PIN: optionalText.describe('User PIN of the certflow-ocsp token (delegated OCSP responder keys): the API needs it; unset outside production means derived from MASTER_KEY. Never give it to the worker'),
  // Production is what this variable says, not what DATABASE_URL suggests: the test stacks run against Postgres
  // with the demo identity, and a deployment states what it is (docker-compose.yml sets production).
  CERTFLOW_ENV: z.enum(['development', 'production']).default('development').describe('`production` refuses the demo CA identity: every CA_* variable must then be set to a real, non-placeholder value'),
  // The CA's identity (config/ca-identity.ts): every mail, PDF and page reads it. Defaults: a fictitious demo CA.
  CA_TRADING_NAME: ca.name('CA_TRADING_NAME').describe('Name customers know the CA by: mail signatures, PDF letterheads'),
  CA_LEGAL_NAME: ca.name('CA_LEGAL_NAME').describe("The CA's registered company name: first line of its postal address"),
  CA_ADDRESS_STREET: ca.name('CA_ADDRESS_STREET').describe('Postal address of the CA (where cheques and originals are posted): street'),
  CA_ADDRESS_POSTAL_CODE: ca.name('CA_ADDRESS_POSTAL_CODE').describe('Postal address: postal code'),
  CA_ADDRESS_LOCALITY: ca.name('CA_ADDRESS_LOCALITY').describe('Postal address: locality'),
  CA_ADDRESS_COUNTRY: ca.name('CA_ADDRESS_COUNTRY').describe('Postal address: country'),
  CA_BANK_ACCOUNT_HOLDER: ca.name('CA_BANK_ACCOUNT_HOLDER').describe('Holder of the account bank transfers go to; cheques are made payable to it'),
  CA_BANK_NAME: ca.name('CA_BANK_NAME').describe('Name of that bank'),
  CA_BANK_IBAN: ca.iban().describe('IBAN of that account (checked: format and mod-97 checksum; spaces allowed)'),
  CA_BANK_BIC: ca.bic().describe('BIC of that bank (checked: 8 or 11 characters)'),
  CA_SUPPORT_EMAIL: ca.email().describe("Support address shown to customers in mails and PDFs"),
  CA_SUPPORT_PHONE: ca.phone().describe('Support phone number shown to customers'),
});

export type Config = z.infer<typeof configSchema> & {
  readonly embeddedDatabase: boolean;
  readonly publicBaseUrl: string;
  /** PKI_HTTP_BASE_URL without a trailing slash: always http://, the base of every CRL, OCSP and caIssuers URL. */
  readonly pkiBaseUrl: string;
  /** PDS_URL without a trailing slash: always https://, the base of the PKI disclosure statements (`<base>/en`). */
  readonly pdsUrl: string;
  /** The PKCS#11 module, SoftHSM2's configuration and the PINs set (config/pkcs11.ts; tokenPins fills the defaults). */
  readonly pkcs11: Pkcs11Config;
  /** The defaults of domain/deadlines.ts with ORDER_DEADLINES applied. */
  readonly orderDeadlines: Deadlines;
  /** The CA_* variables as one object: what mails, PDFs and pages show of the CA. */
  readonly caIdentity: CaIdentity;
};

/** Names of every variable the config module reads. */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape) as (keyof typeof configSchema.shape)[];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses an environment (process.env by default); throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  let orderDeadlines: Deadlines = DEFAULT_DEADLINES;
  if (c.ORDER_DEADLINES !== undefined) {
    try {
      orderDeadlines = withOverrides(JSON.parse(c.ORDER_DEADLINES) as Record<string, unknown>);
    } catch (err) {
      throw new ConfigError(`invalid configuration:\n  ORDER_DEADLINES: ${(err as Error).message}`);
    }
  }
  if (c.CERTFLOW_ENV === 'production') {
    const problems = checkProductionIdentity(env);
    // The worker mails links too, and has no address of its own to guess them from.
    if (c.PUBLIC_BASE_URL === undefined) problems.push('  PUBLIC_BASE_URL: required when CERTFLOW_ENV=production (the links of every mail)');
    // An https web base cannot serve as the revocation base, and HOST:PORT is not an address relying parties reach.
    if (c.PKI_HTTP_BASE_URL === undefined && c.PUBLIC_BASE_URL?.startsWith('https:')) {
      problems.push('  PKI_HTTP_BASE_URL: required when CERTFLOW_ENV=production and PUBLIC_BASE_URL is https:// (the http:// base of the CRL, OCSP and caIssuers URLs in certificates)');
    }
    // CAA (BR §3.2.2.8): the demo identifier would let any customer's record naming it authorise a real CA.
    if (env.CAA_IDENTIFIERS === undefined || env.CAA_IDENTIFIERS.trim() === '') {
      problems.push("  CAA_IDENTIFIERS: required when CERTFLOW_ENV=production (the CA's issuer domain names in CAA records)");
    } else if (c.CAA_IDENTIFIERS.some((id) => PLACEHOLDER_SUFFIXES.some((suffix) => id.endsWith(suffix)))) {
      problems.push(`  CAA_IDENTIFIERS: looks like a placeholder (${c.CAA_IDENTIFIERS.join(', ')}): set the CA's own issuer domain names`);
    }
    problems.push(...checkPkcs11Pins(pkcs11Config(env, c)));
    if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const shownHost = c.HOST === '0.0.0.0' || c.HOST === '::' ? '127.0.0.1' : c.HOST;
  const noSlash = (url: string): string => url.replace(/\/+$/, '');
  const publicBaseUrl = noSlash(c.PUBLIC_BASE_URL ?? `http://${shownHost}:${c.PORT}`);
  // The same process serves /v1/ca/… and /v1/ocsp at PUBLIC_BASE_URL: an http one is the revocation base as it is.
  const pkiBaseUrl = noSlash(c.PKI_HTTP_BASE_URL ?? (publicBaseUrl.startsWith('http:') ? publicBaseUrl : `http://${shownHost}:${c.PORT}`));
  // The API serves /pds/{lang}: under an https PUBLIC_BASE_URL it is the PDS; the embedded http stack has no https
  // address of its own, so qualified certificates name the documented placeholder until PDS_URL is set.
  const pdsUrl = noSlash(c.PDS_URL ?? (publicBaseUrl.startsWith('https:') ? `${publicBaseUrl}/pds` : DEFAULT_PDS_URL));
  return {
    ...c,
    DATA_DIR: resolve(c.DATA_DIR),
    embeddedDatabase: c.DATABASE_URL === undefined,
    orderDeadlines,
    caIdentity: caIdentityFrom(c),
    pkcs11: pkcs11Config(env, { DATA_DIR: resolve(c.DATA_DIR), CERTFLOW_ENV: c.CERTFLOW_ENV }),
    publicBaseUrl,
    pkiBaseUrl,
    pdsUrl,
  };
}
