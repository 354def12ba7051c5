/**
 * Revocation and hold against the run's Postgres: certificates issued through the CA, then revoked, held, released;
 * retries and races answer with the first revocation; what a product may not do is refused without touching the row.
 */
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createCaWithInternals } from '../../activities/ca/ca.js';
import type { IssueRequest } from '../../activities/ca/issue.js';
import { createRevoker } from '../../activities/ca/revoke.js';
import { randomSerial } from '../../activities/ca/serial.js';
import { openPostgres, type Database, type DatabaseHandle } from '../../db/client.js';
import { certificates } from '../../db/schema.js';
import { insertOrder, oneYearRequest, CA_URLS, testSecrets } from './support.js';

let handle: DatabaseHandle;
let db: Database;
let internals: ReturnType<typeof createCaWithInternals>;

beforeAll(() => {
  handle = openPostgres(inject('databaseUrl'), 4);
  db = handle.db;
  internals = createCaWithInternals({ db, secrets: testSecrets(), ...CA_URLS });
});
afterAll(async () => {
  await handle?.close();
});

const T0 = new Date('2030-01-15T10:00:00.250Z');
const at = (ms: number) => () => new Date(T0.getTime() + ms);

async function issue(product: IssueRequest['product'] = 'ID_RGS_STAR'): Promise<string> {
  const cert = await internals.ca.issueCertificate(await oneYearRequest(db, product, { givenName: 'Camille', surname: 'Durand', email: 'camille.durand@example.test' }));
  return cert.serial;
}

/** A row as issuance leaves it, for the states and products issuance here cannot give (a TLS row, a bare reservation). */
async function insertRow(values: { profile: string; issuingCa: string; status: 'reserved' | 'valid' }): Promise<string> {
  const serial = randomSerial();
  const now = new Date();
  await db.insert(certificates).values({
    serial,
    orderId: await insertOrder(db),
    issuanceKey: `test-${randomBytes(8).toString('hex')}`,
    issuingCa: values.issuingCa,
    profile: values.profile,
    subject: 'CN=www.example.test',
    publicKeySpki: randomBytes(32).toString('base64'),
    notBefore: now,
    notAfter: new Date(now.getTime() + 90 * 86_400_000),
    pem: values.status === 'valid' ? '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n' : null,
    status: values.status,
  });
  return serial;
}

const rowOf = async (serial: string) => (await db.select().from(certificates).where(eq(certificates.serial, serial)))[0];

describe('revoke', () => {
  it('revokes for good once: a retry, another reason or a hold later get the first revocation back', async () => {
    const serial = await issue();
    const first = await createRevoker({ db, now: at(0) }).revoke({ serial, reason: 'keyCompromise' });
    expect(first).toEqual({ serial, status: 'revoked', revokedAt: T0.toISOString(), reason: 'keyCompromise', issuingCa: 'persons-issuing' });
    expect(await rowOf(serial)).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise', revokedAt: T0 });

    // An hour later, on another worker: the retry, a different reason, a hold — all answer the first revocation.
    const later = createRevoker({ db, now: at(3_600_000) });
    expect(await later.revoke({ serial, reason: 'keyCompromise' })).toEqual(first);
    expect(await later.revoke({ serial, reason: 'superseded' })).toEqual(first);
    expect(await later.revoke({ serial, reason: 'certificateHold' })).toEqual(first);
    expect(await rowOf(serial)).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise', revokedAt: T0 });
  });

  it('lets eight concurrent revocations with different reasons settle on one', async () => {
    const serial = await issue('ENCRYPTION');
    const reasons = ['superseded', 'keyCompromise', 'affiliationChanged', 'cessationOfOperation', 'privilegeWithdrawn', 'unspecified', 'superseded', 'keyCompromise'];
    const results = await Promise.all(reasons.map((reason, i) => createRevoker({ db, now: at(i * 1000) }).revoke({ serial, reason })));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    const row = await rowOf(serial);
    expect(row).toMatchObject({ status: 'revoked', revocationReason: results[0]?.reason });
    expect(row?.revokedAt?.toISOString()).toBe(results[0]?.revokedAt);
  });
});

