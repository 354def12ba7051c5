/**
 * The CA keys on the PKCS#11 token (issue 16): OpenSC's pkcs11-tool, from outside CertFlow, lists every issuing CA's
 * and OCSP responder's key on the run's SoftHSM2 tokens as sensitive and never extractable, generated there; the
 * attributes read back with graphene say the same; no private key is in Postgres; the ceremony is idempotent; the API
 * answers with the certflow-ocsp token alone, while a worker cannot sign without certflow-ca.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCaWithInternals } from '../../activities/ca/ca.js';
import { configSchema, loadConfig } from '../../config/index.js';
import { openPostgres, type DatabaseHandle } from '../../db/client.js';
import { certificateAuthorities, ocspResponders } from '../../db/schema.js';
import { keyAttributes, privateKeyLabels } from '../../lib/pkcs11/keys.js';
import { openToken, TOKEN_LABELS, type OpenToken } from '../../lib/pkcs11/session.js';
import { subtle } from '../../lib/pki/x509.js';
import { runTestCeremony } from '../ceremony-setup.js';
import { CA_URLS, openssl, testPkcs11 } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let handle: DatabaseHandle;
let internals: ReturnType<typeof createCaWithInternals>;
let caToken: OpenToken;
let ocspToken: OpenToken;
let issuingLabels: string[];
let rootLabels: string[];
let responderLabels: string[];

beforeAll(async () => {
  handle = openPostgres(inject('databaseUrl'), 2);
  internals = createCaWithInternals({ db: handle.db, secrets: (await import('./support.js')).testSecrets(), ...CA_URLS });
  await internals.ca.ensureHierarchy();
  const pkcs11 = testPkcs11();
  caToken = openToken({ modulePath: pkcs11.modulePath, label: TOKEN_LABELS.ca, pin: pkcs11.caPin ?? '' });
  ocspToken = openToken({ modulePath: pkcs11.modulePath, label: TOKEN_LABELS.ocsp, pin: pkcs11.ocspPin ?? '' });
  const cas = await handle.db.select().from(certificateAuthorities);
  issuingLabels = cas.filter((ca) => ca.parentId !== null).map((ca) => ca.keyLabel ?? '');
  rootLabels = cas.filter((ca) => ca.parentId === null).map((ca) => ca.keyLabel ?? '');
  responderLabels = (await handle.db.select().from(ocspResponders)).map((r) => r.keyLabel);
});
afterAll(async () => {
  caToken?.close();
  ocspToken?.close();
  await handle?.close();
});

/** pkcs11-tool's private-key objects of a token: label → its "Access:" line. */
function listedPrivateKeys(tokenLabel: string, pin: string): Map<string, string> {
  const run = spawnSync(
    inject('pkcs11ToolPath'),
    ['--module', inject('pkcs11ModulePath'), '--token-label', tokenLabel, '--login', '--pin', pin, '--list-objects', '--type', 'privkey'],
    { encoding: 'utf8', env: { ...process.env, SOFTHSM2_CONF: inject('softHsmConf') } },
  );
  expect(run.status, run.stderr).toBe(0);
  const keys = new Map<string, string>();
  for (const block of run.stdout.split(/^(?=Private Key Object)/m).filter((b) => b.startsWith('Private Key Object'))) {
    const label = /^\s*label:\s*(.+)$/m.exec(block)?.[1]?.trim();
    const access = /^\s*Access:\s*(.+)$/m.exec(block)?.[1]?.trim();
    expect(block).toMatch(/^Private Key Object; EC/);
    if (label !== undefined) keys.set(label, access ?? '');
  }
  return keys;
}

/** Rows of a raw query, whichever driver (postgres.js gives an array, PGlite an object with rows). */
const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? (result as T[]) : ((result as { rows: T[] }).rows ?? []));

const ACCESS = ['sensitive', 'always sensitive', 'never extractable', 'local'];

