import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import {
  CHALLENGE_VALIDITY_DAYS,
  DCV_FAILURE,
  createChallenges,
  createDcvActivities,
  dcvSettings,
  type DcvChallenge,
} from '../../activities/dcv/index.js';

const now = new Date('2026-05-04T10:00:00.000Z');

/** The failure createChallenges threw, for its type and message. */
function refusal(run: () => unknown): ApplicationFailure {
  try {
    run();
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('DCV challenges', () => {
  it('give every SAN a random token of 256 bits, base64url, never repeated', () => {
    const domains = Array.from({ length: 2000 }, (_, i) => `host${i}.example.com`);
    const tokens = createChallenges(domains, { method: 'dns', now }).map((c) => c.token);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32); // ≥ 112 bits asked by the BR
    }
    // Each of the 256 bits is set in about half the tokens: a counter, a clock or a short seed would not be.
    const bytes = tokens.map((t) => Buffer.from(t, 'base64url'));
    for (let bit = 0; bit < 256; bit++) {
      const ones = bytes.filter((b) => ((b[bit >> 3] ?? 0) >> (bit & 7)) & 1).length;
      expect(ones / bytes.length, `bit ${bit}`).toBeGreaterThan(0.43);
      expect(ones / bytes.length, `bit ${bit}`).toBeLessThan(0.57);
    }
    // A second request for the same names gets new values (unique to the certificate request).
    const again = createChallenges(domains.slice(0, 50), { method: 'dns', now }).map((c) => c.token);
    expect(again.filter((t) => tokens.includes(t))).toEqual([]);
  });

  it('usable 30 days from creation', () => {
    const [c] = createChallenges(['www.example.com'], { method: 'http', now });
    expect(c?.createdAt).toBe('2026-05-04T10:00:00.000Z');
    expect(c?.expiresAt).toBe('2026-06-03T10:00:00.000Z');
    expect(CHALLENGE_VALIDITY_DAYS).toBe(30);
  });

  it('by HTTP: a file under /.well-known/pki-validation/ whose name does not reveal the token', () => {
    const [c] = createChallenges(['www.example.com'], { method: 'http', now }) as [DcvChallenge];
    expect(c).toMatchObject({ domain: 'www.example.com', authorizationDomain: 'www.example.com', method: 'http' });
    expect(c.dns).toBeUndefined();
    expect(c.http?.path).toMatch(/^\/\.well-known\/pki-validation\/certflow-[0-9a-f]{32}\.txt$/);
    expect(c.http?.url).toBe(`http://www.example.com${c.http?.path}`);
    expect(c.http?.content).toBe(c.token);
    expect(c.http?.url).not.toContain(c.token);
  });

  it('by DNS: a TXT record under an underscore label of the authorization domain', () => {
    const [c] = createChallenges(['shop.example.com'], { method: 'dns', now }) as [DcvChallenge];
    expect(c.http).toBeUndefined();
    expect(c.dns).toEqual({ recordName: '_certflow-challenge.shop.example.com', recordType: 'TXT', value: c.token });
  });

  it('validates a wildcard on its base domain, by DNS, sharing the base name record', () => {
    const [wild, base] = createChallenges(['*.example.com', 'example.com'], { method: 'dns', now }) as [DcvChallenge, DcvChallenge];
    expect(wild).toMatchObject({ domain: '*.example.com', authorizationDomain: 'example.com' });
    expect(wild.dns?.recordName).toBe('_certflow-challenge.example.com');
    expect(base.dns?.recordName).toBe('_certflow-challenge.example.com');
    expect(base.token).toBe(wild.token); // one TXT value to publish for both
  });

  it('refuses a wildcard by HTTP, naming it', () => {
    const failure = refusal(() => createChallenges(['www.example.com', '*.example.com'], { method: 'http', now }));
    expect(failure.type).toBe(DCV_FAILURE.wildcardByHttp);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/wildcard.*only be validated by DNS.*\*\.example\.com/);
  });

  it('refuses what is not a lower-case DNS name', () => {
    for (const bad of ['Example.com', 'example.com.', 'localhost', 'a..example.com', 'www.example.com/x', 'w*.example.com', '-a.example.com']) {
      expect(refusal(() => createChallenges([bad], { method: 'dns', now })).type, bad).toBe(DCV_FAILURE.invalidDomain);
    }
  });

  it('as activities: one challenge per distinct SAN; the wildcard-by-HTTP refusal is non-retryable', async () => {
    const activities = createDcvActivities({ dnsServers: [], httpPort: 80, timeoutMs: 1000 });
    const made = await activities.createDomainChallenges({ domains: ['a.example.com', 'b.example.com', 'a.example.com'], method: 'http' });
    expect(made.map((c) => c.domain)).toEqual(['a.example.com', 'b.example.com']);
    const refused = await activities.createDomainChallenges({ domains: ['*.example.com'], method: 'http' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect((refused as ApplicationFailure).type).toBe(DCV_FAILURE.wildcardByHttp);
    expect((refused as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('reads its settings from the configuration', () => {
    expect(dcvSettings(loadConfig({}))).toEqual({ dnsServers: [], httpPort: 80, httpsPort: 443, timeoutMs: 10_000 });
    const c = loadConfig({ DCV_DNS_SERVERS: '9.9.9.9, 127.0.0.1:5353,[2001:db8::53]:53', DCV_HTTP_PORT: '8080', DCV_TIMEOUT_MS: '2500' });
    expect(dcvSettings(c)).toEqual({ dnsServers: ['9.9.9.9', '127.0.0.1:5353', '[2001:db8::53]:53'], httpPort: 8080, httpsPort: 443, timeoutMs: 2500 });
    expect(() => loadConfig({ DCV_DNS_SERVERS: 'dns.example.net', DCV_HTTP_PORT: '0' })).toThrow(/DCV_DNS_SERVERS[\s\S]*DCV_HTTP_PORT/);
  });
});
