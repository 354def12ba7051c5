/**
 * The tests' key ceremony: `npm run ceremony -- init` (scripts/ceremony.ts) run as its own process against a database
 * and a SoftHSM2 token directory of the caller's, as an operator would. A child process, so that SOFTHSM2_CONF is set
 * in it alone: the test processes and the stacks they start choose their token directory themselves.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSoftHsmConfig } from '../lib/pkcs11/module.js';

const ROOT = join(import.meta.dirname, '..');

export interface TestTokens {
  readonly dir: string;
  readonly softHsmConf: string;
  /** The ceremony's output, one line per thing it made. */
  readonly output: string;
}

export function runTestCeremony(opts: { databaseUrl: string; masterKey: string; modulePath: string; softHsmConf?: string; command?: 'init' | 'renew-ocsp' }): TestTokens {
  const dir = opts.softHsmConf === undefined ? mkdtempSync(join(tmpdir(), 'certflow-softhsm-')) : join(opts.softHsmConf, '..');
  const softHsmConf = opts.softHsmConf ?? writeSoftHsmConfig(dir);
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: opts.databaseUrl, MASTER_KEY: opts.masterKey, PKCS11_MODULE: opts.modulePath, SOFTHSM2_CONF: softHsmConf, DATA_DIR: dir };
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/ceremony.ts', opts.command ?? 'init'], { cwd: ROOT, env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the ceremony failed (${run.status ?? run.signal}): ${run.stderr}${run.stdout}`);
  return { dir, softHsmConf, output: run.stdout };
}
