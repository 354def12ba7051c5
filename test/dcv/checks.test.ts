/**
 * The checks against real servers on 127.0.0.1: a UDP DNS server holding the applicant's zone and web sites serving
 * /.well-known/pki-validation/. The test names end in .dcv.test, which no system resolver knows: a check that
 * validates went through the configured DNS server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_REDIRECTS,
  checkChallenge,
  createChallenges,
  createDcvActivities,
  type DcvChallenge,
  type DcvMethod,
  type DcvResult,
  type DcvSettings,
} from '../../activities/dcv/index.js';
import { startFakeDns, type FakeDns } from '../fakes/dns.js';
import { startSite, type FakeSite } from './web-server.js';

let dns: FakeDns;
let site: FakeSite;
let settings: DcvSettings;
let serial = 0;

/** A fresh name per test, so tests sharing the zone never see each other's records. */
const freshName = (label = 'www'): string => `${label}.t${++serial}.dcv.test`;

function challenge(domain: string, method: DcvMethod, now = new Date()): DcvChallenge {
  const [c] = createChallenges([domain], { method, now });
  if (c === undefined) throw new Error('no challenge');
  return c;
}

/** A challenge whose file the site serves with `body`, the name pointing at 127.0.0.1. */
function publishedFile(body: (token: string) => string, domain = freshName()): DcvChallenge {
  const c = challenge(domain, 'http');
  dns.set(c.authorizationDomain, 'A', '127.0.0.1');
  site.files.set(c.http?.path ?? '', body(c.token));
  return c;
}

function failed(result: DcvResult): string {
  expect(result.validated, JSON.stringify(result)).toBe(false);
  return result.validated ? '' : result.reason;
}

function validated(result: DcvResult): string {
  expect(result.validated, JSON.stringify(result)).toBe(true);
  return result.validated ? result.evidence : '';
}

beforeAll(async () => {
  dns = await startFakeDns();
  site = await startSite();
  settings = { dnsServers: [dns.server], httpPort: site.port, timeoutMs: 3000 };
});

afterAll(async () => {
  await site.close();
  await dns.close();
});

