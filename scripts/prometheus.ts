/**
 * The Prometheus the metrics test scrapes with: Debian's `prometheus` package (its `promtool` comes with it), never a
 * download. Found at PROMETHEUS_PATH, /usr/bin/prometheus or on PATH; when it is missing and `install` is true,
 * installed from Debian's packages (as root, or through sudo when it asks no password). Where neither works, the
 * error says what to run. `promtool` is looked for beside the prometheus found, then on PATH.
 */
import { spawnSync } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { isExecutable } from './temporal-binaries.js';

export interface ResolvedPrometheus {
  readonly prometheus: string;
  readonly promtool: string;
  readonly source: 'env' | 'found' | 'installed';
}

const HOW_TO = "install Debian's prometheus (apt-get install -y prometheus) or set PROMETHEUS_PATH to a prometheus executable with promtool beside it";

function find(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const onPath = (env.PATH ?? '').split(delimiter).map((dir) => join(dir, name));
  return [`/usr/bin/${name}`, ...onPath].find(isExecutable);
}

function withPromtool(prometheus: string, env: NodeJS.ProcessEnv, source: ResolvedPrometheus['source']): ResolvedPrometheus {
  const promtool = [join(dirname(prometheus), 'promtool')].find(isExecutable) ?? find('promtool', env);
  if (promtool === undefined) throw new Error(`prometheus found at ${prometheus} but no promtool beside it or on PATH: ${HOW_TO}.`);
  return { prometheus, promtool, source };
}

function aptInstallPrometheus(): void {
  const asRoot = process.getuid?.() === 0;
  if (!asRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`No prometheus found and no way to install it (not root, and sudo asks for a password): ${HOW_TO}.`);
  }
  const prefix = asRoot ? [] : ['sudo', '-n'];
  // Should the package start its own daemon (:9090), nothing here uses it: each test runs one on a free loopback port.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps: string[][] = [
    [...prefix, 'apt-get', 'update', '-qq'],
    [...prefix, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'prometheus'],
  ];
  for (const [command, ...args] of steps) {
    console.log(`prometheus: ${command} ${args.join(' ')}`);
    const result = spawnSync(command as string, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (result.error !== undefined || result.status !== 0) {
      throw new Error(`Installing prometheus failed (${result.error?.message ?? `exit ${result.status}`}): ${HOW_TO}.`);
    }
  }
}

export function resolvePrometheus(env: NodeJS.ProcessEnv = process.env, install = true): ResolvedPrometheus {
  const override = env.PROMETHEUS_PATH?.trim();
  if (override !== undefined && override !== '') {
    if (!isExecutable(override)) throw new Error(`PROMETHEUS_PATH=${override} is not an executable file`);
    return withPromtool(override, env, 'env');
  }
  const found = find('prometheus', env);
  if (found !== undefined) return withPromtool(found, env, 'found');
  if (!install) throw new Error(`No prometheus found: ${HOW_TO}.`);
  aptInstallPrometheus();
  const installed = find('prometheus', env);
  if (installed === undefined) throw new Error(`apt-get installed prometheus but no executable appeared: ${HOW_TO}.`);
  return withPromtool(installed, env, 'installed');
}
