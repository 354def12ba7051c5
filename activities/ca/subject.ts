/**
 * The subject of a person's certificate. Layout (big-endian, as openssl prints it):
 *   C=FR, O=<organisation>, OU=0002 <SIRET>, organizationIdentifier=NTRFR-<SIREN>, SN=<SURNAME>, G=<Given>, CN=<Given SURNAME>
 * - organizationIdentifier (2.5.4.97) follows ETSI EN 319 412-1 §5.1.4: NTR (national trade register), FR, then the
 *   SIREN, which identifies the legal person;
 * - OU carries the SIRET (the establishment) the way French RGS certificates do: ISO 6523 ICD 0002 (SIRENE), a space,
 *   the number;
 * - givenName and surname as ETSI EN 319 412-2 §4.2.4 asks for natural persons; CN is the usual "Given SURNAME".
 * The e-mail address goes in the SAN only (emailAddress in the DN is deprecated, RFC 5280 §4.1.2.6).
 */
import { x509 } from './x509.js';

export const OID_ORGANIZATION_IDENTIFIER = '2.5.4.97';

export interface SubjectInput {
  readonly holder: { readonly givenName: string; readonly surname: string };
  readonly organisation: { readonly name: string; readonly siret: string };
}

/** Trimmed, inner whitespace collapsed: what the customer typed, without stray spaces. */
const tidy = (text: string): string => text.trim().replace(/\s+/g, ' ');

export interface PersonSubject {
  readonly givenName: string;
  readonly surname: string;
  readonly commonName: string;
  readonly organisationName: string;
  readonly organisationalUnit: string;
  readonly organizationIdentifier: string;
  readonly country: 'FR';
}

export function personSubject(input: SubjectInput): PersonSubject {
  const givenName = tidy(input.holder.givenName);
  const surname = tidy(input.holder.surname).toUpperCase();
  const siret = input.organisation.siret.trim();
  return {
    givenName,
    surname,
    commonName: `${givenName} ${surname}`,
    organisationName: tidy(input.organisation.name),
    organisationalUnit: `0002 ${siret}`,
    organizationIdentifier: `NTRFR-${siret.slice(0, 9)}`,
    country: 'FR',
  };
}

/**
 * The distinguished name as a string (RFC 4514 escaping). The string is what the reservation stores and what the
 * certificate is signed from, so it must parse back to the same values: lint.ts checks that before reserving.
 */
export function subjectString(s: PersonSubject): string {
  return new x509.Name([
    { C: [s.country] },
    // Object values: the library's string values are unquoted/unescaped, which would mangle a name with a quote.
    { O: [{ utf8String: s.organisationName }] },
    { OU: [{ utf8String: s.organisationalUnit }] },
    { [OID_ORGANIZATION_IDENTIFIER]: [{ utf8String: s.organizationIdentifier }] },
    { SN: [{ utf8String: s.surname }] },
    { G: [{ utf8String: s.givenName }] },
    { CN: [{ utf8String: s.commonName }] },
  ]).toString();
}

/** The values the stored subject string parses back to, attribute by attribute. */
export function parsedSubject(subject: string): Record<string, string[]> {
  const name = new x509.Name(subject);
  const fields: Record<string, string[]> = {};
  for (const [key, oid] of [
    ['C', 'C'],
    ['O', 'O'],
    ['OU', 'OU'],
    ['organizationIdentifier', OID_ORGANIZATION_IDENTIFIER],
    ['SN', 'SN'],
    ['G', 'G'],
    ['CN', 'CN'],
  ] as const) {
    fields[key] = name.getField(oid);
  }
  return fields;
}