describe('HTTP check (BR 3.2.2.4.18)', () => {
  it('validates the token in the file, fetched from the resolved address with the Host header', async () => {
    const c = publishedFile((token) => `${token}\n`);
    const now = new Date();
    const result = await checkChallenge(c, settings, now);
    const evidence = validated(result);
    expect(result).toMatchObject({ method: 'http', checkedAt: now.toISOString() });
    expect(evidence).toContain(`http://${c.authorizationDomain}:${site.port}${c.http?.path}`);
    expect(evidence).toContain('127.0.0.1');
    expect(site.requests.at(-1)).toEqual({ host: `${c.authorizationDomain}:${site.port}`, path: c.http?.path });
    expect(dns.queries).toContainEqual({ name: c.authorizationDomain, type: 'A' });
  });

  it('refuses a file without the token, saying what it saw', async () => {
    const c = publishedFile(() => 'hello from the default vhost');
    const reason = failed(await checkChallenge(c, settings, new Date()));
    expect(reason).toMatch(/^wrong content: .*HTTP 200.*without the token/);
    expect(reason).toContain('hello from the default vhost');
  });

  it('refuses a missing file (404)', async () => {
    const c = challenge(freshName(), 'http');
    dns.set(c.authorizationDomain, 'A', '127.0.0.1');
    const reason = failed(await checkChallenge(c, settings, new Date()));
    expect(reason).toMatch(/^no such file: .*HTTP 404/);
    expect(reason).toContain(c.http?.path);
  });

  it('reports a name that does not exist as NXDOMAIN', async () => {
    const c = challenge(freshName(), 'http');
    expect(failed(await checkChallenge(c, settings, new Date()))).toMatch(new RegExp(`^NXDOMAIN: ${c.authorizationDomain.replace(/\./g, '\\.')} does not exist`));
  });

  it('follows a redirect on the authorized port, and says so in the evidence', async () => {
    const c = challenge(freshName(), 'http');
    dns.set(c.authorizationDomain, 'A', '127.0.0.1');
    const moved = `/.well-known/pki-validation/moved-${serial}.txt`;
    site.redirects.set(c.http?.path ?? '', [301, moved]); // relative, as many servers send it
    site.files.set(moved, c.token);
    const evidence = validated(await checkChallenge(c, settings, new Date()));
    expect(evidence).toBe(
      `HTTP 200 from http://${c.authorizationDomain}:${site.port}${moved} (127.0.0.1) contains the token` +
        ` after redirects from http://${c.authorizationDomain}:${site.port}${c.http?.path}`,
    );
  });

  it('refuses a redirect to another port, without fetching it', async () => {
    const other = await startSite();
    try {
      const c = challenge(freshName(), 'http');
      dns.set(c.authorizationDomain, 'A', '127.0.0.1');
      const elsewhere = `http://${c.authorizationDomain}:${other.port}${c.http?.path}`;
      other.files.set(c.http?.path ?? '', c.token);
      site.redirects.set(c.http?.path ?? '', [302, elsewhere]);
      const reason = failed(await checkChallenge(c, settings, new Date()));
      expect(reason).toContain(`to ${elsewhere} refused: port ${other.port} is not authorized (http only on port ${site.port})`);
      expect(other.requests).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('refuses a redirect to another scheme, out of /.well-known/pki-validation/, or by a 303', async () => {
    const c = challenge(freshName(), 'http');
    dns.set(c.authorizationDomain, 'A', '127.0.0.1');
    site.redirects.set(c.http?.path ?? '', [302, 'ftp://files.example.com/token.txt']);
    expect(failed(await checkChallenge(c, settings, new Date()))).toMatch(/refused: only http and https are allowed/);
    site.redirects.set(c.http?.path ?? '', [302, `/index.html`]);
    expect(failed(await checkChallenge(c, settings, new Date()))).toMatch(/refused: the file must stay under \/\.well-known\/pki-validation\//);
    site.redirects.set(c.http?.path ?? '', [303, `/.well-known/pki-validation/elsewhere.txt`]);
    expect(failed(await checkChallenge(c, settings, new Date()))).toMatch(/HTTP 303 .*a redirect BR 3\.2\.2\.4\.18 does not allow/);
  });

  it(`stops after ${MAX_REDIRECTS} redirects`, async () => {
    const c = challenge(freshName(), 'http');
    dns.set(c.authorizationDomain, 'A', '127.0.0.1');
    site.redirects.set(c.http?.path ?? '', [307, c.http?.path ?? '']); // a loop
    expect(failed(await checkChallenge(c, settings, new Date()))).toMatch(/^too many redirects/);
    expect(site.requests.filter((r) => r.path === c.http?.path)).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('follows a redirect to https on the authorized https port, whatever the certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcv-tls-'));
    let secure: FakeSite | undefined;
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', '/CN=self-signed.invalid', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      secure = await startSite({ key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') });
      const c = challenge(freshName(), 'http');
      dns.set(c.authorizationDomain, 'A', '127.0.0.1');
      secure.files.set(c.http?.path ?? '', c.token);
      const httpsUrl = `https://${c.authorizationDomain}:${secure.port}${c.http?.path}`;
      site.redirects.set(c.http?.path ?? '', [308, httpsUrl]);
      const evidence = validated(await checkChallenge(c, { ...settings, httpsPort: secure.port }, new Date()));
      expect(evidence).toContain(`HTTP 200 from ${httpsUrl}`);
      expect(secure.requests).toEqual([{ host: `${c.authorizationDomain}:${secure.port}`, path: c.http?.path }]);
      // …and not on any other https port.
      expect(failed(await checkChallenge(c, settings, new Date()))).toContain(`port ${secure.port} is not authorized (https only on port 443)`);
    } finally {
      await secure?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never validates an expired challenge, and does not even look', async () => {
    const created = new Date(Date.now() - 31 * 86_400_000);
    const c = challenge(freshName(), 'http', created);
    dns.set(c.authorizationDomain, 'A', '127.0.0.1');
    site.files.set(c.http?.path ?? '', c.token);
    const before = site.requests.length;
    expect(failed(await checkChallenge(c, settings, new Date()))).toBe(`challenge expired at ${c.expiresAt}: ask for a new one`);
    expect(site.requests.length).toBe(before);
    // The same file, a moment before expiry, validates: the refusal is the date's.
    validated(await checkChallenge(c, settings, new Date(Date.parse(c.expiresAt) - 1000)));
  });

  it('reports a site that never answers as a timeout, within the timeout', async () => {
    const silent = await startSite();
    silent.hang = true;
    try {
      const c = challenge(freshName(), 'http');
      dns.set(c.authorizationDomain, 'A', '127.0.0.1');
      const started = Date.now();
      const reason = failed(await checkChallenge(c, { ...settings, httpPort: silent.port, timeoutMs: 800 }, new Date()));
      const elapsed = Date.now() - started;
      expect(reason).toMatch(/^timeout: no complete answer from http:\/\/.* within 800 ms$/);
      expect(elapsed).toBeGreaterThanOrEqual(750);
      expect(elapsed).toBeLessThan(800 + 400);
      expect(silent.requests).toHaveLength(1);
    } finally {
      await silent.close();
    }
  });

  it('refuses to check a wildcard by HTTP', async () => {
    const c = { ...challenge(freshName(), 'http'), domain: '*.shop.dcv.test', authorizationDomain: 'shop.dcv.test' };
    expect(failed(await checkChallenge(c, settings, new Date()))).toMatch(/wildcard: only a DNS challenge can validate it/);
  });
});

