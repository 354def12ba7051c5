/** BR §3.2.2.4.7 DNS Change: the token as a TXT value under the authorization domain's challenge label. */
import { DNS_RECORD_LABEL, type DcvChallenge } from './challenge.js';
import { CheckFailed } from './deadline.js';
import type { DcvLookup } from './resolver.js';

/** How much of what was seen a failure quotes: enough to spot a typo or stray quotes, not a whole SPF record. */
const shown = (value: string): string => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

/** Resolves to the evidence, or throws CheckFailed saying what was seen. */
export async function checkDnsChallenge(ch: DcvChallenge, lookup: DcvLookup): Promise<string> {
  const name = ch.dns?.recordName ?? `${DNS_RECORD_LABEL}.${ch.authorizationDomain}`;
  if (!name.endsWith(`.${ch.authorizationDomain}`)) {
    throw new CheckFailed(`record ${name} is not under the authorization domain ${ch.authorizationDomain}`);
  }
  const values = await lookup.txt(name);
  if (values.includes(ch.token)) {
    return `TXT ${name} holds the token ${shown(ch.token)} (${values.length} TXT value(s), asked ${lookup.via})`;
  }
  throw new CheckFailed(
    `wrong TXT value: ${name} has ${values.length} TXT value(s), none equal to the token: ${values.map(shown).join(', ')} (asked ${lookup.via})`,
  );
}
