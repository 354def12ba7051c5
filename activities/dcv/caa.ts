/**
 * CAA (RFC 8659, BR §3.2.2.8): right before a TLS certificate is signed, every name's relevant CAA RRset must let
 * this CA issue. The check asks the domain-validation resolvers (DCV_DNS_SERVERS), and records each decision in the
 * order's audit trail (order_events and the hash-chained audit log) once per check key.
 *
 * Lookup failures are never a permission. The BR would allow treating one as permission in narrow cases (outside
 * the CA's infrastructure, retried, no DNSSEC chain); CertFlow does not: a SERVFAIL, REFUSED, timeout or an answer
 * the resolver cannot parse throws a retryable error, so the activity retries (and staff are alerted when it keeps
 * failing) and nothing is signed meanwhile. NXDOMAIN and NODATA are answers: an empty RRset, and the climb goes on.
 */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { appendAudit } from '../../db/audit-log.js';
import { orderEvents } from '../../db/schema.js';
import type { CaaCheck, CaaNameCheck } from '../../domain/order.js';
import { CheckFailed, Deadline } from './deadline.js';
import { openLookup, type CaaRecord, type DcvLookup } from './resolver.js';

/** The problem type of a refusal: the API's `urn:certflow:problem:caa-forbids-issuance`. */
export const CAA_FORBIDS = 'caa-forbids-issuance';

/**
 * Tags this CA understands (RFC 8659 §4, RFC 9495 issuemail, BR Appendix A contactemail/contactphone): only these may
 * carry the issuer-critical flag. The ones other than issue/issuewild say nothing about TLS issuance.
 */
const KNOWN_TAGS: ReadonlySet<string> = new Set(['issue', 'issuewild', 'iodef', 'issuemail', 'contactemail', 'contactphone']);
/** RFC 8659 §4.1: bit 0 of the flags octet, the most significant bit. */
const ISSUER_CRITICAL = 128;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const presentation = (r: CaaRecord): string => `${r.flags} ${r.tag} ${JSON.stringify(r.value)}`;

/**
 * The issuer domain name of an issue/issuewild value (RFC 8659 §4.2): `""` or `";"` (no issuer) is null, the
 * parameters after `;` are ignored; a malformed value is undefined (it names no CA, so it authorises none).
 */
export function issuerOf(value: string): string | null | undefined {
  const issuer = (value.split(';')[0] ?? '').trim().toLowerCase();
  if (issuer === '') return null;
  const labels = issuer.split('.');
  return labels.every((l) => LABEL.test(l)) ? issuer : undefined;
}

/** RFC 8659 §3: from the name (without its wildcard label) up to, not including, the root; the first non-empty CAA RRset. */
export async function relevantRRset(name: string, lookup: Pick<DcvLookup, 'caa'>): Promise<{ domain: string; records: CaaRecord[] } | null> {
  const labels = (name.startsWith('*.') ? name.slice(2) : name).split('.');
  for (let i = 0; i < labels.length; i++) {
    const domain = labels.slice(i).join('.');
    const records = await lookup.caa(domain);
    if (records.length > 0) return { domain, records };
  }
  return null;
}

/** What the relevant RRset decides for `name` (RFC 8659 §4): pure. */
export function decideCaa(name: string, rrset: { domain: string; records: readonly CaaRecord[] } | null, identifiers: readonly string[]): CaaNameCheck {
  if (rrset === null) return { name, relevantDomain: null, records: [], permitted: true, reason: `no CAA record on ${name} or its parent domains: any CA may issue` };
  const { domain, records } = rrset;
  const result = (permitted: boolean, reason: string): CaaNameCheck => ({ name, relevantDomain: domain, records: records.map(presentation), permitted, reason });
  const critical = records.find((r) => (r.flags & ISSUER_CRITICAL) !== 0 && !KNOWN_TAGS.has(r.tag));
  if (critical !== undefined) {
    return result(false, `CAA of ${domain} has the critical property "${critical.tag}", which this CA does not understand: issuance is forbidden (RFC 8659 §4.1)`);
  }
  // §4.3: for a wildcard, issuewild records (when there are any) replace the issue records.
  const wildcard = name.startsWith('*.');
  const wild = records.filter((r) => r.tag === 'issuewild');
  const tag = wildcard && wild.length > 0 ? 'issuewild' : 'issue';
  const governing = records.filter((r) => r.tag === tag);
  if (governing.length === 0) return result(true, `CAA of ${domain} has no ${tag} record: any CA may issue`);
  const ours = governing.find((r) => {
    const issuer = issuerOf(r.value);
    return typeof issuer === 'string' && identifiers.includes(issuer);
  });
  if (ours !== undefined) return result(true, `CAA of ${domain} authorises this CA: ${presentation(ours)}`);
  const named = governing.map((r) => issuerOf(r.value)).filter((i): i is string => typeof i === 'string');
  const allowed = named.length > 0 ? `only ${[...new Set(named)].join(', ')}` : 'no CA at all';
  const fix = identifiers.map((id) => `0 ${tag} "${id}"`).join(' or ');
  return result(false, `CAA of ${domain} allows ${allowed} to issue${wildcard ? ' wildcard certificates' : ''} for ${name}, not this CA: add ${fix}`);
}

