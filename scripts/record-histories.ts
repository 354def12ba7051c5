/**
 * Records the replay fixtures anew: scripts/record-histories/*.record.ts drive every product and the important
 * paths over HTTP on the test stack and write each run's decoded history as `<workflowId>_<runId>.json`, with
 * `_scenarios.json` naming which order is which.
 *
 *   npm run record:histories                      # into test/fixtures/histories (its JSON files are replaced)
 *   npm run record:histories -- --out <dir>       # elsewhere; then: npm run replay -- --from <dir>
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';

const opts = new Command('record:histories')
  .description('Record the workflow histories the replay tests use')
  .option('--out <dir>', 'folder to write the histories to', 'test/fixtures/histories')
  .parse()
  .opts<{ out: string }>();

const root = fileURLToPath(new URL('../', import.meta.url));
const run = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.record.config.ts'], {
  cwd: root,
  stdio: 'inherit',
  // Relative to where the command was typed (npm runs scripts from the project root and says where in INIT_CWD).
  env: { ...process.env, RECORD_HISTORIES_DIR: resolve(process.env.INIT_CWD ?? process.cwd(), opts.out) },
});
process.exitCode = run.status ?? 1;
