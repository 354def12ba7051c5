/**
 * `npm run checks`: the type checks (server and pages) and the linter at once, each one's output printed whole when it
 * ends, in a fixed order, and a non-zero exit if any fails. Each is one process with little I/O: side by side on a
 * small machine they take about as long as the longest instead of the sum.
 *
 * `npm test` runs them with `--beside-tests`: the test suite (vitest, its output live) starts at once beside them,
 * and the checks run at a lower CPU priority (nice 10), filling the time the suite spends waiting on its servers,
 * browsers and child processes instead of holding the suite back by a minute. Their outputs are printed after the
 * suite's; the exit is non-zero if the suite or any check failed.
 */
import { spawn } from 'node:child_process';

const CHECKS: ReadonlyArray<{ name: string; command: string; args: string[] }> = [
  { name: 'typecheck', command: 'tsc', args: ['-p', 'tsconfig.json', '--noEmit'] },
  { name: 'typecheck (pages)', command: 'tsc', args: ['-p', 'api/web/client/tsconfig.json'] },
  { name: 'lint', command: 'eslint', args: ['.'] },
];

interface Outcome {
  readonly name: string;
  readonly code: number | null;
  readonly output: string;
  readonly seconds: number;
}

const besideTests = process.argv.includes('--beside-tests');

function run(check: (typeof CHECKS)[number]): Promise<Outcome> {
  const started = Date.now();
  // Through npx so the project's pinned binaries run, as from an npm script.
  const [command, args] = besideTests ? ['nice', ['-n', '10', 'npx', '--no-install', check.command, ...check.args]] : ['npx', ['--no-install', check.command, ...check.args]];
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => (output += `${err.message}\n`));
    child.on('close', (code) => resolve({ name: check.name, code, output, seconds: (Date.now() - started) / 1000 }));
  });
}

/** The suite, its output straight to the terminal. */
function vitest(): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['--no-install', 'vitest', 'run'], { stdio: 'inherit' });
    child.on('error', (err) => {
      console.error(`vitest: ${err.message}`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code));
  });
}

const [outcomes, suite] = await Promise.all([Promise.all(CHECKS.map(run)), besideTests ? vitest() : Promise.resolve(0)]);
for (const o of outcomes) {
  console.log(`== ${o.name}: ${o.code === 0 ? 'ok' : `failed (exit ${o.code})`} in ${o.seconds.toFixed(0)} s`);
  if (o.output.trim() !== '') console.log(o.output.trimEnd());
}
if (besideTests) console.log(`== tests: ${suite === 0 ? 'ok' : `failed (exit ${suite})`}`);
process.exitCode = outcomes.every((o) => o.code === 0) && suite === 0 ? 0 : 1;
