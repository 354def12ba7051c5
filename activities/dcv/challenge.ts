/**
 * Domain-control challenges (BR §3.2.2.4.18 Agreed-Upon Change to Website v2, §3.2.2.4.7 DNS Change): what the
 * applicant is asked to publish for each SAN. Pure apart from the random values; the checks live in http.ts and
 * dns.ts.
 */
import { randomBytes } from 'node:crypto';
import { DAY_MS } from '../../domain/time.js';
import { ApplicationFailure } from '@temporalio/common';

export type DcvMethod = 'http' | 'dns';

export interface DcvChallenge {
  /** The SAN as ordered, maybe '*.example.com'. */
  readonly domain: string;
  /** The domain whose control is checked: the SAN without its wildcard label. */
  readonly authorizationDomain: string;
  readonly method: DcvMethod;
  /** The BR Random Value, base64url. */
  readonly token: string;
  readonly createdAt: string;
  /** After this instant the token is never accepted (BR: a Random Value is usable 30 days). */
  readonly expiresAt: string;
  readonly http?: { readonly url: string; readonly path: string; readonly content: string };
  readonly dns?: { readonly recordName: string; readonly recordType: 'TXT'; readonly value: string };
}

export const DCV_FAILURE = {
  /** A wildcard SAN asked for by HTTP: §3.2.2.4.18 cannot validate wildcards, only DNS (§3.2.2.4.7) can. */
  wildcardByHttp: 'DcvWildcardByHttp',
  /** A name that is not a lower-case DNS name (the CSR checks should have refused it earlier). */
  invalidDomain: 'DcvInvalidDomain',
} as const;

/** BR §3.2.2.4.7 / .18: a Random Value may not be used after 30 days. */
export const CHALLENGE_VALIDITY_DAYS = 30;
/** 256 bits, well over the 112 bits BR §1.6.1 asks of a Random Value. */
export const TOKEN_BYTES = 32;
export const PKI_VALIDATION_PATH = '/.well-known/pki-validation/';
/** RFC 8555 §8.3 http-01, BR §3.2.2.4.19: where an ACME client puts the key authorization. */
export const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/';
/**
 * The TXT record sits under an underscore label of the ADN (BR §3.2.2.4.7 (2)) rather than on the ADN itself: the
 * ADN's own TXT set (SPF, other providers' tokens) stays untouched, a CNAME-ed ADN still works, and a provider-named
 * label (the `_<provider>-challenge` form of the IETF domain-verification draft) cannot be overwritten by an ACME
 * client that manages `_acme-challenge`.
 */
export const DNS_RECORD_LABEL = '_certflow-challenge';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const newToken = (): string => randomBytes(TOKEN_BYTES).toString('base64url');

/**
 * The authorization domain of a SAN, or a non-retryable failure. Only a structural guard — the names go into URLs,
 * Host headers and DNS queries — the full name rules are domain/rules/fqdn.ts's, applied when the CSR is checked.
 */
export function authorizationDomainOf(domain: string): string {
  const name = domain.startsWith('*.') ? domain.slice(2) : domain;
  const labels = name.split('.');
  const ok = name.length <= 253 && labels.length >= 2 && labels.every((l) => LABEL.test(l));
  if (!ok) {
    throw ApplicationFailure.nonRetryable(
      `"${domain}" is not a lower-case DNS name (wildcard only as "*." on the left)`,
      DCV_FAILURE.invalidDomain,
    );
  }
  return name;
}

/**
 * One challenge per distinct SAN, all by the same method. A wildcard by HTTP refuses the whole request: the
 * applicant must choose DNS for it, and mixing methods per SAN is done by calling this once per method.
 */
export function createChallenges(domains: readonly string[], opts: { method: DcvMethod; now: Date }): DcvChallenge[] {
  const unique = [...new Set(domains)];
  const adns = unique.map(authorizationDomainOf);
  if (opts.method === 'http') {
    const wildcards = unique.filter((d) => d.startsWith('*.'));
    if (wildcards.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `wildcard names can only be validated by DNS (BR 3.2.2.4.7), not by an HTTP file: ${wildcards.join(', ')}`,
        DCV_FAILURE.wildcardByHttp,
        wildcards,
      );
    }
  }
  const createdAt = opts.now.toISOString();
  const expiresAt = new Date(opts.now.getTime() + CHALLENGE_VALIDITY_DAYS * DAY_MS).toISOString();
  // A name and its wildcard ('example.com', '*.example.com') share one TXT record: one value to publish, not two.
  const tokenByAdn = new Map<string, string>();
  return unique.map((domain, i) => {
    const authorizationDomain = adns[i] as string;
    const token = tokenByAdn.get(authorizationDomain) ?? newToken();
    tokenByAdn.set(authorizationDomain, token);
    const base = { domain, authorizationDomain, method: opts.method, token, createdAt, expiresAt };
    if (opts.method === 'dns') {
      return { ...base, dns: { recordName: `${DNS_RECORD_LABEL}.${authorizationDomain}`, recordType: 'TXT', value: token } };
    }
    // BR §3.2.2.4.18: the Random Value must not appear in the request, so the file is named by another random value.
    const path = `${PKI_VALIDATION_PATH}certflow-${randomBytes(16).toString('hex')}.txt`;
    return { ...base, http: { url: `http://${authorizationDomain}${path}`, path, content: token } };
  });
}
