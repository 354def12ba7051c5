/**
 * The `ca` scenario: certificates signed per second by the CA activity path against openssl signing the same profile,
 * both measured in one run, on loopback only.
 *
 * - Database: a throwaway PGlite in a temporary folder, migrated, or DATABASE_URL (an already migrated database: only
 *   rows are created there). A fresh master key for the run, so the run creates its own CA hierarchy and never opens
 *   one it did not make; the hierarchy is created before anything is timed.
 * - Cases: a TLS profile (SSL: two DNS names, the organisation's locality) and a person profile (ID_RGS_STAR), each
 *   with RSA-2048 and P-256 subject keys, each signed four ways (PATHS). Subject keys, CSRs, orders (certificate rows
 *   reference orders) and requests are all made before the clock starts; each case first runs a few untimed warm-up
 *   certificates; a case ends after --count certificates or --seconds, whichever comes first.
 * - openssl signs with the same P-384 issuing CA key: the CA keeps it non-extractable in memory, so the run opens
 *   its own sealed row (it holds the master key it made); only when that fails does openssl get a generated P-384 CA
 *   of the same name, and the output says which. The extfile is written from the profile itself (profiles.ts).
 * - At the end a sample of every case is checked with `openssl verify` against the chain, and its extensions are
 *   compared with the CA path's certificate of the same profile and key type: equal DER, the key identifiers
 *   compared as what they identify. Either failing makes the run exit non-zero: the comparison would not be of
 *   equivalent work.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createCaWithInternals } from '../../activities/ca/ca.js';
import type { CaId } from '../../lib/pki/ca-ids.js';
import { CA_KEY_ALGORITHM, CA_SIGNING_ALGORITHM, type Hierarchy } from '../../activities/ca/hierarchy.js';
import { derivedPin } from '../../config/pkcs11.js';
import { writeSoftHsmConfig } from '../../lib/pkcs11/module.js';
import { ceremonyOn } from '../ceremony.js';
import { resolveSoftHsm } from '../softhsm.js';
import { maxValidityDays, PROFILES, type CertificateProfile, type KeyType } from '../../activities/ca/profiles.js';
import { randomSerial } from '../../activities/ca/serial.js';
import { subjectFields, subjectString } from '../../lib/pki/subject.js';
import { caCertificateUrl, caCrlUrl, ocspUrl } from '../../lib/pki/urls.js';
import { x509 } from '../../lib/pki/x509.js';
import type { IssueRequest } from '../../activities/ca/issue.js';
import { loadSecrets } from '../../config/secrets.js';
import { createUser, upsertOrganisation } from '../../db/accounts.js';
import { openPglite, openPostgres, type Database, type DatabaseHandle } from '../../db/client.js';
import { migrateDatabase } from '../../db/migrate.js';
import { upsertOrderView } from '../../db/orders.js';
import { certificateAuthorities } from '../../db/schema.js';
import type { ProductCode } from '../../domain/catalog.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import { newOrderView } from '../../domain/order.js';
import { tlsValidityDaysAt } from '../../domain/rules/validity.js';
import {
  caseResult,
  casesTable,
  formatTable,
  machineInfo,
  machineLine,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  writeReport,
  BENCH_RESULTS_DIR,
  type BenchReport,
  type CaseResult,
} from './report.js';

export const PATHS = ['ca-activity', 'openssl-spawn', 'openssl-sh-loop', 'openssl-ca-batch'] as const;
export type BenchPath = (typeof PATHS)[number];
export type OpensslPath = Exclude<BenchPath, 'ca-activity'>;
const OPENSSL_PATHS = PATHS.filter((p): p is OpensslPath => p !== 'ca-activity');

/** CSRs per `openssl ca` process in the batch path. */
const BATCH_SIZE = 100;

export const PATH_DESCRIPTIONS: Readonly<Record<BenchPath, string>> = {
  'ca-activity': 'ca.issueCertificate as the worker activity calls it: reserve the row, lint the request, build the TBS, lint it, sign, verify, store',
  'openssl-spawn': 'per process: one `openssl x509 -req` spawned from Node per certificate, as a script driving openssl would do',
  'openssl-sh-loop': 'one bash process looping over `openssl x509 -req`: no Node spawn, still one openssl exec per certificate',
  'openssl-ca-batch': `batch: one \`openssl ca -infiles\` process per ${BATCH_SIZE} CSRs (fewer when a lane has fewer), so no process start per certificate; one certificate cannot be timed alone (no p50/p95)`,
};

const BENCH_PROFILES = [
  { id: 'tls', product: 'SSL' },
  { id: 'person', product: 'ID_RGS_STAR' },
] as const satisfies readonly { id: string; product: ProductCode }[];
type BenchProfile = (typeof BENCH_PROFILES)[number];

const KEY_TYPES = [
  { id: 'rsa2048', keyType: 'rsa' },
  { id: 'p256', keyType: 'ec' },
] as const satisfies readonly { id: string; keyType: KeyType }[];
type BenchKey = (typeof KEY_TYPES)[number];

/** Written into CRL distribution points and AIA (http://) and the QcPDS (https://); nothing is ever fetched from them. */
const PKI_BASE_URL = 'http://pki.certflow.example.test';
const PDS_URL = 'https://certflow.example.test/pds';
const ORGANISATION = { siret: '73282932000074', name: 'ACME', locality: 'Paris' } as const;
const HOLDER = { givenName: 'Camille', surname: 'Durand' } as const;
const DNS_NAMES = ['www.acme-example.fr', 'api.acme-example.fr'] as const;
/** One order per certificate up to this many per case; beyond, orders are reused (TLS reissues share an order too). */
const ORDERS_PER_CASE_MAX = 1000;