describe('hold', () => {
  it('puts a person certificate on hold, releases it, holds it again, then revokes it for good', async () => {
    const serial = await issue('ID_RGS_2STAR');
    const held = await createRevoker({ db, now: at(0) }).revoke({ serial, reason: 'certificateHold' });
    expect(held).toEqual({ serial, status: 'held', revokedAt: T0.toISOString(), reason: 'certificateHold', issuingCa: 'persons-issuing' });
    // Holding again is a retry: the first hold's time stands.
    expect(await createRevoker({ db, now: at(60_000) }).revoke({ serial, reason: 'certificateHold' })).toEqual(held);

    const revoker = createRevoker({ db, now: at(120_000) });
    expect(await revoker.releaseHold({ serial })).toEqual({ serial, status: 'valid', issuingCa: 'persons-issuing' });
    expect(await rowOf(serial)).toMatchObject({ status: 'valid', revokedAt: null, revocationReason: null });
    // A retried release finds it valid and says so.
    expect(await revoker.releaseHold({ serial })).toEqual({ serial, status: 'valid', issuingCa: 'persons-issuing' });

    expect(await revoker.revoke({ serial, reason: 'certificateHold' })).toMatchObject({ status: 'held', revokedAt: new Date(T0.getTime() + 120_000).toISOString() });
    const final = await createRevoker({ db, now: at(180_000) }).revoke({ serial, reason: 'keyCompromise' });
    expect(final).toEqual({ serial, status: 'revoked', revokedAt: new Date(T0.getTime() + 180_000).toISOString(), reason: 'keyCompromise', issuingCa: 'persons-issuing' });
    expect(await rowOf(serial)).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });

    // Final means final: no release, no new hold.
    await expect(revoker.releaseHold({ serial })).rejects.toMatchObject({ type: 'CaCertificateNotHeld', nonRetryable: true });
    expect(await revoker.revoke({ serial, reason: 'certificateHold' })).toEqual(final);
  });

  it('refuses certificateHold on a TLS certificate and leaves it valid; other reasons revoke it', async () => {
    const serial = await insertRow({ profile: 'SSL', issuingCa: 'tls-issuing', status: 'valid' });
    const revoker = createRevoker({ db, now: at(0) });
    await expect(revoker.revoke({ serial, reason: 'certificateHold' })).rejects.toMatchObject({ type: 'CaBadRevocationReason', nonRetryable: true });
    expect(await rowOf(serial)).toMatchObject({ status: 'valid', revokedAt: null, revocationReason: null });
    expect(await revoker.revoke({ serial, reason: 'superseded' })).toMatchObject({ status: 'revoked', reason: 'superseded', issuingCa: 'tls-issuing' });
  });
});

describe('refusals', () => {
  it('refuses reasons that are not a subscriber’s, and unknown serials', async () => {
    const serial = await issue();
    const revoker = createRevoker({ db, now: at(0) });
    for (const reason of ['bored', 'cACompromise', 'aACompromise', 'removeFromCRL', '', 'KEYCOMPROMISE']) {
      await expect(revoker.revoke({ serial, reason })).rejects.toMatchObject({ type: 'CaBadRevocationReason', nonRetryable: true });
    }
    expect(await rowOf(serial)).toMatchObject({ status: 'valid', revokedAt: null });
    await expect(revoker.revoke({ serial: '7f'.repeat(16), reason: 'unspecified' })).rejects.toMatchObject({ type: 'CaCertificateNotFound', nonRetryable: true });
    await expect(revoker.releaseHold({ serial: '7f'.repeat(16) })).rejects.toMatchObject({ type: 'CaCertificateNotFound' });
  });

  it('refuses to revoke or release a serial only reserved, never signed', async () => {
    const serial = await insertRow({ profile: 'ID_RGS_STAR', issuingCa: 'persons-issuing', status: 'reserved' });
    const revoker = createRevoker({ db, now: at(0) });
    await expect(revoker.revoke({ serial, reason: 'keyCompromise' })).rejects.toMatchObject({ type: 'CaCertificateNotIssued', nonRetryable: true });
    await expect(revoker.releaseHold({ serial })).rejects.toMatchObject({ type: 'CaCertificateNotIssued' });
    expect(await rowOf(serial)).toMatchObject({ status: 'reserved', revokedAt: null });
  });
});
