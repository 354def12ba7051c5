/**
 * One place per fact: which products certify DNS names and how long a paid term is live in domain/catalog.ts; the
 * CA's profiles and the term arithmetic read them there, so they cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../../activities/ca/profiles.js';
import { CATALOG, certifiesDnsNames, PRODUCT_CODES, termDays } from '../../domain/catalog.js';

describe('catalog facts', () => {
  it('the DNS products are the TLS ones and the client-authenticating server, one with wildcards', () => {
    expect(PRODUCT_CODES.filter(certifiesDnsNames)).toEqual(['SSL', 'SSL_RGS_STAR', 'SSL_WILDCARD', 'SERVER_CLIENT']);
    expect(PRODUCT_CODES.filter((code) => CATALOG[code].dnsNames === 'wildcard')).toEqual(['SSL_WILDCARD']);
  });

  it("each profile's subjectAltName follows the catalog", () => {
    for (const code of PRODUCT_CODES) {
      const san = PROFILES[code].san;
      expect([code, san === 'dns' || san === 'dns-wildcard']).toEqual([code, certifiesDnsNames(code)]);
      expect([code, san === 'dns-wildcard']).toEqual([code, CATALOG[code].dnsNames === 'wildcard']);
    }
  });

  it('a paid year is 365 days, as the seeds count', () => {
    expect([1, 2, 3].map(termDays)).toEqual([365, 730, 1095]);
  });
});
