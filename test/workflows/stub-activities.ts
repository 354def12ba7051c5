/**
 * The order and certificate workflows on the time-skipping test server with in-memory activities: no database, no
 * CA, no SMTP. Each activity records its call (with the test server's time of the attempt) and answers a plausible
 * value, so a test asserts what the workflow decided, when, and with which keys, in milliseconds of real time.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type LogEntry } from '@temporalio/worker';
import { inject } from 'vitest';
import type { CertificateMailRequest, DomainCheckResult, IssuedCertificate, OrderActivities, OrderMailRequest, RevocationOutcome } from '../../activities/types.js';
import { FAILURE_CONVERTER_PATH } from '../../config/payload-codec.js';
import { maxValidityDays, PROFILES } from '../../activities/ca/profiles.js';
import { CATALOG } from '../../domain/catalog.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import type { CaaCheck, DomainChallenge, OrderInput, OrderView } from '../../domain/order.js';
import type { RevocationReason } from '../../domain/revocation.js';
import { tlsValidityDaysAt } from '../../domain/rules/validity.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions.js';

const DAY_MS = 86_400_000;

/** Messages of the failures the stubs raise on purpose: the worker's warning about each is expected, not shown. */
const INTENDED_FAILURES = new Set<string>();

function intended<E extends Error>(err: E): E {
  INTENDED_FAILURES.add(err.message);
  return err;
}

