/**
 * Who the CA is, as its mails, PDFs and pages show it: trading and legal name, the postal address (where cheques and
 * the originals of a file are posted), the bank account transfers go to, and the support contacts. Read from the
 * CA_* variables of config/index.ts; the defaults are an obviously fictitious demo CA, valid so that the embedded
 * mode and the tests run, and refused in production (`checkProductionIdentity`).
 */
import { z } from 'zod';

/** A plain object, so the pages and the API can hand it on as it is. */
export interface CaIdentity {
  /** The name customers know (mail signatures, letterheads, SMS sender in the outbox). */
  readonly tradingName: string;
  /** The company's registered name: the cheque payee, the first line of the postal address. */
  readonly legalName: string;
  readonly postalAddress: { readonly street: string; readonly postalCode: string; readonly locality: string; readonly country: string };
  /** `iban` in its electronic form (no spaces, upper case): `formatIban` groups it for people. */
  readonly bank: { readonly accountHolder: string; readonly bankName: string; readonly iban: string; readonly bic: string };
  readonly support: { readonly email: string; readonly phone: string };
}

/**
 * The demo identity of `npm start` and the tests. Fictitious on its face: "Démo" names, postal code 99999, a bank
 * code (99999) no French bank has, and a phone number of the range ARCEP reserves for fiction (01 99 00 xx xx).
 * The IBAN's checksum and the BIC's format are valid, so the start-up checks hold for it too.
 */
export const DEMO_CA_IDENTITY = {
  CA_TRADING_NAME: 'CertFlow',
  CA_LEGAL_NAME: 'CertFlow Démo SAS',
  CA_ADDRESS_STREET: '1, rue de la Démonstration',
  CA_ADDRESS_POSTAL_CODE: '99999',
  CA_ADDRESS_LOCALITY: 'Démoville',
  CA_ADDRESS_COUNTRY: 'France',
  CA_BANK_ACCOUNT_HOLDER: 'CertFlow Démo SAS',
  CA_BANK_NAME: 'Banque fictive de démonstration',
  CA_BANK_IBAN: 'FR7699999000010001234567809',
  CA_BANK_BIC: 'DEMOFRPP',
  CA_SUPPORT_EMAIL: 'support@certflow.localhost',
  CA_SUPPORT_PHONE: '+33 1 99 00 12 34',
} as const;

export type CaIdentityVariable = keyof typeof DEMO_CA_IDENTITY;
export const CA_IDENTITY_VARIABLES = Object.keys(DEMO_CA_IDENTITY) as CaIdentityVariable[];

const electronic = (iban: string): string => iban.replace(/\s+/g, '').toUpperCase();

/** ISO 13616: the country code and check digits moved to the end, letters as 10–35, the number mod 97 is 1. */
export function isValidIban(value: string): boolean {
  const iban = electronic(value);
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  let rest = 0;
  for (const ch of iban.slice(4) + iban.slice(0, 4)) {
    for (const digit of /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch) rest = (rest * 10 + Number(digit)) % 97;
  }
  return rest === 1;
}

/** ISO 9362: bank (4 letters), country (2 letters), location (2), optional branch (3). */
export const isValidBic = (value: string): boolean => /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(value.trim().toUpperCase());

/** `FR76 9999 9000 …`: the paper form, in groups of four. */
export const formatIban = (iban: string): string => electronic(iban).replace(/(.{4})(?=.)/g, '$1 ');

/** The address as it goes on an envelope: legal name, street, postal code and locality, country. */
export const postalAddressLines = (id: CaIdentity): string[] => [
  id.legalName,
  id.postalAddress.street,
  `${id.postalAddress.postalCode} ${id.postalAddress.locality}`,
  id.postalAddress.country,
];

const text = (max: number) => z.string().trim().min(1).max(max);

/** The zod types of the CA_* variables, with the demo defaults; config/index.ts declares them. */
export const caIdentityFields = {
  name: (v: CaIdentityVariable) => text(200).default(DEMO_CA_IDENTITY[v]),
  iban: () =>
    z
      .string()
      .default(DEMO_CA_IDENTITY.CA_BANK_IBAN)
      .refine(isValidIban, { message: 'not a valid IBAN (format or mod-97 checksum)' })
      .transform(electronic),
  bic: () =>
    z
      .string()
      .default(DEMO_CA_IDENTITY.CA_BANK_BIC)
      .refine(isValidBic, { message: 'not a valid BIC: 8 or 11 characters, AAAA CC LL (BBB)' })
      .transform((v) => v.trim().toUpperCase()),
  email: () => z.string().trim().pipe(z.email()).default(DEMO_CA_IDENTITY.CA_SUPPORT_EMAIL),
  phone: () =>
    z
      .string()
      .trim()
      .regex(/^\+?\d[\d .()-]{5,23}$/, 'expected a phone number as customers dial it, e.g. +33 1 23 45 67 89')
      .default(DEMO_CA_IDENTITY.CA_SUPPORT_PHONE),
} as const;

export function caIdentityFrom(c: Record<CaIdentityVariable, string>): CaIdentity {
  return {
    tradingName: c.CA_TRADING_NAME,
    legalName: c.CA_LEGAL_NAME,
    postalAddress: { street: c.CA_ADDRESS_STREET, postalCode: c.CA_ADDRESS_POSTAL_CODE, locality: c.CA_ADDRESS_LOCALITY, country: c.CA_ADDRESS_COUNTRY },
    bank: { accountHolder: c.CA_BANK_ACCOUNT_HOLDER, bankName: c.CA_BANK_NAME, iban: c.CA_BANK_IBAN, bic: c.CA_BANK_BIC },
    support: { email: c.CA_SUPPORT_EMAIL, phone: c.CA_SUPPORT_PHONE },
  };
}

/** What a value left from a template or a copied example looks like: XXXX, [bank], <name>, TODO, example.com… */
const PLACEHOLDER = /X{4,}|\[[^\]]*\]|<[^>]*>|\b(?:TODO|TBD|FIXME|CHANGE ?ME|PLACEHOLDER|LOREM)\b|@(?:[\w-]+\.)*(?:example\.(?:com|org|net)|localhost|invalid|test|example)$/i;

/** Demo values no real CA has; the demo's trading name (the product's) and country may well be a real CA's. */
const FICTITIOUS: readonly CaIdentityVariable[] = CA_IDENTITY_VARIABLES.filter((v) => v !== 'CA_TRADING_NAME' && v !== 'CA_ADDRESS_COUNTRY');

const normalise = (name: CaIdentityVariable, value: string): string =>
  name === 'CA_BANK_IBAN' || name === 'CA_BANK_BIC' ? electronic(value) : value.trim().toLowerCase();

/**
 * Production (CERTFLOW_ENV=production) mails real customers the bank details they pay to: every CA_* variable must
 * be set explicitly, not be a value of the demo identity and not look like a placeholder. One line per problem.
 */
export function checkProductionIdentity(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const name of CA_IDENTITY_VARIABLES) {
    const raw = env[name]?.trim() ?? '';
    if (raw === '') problems.push(`  ${name}: required when CERTFLOW_ENV=production (the demo identity is for development only)`);
    else if (FICTITIOUS.includes(name) && normalise(name, raw) === normalise(name, DEMO_CA_IDENTITY[name])) {
      problems.push(`  ${name}: is the demo identity's value; set the CA's own`);
    } else if (PLACEHOLDER.test(raw)) problems.push(`  ${name}: looks like a placeholder (${JSON.stringify(raw)}); set the real value`);
  }
  return problems;
}