export interface CaaSettings {
  readonly dnsServers: readonly string[];
  readonly timeoutMs: number;
  /** The CA's issuer domain names (CAA_IDENTIFIERS), lower case. */
  readonly identifiers: readonly string[];
}

/** Checks every name now. Throws (retryable) when a lookup fails: a failure is never taken for a permission. */
export async function checkCaaNames(names: readonly string[], settings: CaaSettings, now: Date): Promise<CaaCheck> {
  const deadline = new Deadline(settings.timeoutMs);
  try {
    const lookup = openLookup(settings.dnsServers, deadline);
    const checks: CaaNameCheck[] = [];
    // One name after the other: names share parents, and a lookup failure stops the check at once.
    for (const name of [...new Set(names)]) checks.push(decideCaa(name, await relevantRRset(name.toLowerCase(), lookup), settings.identifiers));
    return { checkedAt: now.toISOString(), permitted: checks.every((c) => c.permitted), identifiers: [...settings.identifiers], names: checks };
  } catch (err) {
    if (err instanceof CheckFailed) throw new Error(`CAA lookup failed, not taken as permission (BR 3.2.2.8): ${err.message}`);
    throw err;
  } finally {
    deadline.dispose();
  }
}

/** The order_events id of a check key: the same key always names the same row, so a retried check is recorded once. */
function eventIdOf(checkKey: string): string {
  const h = createHash('sha256').update(`caa:${checkKey}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

export interface CaaRequest {
  /** Workflow id and step: one decision per key, whatever the retries. */
  readonly checkKey: string;
  readonly orderId: string;
  readonly names: readonly string[];
}

export function createCaaActivities(db: Database, settings: CaaSettings, now: () => Date = () => new Date()) {
  return {
    /**
     * Checks CAA for every name and records the decision in the order's audit trail; a key already checked answers
     * the decision recorded then (a retry after the row was written decides nothing anew).
     */
    async checkCaa(req: CaaRequest): Promise<CaaCheck> {
      const id = eventIdOf(req.checkKey);
      const recorded = async (): Promise<CaaCheck | undefined> => {
        const [row] = await db.select({ detail: orderEvents.detail }).from(orderEvents).where(eq(orderEvents.id, id));
        return row?.detail.check as CaaCheck | undefined;
      };
      const before = await recorded();
      if (before !== undefined) return before;
      const check = await checkCaaNames(req.names, settings, now());
      const outcome = check.permitted ? 'accepted' : 'refused';
      const detail = { checkKey: req.checkKey, check, ...(check.permitted ? {} : { code: CAA_FORBIDS }) };
      await db.transaction(async (tx) => {
        const [inserted] = await tx
          .insert(orderEvents)
          .values({ id, orderId: req.orderId, actorUserId: null, actorRole: 'system', action: 'caa_check', outcome, detail })
          .onConflictDoNothing()
          .returning({ id: orderEvents.id });
        if (inserted === undefined) return;
        await appendAudit(tx, { kind: outcome === 'accepted' ? 'decision' : 'refused', orderId: req.orderId, actorRole: 'system', action: 'caa_check', detail: { eventId: id, ...detail } });
      });
      return (await recorded()) ?? check;
    },
  };
}
