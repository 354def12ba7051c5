import { defineConfig } from 'vitest/config';

/**
 * Files that load the whole machine (separate worker processes killed and restarted, servers restarted, a fuzzer
 * sending thousands of requests, benchmarks) or that time a fault on a batch's progress run after the rest of the
 * suite and one at a time: on two cores, beside the other files, their orders waited minutes for a worker slot.
 */
const EXCLUSIVE = ['test/e2e/faults/**/*.test.ts', 'test/e2e/fuzz.test.ts', 'test/e2e/worker-kill.test.ts', 'test/e2e/bench-smoke.test.ts'];

const shared = {
  // One Temporal dev server, one fresh Postgres database and one workflow bundle per group of files.
  globalSetup: ['test/global-setup.ts'],
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 180_000,
  teardownTimeout: 60_000,
};

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      // Three files at a time: most of a file's time is spent waiting on the Temporal server, Postgres, a browser or a
      // child process, so on two cores three files overlap their waits (vitest's default is one file per core but one).
      { test: { ...shared, name: 'suite', include: ['test/**/*.test.ts'], exclude: EXCLUSIVE, maxWorkers: 3, sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: 'exclusive', include: EXCLUSIVE, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
