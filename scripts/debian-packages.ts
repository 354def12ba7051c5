/**
 * Debian packages the project's own set-up installs when a tool is missing (chromium, softhsm2, opensc): as root, or
 * through sudo when it asks no password. Where neither works, the error says what to run instead.
 */
import { spawnSync } from 'node:child_process';

export function aptInstall(label: string, packages: readonly string[], howTo: string): void {
  const asRoot = process.getuid?.() === 0;
  if (!asRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`No ${label} found and no way to install it (not root, and sudo asks for a password): ${howTo}.`);
  }
  const prefix = asRoot ? [] : ['sudo', '-n'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps: string[][] = [
    [...prefix, 'apt-get', 'update', '-qq'],
    [...prefix, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages],
  ];
  for (const [command, ...args] of steps) {
    console.log(`${label}: ${command} ${args.join(' ')}`);
    const result = spawnSync(command as string, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (result.error !== undefined || result.status !== 0) {
      throw new Error(`Installing ${packages.join(', ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${howTo}.`);
    }
  }
}
