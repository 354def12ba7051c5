/**
 * `npm run checks`: the type checks (server and pages) and the linter at once, each one's output printed whole when it
 * ends, in a fixed order, and a non-zero exit if any fails. Each is one process with little I/O: side by side on a
 * small machine they take about as long as the longest instead of the sum.
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

function run(check: (typeof CHECKS)[number]): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    let output = '';
    // Through npx so the project's pinned binaries run, as from an npm script.
    const child = spawn('npx', ['--no-install', check.command, ...check.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => (output += `${err.message}\n`));
    child.on('close', (code) => resolve({ name: check.name, code, output, seconds: (Date.now() - started) / 1000 }));
  });
}

const outcomes = await Promise.all(CHECKS.map(run));
for (const o of outcomes) {
  console.log(`== ${o.name}: ${o.code === 0 ? 'ok' : `failed (exit ${o.code})`} in ${o.seconds.toFixed(0)} s`);
  if (o.output.trim() !== '') console.log(o.output.trimEnd());
}
process.exitCode = outcomes.every((o) => o.code === 0) ? 0 : 1;
