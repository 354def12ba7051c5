/**
 * `npm run fuzz:install`: the API fuzzer, schemathesis from PyPI, pinned with all its dependencies
 * (scripts/fuzz-requirements.txt) in a virtual environment in the git-ignored .tools/ folder of the project.
 * Does nothing when the folder already holds exactly those pins; a run killed half-way leaves no stamp, so the next
 * run starts the folder again. SCHEMATHESIS_PATH names an executable to use instead (nothing is installed then).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isExecutable } from './temporal-binaries.js';

export const FUZZ_REQUIREMENTS = fileURLToPath(new URL('./fuzz-requirements.txt', import.meta.url));
export const FUZZ_VENV = fileURLToPath(new URL('../.tools/schemathesis-venv', import.meta.url));
const STAMP = join(FUZZ_VENV, '.certflow-pins');
const EXECUTABLE = join(FUZZ_VENV, 'bin', 'schemathesis');

const pinsDigest = (): string => createHash('sha256').update(readFileSync(FUZZ_REQUIREMENTS)).digest('hex');

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
  }
}

export interface ResolvedFuzzer {
  readonly path: string;
  readonly source: 'env' | 'installed' | 'downloaded';
}

/** The schemathesis executable; installs the pinned set when `install` is true and it is missing or stale. */
export function resolveSchemathesis(env: NodeJS.ProcessEnv = process.env, install = true): ResolvedFuzzer {
  const override = env.SCHEMATHESIS_PATH?.trim();
  if (override !== undefined && override !== '') {
    if (!isExecutable(override)) throw new Error(`SCHEMATHESIS_PATH=${override} is not an executable file`);
    return { path: override, source: 'env' };
  }
  const digest = pinsDigest();
  const current = existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === digest && isExecutable(EXECUTABLE);
  if (current) return { path: EXECUTABLE, source: 'installed' };
  if (!install) throw new Error('schemathesis is not installed (or its pins changed): run `npm run fuzz:install` or set SCHEMATHESIS_PATH');

  const python = env.PYTHON ?? 'python3';
  rmSync(FUZZ_VENV, { recursive: true, force: true });
  run(python, ['-m', 'venv', FUZZ_VENV]);
  const venvPython = join(FUZZ_VENV, 'bin', 'python');
  // Every package is pinned in the file; pip still resolves, so a pin that does not fit fails here, not at run time.
  run(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', FUZZ_REQUIREMENTS]);
  run(EXECUTABLE, ['--version']);
  // Written last: its presence means the folder holds exactly the pins of this digest.
  writeFileSync(STAMP, `${digest}\n`);
  return { path: EXECUTABLE, source: 'downloaded' };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { path, source } = resolveSchemathesis();
  const how = { env: 'from SCHEMATHESIS_PATH', installed: 'already installed', downloaded: 'installed from scripts/fuzz-requirements.txt' }[source];
  console.log(`schemathesis: ${path} (${how})`);
}
