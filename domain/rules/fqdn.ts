/**
 * The DNS names a TLS certificate may carry (BR §3.2.2.6, §7.1.2.7.12, §7.1.4.2): a fully-qualified, publicly
 * registrable name in LDH form, no IP address, no internal name, a wildcard only as the whole left-most label and
 * never directly on a public suffix. The suffix knowledge is the Public Suffix List (ICANN and private sections) as
 * shipped by `tldts`.
 */
import { parse } from 'tldts';

export type NameRule =
  | 'name-empty'
  | 'name-too-long'
  | 'name-trailing-dot'
  | 'name-ip-address'
  | 'name-invalid'
  | 'name-not-fqdn'
  | 'name-internal'
  | 'name-public-suffix'
  | 'wildcard-not-allowed'
  | 'wildcard-not-leftmost'
  | 'wildcard-on-public-suffix';

export type DnsNameCheck = { ok: true; name: string } | { ok: false; rule: NameRule; message: string };

/** RFC 1035 §2.3.4: 255 octets on the wire, so 253 characters in dotted text without the root dot. */
const MAX_NAME_LENGTH = 253;
/** Letters, digits, hyphens; 1 to 63 characters; no hyphen at either end (RFC 1123 §2.1). */
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
/**
 * Top-level domains in the root zone whose names no CA can validate for a subscriber: `.onion` (RFC 7686, Tor only)
 * and `.arpa` (infrastructure: reverse zones, `home.arpa` of RFC 8375).
 */
const SPECIAL_USE_TLDS = new Set(['onion', 'arpa']);

const fail = (rule: NameRule, message: string): DnsNameCheck => ({ ok: false, rule, message });

/** An IPv6 literal has colons (optionally in brackets); an IPv4 literal is four dotted decimals. */
const isIpLiteral = (name: string): boolean => name.includes(':') || IPV4.test(name);

/**
 * Checks one DNS name of a certificate request; on success the name comes back lower-cased. The rule slug is stable
 * (the API reports it); the message says what to change.
 */
export function checkDnsName(input: string, opts: { wildcardAllowed: boolean }): DnsNameCheck {
  const name = input.toLowerCase();
  if (name === '') return fail('name-empty', 'the name is empty');
  if (name.endsWith('.') && name.length > 1) return fail('name-trailing-dot', `${input}: remove the trailing dot (write the name without the DNS root)`);
  if (name.length > MAX_NAME_LENGTH) return fail('name-too-long', `${input.slice(0, 40)}…: a DNS name has at most ${MAX_NAME_LENGTH} characters`);
  if (isIpLiteral(name) || isIpLiteral(name.replace(/^\[|\]$/g, ''))) {
    return fail('name-ip-address', `${input} is an IP address: only DNS names are certified`);
  }

  const labels = name.split('.');
  const wildcardLabels = labels.filter((label) => label.includes('*'));
  const wildcard = labels[0] === '*';
  if (wildcardLabels.length > (wildcard ? 1 : 0)) {
    return fail('wildcard-not-leftmost', `${input}: a wildcard must be the whole left-most label, as in *.example.com`);
  }
  for (const label of wildcard ? labels.slice(1) : labels) {
    if (!LDH_LABEL.test(label)) {
      return fail('name-invalid', `${input}: each label is 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen (international names in xn-- form)`);
    }
    // RFC 5890 §2.3.1: "??--" labels are reserved; only the IDNA "xn--" prefix is in use.
    if (label.slice(2, 4) === '--' && !label.startsWith('xn--')) {
      return fail('name-invalid', `${input}: the label ${label} has "--" in 3rd and 4th position, which is reserved for IDNA (xn--)`);
    }
  }
  if (labels.length < 2) {
    return fail('name-not-fqdn', `${input} is not a fully-qualified domain name (write it as host.domain.tld)`);
  }
  if (wildcard && !opts.wildcardAllowed) {
    return fail('wildcard-not-allowed', `${input}: wildcard names need the wildcard product; list each host name instead`);
  }

  // The wildcard covers the names one label below `base`: base must be somebody's domain, not a suffix.
  const base = wildcard ? labels.slice(1).join('.') : name;
  const tld = labels[labels.length - 1] as string;
  const withPrivate = parse(base, { allowPrivateDomains: true, extractHostname: false });
  if (!withPrivate.isIcann && !withPrivate.isPrivate) {
    return fail('name-internal', `${input} is an internal name: .${tld} is not a public top-level domain`);
  }
  if (SPECIAL_USE_TLDS.has(tld)) return fail('name-internal', `${input}: names under .${tld} are not public host names and cannot be validated`);
  if (wildcard) {
    // BR §3.2.2.6 names registry-controlled and public suffixes alike, so the private section counts (*.github.io).
    if (withPrivate.publicSuffix === base) return fail('wildcard-on-public-suffix', `${input}: ${base} is a public suffix; a wildcard must sit on your own domain`);
  } else {
    // Only ICANN suffixes are nobody's: a private-section suffix (github.io) is its operator's own domain.
    const icann = parse(base, { allowPrivateDomains: false, extractHostname: false });
    if (icann.publicSuffix === base) return fail('name-public-suffix', `${input} is a public suffix, not a domain one can hold`);
  }
  return { ok: true, name };
}
