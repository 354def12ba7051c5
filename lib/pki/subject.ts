/**
 * The subject of a certificate, one layout per profile kind (big-endian, as openssl prints it):
 *   person:        C=FR, O=<organisation>, organizationIdentifier=NTRFR-<SIREN>, SN=<SURNAME>, G=<Given>, CN=<Given SURNAME>
 *   tls:           C=FR, L=<locality>, O=<organisation>, CN=<first DNS name>
 *   server_client: C=FR, O=<organisation>, organizationIdentifier=NTRFR-<SIREN>, CN=<first DNS name>
 *   seal:          C=FR, O=<organisation>, OU=0002 <SIRET>, organizationIdentifier=NTRFR-<SIREN>, CN=<organisation>
 * - organizationIdentifier (2.5.4.97) follows ETSI EN 319 412-1 §5.1.4: NTR (national trade register), FR, then the
 *   SIREN, which identifies the legal person;
 * - OU carries the SIRET (the establishment) the way French RGS certificates do: ISO 6523 ICD 0002 (SIRENE), a space,
 *   the number — in seals only. TLS certificates have no OU (BR §7.1.2.7.4 forbids it), nor persons certificates:
 *   they are S/MIME sponsor-validated, whose OU may only be the verified legal name of an Affiliate of O (S/MIME BR
 *   §7.1.4.2.2 c, §7.1.4.2.5);
 * - TLS follows the BR attribute order (§7.1.4.1: C, L, O, CN) and the OV content (§7.1.2.7.4: C, L, O required);
 * - givenName and surname as ETSI EN 319 412-2 §4.2.4 asks for natural persons; CN is the usual "Given SURNAME";
 *   an e-seal's CN is the organisation's name (ETSI EN 319 412-3 §4.2.1).
 * The e-mail address of a person goes in the SAN only (emailAddress in the DN is deprecated, RFC 5280 §4.1.2.6).
 */
import { x509 } from './x509.js';

/** A certificate profile's kind, and so its subject layout: a person, a TLS server, a client-authenticating server, an e-seal. */
export type ProfileKind = 'person' | 'tls' | 'server_client' | 'seal';

export const OID_ORGANIZATION_IDENTIFIER = '2.5.4.97';

export type SubjectAttribute = 'C' | 'L' | 'O' | 'OU' | 'organizationIdentifier' | 'SN' | 'G' | 'CN';

export interface SubjectField {
  readonly attribute: SubjectAttribute;
  readonly value: string;
}

/** How each attribute is keyed in the library's JSON names (the OID where it has no short name). */
const NAME_KEYS: Readonly<Record<SubjectAttribute, string>> = {
  C: 'C',
  L: 'L',
  O: 'O',
  OU: 'OU',
  organizationIdentifier: OID_ORGANIZATION_IDENTIFIER,
  SN: 'SN',
  G: 'G',
  CN: 'CN',
};

export interface SubjectInput {
  readonly holder: { readonly givenName: string; readonly surname: string };
  readonly organisation: { readonly name: string; readonly siret: string; readonly locality: string | null };
  /** Checked and lower-cased; the first is the CN of the kinds named after a server. */
  readonly dnsNames: readonly string[];
}

/** Trimmed, inner whitespace collapsed: what the customer typed, without stray spaces. */
const tidy = (text: string): string => text.trim().replace(/\s+/g, ' ');

/**
 * The subject fields of a certificate of this kind, in order. A value the input lacks (no locality, no DNS name) is
 * left out rather than made up; the lint reports the missing attribute.
 */
export function subjectFields(kind: ProfileKind, input: SubjectInput): SubjectField[] {
  const siret = input.organisation.siret.trim();
  const organisation = tidy(input.organisation.name);
  const country: SubjectField = { attribute: 'C', value: 'FR' };
  const o: SubjectField = { attribute: 'O', value: organisation };
  const ou: SubjectField = { attribute: 'OU', value: `0002 ${siret}` };
  const orgId: SubjectField = { attribute: 'organizationIdentifier', value: `NTRFR-${siret.slice(0, 9)}` };
  const server: SubjectField[] = input.dnsNames[0] === undefined ? [] : [{ attribute: 'CN', value: input.dnsNames[0] }];
  switch (kind) {
    case 'person': {
      const givenName = tidy(input.holder.givenName);
      const surname = tidy(input.holder.surname).toUpperCase();
      return [
        country,
        o,
        orgId,
        { attribute: 'SN', value: surname },
        { attribute: 'G', value: givenName },
        { attribute: 'CN', value: `${givenName} ${surname}` },
      ];
    }
    case 'tls': {
      const locality = tidy(input.organisation.locality ?? '');
      return [country, ...(locality === '' ? [] : [{ attribute: 'L', value: locality } as const]), o, ...server];
    }
    case 'server_client':
      return [country, o, orgId, ...server];
    case 'seal':
      return [country, o, ou, orgId, { attribute: 'CN', value: organisation }];
  }
}

/**
 * The distinguished name as a string (RFC 4514 escaping). The string is what the reservation stores and what the
 * certificate is signed from, so it must parse back to the same fields: lint.ts checks that before reserving.
 */
export function subjectString(fields: readonly SubjectField[]): string {
  return new x509.Name(
    // Object values: the library's string values are unquoted/unescaped, which would mangle a name with a quote.
    fields.map(({ attribute, value }) => ({ [NAME_KEYS[attribute]]: attribute === 'C' ? [value] : [{ utf8String: value }] })),
  ).toString();
}

/** The fields a subject string parses back to, in order; an attribute we do not write comes back as its key. */
export function parsedSubject(subject: string): { attribute: string; value: string }[] {
  const byKey = new Map(Object.entries(NAME_KEYS).map(([attribute, key]) => [key, attribute]));
  return new x509.Name(subject)
    .toJSON()
    .flatMap((rdn) => Object.entries(rdn).flatMap(([key, values]) => values.map((value) => ({ attribute: byKey.get(key) ?? key, value }))));
}