function logUnlessIntended(entry: LogEntry): void {
  const err: unknown = entry.meta?.error;
  if (entry.message === 'Activity failed' && err instanceof Error && INTENDED_FAILURES.has(err.message)) return;
  console.error(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}`, entry.meta ?? '');
}

// Warnings and errors only (a process installs its runtime once); the SDK core's warning that the test server lacks
// a heartbeat capability these workflows never use is left out.
try {
  Runtime.install({ logger: new DefaultLogger('WARN', logUnlessIntended), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
} catch {
  // already installed in this process
}

/** Every activity the workflows call; a method added to OrderActivities and not listed here fails the type check. */
const ACTIVITY_NAME_LIST = [
  'recordOrderView',
  'sendOrderMail',
  'sendCertificateMail',
  'personaliseToken',
  'issueCertificate',
  'certificateInfo',
  'revokeCertificate',
  'releaseHold',
  'createDomainChallenges',
  'checkDomainChallenges',
  'checkCaa',
  'resetTokenPin',
  'publishCrls',
  'sendUnlockCode',
] as const satisfies readonly (keyof OrderActivities)[];
type Unlisted = Exclude<keyof OrderActivities, (typeof ACTIVITY_NAME_LIST)[number]>;
const everyActivityListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyActivityListed;

export interface Call {
  readonly name: keyof OrderActivities;
  readonly req: unknown;
  /** The test server's time of the attempt (ms), the workflow's clock. */
  readonly at: number;
}

export interface MailCall {
  readonly template: string;
  readonly idempotencyKey: string;
  readonly extra: Readonly<Record<string, string | number>>;
  readonly at: number;
  /** The order's status in the view the mail was written from (order mails only). */
  readonly status?: string;
}

/** Inside an activity, the test server's time of this attempt; outside, the real time. */
function serverNow(): number {
  try {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  } catch {
    return Date.now();
  }
}

/** The digest the stub SMS gateway derives from a request's key: the "right code" a test types. */
export const stubCodeDigest = (idempotencyKey: string): string => createHash('sha256').update(`code:${idempotencyKey}`).digest('hex');

/**
 * Every activity of OrderActivities, in memory. Tests read `calls` (and the helpers over it) and may steer answers:
 * `published` names the domains whose challenge the CA finds, `refuseIssuance` makes the CA refuse (non-retryable),
 * `issuanceDown` makes it unreachable (retryable).
 */
export class StubActivities implements OrderActivities {
  readonly calls: Call[] = [];
  /** The last view each workflow recorded (the read model). */
  readonly views = new Map<string, OrderView>();
  readonly published = new Set<string>();
  refuseIssuance: string | null = null;
  /** The CA is unreachable: each issuance attempt fails with an error a retry may fix. */
  issuanceDown = false;
  /** Names whose CAA forbids this CA (every other name's CAA permits it). */
  readonly caaForbidden = new Set<string>();
  private readonly issued = new Map<string, IssuedCertificate>();
  /** The key each issued serial certifies. */
  private readonly certifiedKeys = new Map<string, string>();
  private serials = 0;

  /** The activities as the worker registers them: each calls the method on this recorder. */
  asActivities(): OrderActivities {
    const self = this as unknown as Record<string, (...args: unknown[]) => unknown>;
    return Object.fromEntries(ACTIVITY_NAME_LIST.map((name) => [name, (...args: unknown[]) => self[name]!(...args)])) as unknown as OrderActivities;
  }

  private record(name: keyof OrderActivities, req: unknown): number {
    const at = serverNow();
    this.calls.push({ name, req, at });
    return at;
  }

  /** A certificate a test hands a certificate workflow as if the order had issued it here, on this key. */
  knowCertificate(issuanceKey: string, cert: IssuedCertificate, publicKeySpki: string): void {
    this.issued.set(issuanceKey, cert);
    this.certifiedKeys.set(cert.serial, publicKeySpki);
  }

  /** The calls of one activity about one order (matched on the order id anywhere in the request). */
  callsOf(name: keyof OrderActivities, orderId?: string): Call[] {
    return this.calls.filter((c) => c.name === name && (orderId === undefined || JSON.stringify(c.req).includes(orderId)));
  }

  /** The order and certificate mails of one order, in the order sent. */
  mails(orderId: string): MailCall[] {
    return this.calls
      .filter((c) => (c.name === 'sendOrderMail' || c.name === 'sendCertificateMail') && (c.req as OrderMailRequest).input.orderId === orderId)
      .map((c) => {
        const req = c.req as OrderMailRequest | CertificateMailRequest;
        return {
          template: req.template,
          idempotencyKey: req.idempotencyKey,
          extra: req.extra ?? {},
          at: c.at,
          ...('view' in req ? { status: req.view.status } : {}),
        };
      });
  }

  templates(orderId: string): string[] {
    return this.mails(orderId).map((m) => m.template);
  }

  /** The digest of the last SMS code sent for an order: what the right code hashes to. */
  lastCodeDigest(orderId: string): string {
    const sent = this.callsOf('sendUnlockCode', orderId).at(-1);
    if (sent === undefined) throw new Error(`no SMS code sent for ${orderId}`);
    return stubCodeDigest((sent.req as { idempotencyKey: string }).idempotencyKey);
  }

  // Plain methods answering settled promises: nothing here waits on anything.

  recordOrderView(workflowId: string, view: OrderView): Promise<void> {
    this.record('recordOrderView', { workflowId, view });
    const before = this.views.get(workflowId);
    if (before === undefined || before.version <= view.version) this.views.set(workflowId, view);
    return Promise.resolve();
  }

  sendOrderMail(req: OrderMailRequest): Promise<void> {
    this.record('sendOrderMail', req);
    return Promise.resolve();
  }

  sendCertificateMail(req: CertificateMailRequest): Promise<void> {
    this.record('sendCertificateMail', req);
    return Promise.resolve();
  }

  personaliseToken(req: { personalisationKey: string; orderId: string }): Promise<{ tokenId: string; publicKeySpki: string }> {
    this.record('personaliseToken', req);
    return Promise.resolve({ tokenId: `token-${req.orderId}`, publicKeySpki: `spki-of-token-${req.orderId}` });
  }

  issueCertificate(req: { issuanceKey: string; input: OrderInput; publicKeySpki: string; validUntil: string }): Promise<IssuedCertificate> {
    const at = this.record('issueCertificate', req);
    if (this.refuseIssuance !== null) return Promise.reject(intended(ApplicationFailure.nonRetryable(this.refuseIssuance, 'IssuanceRefused')));
    if (this.issuanceDown) return Promise.reject(intended(new Error('connect ECONNREFUSED 127.0.0.1:8443')));
    // Once per key, as the real CA: a retry answers the same certificate.
    const known = this.issued.get(req.issuanceKey);
    if (known !== undefined) return Promise.resolve(known);
    const until = Date.parse(req.validUntil);
    // A TLS certificate is as long as the BR schedule allows on the day, within the paid term; a persons one as its
    // profile allows (S/MIME BR §6.3.2), within the term; others end with it.
    const product = req.input.product;
    const notAfter = CATALOG[product].browserTrusted
      ? Math.min(until, at + tlsValidityDaysAt(at) * DAY_MS)
      : CATALOG[product].kind === 'person'
        ? Math.min(until, at + maxValidityDays(PROFILES[product], new Date(at)) * DAY_MS)
        : until;
    const serial = (++this.serials).toString(16).padStart(4, '0') + randomUUID().replaceAll('-', '').slice(0, 12);
    const cert: IssuedCertificate = {
      serial,
      pem: `-----BEGIN CERTIFICATE-----\n${serial}\n-----END CERTIFICATE-----\n`,
      notBefore: new Date(at).toISOString(),
      notAfter: new Date(notAfter).toISOString(),
      issuingCa: 'stub-ca',
      subject: `CN=${req.input.holder.givenName} ${req.input.holder.surname}`,
    };
    this.issued.set(req.issuanceKey, cert);
    this.certifiedKeys.set(serial, req.publicKeySpki);
    return Promise.resolve(cert);
  }

  certificateInfo(req: { serial: string }): Promise<{ serial: string; notBefore: string; notAfter: string; publicKeySpki?: string }> {
    this.record('certificateInfo', req);
    const cert = [...this.issued.values()].find((c) => c.serial === req.serial);
    if (cert === undefined) return Promise.reject(ApplicationFailure.nonRetryable(`unknown serial ${req.serial}`));
    const publicKeySpki = this.certifiedKeys.get(cert.serial);
    return Promise.resolve({ serial: cert.serial, notBefore: cert.notBefore, notAfter: cert.notAfter, ...(publicKeySpki === undefined ? {} : { publicKeySpki }) });
  }

  revokeCertificate(req: { serial: string; reason: RevocationReason }): Promise<RevocationOutcome> {
    const at = this.record('revokeCertificate', req);
    return Promise.resolve({ serial: req.serial, status: req.reason === 'certificateHold' ? 'held' : 'revoked', revokedAt: new Date(at).toISOString(), reason: req.reason });
  }

  releaseHold(req: { serial: string }): Promise<RevocationOutcome> {
    this.record('releaseHold', req);
    return Promise.resolve({ serial: req.serial, status: 'valid', revokedAt: null, reason: null });
  }

  createDomainChallenges(req: { domains: string[]; method: 'http' | 'dns' }): Promise<DomainChallenge[]> {
    const at = this.record('createDomainChallenges', req);
    return Promise.resolve(
      req.domains.map((domain): DomainChallenge => {
        const base = domain.replace(/^\*\./, '');
        const token = createHash('sha256').update(`${domain}:${at}`).digest('hex').slice(0, 32);
        return {
          domain,
          authorizationDomain: base,
          method: req.method,
          token,
          createdAt: new Date(at).toISOString(),
          expiresAt: new Date(at + 30 * DAY_MS).toISOString(),
          ...(req.method === 'http'
            ? { http: { url: `http://${base}/.well-known/pki-validation/${token}.txt`, path: `/.well-known/pki-validation/${token}.txt`, content: token } }
            : { dns: { recordName: `_validation-persist.${base}`, recordType: 'TXT' as const, value: token } }),
        };
      }),
    );
  }

  checkDomainChallenges(req: { challenges: DomainChallenge[] }): Promise<{ domain: string; result: DomainCheckResult }[]> {
    const at = new Date(this.record('checkDomainChallenges', req)).toISOString();
    return Promise.resolve(
      req.challenges.map((c) => ({
        domain: c.domain,
        result: this.published.has(c.domain)
          ? { validated: true as const, method: c.method, checkedAt: at, evidence: `${c.method} ${c.domain} ${c.token}` }
          : { validated: false as const, method: c.method, checkedAt: at, reason: `no ${c.method === 'dns' ? 'TXT record' : 'file'} found for ${c.domain}` },
      })),
    );
  }

  checkCaa(req: { checkKey: string; orderId: string; names: string[] }): Promise<CaaCheck> {
    const checkedAt = new Date(this.record('checkCaa', req)).toISOString();
    const names = req.names.map((name) => {
      const permitted = !this.caaForbidden.has(name);
      const records = permitted ? [] : ['0 issue "other-ca.example"'];
      return { name, relevantDomain: permitted ? null : name, records, permitted, reason: permitted ? 'no CAA record' : `CAA of ${name} allows only other-ca.example` };
    });
    return Promise.resolve({ checkedAt, permitted: names.every((n) => n.permitted), identifiers: ['certflow.example'], names });
  }

  resetTokenPin(req: { orderId: string; resetKey: string }): Promise<void> {
    this.record('resetTokenPin', req);
    return Promise.resolve();
  }

  publishCrls(): Promise<{ caId: string; crlNumber: number; nextUpdate: string }[]> {
    this.record('publishCrls', {});
    return Promise.resolve([]);
  }

  sendUnlockCode(req: { idempotencyKey: string; orderId: string; to: string; language: 'fr' | 'en' }): Promise<{ digest: string }> {
    this.record('sendUnlockCode', req);
    return Promise.resolve({ digest: stubCodeDigest(req.idempotencyKey) });
  }
}