describe('the CA keys on the SoftHSM2 token', () => {
  it('pkcs11-tool lists every issuing CA key on certflow-ca as sensitive and never extractable, and no root key there', () => {
    expect(issuingLabels).toHaveLength(3);
    const listed = listedPrivateKeys(TOKEN_LABELS.ca, testPkcs11().caPin ?? '');
    for (const label of issuingLabels) {
      const access = listed.get(label);
      expect(access, `${label} is not on certflow-ca`).toBeDefined();
      expect(access?.split(/,\s*/).sort()).toEqual([...ACCESS].sort());
    }
    for (const label of rootLabels) expect(listed.has(label)).toBe(false);
  });

  it('pkcs11-tool lists every OCSP responder key on certflow-ocsp the same way', () => {
    expect(responderLabels).toHaveLength(6);
    const listed = listedPrivateKeys(TOKEN_LABELS.ocsp, testPkcs11().ocspPin ?? '');
    for (const label of responderLabels) expect(listed.get(label)?.split(/,\s*/).sort()).toEqual([...ACCESS].sort());
  });

  it('reads the attributes back from the token: sensitive, not extractable, always so, generated there', () => {
    for (const [token, labels] of [
      [caToken, issuingLabels],
      [ocspToken, responderLabels],
    ] as const) {
      for (const label of labels) {
        expect(keyAttributes(token.session, label)).toMatchObject({
          label,
          token: true,
          private: true,
          sensitive: true,
          extractable: false,
          alwaysSensitive: true,
          neverExtractable: true,
          local: true,
        });
      }
    }
    expect(privateKeyLabels(caToken.session)).toEqual(expect.arrayContaining(issuingLabels));
  });

  it('signs with a key whose value it cannot read or export', async () => {
    const issuing = (await internals.hierarchy()).ca('tls-issuing');
    await expect(subtle.exportKey('pkcs8', issuing.signingKey)).rejects.toThrow();
    await expect(caToken.crypto.subtle.exportKey('pkcs8', issuing.signingKey as never)).rejects.toThrow();
    const key = caToken.session.find({ label: issuing.keyLabel ?? '' }).items(0);
    // CKA_VALUE of a sensitive key: the token refuses.
    expect(() => key.getAttribute({ value: null })).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
  });

  it('keeps no private key in Postgres: no column of any table holds a PKCS#8 key or a sealed CA key', async () => {
    const columns = rowsOf<{ table_name: string; column_name: string }>(await handle.db.execute(
      sql`select table_name, column_name from information_schema.columns where table_schema = 'public' and data_type in ('text', 'character varying', 'jsonb', 'bytea')`,
    ));
    let scanned = 0;
    for (const { table_name: table, column_name: column } of columns) {
      const [hit] = rowsOf<{ n: number }>(
        await handle.db.execute(sql`select count(*)::int as n from ${sql.identifier(table)} where ${sql.identifier(column)}::text ~ 'PRIVATE KEY|MII[A-Za-z0-9+/]{20,}AgEAMBAGByqGSM49'`),
      );
      expect(hit?.n, `${table}.${column}`).toBe(0);
      scanned++;
    }
    expect(scanned).toBeGreaterThan(20);
    // The CA tables hold certificates and key labels only: no sealed value (v1.…) either.
    for (const row of [...(await handle.db.select().from(certificateAuthorities)), ...(await handle.db.select().from(ocspResponders))]) {
      expect(JSON.stringify(row)).not.toMatch(/"v1\.|PRIVATE KEY/);
    }
  });

  it('gives the worker and the API no setting for the roots’ token: only the ceremony opens certflow-root', () => {
    const settings = Object.keys(configSchema.shape);
    expect(settings).toEqual(expect.arrayContaining(['PKCS11_CA_PIN', 'PKCS11_OCSP_PIN']));
    expect(settings.filter((name) => /ROOT|SO_PIN/.test(name))).toEqual([]);
    const config = loadConfig({ DATA_DIR: tmpdir(), DATABASE_URL: inject('databaseUrl'), MASTER_KEY: inject('masterKey'), PKCS11_ROOT_PIN: 'whatever-123' });
    expect(JSON.stringify(config)).not.toContain('whatever-123');
    // The processes' code never reaches the ceremony.
    for (const file of ['worker/main.ts', 'api/main.ts', 'activities/services.ts', 'activities/ca/ca.ts', 'activities/ca/view.ts']) {
      expect(readFileSync(join(ROOT, file), 'utf8')).not.toMatch(/from '[^']*ceremony|TOKEN_LABELS\.root|certflow-root/);
    }
  });

  it('the ceremony run again changes nothing', () => {
    const again = runTestCeremony({ databaseUrl: inject('databaseUrl'), masterKey: inject('masterKey'), modulePath: inject('pkcs11ModulePath'), softHsmConf: inject('softHsmConf') });
    expect(again.output.trim()).toBe('ceremony: nothing to do, every CA, responder and CRL is in place');
  }, 120_000);
});