export interface CaBenchOptions {
  /** Time bound of one case, seconds. */
  readonly seconds: number;
  /** Certificates per case at most. */
  readonly count: number;
  /** Certificates in flight at once (lanes) in every path. */
  readonly concurrency: number;
  /** Untimed certificates signed before each case. */
  readonly warmup: number;
  /** Subject keys per key type, used in turn. */
  readonly keys: number;
  /** Certificates per case checked with `openssl verify` at the end. */
  readonly sample: number;
  readonly paths: readonly BenchPath[];
  /** A migrated database; undefined: a throwaway PGlite in a temporary folder. */
  readonly databaseUrl?: string;
  /**
   * Base64 of 32 bytes under which the database's CA hierarchy is (or will be) sealed; undefined: a fresh key, and a
   * database that already holds a hierarchy is refused. The tests pass their run's key.
   */
  readonly masterKey?: string;
  /** The PKCS#11 module and SoftHSM2 configuration to make the run's CA keys on; unset: a token directory of its own. */
  readonly pkcs11?: { readonly modulePath: string; readonly softHsmConf: string };
  /** Where the JSON report goes; null: not written. */
  readonly reportDir?: string | null;
  readonly log?: (line: string) => void;
  /** 'generated': do not use the issuing CA's key for openssl even when it can be had (exercises the fallback). */
  readonly opensslCa?: 'auto' | 'generated';
}

export const CA_BENCH_DEFAULTS = { seconds: 10, count: 200, concurrency: 1, warmup: 3, keys: 16, sample: 5, paths: PATHS } as const satisfies Partial<CaBenchOptions>;

export interface CaCaseResult extends CaseResult {
  readonly profile: BenchProfile['id'];
  readonly product: ProductCode;
  readonly keyType: BenchKey['id'];
  readonly path: BenchPath;
}

export interface Equivalence {
  readonly profile: BenchProfile['id'];
  readonly keyType: BenchKey['id'];
  readonly path: OpensslPath;
  /** Same subject, issuer, signature algorithm, validity in days and extensions as the CA path's certificate. */
  readonly equivalent: boolean;
  readonly differences: readonly string[];
}

export interface CaBenchReport extends BenchReport {
  readonly scenario: 'ca';
  readonly unit: 'cert';
  readonly cases: readonly CaCaseResult[];
  readonly database: { readonly driver: 'pglite' | 'postgres'; readonly where: string };
  /** Untimed preparation, ms. */
  readonly setupMs: Readonly<Record<string, number>>;
  readonly opensslCaKey: { readonly source: 'exported' | 'unsealed' | 'generated'; readonly note: string };
  readonly paths: Readonly<Partial<Record<BenchPath, string>>>;
  /** CA path certs/s divided by the openssl path's, per profile and key type. */
  readonly ratios: readonly { readonly profile: string; readonly keyType: string; readonly versus: OpensslPath; readonly caOverOpenssl: number }[];
  readonly verification: {
    readonly ok: boolean;
    /** Certificates given to `openssl verify`. */
    readonly checked: number;
    readonly verified: number;
    readonly failures: readonly string[];
    readonly equivalence: readonly Equivalence[];
  };
}

/** What one path did in a timed window: outputs are PEMs (CA path) or certificate files (openssl). */
interface Measurement {
  readonly count: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly outputs: { readonly pem?: string; readonly file?: string }[];
}

interface SubjectKey {
  readonly spki: string;
  readonly csrFile: string;
}

/** Everything a case needs, made before the clock starts. */
interface CaseInput {
  readonly profile: BenchProfile;
  readonly key: BenchKey;
  readonly certProfile: CertificateProfile;
  readonly subject: string;
  readonly email: string;
  readonly validityDays: number;
  readonly keys: readonly SubjectKey[];
  readonly extFile: string;
  readonly orderIds: string[];
}

interface OpensslCa {
  readonly certFile: string;
  readonly keyFile: string;
  /** Trust anchor and intermediates of `openssl verify` for what openssl signed. */
  readonly rootFile: string;
  readonly untrustedFile: string | null;
  readonly ski: string;
}

const KEY_USAGE_NAMES: readonly [number, string][] = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

/**
 * The openssl extfile of a leaf under its profile: the list leafExtensions (profiles.ts) builds, in its order. A
 * profile with something openssl cannot be told here (QCStatements) is refused rather than compared unequal.
 */
export function opensslExtfile(profile: CertificateProfile, leaf: { keyType: KeyType; email: string; dnsNames: readonly string[]; pkiBaseUrl: string }): string {
  if (profile.qcStatements) throw new Error(`${profile.product}: QCStatements have no extfile form here`);
  const ku = profile.keyUsage[leaf.keyType];
  const lines = ['basicConstraints = critical, CA:FALSE', `keyUsage = critical, ${KEY_USAGE_NAMES.filter(([flag]) => (ku & flag) !== 0).map(([, name]) => name).join(', ')}`];
  if (profile.extendedKeyUsage.length > 0) lines.push(`extendedKeyUsage = ${profile.extendedKeyUsage.join(', ')}`);
  lines.push(`certificatePolicies = ${profile.policies.join(', ')}`);
  if (profile.san === 'email') lines.push(`subjectAltName = email:${leaf.email}`);
  if (profile.san === 'dns' || profile.san === 'dns-wildcard') lines.push(`subjectAltName = ${leaf.dnsNames.map((name) => `DNS:${name}`).join(', ')}`);
  // openssl 3 adds a subject key identifier unless told not to.
  lines.push(`subjectKeyIdentifier = ${profile.subjectKeyIdentifier ? 'hash' : 'none'}`);
  lines.push('authorityKeyIdentifier = keyid:always');
  lines.push(`crlDistributionPoints = URI:${caCrlUrl(leaf.pkiBaseUrl, profile.issuingCa)}`);
  lines.push(`authorityInfoAccess = OCSP;URI:${ocspUrl(leaf.pkiBaseUrl)}, caIssuers;URI:${caCertificateUrl(leaf.pkiBaseUrl, profile.issuingCa)}`);
  return `${lines.join('\n')}\n`;
}

