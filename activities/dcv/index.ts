/**
 * Domain control validation of TLS SANs (SPEC §3 "Domain control"): challenges to publish, checks that look for
 * them, and the activities the order workflow calls. A check never throws for what it saw: it answers a result
 * saying what failed, so the workflow can show it to the applicant and let them retry.
 */
import type { Config } from '../../config/index.js';
import { createChallenges, type DcvChallenge, type DcvMethod } from './challenge.js';
import { CheckFailed, Deadline } from './deadline.js';
import { checkDnsChallenge } from './dns.js';
import { checkHttpChallenge } from './http.js';
import { openLookup } from './resolver.js';

export {
  CHALLENGE_VALIDITY_DAYS,
  DCV_FAILURE,
  DNS_RECORD_LABEL,
  PKI_VALIDATION_PATH,
  TOKEN_BYTES,
  authorizationDomainOf,
  createChallenges,
  type DcvChallenge,
  type DcvMethod,
} from './challenge.js';
export { MAX_REDIRECTS } from './http.js';

export interface DcvSettings {
  /** 'ip' or 'ip:port' ('[v6]:port'); empty means the system resolvers. */
  dnsServers: string[];
  /** The port of http:// checks and redirects: 80 in production. */
  httpPort: number;
  /** The port an https:// redirect may go to: 443 in production (the default). */
  httpsPort?: number;
  /** The whole budget of one check: DNS, connection, redirects and body. */
  timeoutMs: number;
}

export type DcvResult =
  | { validated: true; method: DcvMethod; checkedAt: string; evidence: string }
  | { validated: false; method: DcvMethod; checkedAt: string; reason: string };

export function dcvSettings(config: Config): DcvSettings {
  return {
    dnsServers: [...config.DCV_DNS_SERVERS],
    httpPort: config.DCV_HTTP_PORT,
    httpsPort: config.DCV_HTTPS_PORT,
    timeoutMs: config.DCV_TIMEOUT_MS,
  };
}

/** Looks for the challenge once, now. An expired challenge is never validated, whatever is published. */
export async function checkChallenge(ch: DcvChallenge, settings: DcvSettings, now: Date): Promise<DcvResult> {
  const checkedAt = now.toISOString();
  const method = ch.method;
  if (!(now.getTime() < Date.parse(ch.expiresAt))) {
    return { validated: false, method, checkedAt, reason: `challenge expired at ${ch.expiresAt}: ask for a new one` };
  }
  const deadline = new Deadline(settings.timeoutMs);
  try {
    const lookup = openLookup(settings.dnsServers, deadline);
    const evidence =
      method === 'dns'
        ? await checkDnsChallenge(ch, lookup)
        : await checkHttpChallenge(ch, { httpPort: settings.httpPort, httpsPort: settings.httpsPort ?? 443 }, lookup, deadline);
    return { validated: true, method, checkedAt, evidence };
  } catch (err) {
    if (err instanceof CheckFailed) return { validated: false, method, checkedAt, reason: err.message };
    throw err;
  } finally {
    deadline.dispose();
  }
}

/** `now`: the clock challenges are dated and checked on; tests that skip time pass the test server's. */
export function createDcvActivities(settings: DcvSettings, now: () => Date = () => new Date()): {
  createDomainChallenges(req: { domains: string[]; method: DcvMethod }): Promise<DcvChallenge[]>;
  checkDomainChallenges(req: { challenges: DcvChallenge[] }): Promise<{ domain: string; result: DcvResult }[]>;
} {
  return {
    // Throws a non-retryable DcvWildcardByHttp / DcvInvalidDomain failure for a request no retry can fix.
    createDomainChallenges: ({ domains, method }) =>
      Promise.resolve().then(() => createChallenges(domains, { method, now: now() })),

    checkDomainChallenges: ({ challenges }) =>
      Promise.all(
        challenges.map(async (ch) => ({ domain: ch.domain, result: await checkChallenge(ch, settings, now()) })),
      ),
  };
}