describe('who opens which token', () => {
  /** The run's token directory without the certflow-ca and certflow-root tokens: only certflow-ocsp is left. */
  function ocspOnlyTokens(): string {
    const dir = mkdtempSync(join(tmpdir(), 'certflow-ocsp-only-'));
    const source = join(inject('softHsmConf'), '..', 'tokens');
    cpSync(source, join(dir, 'tokens'), { recursive: true });
    for (const token of readdirSync(join(dir, 'tokens'))) {
      const info = readFileSync(join(dir, 'tokens', token, 'token.object'));
      if (!info.includes(TOKEN_LABELS.ocsp)) rmSync(join(dir, 'tokens', token), { recursive: true, force: true });
    }
    const conf = join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    return conf;
  }

  /** Runs `body` in a fresh Node with the API's (or the worker's) services on a token directory holding only certflow-ocsp. */
  function inProcess(body: string, conf: string, env: Record<string, string> = {}) {
    const script = [
      "import { loadConfig } from './config/index.ts';",
      "import { openPostgres } from './db/client.ts';",
      "import { createApiServices, createServices } from './activities/services.ts';",
      'const config = loadConfig();',
      'const db = openPostgres(config.DATABASE_URL, 2);',
      'try {',
      body,
      '} finally { await db.close(); }',
    ].join('\n');
    return spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, DATABASE_URL: inject('databaseUrl'), MASTER_KEY: inject('masterKey'), PKCS11_MODULE: inject('pkcs11ModulePath'), SOFTHSM2_CONF: conf, LOG_LEVEL: 'silent', DATA_DIR: tmpdir(), ...env },
      timeout: 60_000,
    });
  }

  it('the API answers chains, CRLs and OCSP with certflow-ocsp alone; a worker cannot even start there', () => {
    const conf = ocspOnlyTokens();
    try {
      const api = inProcess(
        [
          'const services = createApiServices(config, db.db);',
          "const chain = await services.ca.chainPem({ caId: 'tls-issuing' });",
          "const crl = await services.ca.currentCrl('tls-issuing');",
          // An OCSP request for the TLS issuing CA as its root issued it: signed by the root's responder.
          "const { X509Certificate } = await import('node:crypto');",
          "const [issuing, root] = chain.match(/-----BEGIN CERTIFICATE-----[\\s\\S]+?-----END CERTIFICATE-----/g);",
          "const { ocspRequestFor } = await import('./test/ca/ocsp-request.ts');",
          'const response = await services.ca.ocspRespond(ocspRequestFor(issuing, root));',
          "console.log(JSON.stringify({ chain: chain.length, crl: crl.length, ocsp: Buffer.from(response).toString('base64') }));",
          'await services.close();',
        ].join('\n'),
        conf,
      );
      expect(api.status, api.stderr).toBe(0);
      const out = JSON.parse(api.stdout.trim().split('\n').at(-1) ?? '{}') as { chain: number; crl: number; ocsp: string };
      expect(out.chain).toBeGreaterThan(1000);
      expect(out.crl).toBeGreaterThan(100);
      // successful (0) with a basic response: signed, by a key of certflow-ocsp, the only token there.
      const verified = openssl(['ocsp', '-respin', '{response.der}', '-resp_text', '-noverify'], { 'response.der': Buffer.from(out.ocsp, 'base64') });
      expect(verified.stdout).toContain('OCSP Response Status: successful (0x0)');
      expect(verified.stdout).toContain('OCSP Responder');

      const worker = inProcess('const services = await createServices(config, db.db); await services.close();', conf);
      expect(worker.status).not.toBe(0);
      expect(worker.stderr).toMatch(/no PKCS#11 token labelled "certflow-ca"/);
      // With every token there but a wrong PIN, the worker does not start either (a login is per process: fresh one).
      const wrongPin = inProcess('const services = await createServices(config, db.db); await services.close();', inject('softHsmConf'), { PKCS11_CA_PIN: 'not-the-pin-0000' });
      expect(wrongPin.status).not.toBe(0);
      expect(wrongPin.stderr).toMatch(/cannot log in to the PKCS#11 token "certflow-ca"/);
    } finally {
      rmSync(join(conf, '..'), { recursive: true, force: true });
    }
  }, 120_000);
});
