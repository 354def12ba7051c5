/**
 * CAA (RFC 8659, BR §3.2.2.8) against a real DNS server on 127.0.0.1 holding the applicant's zone: the relevant
 * RRset found by climbing the tree, issue and issuewild, the issuer-critical flag, the CA's identifiers, CNAMEs, and
 * a lookup failure that is never taken for a permission. Names end in .caa.test, which no system resolver knows.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAA_FORBIDS, checkCaaNames, createCaaActivities, decideCaa, issuerOf, type CaaSettings } from '../../activities/dcv/caa.js';
import { auditLog, orderEvents } from '../../db/schema.js';
import type { CaaCheck, CaaNameCheck } from '../../domain/order.js';
import { startFakeDns, type FakeDns } from '../fakes/dns.js';
import { runDatabase } from '../run-database.js';

let dns: FakeDns;
let settings: CaaSettings;
let serial = 0;
const OURS = 'pki.certflow.example';

/** A fresh zone per test: `<label>.z<n>.caa.test`, so tests sharing the server never see each other's records. */
const freshZone = (): string => `z${++serial}.caa.test`;

const check = async (...names: string[]): Promise<CaaCheck> => checkCaaNames(names, settings, new Date());
const one = async (name: string): Promise<CaaNameCheck> => (await check(name)).names[0] as CaaNameCheck;

beforeAll(async () => {
  dns = await startFakeDns();
  settings = { dnsServers: [dns.server], timeoutMs: 2000, identifiers: [OURS, 'certflow.example'] };
});
afterAll(async () => {
  await dns?.close();
});

describe('the relevant RRset', () => {
  it('permits any CA when neither the name nor a parent has CAA records', async () => {
    const zone = freshZone();
    dns.set(`www.${zone}`, 'A', '192.0.2.1');
    const result = await one(`www.${zone}`);
    expect(result).toMatchObject({ permitted: true, relevantDomain: null, records: [] });
    // Climbed to the top: www.zone, zone, caa.test, test.
    const asked = dns.queries.filter((q) => q.type === 'CAA').map((q) => q.name.toLowerCase());
    expect(asked).toEqual(expect.arrayContaining([`www.${zone}`, zone, 'caa.test', 'test']));
  });

  it('climbs to the parent that has a CAA RRset, and stops at the first one found', async () => {
    const zone = freshZone();
    dns.set(zone, 'CAA', '0 issue "other-ca.example"');
    dns.set('caa.test', 'CAA', `0 issue "${OURS}"`);
    const result = await one(`a.b.${zone}`);
    expect(result.permitted).toBe(false);
    expect(result.relevantDomain).toBe(zone);
    expect(result.records).toEqual(['0 issue "other-ca.example"']);
    expect(result.reason).toContain(`add 0 issue "${OURS}"`);
    dns.set('caa.test', 'CAA');
  });

  it('uses the name\'s own RRset before its parent\'s', async () => {
    const zone = freshZone();
    dns.set(zone, 'CAA', '0 issue "other-ca.example"');
    dns.set(`shop.${zone}`, 'CAA', `0 issue "${OURS}"`);
    expect(await one(`shop.${zone}`)).toMatchObject({ permitted: true, relevantDomain: `shop.${zone}` });
    expect(await one(`blog.${zone}`)).toMatchObject({ permitted: false, relevantDomain: zone });
  });

  it('follows a CNAME to its target\'s CAA, and climbs the alias\'s own parents when the target has none', async () => {
    const zone = freshZone();
    dns.set(`target.${zone}`, 'CAA', '0 issue "other-ca.example"');
    dns.set(`www.${zone}`, 'CNAME', `target.${zone}`);
    expect(await one(`www.${zone}`)).toMatchObject({ permitted: false, relevantDomain: `www.${zone}`, records: ['0 issue "other-ca.example"'] });
    // The alias points at a name without CAA: the climb goes on from the alias's parent (RFC 8659 §3), not the target's.
    dns.set(`cdn.${zone}`, 'CNAME', `edge.provider-${serial}.caa.test`);
    dns.set(`edge.provider-${serial}.caa.test`, 'A', '192.0.2.7');
    dns.set(`provider-${serial}.caa.test`, 'CAA', '0 issue "other-ca.example"');
    dns.set(zone, 'CAA', `0 issue "${OURS}"`);
    expect(await one(`cdn.${zone}`)).toMatchObject({ permitted: true, relevantDomain: zone });
  });
});

