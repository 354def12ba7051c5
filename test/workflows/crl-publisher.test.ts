/**
 * The CRL publisher (workflows/crl-publisher.ts) over nine skipped days on the time-skipping test server, with a
 * worker on the real activities: every CA gets a new CRL each day, numbered strictly upwards, and the rhythm keeps a
 * valid CRL published at every moment.
 *
 * What is observable, and where: the workflow's clock is skipped, the CA's is not. The publishing activity
 * (ca.publishAllCrls → crl.ts publishRow) stamps thisUpdate with the CA's `now`, the real wall clock, and nextUpdate
 * as thisUpdate + 7 days. Nine skipped days pass in a few real seconds, so the `crls` rows of the run all carry
 * thisUpdates seconds apart and "each thisUpdate is before the previous nextUpdate" holds whatever the rhythm: on the
 * stored dates alone it proves nothing about gaps. The schedule is read where it is dated in skipped time, the
 * workflow's history: each publishCrls activity's event time is when (in workflow time) that round's CRLs appeared,
 * and its result names the CRL numbers, found again in the `crls` table with their validity. Relying parties see a
 * CRL valid for (nextUpdate - thisUpdate) from its publication: the test checks, in workflow time, that the next
 * round always comes before the previous round's CRLs expire, and that at the end the last ones are still valid.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq, gte, inArray } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCaWithInternals } from '../../activities/ca/ca.js';
import { createCrlPublisher } from '../../activities/ca/crl.js';
import { CA_IDS, type CaId } from '../../lib/pki/ca-ids.js';

/** The CAs the worker publishes CRLs of: the issuing CAs (the roots' ARLs are the ceremony's, the roots offline). */
const ISSUING_CA_IDS = CA_IDS.filter((id) => id.endsWith('-issuing'));
import { createRevoker } from '../../activities/ca/revoke.js';
import { payloadCodecFromSecrets } from '../../config/payload-codec.js';
import type { Database, DatabaseHandle } from '../../db/client.js';
import { certificates, crls } from '../../db/schema.js';
import type { crlPublisherWorkflow } from '../../workflows/crl-publisher.js';
import { openssl, CA_URLS, testSecrets } from '../ca/support.js';
import { seedOrder } from '../orders.js';
import { startSkippingStack } from './skipping.js';

const EventType = temporal.api.enums.v1.EventType;
const DAY_MS = 86_400_000;

let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let taskQueue: string;

beforeAll(async () => {
  const stack = await startSkippingStack({ name: 'crl-skip' });
  ({ env, database, taskQueue } = stack);
  return stack.close;
});

/** One publishCrls activity as its workflow saw it: when (workflow time) and the CRLs it published. */
interface Round {
  readonly scheduledAt: number;
  readonly completedAt: number;
  readonly published: readonly { caId: string; crlNumber: number; nextUpdate: string }[];
}

