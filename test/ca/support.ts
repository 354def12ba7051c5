/** What the CA tests share: the secrets, an order row for the foreign keys, openssl on files. */
import { spawn, spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, inject } from 'vitest';
import { createCaWithInternals } from '../../activities/ca/ca.js';
import type { Ca, IssueRequest } from '../../activities/ca/index.js';
import { derivedPin } from '../../config/pkcs11.js';
import { loadSecrets, type Secrets } from '../../config/secrets.js';
import type { Pkcs11Settings } from '../../lib/pkcs11/session.js';
import { seedOrder } from '../orders.js';
import type { Database } from '../../db/client.js';
import { runDatabase } from '../run-database.js';

/**
 * The run's master key (test/global-setup.ts). The whole run shares one database and so one persons hierarchy: whoever
 * creates it first seals its keys under this key, and a CA under any other key cannot open them.
 */
export const testSecrets = (masterKey: string = inject('masterKey')): Secrets =>
  loadSecrets({ MASTER_KEY: masterKey, DATA_DIR: tmpdir(), embeddedDatabase: false, PAYMENT_WEBHOOK_SECRET: undefined });

/**
 * What the CA writes into CRL distribution points and AIA (http://, PKI_HTTP_BASE_URL) and into the QcPDS (https://,
 * PDS_URL): any bases of those schemes work, openssl never fetches them here.
 */
export const PKI_BASE_URL = 'http://pki.certflow.example.test';
export const PDS_URL = 'https://certflow.example.test/pds';
/**
 * The run's token directory and the module (test/global-setup.ts ran the ceremony there for the run's database): the
 * environment a test's loadConfig needs, and the settings a CA under test opens certflow-ca and certflow-ocsp with
 * (PINs derived from the run's master key, as the ceremony derived them).
 */
export const testPkcs11Env = (): Record<string, string> => ({ SOFTHSM2_CONF: inject('softHsmConf'), PKCS11_MODULE: inject('pkcs11ModulePath') });
export const testPkcs11 = (secrets: Secrets = testSecrets()): Pkcs11Settings => ({
  modulePath: inject('pkcs11ModulePath'),
  softHsmConf: inject('softHsmConf'),
  caPin: derivedPin(secrets, 'certflow-ca'),
  ocspPin: derivedPin(secrets, 'certflow-ocsp'),
});

/** The settings of a CA under test (URLs, its tokens): spread into createCa / createCaWithInternals. */
export const CA_URLS = { pkiBaseUrl: PKI_BASE_URL, pdsUrl: PDS_URL, pkcs11: testPkcs11() } as const;

/**
 * The run's CA for a test file: on the run's database (a pool of `poolSize`), made before the file's tests with its
 * hierarchy ensured on today's clock (before any test moves a clock forward, so no CA starts in the future).
 */
export function caForFile(poolSize = 4): { readonly db: Database; readonly internals: ReturnType<typeof createCaWithInternals>; readonly ca: Ca } {
  const database = runDatabase(poolSize);
  let internals: ReturnType<typeof createCaWithInternals> | undefined;
  beforeAll(async () => {
    internals = createCaWithInternals({ db: database.db, secrets: testSecrets(), ...CA_URLS });
    await internals.ca.ensureHierarchy();
  });
  const made = (): ReturnType<typeof createCaWithInternals> => {
    if (internals === undefined) throw new Error('the CA is used before the file made it');
    return internals;
  };
  return {
    get db() {
      return database.db;
    },
    get internals() {
      return made();
    },
    get ca() {
      return made().ca;
    },
  };
}

export const ACME = { siret: '73282932000074', name: 'ACME', locality: 'Paris' } as const;

/** A minimal order (and its holder and organisation): certificates and tokens reference orders(id). */
export async function insertOrder(db: Database): Promise<string> {
  return (await seedOrder(db)).orderId;
}

/** What the issuing activity asks the CA for: one year for a new order of ACME (no locality), on a fresh P-256 key. */
export async function oneYearRequest(db: Database, product: IssueRequest['product'], holder: IssueRequest['holder']): Promise<IssueRequest> {
  const orderId = await insertOrder(db);
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  return {
    issuanceKey: `order-${orderId}/issue/1`,
    orderId,
    product,
    holder,
    organisation: { ...ACME, locality: null },
    publicKeySpki: Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey)).toString('base64'),
    validityDays: 365,
  };
}

export interface OpensslResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A fresh temporary folder with the files written in it, and `{name}` arguments resolved to those files. */
function inFolder(args: string[], files: Record<string, string | Uint8Array>): { dir: string; resolved: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'certflow-ca-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return { dir, resolved: args.map((arg) => arg.replace(/^\{(.+)\}$/, (_, name: string) => join(dir, name))) };
}

/** Runs the openssl CLI with the given files written to a fresh temporary folder; `{name}` in args is that file. */
export function openssl(args: string[], files: Record<string, string | Uint8Array> = {}): OpensslResult {
  const { dir, resolved } = inFolder(args, files);
  try {
    const run = spawnSync('openssl', resolved, { encoding: 'utf8' });
    if (run.error) throw run.error;
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same without blocking the event loop: for openssl talking to a server of this very process (OCSP). */
export async function opensslAsync(args: string[], files: Record<string, string | Uint8Array> = {}): Promise<OpensslResult> {
  const { dir, resolved } = inFolder(args, files);
  try {
    const child = spawn('openssl', resolved);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    return { status, stdout, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Splits a PEM bundle into its certificates. */
export const pemBlocks = (bundle: string): string[] => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