const elapsedMs = (since: number): number => Math.round(performance.now() - since);

/** Runs `one` over the jobs in `lanes` concurrent lanes until they are done or `seconds` have passed. */
async function inLanes<J>(jobs: readonly J[], lanes: number, seconds: number, one: (job: J) => Promise<Measurement['outputs'][number]>): Promise<Measurement> {
  const latenciesMs: number[] = [];
  const outputs: Measurement['outputs'] = [];
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length && performance.now() < deadline) {
      const job = jobs[next++] as J;
      const t0 = performance.now();
      outputs.push(await one(job));
      latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { count: outputs.length, seconds: (performance.now() - start) / 1000, latenciesMs, outputs };
}

/** Runs a process to its end; rejects with its stderr when it fails. */
function run(command: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${command} ${args.slice(0, 2).join(' ')} exited ${code}: ${Buffer.concat(err).toString('utf8').trim().slice(-2000)}`));
    });
  });
}

interface OpensslJob {
  readonly csrFile: string;
  readonly serial: string;
  readonly outFile: string;
}

const x509ReqArgs = (ca: OpensslCa, days: number, extFile: string, job: OpensslJob): string[] => [
  'x509',
  '-req',
  '-in',
  job.csrFile,
  '-CA',
  ca.certFile,
  '-CAkey',
  ca.keyFile,
  '-set_serial',
  `0x${job.serial}`,
  // openssl 3.0 has no -not_after: the CA path's TLS certificates end one second before these (BR inclusive count).
  '-days',
  String(days),
  '-sha384',
  '-extfile',
  extFile,
  '-out',
  job.outFile,
];

/** bash: every certificate timed with the builtin EPOCHREALTIME (no process for the clock), stop at the deadline. */
const SH_LOOP = `set -u
jobs=$1 ca=$2 key=$3 ext=$4 days=$5 limit_us=$6 err=$7
start=\${EPOCHREALTIME/./}
deadline=$((start + limit_us))
while read -r csr serial out; do
  t0=\${EPOCHREALTIME/./}
  [ "$t0" -ge "$deadline" ] && break
  openssl x509 -req -in "$csr" -CA "$ca" -CAkey "$key" -set_serial "0x$serial" -days "$days" -sha384 -extfile "$ext" -out "$out" 2>>"$err" || { cat "$err" >&2; exit 3; }
  t1=\${EPOCHREALTIME/./}
  echo "$t0 $t1 $out"
done < "$jobs"
`;

async function opensslShLoop(dir: string, ca: OpensslCa, input: CaseInput, jobs: readonly OpensslJob[], lanes: number, seconds: number): Promise<Measurement> {
  const script = join(dir, 'loop.sh');
  writeFileSync(script, SH_LOOP);
  const laneJobs = Array.from({ length: lanes }, (_, lane) => jobs.filter((_, i) => i % lanes === lane));
  const start = performance.now();
  const outs = await Promise.all(
    laneJobs.map((mine, lane) => {
      const jobsFile = join(dir, `jobs-${lane}.txt`);
      writeFileSync(jobsFile, mine.map((j) => `${j.csrFile} ${j.serial} ${j.outFile}\n`).join(''));
      const args = [script, jobsFile, ca.certFile, ca.keyFile, input.extFile, String(input.validityDays), String(Math.round(seconds * 1e6)), join(dir, `err-${lane}.log`)];
      return run('bash', args, { env: { ...process.env, LC_ALL: 'C' } });
    }),
  );
  const totalSeconds = (performance.now() - start) / 1000;
  const latenciesMs: number[] = [];
  const outputs: Measurement['outputs'] = [];
  for (const line of outs.join('').split('\n')) {
    const [t0, t1, file] = line.split(' ');
    if (t0 === undefined || t1 === undefined || file === undefined) continue;
    latenciesMs.push((Number(t1) - Number(t0)) / 1000);
    outputs.push({ file });
  }
  return { count: outputs.length, seconds: totalSeconds, latenciesMs, outputs };
}

/** `openssl ca` state of one lane: its index and serial files, its output folder. */
function caLane(dir: string, ca: OpensslCa): { config: string; certs: string } {
  const db = join(dir, 'db');
  const certs = join(dir, 'certs');
  mkdirSync(db, { recursive: true });
  mkdirSync(certs, { recursive: true });
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), '01\n');
  const config = join(dir, 'ca.cnf');
  // The policy lists every attribute of both subject layouts (lib/pki/subject.ts) as optional: without it openssl ca drops them.
  writeFileSync(
    config,
    `[ ca ]
default_ca = bench
[ bench ]
database = ${join(db, 'index.txt')}
serial = ${join(db, 'serial')}
new_certs_dir = ${certs}
certificate = ${ca.certFile}
private_key = ${ca.keyFile}
default_md = sha384
policy = anything
unique_subject = no
email_in_dn = no
preserve = yes
copy_extensions = none
[ anything ]
countryName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
organizationIdentifier = optional
surname = optional
givenName = optional
commonName = optional
`,
  );
  return { config, certs };
}

async function opensslCaBatch(dir: string, ca: OpensslCa, input: CaseInput, jobs: readonly OpensslJob[], lanes: number, seconds: number): Promise<Measurement> {
  const laneState = Array.from({ length: lanes }, (_, lane) => caLane(join(dir, `lane-${lane}`), ca));
  const start = performance.now();
  const deadline = start + seconds * 1000;
  // Every lane gets work even when the count is small.
  const chunkSize = Math.min(BATCH_SIZE, Math.ceil(jobs.length / lanes));
  let next = 0;
  let count = 0;
  await Promise.all(
    laneState.map(async ({ config }, lane) => {
      for (let chunk = 0; next < jobs.length && performance.now() < deadline; chunk++) {
        const mine = jobs.slice(next, next + chunkSize);
        next += mine.length;
        await run('openssl', [
          'ca',
          '-batch',
          '-config',
          config,
          '-rand_serial',
          '-preserveDN',
          '-notext',
          '-days',
          String(input.validityDays),
          '-extfile',
          input.extFile,
          '-out',
          join(dir, `lane-${lane}`, `out-${chunk}.pem`),
          '-infiles',
          ...mine.map((j) => j.csrFile),
        ]);
        count += mine.length;
      }
    }),
  );
  const totalSeconds = (performance.now() - start) / 1000;
  const outputs = laneState.flatMap(({ certs }) => readdirSync(certs).map((name) => ({ file: join(certs, name) })));
  if (outputs.length !== count) throw new Error(`openssl ca wrote ${outputs.length} certificates for ${count} requests`);
  return { count, seconds: totalSeconds, latenciesMs: [], outputs };
}

async function subjectKeyPairs(keyType: KeyType, n: number): Promise<webcrypto.CryptoKeyPair[]> {
  const algorithm =
    keyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: 'P-256' };
  return Promise.all(Array.from({ length: n }, () => webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])));
}

/**
 * The issuing CA's P-384 key as PKCS#8 for openssl: exported when the CryptoKey allows it, else opened from its sealed
 * row with the run's own master key (and checked against the certificate), else a generated P-384 CA of the same name.
 */
async function opensslCaFor(
  caId: CaId,
  ctx: { dir: string; hierarchy: Hierarchy; chainPem: string[]; forceGenerated: boolean },
): Promise<{ ca: OpensslCa; source: 'exported' | 'unsealed' | 'generated'; why: string[] }> {
  const issuing = ctx.hierarchy.ca(caId);
  const why: string[] = [];
  const certFile = join(ctx.dir, `${caId}.pem`);
  const keyFile = join(ctx.dir, `${caId}.key`);
  const writeKey = (pkcs8: Buffer): void => {
    writeFileSync(keyFile, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    pkcs8.fill(0);
  };
  const [, ...ancestors] = ctx.chainPem;
  const own = (source: 'exported' | 'unsealed'): { ca: OpensslCa; source: 'exported' | 'unsealed'; why: string[] } => {
    writeFileSync(certFile, issuing.pem);
    const rootFile = join(ctx.dir, `${caId}-root.pem`);
    const untrustedFile = join(ctx.dir, `${caId}-untrusted.pem`);
    writeFileSync(rootFile, ancestors.at(-1) ?? '');
    writeFileSync(untrustedFile, [issuing.pem, ...ancestors.slice(0, -1)].join(''));
    return { ca: { certFile, keyFile, rootFile, untrustedFile, ski: issuing.keyId }, source, why };
  };
  if (ctx.forceGenerated) {
    why.push('asked for a generated CA');
  } else {
    try {
      writeKey(Buffer.from(await webcrypto.subtle.exportKey('pkcs8', issuing.signingKey)));
      return own('exported');
    } catch (err) {
      why.push(`exportKey: ${(err as Error).message}`);
    }
  }
  // An equivalent stand-in: P-384, the issuing CA's name, self-signed, so openssl verify takes it as the anchor.
  const keys = await webcrypto.subtle.generateKey(CA_KEY_ALGORITHM, true, ['sign', 'verify']);
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false);
  const now = new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: issuing.certificate.subjectName,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 365 * 86_400_000),
    keys,
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ski,
    ],
  });
  writeFileSync(certFile, cert.toString('pem'));
  writeKey(Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)));
  return { ca: { certFile, keyFile, rootFile: certFile, untrustedFile: null, ski: ski.keyId }, source: 'generated', why };
}

/** One customer and its orders: certificate rows reference orders (db/schema.ts). */
async function seedOrders(db: Database, runId: string, products: readonly ProductCode[], perProduct: number): Promise<Map<ProductCode, string[]>> {
  const org = await upsertOrganisation(db, { siret: ORGANISATION.siret, name: ORGANISATION.name, locality: ORGANISATION.locality });
  const user = await createUser(db, { email: `bench-${runId}@example.test`, role: 'customer', organisationId: org.id, ...HOLDER, phone: '+33612345678' });
  const byProduct = new Map<ProductCode, string[]>();
  for (const product of products) {
    const ids: string[] = [];
    for (let i = 0; i < perProduct; i++) {
      const orderId = randomUUID();
      const view = newOrderView({
        orderId,
        product,
        durationYears: 3,
        os: 'windows',
        partnerCode: null,
        holder: { userId: user.id, email: user.email, givenName: user.givenName, surname: user.surname, phone: user.phone, language: 'fr' },
        orderedByUserId: user.id,
        organisation: { id: org.id, siret: org.siret, name: org.name, locality: ORGANISATION.locality },
        certificateRequest: null,
        domainOwner: null,
        payment: { method: 'transfer', purchaseOrderNumber: null },
        priceCents: 0,
        createdAt: new Date().toISOString(),
        deadlines: DEFAULT_DEADLINES,
      });
      await upsertOrderView(db, `order-${orderId}`, view);
      ids.push(orderId);
    }
    byProduct.set(product, ids);
  }
  return byProduct;
}

const hex = (data: ArrayBuffer | Uint8Array): string => Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('hex');

/**
 * What must be equal between two certificates of the same profile and key type for their signing to be the same
 * work: names, algorithms, validity in days, and every extension's DER, except the key identifiers, which are
 * compared as what they identify (the subject's key, the signing CA's key).
 */
export async function certificateShape(pem: string, issuerSki: string): Promise<Record<string, string>> {
  const cert = new x509.X509Certificate(pem);
  const fields: Record<string, string> = {
    subject: cert.subject,
    issuer: cert.issuer,
    signatureAlgorithm: JSON.stringify(cert.signatureAlgorithm),
    publicKeyAlgorithm: JSON.stringify(cert.publicKey.algorithm),
    validityDays: String(Math.round((cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000)),
  };
  const skiOfKey = (await x509.SubjectKeyIdentifierExtension.create(cert.publicKey)).keyId;
  for (const ext of cert.extensions) {
    let value = hex(ext.value);
    if (ext instanceof x509.SubjectKeyIdentifierExtension) value = ext.keyId === skiOfKey ? 'SHA-1 of the subject key' : `other: ${ext.keyId}`;
    if (ext instanceof x509.AuthorityKeyIdentifierExtension) {
      value =
        ext.keyId === issuerSki && ext.certId === undefined
          ? 'keyIdentifier of the signing CA'
          : `other: keyIdentifier ${ext.keyId ?? '(none)'}${ext.certId === undefined ? '' : ' with issuer and serial'}`;
    }
    fields[`extension ${ext.type}`] = `${ext.critical ? 'critical ' : ''}${value}`;
  }
  return fields;
}

export function shapeDifferences(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => a[k] !== b[k]).map((k) => `${k}: CA path ${a[k] ?? '(absent)'} / openssl ${b[k] ?? '(absent)'}`);
}

/** Evenly spread picks of at most n items. */
const spread = <T>(items: readonly T[], n: number): T[] => {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)] as T);
};

function openssl(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `openssl verify` of files under a chain; the files that do not answer OK, with openssl's words. */
function verifyFiles(files: readonly string[], chain: { rootFile: string; untrustedFile: string | null }, purpose: string): string[] {
  if (files.length === 0) return [];
  const r = openssl(['verify', '-x509_strict', '-purpose', purpose, '-CAfile', chain.rootFile, ...(chain.untrustedFile === null ? [] : ['-untrusted', chain.untrustedFile]), ...files]);
  const ok = new Set(r.stdout.split('\n').flatMap((line) => (line.endsWith(': OK') ? [line.slice(0, -4)] : [])));
  return files.filter((f) => !ok.has(f)).map((f) => `${f}: ${(r.stdout + r.stderr).split('\n').filter((l) => l.includes(f) || l.startsWith('error')).join(' | ') || 'not OK'}`);
}

const PURPOSE: Readonly<Record<BenchProfile['id'], string>> = { tls: 'sslserver', person: 'smimesign' };

export async function runCaBench(opts: Partial<CaBenchOptions> = {}): Promise<{ report: CaBenchReport; reportPath: string | null }> {
  const o = { ...CA_BENCH_DEFAULTS, ...opts };
  const log = opts.log ?? ((line: string) => console.log(line));
  const paths = PATHS.filter((p) => o.paths.includes(p));
  const startedAt = new Date();
  const runId = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'certflow-bench-ca-'));
  chmodSync(dir, 0o700);
  const setupMs: Record<string, number> = {};
  let handle: DatabaseHandle | undefined;
  try {
    let t = performance.now();
    if (o.databaseUrl === undefined) {
      handle = await openPglite(join(dir, 'pglite'));
      await migrateDatabase(handle);
    } else {
      handle = openPostgres(o.databaseUrl, o.concurrency + 2);
    }
    const db = handle.db;
    setupMs.database = elapsedMs(t);
    const where = o.databaseUrl === undefined ? 'throwaway PGlite in a temporary folder, migrated for the run' : `DATABASE_URL ${redactUrl(o.databaseUrl)}`;
    log(`database: ${handle.driver} (${where})`);

    if (opts.masterKey === undefined && (await db.select({ id: certificateAuthorities.id }).from(certificateAuthorities).limit(1)).length > 0) {
      throw new Error(
        'this database already holds a CA hierarchy, sealed under a master key the bench does not have: it uses a fresh key per run. ' +
          'Point DATABASE_URL at a migrated database without CAs, or leave it unset (throwaway PGlite).',
      );
    }
    const secrets = loadSecrets({ MASTER_KEY: opts.masterKey ?? randomBytes(32).toString('base64'), DATA_DIR: dir, embeddedDatabase: false, PAYMENT_WEBHOOK_SECRET: undefined });
    // The CA keys on a PKCS#11 token: the caller's (the tests pass the run's), else a SoftHSM2 directory of the run's
    // own; the ceremony makes the hierarchy there, with PINs derived from the run's master key.
    const modulePath = o.pkcs11?.modulePath ?? resolveSoftHsm().modulePath;
    const softHsmConf = o.pkcs11?.softHsmConf ?? writeSoftHsmConfig(join(dir, 'softhsm'));
    const pins = { so: derivedPin(secrets, 'pkcs11-so'), root: derivedPin(secrets, 'certflow-root'), ca: derivedPin(secrets, 'certflow-ca'), ocsp: derivedPin(secrets, 'certflow-ocsp') };
    await ceremonyOn(db, { modulePath, softHsmConf, pins, pkiBaseUrl: PKI_BASE_URL });
    const internals = createCaWithInternals({ db, secrets, pkiBaseUrl: PKI_BASE_URL, pdsUrl: PDS_URL, pkcs11: { modulePath, softHsmConf, caPin: pins.ca, ocspPin: pins.ocsp } });
    const { ca } = internals;
    t = performance.now();
    await ca.ensureHierarchy();
    const hierarchy = await internals.hierarchy();
    setupMs.hierarchy = elapsedMs(t);

    // openssl's CAs: the issuing CAs of the benchmarked profiles.
    const opensslCas = new Map<CaId, OpensslCa>();
    const caSources: { caId: CaId; source: 'exported' | 'unsealed' | 'generated'; why: string[] }[] = [];
    if (paths.some((p) => p !== 'ca-activity')) {
      for (const caId of new Set(BENCH_PROFILES.map((p) => PROFILES[p.product].issuingCa))) {
        const chainPem = (await ca.chainPem({ caId })).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
        const got = await opensslCaFor(caId, { dir, hierarchy, chainPem, forceGenerated: o.opensslCa === 'generated' });
        opensslCas.set(caId, got.ca);
        caSources.push({ caId, source: got.source, why: got.why });
      }
    }
    const keySource = caSources.some((s) => s.source === 'generated') ? 'generated' : caSources.some((s) => s.source === 'unsealed') ? 'unsealed' : 'exported';
    const keyNote =
      caSources.length === 0
        ? 'no openssl path in this run'
        : keySource === 'generated'
          ? `openssl signs with a GENERATED P-384 CA of the issuing CA's name, not the CA's own key (${caSources.flatMap((s) => s.why).join('; ')}); its certificates verify against that stand-in`
          : keySource === 'unsealed'
            ? "openssl signs with the issuing CA's own P-384 key: non-extractable in the CA, so the run opened its sealed row with the master key it made (checked against the CA certificate)"
            : "openssl signs with the issuing CA's own P-384 key, exported from the CA's CryptoKey";
    log(`openssl CA key: ${keyNote}`);

    // Subject keys and CSRs: made before anything is timed (generation is not issuance).
    t = performance.now();
    const keyPairs = new Map<KeyType, webcrypto.CryptoKeyPair[]>();
    for (const { keyType } of KEY_TYPES) keyPairs.set(keyType, await subjectKeyPairs(keyType, o.keys));
    setupMs.subjectKeys = elapsedMs(t);
    t = performance.now();
    const validityAt = new Date();
    const inputs: CaseInput[] = [];
    for (const profile of BENCH_PROFILES) {
      const certProfile = PROFILES[profile.product];
      const email = `camille.durand.${runId}@example.test`;
      const dnsNames = certProfile.san === 'dns' || certProfile.san === 'dns-wildcard' ? [...DNS_NAMES] : [];
      const subject = subjectString(subjectFields(certProfile.kind, { holder: HOLDER, organisation: ORGANISATION, dnsNames }));
      // As the activity computes it (activities/index.ts): the BR maximum today for TLS, otherwise the paid years within
      // the profile's own maximum (825 days at most for S/MIME).
      const validityDays = certProfile.validity.kind === 'br-schedule' ? tlsValidityDaysAt(validityAt) : Math.min(3 * 365, maxValidityDays(certProfile, validityAt));
      for (const key of KEY_TYPES) {
        const caseDir = join(dir, `${profile.id}-${key.id}`);
        mkdirSync(caseDir, { recursive: true });
        const extFile = join(caseDir, 'ext.cnf');
        writeFileSync(extFile, opensslExtfile(certProfile, { keyType: key.keyType, email, dnsNames, pkiBaseUrl: PKI_BASE_URL }));
        const keys = await Promise.all(
          (keyPairs.get(key.keyType) ?? []).map(async (pair, k) => {
            const csr = await x509.Pkcs10CertificateRequestGenerator.create({
              name: new x509.Name(subject),
              keys: pair,
              signingAlgorithm: key.keyType === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', hash: 'SHA-256' },
            });
            const csrFile = join(caseDir, `key-${k}.csr`);
            writeFileSync(csrFile, csr.toString('pem'));
            return { spki: Buffer.from(await webcrypto.subtle.exportKey('spki', pair.publicKey)).toString('base64'), csrFile };
          }),
        );
        inputs.push({ profile, key, certProfile, subject, email, validityDays, keys, extFile, orderIds: [] });
      }
    }
    setupMs.csrs = elapsedMs(t);

    // Orders for every CA-path certificate, warm-up included.
    t = performance.now();
    const ordersPerCase = Math.min(o.count, ORDERS_PER_CASE_MAX) + o.warmup;
    if (paths.includes('ca-activity')) {
      const orders = await seedOrders(db, runId, [...new Set(BENCH_PROFILES.map((p) => p.product))], ordersPerCase * KEY_TYPES.length);
      for (const input of inputs) {
        const mine = orders.get(input.profile.product) ?? [];
        const k = KEY_TYPES.indexOf(input.key);
        input.orderIds.push(...mine.slice(k * ordersPerCase, (k + 1) * ordersPerCase));
      }
    }
    setupMs.orders = elapsedMs(t);
    log(`setup (untimed): ${Object.entries(setupMs).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
    log(`per case: ${o.count} certificates or ${o.seconds} s, whichever first; concurrency ${o.concurrency}; ${o.warmup} warm-up certificates first`);

    const cases: CaCaseResult[] = [];
    const produced = new Map<string, Measurement['outputs']>();
    for (const input of inputs) {
      for (const path of paths) {
        const name = `${input.profile.id}/${input.key.id} ${path}`;
        let measure: (n: number, seconds: number, tag: string) => Promise<Measurement>;
        if (path === 'ca-activity') {
          // Requests exactly as the activity builds them (activities/index.ts), all made before the clock starts.
          const requests = (n: number, tag: string): IssueRequest[] =>
            Array.from({ length: n }, (_, i) => ({
              issuanceKey: `bench-${runId}/${input.profile.id}/${input.key.id}/${tag}/${i}`,
              orderId: tag === 'warmup' ? (input.orderIds[ordersPerCase - 1 - i] as string) : (input.orderIds[i % (ordersPerCase - o.warmup)] as string),
              product: input.profile.product,
              holder: { ...HOLDER, email: input.email },
              organisation: { name: ORGANISATION.name, siret: ORGANISATION.siret, locality: ORGANISATION.locality },
              publicKeySpki: (input.keys[i % input.keys.length] as SubjectKey).spki,
              ...(input.certProfile.san === 'dns' ? { dnsNames: [...DNS_NAMES] } : {}),
              validityDays: input.validityDays,
            }));
          measure = (n, seconds, tag) => {
            const reqs = requests(n, tag);
            return inLanes(reqs, o.concurrency, seconds, async (req) => ({ pem: (await ca.issueCertificate(req)).pem }));
          };
        } else {
          const ca = opensslCas.get(input.certProfile.issuingCa);
          if (ca === undefined) throw new Error(`no openssl CA for ${input.certProfile.issuingCa}`);
          measure = (n, seconds, tag) => {
            const out = join(dir, `${input.profile.id}-${input.key.id}`, `${path}-${tag}`);
            mkdirSync(out, { recursive: true });
            const jobs: OpensslJob[] = Array.from({ length: n }, (_, i) => ({
              csrFile: (input.keys[i % input.keys.length] as SubjectKey).csrFile,
              serial: randomSerial(),
              outFile: join(out, `${i}.pem`),
            }));
            if (path === 'openssl-spawn') return inLanes(jobs, o.concurrency, seconds, async (job) => (await run('openssl', x509ReqArgs(ca, input.validityDays, input.extFile, job)), { file: job.outFile }));
            if (path === 'openssl-sh-loop') return opensslShLoop(out, ca, input, jobs, o.concurrency, seconds);
            return opensslCaBatch(out, ca, input, jobs, o.concurrency, seconds);
          };
        }
        // Warm-up: as many certificates as asked, with no time bound worth the name.
        if (o.warmup > 0) await measure(o.warmup, 3600, 'warmup');
        const m = await measure(o.count, o.seconds, 'timed');
        if (m.count === 0) throw new Error(`${name}: no certificate in ${o.seconds} s`);
        produced.set(name, m.outputs);
        const result = caseResult(name, { count: m.count, seconds: m.seconds, latenciesMs: m.latenciesMs, lanes: o.concurrency });
        cases.push({ ...result, profile: input.profile.id, product: input.profile.product, keyType: input.key.id, path });
        log(`  ${name}: ${result.count} certs in ${result.seconds} s = ${result.perSecond}/s`);
      }
    }

    // Equivalent work: a sample of each case verifies against its chain, and has the CA path's extensions.
    const sampleDir = join(dir, 'sample');
    mkdirSync(sampleDir);
    const failures: string[] = [];
    const equivalence: Equivalence[] = [];
    let checked = 0;
    for (const input of inputs) {
      const issuing = hierarchy.ca(input.certProfile.issuingCa);
      const caChain = (await ca.chainPem({ caId: issuing.id })).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
      let reference: Record<string, string> | undefined;
      for (const path of paths) {
        const name = `${input.profile.id}/${input.key.id} ${path}`;
        const picks = spread(produced.get(name) ?? [], o.sample);
        const files = picks.map((p, i) => {
          if (p.file !== undefined) return p.file;
          const file = join(sampleDir, `${input.profile.id}-${input.key.id}-${path}-${i}.pem`);
          writeFileSync(file, p.pem ?? '');
          return file;
        });
        checked += files.length;
        let chain: { rootFile: string; untrustedFile: string | null; ski: string };
        if (path === 'ca-activity') {
          const rootFile = join(sampleDir, `${issuing.id}-root.pem`);
          const untrustedFile = join(sampleDir, `${issuing.id}-untrusted.pem`);
          writeFileSync(rootFile, caChain.at(-1) ?? '');
          writeFileSync(untrustedFile, caChain.slice(0, -1).join(''));
          chain = { rootFile, untrustedFile, ski: issuing.keyId };
        } else {
          chain = opensslCas.get(issuing.id) as OpensslCa;
        }
        failures.push(...verifyFiles(files, chain, PURPOSE[input.profile.id]).map((f) => `${name}: ${f}`));
        const first = files[0];
        if (first === undefined) continue;
        const got = await certificateShape(readFileSync(first, 'utf8'), chain.ski);
        if (path === 'ca-activity') reference = got;
        else if (reference !== undefined) {
          const diff = shapeDifferences(reference, got);
          equivalence.push({ profile: input.profile.id, keyType: input.key.id, path, equivalent: diff.length === 0, differences: diff });
        }
      }
    }
    const verified = checked - failures.length;

    const ratios: CaBenchReport['ratios'][number][] = [];
    for (const input of inputs) {
      const caCase = cases.find((c) => c.profile === input.profile.id && c.keyType === input.key.id && c.path === 'ca-activity');
      for (const versus of OPENSSL_PATHS) {
        const other = cases.find((c) => c.profile === input.profile.id && c.keyType === input.key.id && c.path === versus);
        if (caCase !== undefined && other !== undefined) {
          ratios.push({ profile: input.profile.id, keyType: input.key.id, versus, caOverOpenssl: Number((caCase.perSecond / other.perSecond).toFixed(3)) });
        }
      }
    }

    const report: CaBenchReport = {
      scenario: 'ca',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      unit: 'cert',
      machine: machineInfo(),
      options: { seconds: o.seconds, count: o.count, concurrency: o.concurrency, warmup: o.warmup, keys: o.keys, sample: o.sample, paths },
      database: { driver: handle.driver, where },
      setupMs,
      opensslCaKey: { source: keySource, note: keyNote },
      paths: Object.fromEntries(paths.map((p) => [p, PATH_DESCRIPTIONS[p]])),
      cases,
      ratios,
      verification: { ok: failures.length === 0 && equivalence.every((e) => e.equivalent), checked, verified, failures, equivalence },
    };
    const reportPath = opts.reportDir === null ? null : writeReport(report, opts.reportDir ?? BENCH_RESULTS_DIR);
    return { report, reportPath };
  } finally {
    await handle?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A postgres URL without its password, for the report. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export function printCaReport(report: CaBenchReport, reportPath: string | null, log: (line: string) => void = (line) => console.log(line)): void {
  log('');
  log(`ca: certificates signed per second, CA activity path vs openssl, same profiles, same run`);
  log(`machine: ${machineLine(report.machine)}`);
  log(`database: ${report.database.driver} (${report.database.where})`);
  log(`openssl CA key: ${report.opensslCaKey.note}`);
  log('');
  log(casesTable(report.cases, report.unit));
  if (report.ratios.length > 0) {
    log('');
    log('CA path certs/s ÷ openssl certs/s (above 1: the CA path is faster):');
    const versus = OPENSSL_PATHS.filter((p) => report.ratios.some((r) => r.versus === p));
    const groups = [...new Set(report.ratios.map((r) => `${r.profile}/${r.keyType}`))];
    log(
      formatTable(
        ['profile/key', ...versus.map((v) => `÷ ${v}`)],
        groups.map((g) => [g, ...versus.map((v) => report.ratios.find((r) => `${r.profile}/${r.keyType}` === g && r.versus === v)?.caOverOpenssl ?? null)]),
      ),
    );
  }
  log('');
  for (const [path, description] of Object.entries(report.paths)) log(`${path}: ${description}`);
  log('');
  const v = report.verification;
  const unequal = v.equivalence.filter((e) => !e.equivalent);
  log(`verification: ${v.verified}/${v.checked} sampled certificates verify with \`openssl verify -x509_strict\` against their chain`);
  for (const f of v.failures) log(`  FAILED ${f}`);
  log(
    unequal.length === 0
      ? `equivalence: every openssl path's certificate has the CA path's subject, issuer, algorithms, validity and extensions (${v.equivalence.length} comparisons)`
      : `equivalence: ${unequal.length} of ${v.equivalence.length} comparisons differ`,
  );
  for (const e of unequal) log(`  ${e.profile}/${e.keyType} ${e.path}: ${e.differences.join('; ')}`);
  if (reportPath !== null) log(`report: ${reportPath}`);
}

const pathList = (value: string): BenchPath[] => {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = list.filter((p) => !(PATHS as readonly string[]).includes(p));
  if (bad.length > 0 || list.length === 0) throw new InvalidArgumentError(`a comma-separated list of ${PATHS.join(', ')}`);
  return list as BenchPath[];
};

/** `npm run bench -- ca [options]`. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('bench ca')
    .description('certificates signed per second by the CA activity path against openssl signing the same profiles, in one run')
    .option('--seconds <s>', 'time bound of each case', positiveNumber, CA_BENCH_DEFAULTS.seconds)
    .option('--count <n>', 'certificates per case at most', positiveInt, CA_BENCH_DEFAULTS.count)
    .option('--concurrency <n>', 'certificates in flight at once in every path', positiveInt, CA_BENCH_DEFAULTS.concurrency)
    .option('--warmup <n>', 'untimed certificates before each case', nonNegativeInt, CA_BENCH_DEFAULTS.warmup)
    .option('--keys <n>', 'subject keys per key type, used in turn', positiveInt, CA_BENCH_DEFAULTS.keys)
    .option('--sample <n>', 'certificates per case checked with openssl verify', positiveInt, CA_BENCH_DEFAULTS.sample)
    .addOption(new Option('--paths <list>', `comma-separated, of ${PATHS.join(', ')}`).argParser(pathList).default([...PATHS], 'all'))
    .option('--generated-openssl-ca', "sign the openssl side with a generated P-384 CA instead of the issuing CA's key")
    .addOption(new Option('--out <dir>', 'folder of the JSON report').default(BENCH_RESULTS_DIR, 'bench-results/'))
    .addHelpText('after', '\nDATABASE_URL set: that (migrated, CA-less) database instead of a throwaway PGlite.')
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const flags = program.opts<{
    seconds: number;
    count: number;
    concurrency: number;
    warmup: number;
    keys: number;
    sample: number;
    paths: BenchPath[];
    generatedOpensslCa?: boolean;
    out: string;
  }>();
  const databaseUrl = process.env.DATABASE_URL?.trim();
  const { report, reportPath } = await runCaBench({
    seconds: flags.seconds,
    count: flags.count,
    concurrency: flags.concurrency,
    warmup: flags.warmup,
    keys: flags.keys,
    sample: flags.sample,
    paths: flags.paths,
    opensslCa: flags.generatedOpensslCa === true ? 'generated' : 'auto',
    reportDir: flags.out,
    ...(databaseUrl ? { databaseUrl } : {}),
  });
  printCaReport(report, reportPath);
  if (!report.verification.ok) {
    console.error('the sampled certificates do not show equivalent work: see above');
    process.exitCode = 1;
  }
}
