/**
 * Records test/fixtures/histories anew: the recording block of test/workflows/replay.test.ts drives every product
 * and the important paths over HTTP on the test stack (dev server, Postgres, a worker) and writes each run's
 * decoded history as `<workflowId>_<runId>.json`, with `_scenarios.json` naming which order is which.
 *
 *   node --import tsx scripts/record-histories.ts
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const run = spawnSync('npx', ['vitest', 'run', 'test/workflows/replay.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, RECORD_HISTORIES: '1' },
});
process.exitCode = run.status ?? 1;