describe('the CRL publisher on skipped time', () => {
  it('publishes a CRL of every CA each day for nine days, numbered upwards, with no moment left without a valid CRL', async () => {
    const realStart = new Date(Date.now() - 1_000);
    const handle = await env.client.workflow.start<typeof crlPublisherWorkflow>('crlPublisherWorkflow', {
      taskQueue,
      workflowId: `crl-publisher-${randomUUID()}`,
      args: ['1 day'],
    });
    const workflowStart = await env.currentTimeMs();
    await env.sleep('9 days');
    const workflowEnd = await env.currentTimeMs();
    expect(workflowEnd - workflowStart).toBeGreaterThanOrEqual(9 * DAY_MS);

    const history = await handle.fetchHistory();
    await handle.terminate('test over');
    const events = history.events ?? [];
    // Nothing failed or timed out on the way (a timeout on skipped time would publish extra CRLs on retry).
    const failures = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED || e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT);
    expect(failures).toEqual([]);

    const scheduledAt = new Map<number, number>();
    const rounds: Round[] = [];
    // Results are encrypted in the history: the stack's codec (same master key) reads them.
    const codec = payloadCodecFromSecrets(testSecrets());
    for (const e of events) {
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) scheduledAt.set(Number(e.eventId), tsToMs(e.eventTime));
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const attrs = e.activityTaskCompletedEventAttributes;
        const payload = attrs?.result?.payloads?.[0];
        expect(payload).toBeDefined();
        rounds.push({
          scheduledAt: scheduledAt.get(Number(attrs?.scheduledEventId)) as number,
          completedAt: tsToMs(e.eventTime),
          published: defaultPayloadConverter.fromPayload((await codec.decode([payload as never]))[0] as never),
        });
      }
    }

    // One round at the start, then one a day: ten in nine days (the tenth falls on day 9 itself).
    expect(rounds.length).toBeGreaterThanOrEqual(9);
    expect(rounds.length).toBeLessThanOrEqual(10);
    expect(rounds[0]?.scheduledAt ?? 0).toBeLessThan(workflowStart + 60_000);
    for (let i = 1; i < rounds.length; i++) {
      const gap = (rounds[i] as Round).scheduledAt - (rounds[i - 1] as Round).completedAt;
      expect(gap).toBeGreaterThanOrEqual(DAY_MS);
      expect(gap).toBeLessThan(DAY_MS + 60_000);
    }

    // Every round published a CRL of every issuing CA, stored in the `crls` table as announced.
    for (const round of rounds) expect(round.published.map((p) => p.caId).sort()).toEqual([...ISSUING_CA_IDS].sort());
    const stored = await database.db
      .select()
      .from(crls)
      .where(and(inArray(crls.caId, [...ISSUING_CA_IDS]), gte(crls.createdAt, realStart)));
    const row = (caId: string, crlNumber: number) => stored.find((r) => r.caId === caId && r.crlNumber === crlNumber);

    for (const caId of ISSUING_CA_IDS) {
      const series = rounds.map((round) => {
        const published = round.published.find((p) => p.caId === caId);
        const found = row(caId, published?.crlNumber ?? -1);
        expect(found, `${caId} CRL ${published?.crlNumber ?? '?'} in the crls table`).toBeDefined();
        expect(found?.nextUpdate.toISOString()).toBe(published?.nextUpdate);
        return { round, crl: found as (typeof stored)[number] };
      });
      // The last one is still valid on the real clock too.
      expect((series.at(-1)?.crl.nextUpdate.getTime() ?? 0) - Date.now()).toBeGreaterThan(6 * DAY_MS);
      const numbers = series.map((s) => s.crl.crlNumber);
      // Strictly increasing (other test files may publish CRLs of the same CAs in between: not necessarily consecutive).
      for (let i = 1; i < numbers.length; i++) expect(numbers[i] as number, `${caId}: ${numbers.join(', ')}`).toBeGreaterThan(numbers[i - 1] as number);

      for (let i = 0; i < series.length; i++) {
        const { round, crl } = series[i] as (typeof series)[number];
        const validity = crl.nextUpdate.getTime() - crl.thisUpdate.getTime();
        // A week (BR §4.9.7 allows at most 10 days for a subscriber CRL).
        expect(validity).toBe(7 * DAY_MS);
        // On the stored (real-clock) dates: the next CRL is dated before this one's nextUpdate. True here whatever
        // the rhythm, since the whole run takes seconds of real time (see the header).
        const next = series[i + 1];
        if (next !== undefined) expect(next.crl.thisUpdate.getTime()).toBeLessThan(crl.nextUpdate.getTime());
        // In workflow time, where the rhythm is real: this CRL, published at completedAt, is good until
        // completedAt + validity; the next round's CRL must be out before then (and the last one outlive the run).
        const validUntil = round.completedAt + validity;
        const replacedAt = next?.round.completedAt ?? workflowEnd;
        expect(replacedAt, `${caId} CRL ${crl.crlNumber}`).toBeLessThan(validUntil);
        // With a day's rhythm and a week's validity, at least six days of margin.
        expect(validUntil - replacedAt).toBeGreaterThanOrEqual(validity - DAY_MS - 60_000);
      }
    }

    // The table itself, for every CA over the run (this publisher's CRLs and any others): numbers strictly increase,
    // and each CRL is dated before the previous one's nextUpdate.
    for (const caId of ISSUING_CA_IDS) {
      const ofCa = stored.filter((r) => r.caId === caId).sort((a, b) => a.crlNumber - b.crlNumber);
      expect(ofCa.length).toBeGreaterThanOrEqual(rounds.length);
      for (let i = 1; i < ofCa.length; i++) {
        const prev = ofCa[i - 1] as (typeof ofCa)[number];
        const cur = ofCa[i] as (typeof ofCa)[number];
        expect(cur.crlNumber).toBeGreaterThan(prev.crlNumber);
        expect(cur.thisUpdate.getTime()).toBeLessThan(prev.nextUpdate.getTime());
      }
    }
  }, 120_000);
});

// ---- a scheduled publication racing a revocation ------------------------------------------------------------------

/**
 * The database, except that the `nth` SELECT awaited through it waits for `gate` (and says so through `reached`):
 * a way to stop a CRL publication between reading the revoked certificates and taking its CRL number.
 */
