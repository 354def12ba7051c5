/**
 * The PKCS#11 settings (README "Keys on a PKCS#11 token"): which module, which SoftHSM2 token directory, and the user
 * PINs of the tokens a process may open. The worker opens certflow-ca (PKCS11_CA_PIN), the API certflow-ocsp
 * (PKCS11_OCSP_PIN); the roots' token, certflow-root, has no setting here: only the ceremony opens it
 * (scripts/ceremony.ts reads its PIN itself). Outside production, PINs left unset are derived from MASTER_KEY, so the
 * embedded stack and the tests need no setting; production refuses a missing or placeholder PIN where it is needed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Secrets } from './secrets.js';

/** Debian's paths of SoftHSM2's module: the package's own and the multiarch ones. */
export const SOFTHSM_MODULE_PATHS = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'];

export interface Pkcs11Config {
  readonly modulePath: string;
  /** SOFTHSM2_CONF; outside production its default is DATA_DIR/softhsm/softhsm2.conf (the embedded token directory). */
  readonly softHsmConf: string | undefined;
  /** PKCS11_CA_PIN / PKCS11_OCSP_PIN as given; undefined means derived (tokenPins) or, in production, refused. */
  readonly caPin: string | undefined;
  readonly ocspPin: string | undefined;
}

const PIN_PLACEHOLDER = /^(?:0+|1234(?:5678?)?|changeme|change-me|pin|password|secret|xxxx+|placeholder|todo)$/i;

export function pkcs11Config(env: Record<string, string | undefined>, c: { DATA_DIR: string; CERTFLOW_ENV: string }): Pkcs11Config {
  const given = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const production = c.CERTFLOW_ENV === 'production';
  return {
    modulePath: given('PKCS11_MODULE') ?? SOFTHSM_MODULE_PATHS.find((path) => existsSync(path)) ?? SOFTHSM_MODULE_PATHS[0] ?? '',
    softHsmConf: given('SOFTHSM2_CONF') ?? (production ? undefined : embeddedSoftHsmConf(c.DATA_DIR)),
    caPin: given('PKCS11_CA_PIN'),
    ocspPin: given('PKCS11_OCSP_PIN'),
  };
}

/** The embedded token directory's configuration file (lib/pkcs11/module.ts writeSoftHsmConfig writes it there). */
export const embeddedSoftHsmDir = (dataDir: string): string => join(dataDir, 'softhsm');
export const embeddedSoftHsmConf = (dataDir: string): string => join(embeddedSoftHsmDir(dataDir), 'softhsm2.conf');

/** Production's objections to the PINs that are set: a PIN must be at least 8 characters and no placeholder. */
export function checkPkcs11Pins(p: Pkcs11Config): string[] {
  const problems: string[] = [];
  for (const [name, pin] of [['PKCS11_CA_PIN', p.caPin], ['PKCS11_OCSP_PIN', p.ocspPin]] as const) {
    if (pin === undefined) continue;
    if (pin.length < 8 || PIN_PLACEHOLDER.test(pin)) problems.push(`  ${name}: looks like a placeholder or is shorter than 8 characters; set the token's real user PIN`);
  }
  return problems;
}

/** A PIN derived from the master key for a token: the default outside production. */
export const derivedPin = (secrets: Pick<Secrets, 'derive'>, tokenLabel: string): string => secrets.derive(`pkcs11-pin:${tokenLabel}`).toString('base64url').slice(0, 24);

/**
 * The PINs a process uses: those set, else (outside production) derived from the master key. In production a PIN
 * left unset stays unset, and the process that needs it refuses to start (worker/main.ts, api/main.ts).
 */
export function tokenPins(config: { pkcs11: Pkcs11Config; CERTFLOW_ENV: string }, secrets: Pick<Secrets, 'derive'>): { caPin?: string; ocspPin?: string } {
  if (config.CERTFLOW_ENV === 'production') return { caPin: config.pkcs11.caPin, ocspPin: config.pkcs11.ocspPin };
  return { caPin: config.pkcs11.caPin ?? derivedPin(secrets, 'certflow-ca'), ocspPin: config.pkcs11.ocspPin ?? derivedPin(secrets, 'certflow-ocsp') };
}
