/**
 * DNS look-ups of a check, through the configured servers only (never getaddrinfo, so never /etc/hosts or the OS
 * cache when servers are configured), cancelled when the check's deadline passes, with errors an applicant can read.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { CheckFailed, type Deadline } from './deadline.js';

export interface DcvLookup {
  /** Where the answers come from, for the evidence: the servers, or 'system resolvers'. */
  readonly via: string;
  /** TXT values at `name`, each record's strings joined (a record may be split in 255-byte strings). */
  txt(name: string): Promise<string[]>;
  /** IPv4 then IPv6 addresses of `host`; an IP literal is returned as is. */
  addresses(host: string): Promise<string[]>;
  /**
   * The CAA RRset at `name` (RFC 8659), a CNAME followed by the resolver as for any type; empty when the name does
   * not exist or has no CAA record. Any other answer (SERVFAIL, REFUSED, timeout, a record it cannot parse) throws.
   */
  caa(name: string): Promise<CaaRecord[]>;
}

/** One CAA record: the flags octet (128: issuer critical), the tag (lower case) and the value. */
export interface CaaRecord {
  readonly flags: number;
  readonly tag: string;
  readonly value: string;
}

interface DnsError {
  code?: string;
}

const codeOf = (err: unknown): string => (err as DnsError | null)?.code ?? 'EUNKNOWN';

export function openLookup(servers: readonly string[], deadline: Deadline): DcvLookup {
  // Several tries inside the budget so one lost UDP datagram does not fail the check; the deadline bounds the total.
  const resolver = new Resolver({ timeout: Math.min(3000, Math.max(200, Math.floor(deadline.ms / 4))), tries: 4 });
  if (servers.length > 0) resolver.setServers([...servers]);
  deadline.signal.addEventListener('abort', () => resolver.cancel(), { once: true });
  const via = servers.length > 0 ? `DNS server ${servers.join(', ')}` : 'the system resolvers';

  const describe = (err: unknown, name: string, type: string): string => {
    const code = codeOf(err);
    if (deadline.expired || code === 'ETIMEOUT' || code === 'ECANCELLED') {
      return `timeout: no DNS answer for ${type} ${name} from ${via} within ${deadline.ms} ms`;
    }
    switch (code) {
      case 'ENOTFOUND':
        return `NXDOMAIN: ${name} does not exist (asked ${via})`;
      case 'ENODATA':
        return `${type} missing: ${name} exists but has no ${type} record (asked ${via})`;
      case 'ESERVFAIL':
        return `SERVFAIL: ${via} could not answer ${type} ${name}`;
      case 'EREFUSED':
        return `REFUSED: ${via} refused to answer ${type} ${name}`;
      case 'ECONNREFUSED':
        return `DNS unreachable: ${via} refused the connection for ${type} ${name}`;
      default:
        return `DNS error ${code} for ${type} ${name} (asked ${via})`;
    }
  };

  return {
    via,
    async txt(name) {
      try {
        const records = await resolver.resolveTxt(name);
        return records.map((chunks) => chunks.join(''));
      } catch (err) {
        throw new CheckFailed(describe(err, name, 'TXT'));
      }
    },
    async caa(name) {
      try {
        // Node answers each record as { critical: <flags>, <tag>: <value> }.
        const records = (await resolver.resolveCaa(name)) as unknown as Record<string, string | number>[];
        return records.flatMap(({ critical, ...property }) =>
          Object.entries(property).map(([tag, value]) => ({ flags: Number(critical ?? 0), tag: tag.toLowerCase(), value: String(value) })),
        );
      } catch (err) {
        if (['ENOTFOUND', 'ENODATA'].includes(codeOf(err)) && !deadline.expired) return [];
        throw new CheckFailed(describe(err, name, 'CAA'));
      }
    },
    async addresses(host) {
      const literal = host.replace(/^\[(.*)\]$/, '$1');
      if (isIP(literal) !== 0) return [literal];
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
      const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
      if (found.length > 0) return found;
      const errors = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      // NXDOMAIN or a timeout on either query says more than "no AAAA" on the other.
      const telling =
        errors.find((e) => deadline.expired || ['ETIMEOUT', 'ECANCELLED'].includes(codeOf(e))) ??
        errors.find((e) => codeOf(e) === 'ENOTFOUND') ??
        errors.find((e) => codeOf(e) !== 'ENODATA');
      if (telling !== undefined) throw new CheckFailed(describe(telling, host, 'A/AAAA'));
      throw new CheckFailed(`A/AAAA missing: ${host} has no address record (asked ${via})`);
    },
  };
}