export interface FastStack {
  readonly env: TestWorkflowEnvironment;
  readonly stubs: StubActivities;
  readonly taskQueue: string;
  readonly close: () => Promise<void>;
}

/** A time-skipping test server and a worker on the run's workflow bundle with the stub activities. */
export async function startFastStack(name = 'fast'): Promise<FastStack> {
  const taskQueue = `${name}-${randomUUID()}`;
  // No codec: nothing is stored. The failure converter must be the one the bundle was built with.
  const dataConverter = { failureConverterPath: FAILURE_CONVERTER_PATH };
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
    client: { dataConverter },
  });
  const stubs = new StubActivities();
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await env.teardown();
  };
  try {
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      dataConverter,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: stubs.asActivities(),
      // The bundle may carry the OpenTelemetry workflow interceptors, which hand their spans to this sink: dropped.
      sinks: { exporter: { export: { fn: () => undefined } } },
    });
    running = worker.run();
  } catch (err) {
    await close();
    throw err;
  }
  return { env, stubs, taskQueue, close };
}

/** An order's input as the API would start it, without rows anywhere: ids are random, the clock the server's. */
export function fastOrderInput(createdAtMs: number, overrides: Partial<OrderInput> = {}): OrderInput {
  const holderId = randomUUID();
  return {
    orderId: randomUUID(),
    product: 'ID_RGS_STAR',
    durationYears: 1,
    os: 'windows',
    partnerCode: null,
    holder: { userId: holderId, email: 'camille.durand@acme.test', givenName: 'Camille', surname: 'Durand', phone: '+33612345678', language: 'fr' },
    orderedByUserId: holderId,
    organisation: { id: randomUUID(), siret: '73282932000074', name: 'ACME', locality: 'Paris' },
    certificateRequest: null,
    domainOwner: null,
    payment: { method: 'transfer', purchaseOrderNumber: null },
    priceCents: 5500,
    createdAt: new Date(createdAtMs).toISOString(),
    deadlines: DEFAULT_DEADLINES,
    ...overrides,
  };
}