function gateNthSelect(db: Database, nth: number, gate: Promise<void>, reached: () => void): Database {
  let selects = 0;
  const gated = <T extends object>(builder: T): T =>
    new Proxy(builder, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'then' && typeof value === 'function') {
          return (onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) => {
            reached();
            return gate.then(() => (value as PromiseLike<unknown>['then']).call(target, onFulfilled, onRejected));
          };
        }
        if (typeof value === 'function') return (...args: unknown[]) => wrap((value as (...a: unknown[]) => unknown).apply(target, args));
        return value;
      },
    });
  const wrap = (v: unknown): unknown => (typeof v === 'object' && v !== null ? gated(v) : v);
  const gateSelects = <D extends object>(handle: D): D =>
    new Proxy(handle, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'select') {
          return (...args: unknown[]) => {
            const builder = (value as (...a: unknown[]) => object).apply(target, args);
            return ++selects === nth ? gated(builder) : builder;
          };
        }
        // The publication runs in a transaction: its selects go through the transaction's handle.
        if (prop === 'transaction') {
          return (fn: (tx: object) => Promise<unknown>, ...rest: unknown[]) =>
            (value as (f: (tx: object) => Promise<unknown>, ...r: unknown[]) => Promise<unknown>).call(target, (tx: object) => fn(gateSelects(tx)), ...rest);
        }
        return value;
      },
    });
  return gateSelects(db);
}

/** A valid certificate row of the CA (the CRL reads only its serial, state, dates and reason). */
async function validCertificate(db: Database, issuingCa: CaId): Promise<string> {
  const { orderId } = await seedOrder(db, 'crl-race');
  const serial = randomBytes(16).toString('hex').replace(/^0+/, '');
  const now = Date.now();
  await db.insert(certificates).values({
    serial,
    orderId,
    issuanceKey: `crl-race:${serial}`,
    issuingCa,
    profile: 'SERVER_SEAL',
    subject: 'CN=CRL race',
    publicKeySpki: `spki-${serial}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * DAY_MS),
    pem: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
    status: 'valid',
  });
  return serial;
}

describe('a scheduled CRL publication racing a revocation', () => {
  // A publication that read the list before a revocation and took its number after the revocation's own
  // republication would get the HIGHER number with the OLDER list, and current() would serve a CRL omitting a key
  // compromise for up to a day. A CRL numbered above another must not know less (RFC 5280 §5.2.3): publications of a
  // CA are serialised (a per-CA advisory lock around number, list and insert), which this test holds open mid-way.
  it('never gives a higher CRL number to a list read before a revocation that a lower number lists', async () => {
    const db = database.db;
    const caId: CaId = 'seals-issuing';
    const { hierarchy } = createCaWithInternals({ db, secrets: testSecrets(), ...CA_URLS });
    const loadCa = async (id: CaId) => (await hierarchy()).ca(id);
    const serial = await validCertificate(db, caId);

    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached = (): void => {};
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    // The scheduled publication stops at its second SELECT, in the middle of its publication.
    const scheduled = createCrlPublisher({ db: gateNthSelect(db, 2, gate, reached), now: () => new Date(), ca: loadCa });
    const onRevocation = createCrlPublisher({ db, now: () => new Date(), ca: loadCa });

    const stale = scheduled.publish(caId);
    await Promise.race([atGate, stale]);
    // Meanwhile the certificate is revoked and its CA republished at once (what ca.revokeCertificate does).
    await createRevoker({ db, now: () => new Date() }).revoke({ serial, reason: 'keyCompromise' });
    const fresh = onRevocation.publish(caId);
    // A fixed publisher may serialise the two (a lock): give the revocation's publication its chance, then let go.
    await Promise.race([fresh, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    release();
    const [a, b] = await Promise.all([stale, fresh]);

    const listed = async (crlNumber: number): Promise<boolean> => {
      const [row] = await db.select().from(crls).where(and(eq(crls.caId, caId), eq(crls.crlNumber, crlNumber)));
      expect(row).toBeDefined();
      const text = openssl(['crl', '-inform', 'DER', '-in', '{crl.der}', '-noout', '-text'], { 'crl.der': Buffer.from(row?.der ?? '', 'base64') });
      expect(text.status, text.stderr).toBe(0);
      return text.stdout.toUpperCase().includes(serial.toUpperCase());
    };
    const [first, second] = a.crlNumber < b.crlNumber ? [a, b] : [b, a];
    // Whichever came first, the higher-numbered CRL knows at least what the lower one knows.
    if (await listed(first.crlNumber)) expect(await listed(second.crlNumber), `CRL ${second.crlNumber} (after ${first.crlNumber}) omits the revoked ${serial}`).toBe(true);
    expect(Date.parse(second.thisUpdate)).toBeGreaterThanOrEqual(Date.parse(first.thisUpdate));
    // And the CRL served now lists it.
    const current = await onRevocation.current(caId);
    expect(current.crlNumber).toBeGreaterThanOrEqual(second.crlNumber);
    expect(await listed(current.crlNumber)).toBe(true);
  });
});