describe('DNS check (BR 3.2.2.4.7)', () => {
  it('validates the token among the TXT values of the record name', async () => {
    const c = challenge(freshName(), 'dns');
    dns.set(c.dns?.recordName ?? '', 'TXT', 'v=spf1 -all', c.token);
    const evidence = validated(await checkChallenge(c, settings, new Date()));
    expect(evidence).toContain(`TXT ${c.dns?.recordName} holds the token`);
    expect(evidence).toContain(dns.server);
    expect(dns.queries).toContainEqual({ name: c.dns?.recordName, type: 'TXT' });
  });

  it('refuses a wrong value, quoting what it saw', async () => {
    const c = challenge(freshName(), 'dns');
    dns.set(c.dns?.recordName ?? '', 'TXT', `"${c.token}"`);
    const reason = failed(await checkChallenge(c, settings, new Date()));
    expect(reason).toMatch(/^wrong TXT value: .* has 1 TXT value\(s\), none equal to the token/);
    expect(reason).toContain(JSON.stringify(`"${c.token}"`));
  });

  it('reports NXDOMAIN when the record name does not exist', async () => {
    const c = challenge(freshName(), 'dns');
    expect(failed(await checkChallenge(c, settings, new Date()))).toMatch(/^NXDOMAIN: _certflow-challenge\..* does not exist/);
  });

  it('reports a missing TXT record when the name exists without one', async () => {
    const c = challenge(freshName(), 'dns');
    dns.set(c.dns?.recordName ?? '', 'A', '127.0.0.1');
    expect(failed(await checkChallenge(c, settings, new Date()))).toMatch(/^TXT missing: .* has no TXT record/);
  });

  it('validates a wildcard against its base domain', async () => {
    const base = freshName('shop');
    const c = challenge(`*.${base}`, 'dns');
    expect(c.authorizationDomain).toBe(base);
    dns.set(`_certflow-challenge.${base}`, 'TXT', c.token);
    const result = await checkChallenge(c, settings, new Date());
    expect(validated(result)).toContain(`_certflow-challenge.${base}`);
    expect(result.method).toBe('dns');
  });

  it('reads a long TXT value split in several strings as one', async () => {
    const c = challenge(freshName(), 'dns');
    // 300 octets: sent as a 255-octet string and a 45-octet one.
    const long = `${c.token}${'x'.repeat(300 - c.token.length)}`;
    dns.set(c.dns?.recordName ?? '', 'TXT', long);
    expect(failed(await checkChallenge(c, settings, new Date()))).toContain('none equal to the token');
    dns.set(c.dns?.recordName ?? '', 'TXT', long, c.token);
    validated(await checkChallenge(c, settings, new Date()));
  });

  it('never validates an expired challenge', async () => {
    const c = challenge(freshName(), 'dns', new Date(Date.now() - 30 * 86_400_000 - 1));
    dns.set(c.dns?.recordName ?? '', 'TXT', c.token);
    expect(failed(await checkChallenge(c, settings, new Date()))).toMatch(/^challenge expired at/);
  });

  it('reports a DNS server that never answers as a timeout, within the timeout', async () => {
    const dead = await startFakeDns();
    dead.answering = false;
    try {
      const c = challenge(freshName(), 'dns');
      const started = Date.now();
      const reason = failed(await checkChallenge(c, { ...settings, dnsServers: [dead.server], timeoutMs: 700 }, new Date()));
      const elapsed = Date.now() - started;
      expect(reason).toBe(`timeout: no DNS answer for TXT ${c.dns?.recordName} from DNS server ${dead.server} within 700 ms`);
      expect(elapsed).toBeLessThan(700 + 400);
      expect(dead.queries.length).toBeGreaterThan(0);
    } finally {
      await dead.close();
    }
  });
});

describe('checkDomainChallenges activity', () => {
  it('answers one result per SAN, validated or with its reason', async () => {
    const good = challenge(freshName(), 'dns');
    const bad = challenge(freshName(), 'dns');
    dns.set(good.dns?.recordName ?? '', 'TXT', good.token);
    const results = await createDcvActivities(settings).checkDomainChallenges({ challenges: [good, bad] });
    expect(results.map((r) => [r.domain, r.result.validated])).toEqual([
      [good.domain, true],
      [bad.domain, false],
    ]);
    expect(results[1]?.result).toMatchObject({ method: 'dns', reason: expect.stringMatching(/^NXDOMAIN/) as unknown });
  });
});
