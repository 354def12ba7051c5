/**
 * The API process loads no worker runtime: every module api/main.ts imports, loaded in a fresh Node, brings in no
 * file of @temporalio/worker (its native core and webpack). History reading and replay live in lib/history/, which
 * imports the worker only when a replay runs.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How many files of @temporalio/worker Node has loaded once these modules are imported (CommonJS: in require.cache). */
function workerFilesLoadedBy(modules: readonly string[]): number {
  const script = [
    "import { createRequire } from 'node:module';",
    `for (const m of ${JSON.stringify(modules)}) await import(m);`,
    "const cache = createRequire(process.cwd() + '/').cache;",
    "console.log(Object.keys(cache).filter((k) => k.includes('/node_modules/@temporalio/worker/')).length);",
  ].join('\n');
  const run = spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH } });
  expect(run.status, run.stderr).toBe(0);
  return Number(run.stdout.trim().split('\n').at(-1));
}

/** What api/main.ts imports (it listens once imported itself), as specifiers from the project root. */
function apiMainImports(): string[] {
  const source = readFileSync(new URL('../../api/main.ts', import.meta.url), 'utf8');
  return [...source.matchAll(/^import [^;]*? from '([^']+)';/gms)].map((m) => {
    const spec = m[1] ?? '';
    return spec.startsWith('.') ? new URL(spec.replace(/\.js$/, '.ts'), new URL('../../api/', import.meta.url)).href : spec;
  });
}

describe("the API's module graph", () => {
  it('holds no @temporalio/worker, whereas importing it shows', () => {
    const modules = apiMainImports();
    expect(modules.some((m) => m.endsWith('/api/app.ts'))).toBe(true);
    expect(workerFilesLoadedBy([...modules, new URL('../../lib/history/replay.ts', import.meta.url).href])).toBe(0);
    // The probe sees the worker when it is there.
    expect(workerFilesLoadedBy(['@temporalio/worker'])).toBeGreaterThan(0);
  }, 60_000);
});