describe('issue, issuewild and critical tags', () => {
  it('authorises this CA when an issue record names one of its identifiers, parameters tolerated, case ignored', async () => {
    const zone = freshZone();
    dns.set(zone, 'CAA', '0 issue "other-ca.example"', `0 issue "PKI.CertFlow.Example; accounturi=https://x/acct/1; validationmethods=dns-01"`, '0 iodef "mailto:sec@example.org"');
    const result = await one(`www.${zone}`);
    expect(result.permitted, result.reason).toBe(true);
    expect(result.reason).toContain('authorises this CA');
  });

  it('forbids when the issue records name other CAs only, or no CA (";")', async () => {
    const zone = freshZone();
    dns.set(`a.${zone}`, 'CAA', '0 issue "letsencrypt.org"', '0 issue "sectigo.com"');
    const other = await one(`a.${zone}`);
    expect(other.permitted).toBe(false);
    expect(other.reason).toContain('only letsencrypt.org, sectigo.com');
    dns.set(`b.${zone}`, 'CAA', '0 issue ";"');
    const none = await one(`b.${zone}`);
    expect(none.permitted).toBe(false);
    expect(none.reason).toContain('no CA at all');
  });

  it('permits when the RRset has no issue record (only iodef)', async () => {
    const zone = freshZone();
    dns.set(zone, 'CAA', '0 iodef "mailto:sec@example.org"');
    expect(await one(zone)).toMatchObject({ permitted: true, relevantDomain: zone });
  });

  it('for a wildcard, lets issuewild replace issue, and falls back to issue without it', async () => {
    const zone = freshZone();
    dns.set(zone, 'CAA', `0 issue "${OURS}"`, '0 issuewild "other-ca.example"');
    const wild = await one(`*.${zone}`);
    expect(wild.permitted).toBe(false);
    expect(wild.reason).toContain('issuewild');
    // The same RRset lets us issue for the plain name: issuewild does not govern it.
    expect(await one(zone)).toMatchObject({ permitted: true });
    const other = freshZone();
    dns.set(other, 'CAA', `0 issue "${OURS}"`);
    expect(await one(`*.${other}`)).toMatchObject({ permitted: true, relevantDomain: other });
    dns.set(other, 'CAA', '0 issue "other-ca.example"', `0 issuewild "${OURS}"`);
    expect(await one(`*.${other}`)).toMatchObject({ permitted: true });
    expect(await one(other)).toMatchObject({ permitted: false });
  });

  it('forbids on an unknown tag with the issuer-critical flag, and ignores one without it', async () => {
    const zone = freshZone();
    dns.set(`a.${zone}`, 'CAA', `0 issue "${OURS}"`, '128 tbs "unknown"');
    const critical = await one(`a.${zone}`);
    expect(critical.permitted).toBe(false);
    expect(critical.reason).toContain('critical property "tbs"');
    dns.set(`b.${zone}`, 'CAA', `0 issue "${OURS}"`, '0 tbs "unknown"');
    expect(await one(`b.${zone}`)).toMatchObject({ permitted: true });
    // A known tag may be critical.
    dns.set(`c.${zone}`, 'CAA', `128 issue "${OURS}"`, '128 iodef "mailto:sec@example.org"');
    expect(await one(`c.${zone}`)).toMatchObject({ permitted: true });
  });

  it('reads issuer values as RFC 8659 §4.2 writes them', () => {
    expect(issuerOf('ca.example')).toBe('ca.example');
    expect(issuerOf('  CA.Example ; account=1')).toBe('ca.example');
    expect(issuerOf(';')).toBeNull();
    expect(issuerOf('')).toBeNull();
    expect(issuerOf('ca example')).toBeUndefined();
    // A malformed value authorises nobody, even when it looks like ours.
    expect(decideCaa('x.example', { domain: 'x.example', records: [{ flags: 0, tag: 'issue', value: `${OURS}!` }] }, [OURS]).permitted).toBe(false);
  });
});

describe('several names, and lookup failures', () => {
  it('permits only when every name does', async () => {
    const zone = freshZone();
    dns.set(`ok.${zone}`, 'CAA', `0 issue "${OURS}"`);
    dns.set(`no.${zone}`, 'CAA', '0 issue "other-ca.example"');
    const result = await check(`ok.${zone}`, `no.${zone}`);
    expect(result.permitted).toBe(false);
    expect(result.names.map((n) => [n.name, n.permitted])).toEqual([
      [`ok.${zone}`, true],
      [`no.${zone}`, false],
    ]);
    expect(result.identifiers).toEqual([OURS, 'certflow.example']);
  });

  it('throws on SERVFAIL or silence rather than taking it for a permission', async () => {
    const zone = freshZone();
    dns.servfail.add(zone);
    await expect(check(`www.${zone}`)).rejects.toThrow(/CAA lookup failed, not taken as permission.*SERVFAIL/);
    dns.servfail.delete(zone);
    dns.answering = false;
    try {
      await expect(checkCaaNames([`www.${zone}`], { ...settings, timeoutMs: 600 }, new Date())).rejects.toThrow(/CAA lookup failed.*timeout/);
    } finally {
      dns.answering = true;
    }
  });
});

describe('the activity', () => {
  const handle = runDatabase(2);

  it('records each decision once in the order\'s audit trail, and a retried key answers the recorded one', async () => {
    const zone = freshZone();
    dns.set(zone, 'CAA', '0 issue "other-ca.example"');
    const orderId = randomUUID();
    const activities = createCaaActivities(handle.db, settings);
    const req = { checkKey: `order-${orderId}:caa:1`, orderId, names: [`www.${zone}`] };
    const refused = await activities.checkCaa(req);
    expect(refused.permitted).toBe(false);
    // The record changes; the same key (a retry) still answers the decision made and recorded.
    dns.set(zone, 'CAA', `0 issue "${OURS}"`);
    expect((await activities.checkCaa(req)).permitted).toBe(false);
    const permitted = await activities.checkCaa({ ...req, checkKey: `order-${orderId}:caa:2` });
    expect(permitted.permitted).toBe(true);

    const events = await handle.db.select().from(orderEvents).where(eq(orderEvents.orderId, orderId));
    expect(events.map((e) => [e.action, e.outcome, e.actorRole, e.detail.code ?? null]).sort()).toEqual([
      ['caa_check', 'accepted', 'system', null],
      ['caa_check', 'refused', 'system', CAA_FORBIDS],
    ]);
    const refusedRow = events.find((e) => e.outcome === 'refused');
    expect((refusedRow?.detail.check as CaaCheck).names[0]).toMatchObject({ relevantDomain: zone, records: ['0 issue "other-ca.example"'], permitted: false });
    const audit = await handle.db.select().from(auditLog).where(eq(auditLog.orderId, orderId));
    expect(audit.map((a) => [a.kind, a.action]).sort()).toEqual([
      ['decision', 'caa_check'],
      ['refused', 'caa_check'],
    ]);
  });
});
