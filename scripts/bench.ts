/**
 * Benchmarks: `npm run bench -- <scenario> [options]` (`npm run bench -- <scenario> --help` for a scenario's options).
 * Each scenario is a module under scripts/bench/ exporting `main(argv)`; it prints a table and writes a JSON report
 * under bench-results/ (git-ignored) with scripts/bench/report.ts. A new scenario is one more entry in SCENARIOS,
 * loaded only when asked for.
 */
import { fileURLToPath } from 'node:url';

export interface ScenarioModule {
  main(argv: readonly string[]): Promise<void>;
}

export const SCENARIOS: Readonly<Record<string, { readonly summary: string; readonly load: () => Promise<ScenarioModule> }>> = {
  ca: {
    summary: 'certificates signed per second: the CA activity path against openssl signing the same profiles, in one run',
    load: () => import('./bench/ca.js'),
  },
  lifecycle: {
    summary: 'N complete ID_RGS_STAR orders over HTTP with C concurrent clients, then the engine baseline on the same Temporal server (lifecycle / baseline)',
    load: () => import('./bench/lifecycle.js'),
  },
  baseline: {
    summary: 'the engine baseline alone: workflows with as many empty activities and Updates as an order',
    load: async () => ({ main: (await import('./bench/lifecycle.js')).baselineMain }),
  },
  parked: {
    summary: '10,000 open orders parked on timers and Updates: worker memory (and after a restart), list and detail latency',
    load: () => import('./bench/parked.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(SCENARIOS).map((name) => name.length));
  return [
    'usage: npm run bench -- <scenario> [options]    (npm run bench -- <scenario> --help)',
    '',
    'scenarios:',
    ...Object.entries(SCENARIOS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`),
  ].join('\n');
}

export async function runBench(argv: readonly string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return;
  }
  const scenario = Object.hasOwn(SCENARIOS, name) ? SCENARIOS[name] : undefined;
  if (scenario === undefined) {
    console.error(`unknown scenario "${name}"\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  await (await scenario.load()).main(rest);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await runBench(process.argv.slice(2));
  } catch (err) {
    // commander has already printed its own message (help, a bad option) when it throws through exitOverride.
    const code = (err as { code?: unknown }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exitCode = 0;
    else if (typeof code === 'string' && code.startsWith('commander.')) process.exitCode = 2;
    else {
      console.error(err);
      process.exitCode = 1;
    }
  }
}
