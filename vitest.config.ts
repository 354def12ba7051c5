import { defineConfig } from 'vitest/config';

/**
 * Files that load the whole machine (separate worker processes killed and restarted, servers restarted) or that time
 * a fault on a batch's progress run after the rest of the suite, two at a time: on two cores, beside the other files,
 * their orders waited minutes for a worker slot. The fuzzer, sending thousands of requests, runs last and alone.
 */
const EXCLUSIVE = ['test/e2e/faults/**/*.test.ts', 'test/e2e/worker-kill.test.ts'];
const FUZZ = ['test/e2e/fuzz.test.ts'];

/**
 * Files that need a process of their own: they install a Temporal runtime of their own (with a logger they assert on)
 * before anything else, the runtime being one per process, or they count what is counted per process (the worker's
 * metrics registry). The other files of the suite share their processes, and the modules loaded once (a file's
 * import took about 3 s, 330 s summed over the suite): each file still starts its own stack on a task queue of its
 * own and closes it.
 */
const ISOLATED = ['test/api/security.test.ts', 'test/e2e/logs.test.ts', 'test/workflows/attention.test.ts', 'test/workflows/replay.test.ts', 'test/e2e/metrics.test.ts'];

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
      { test: { ...shared, name: 'suite', include: ['test/**/*.test.ts'], exclude: [...EXCLUSIVE, ...FUZZ, ...ISOLATED], isolate: false, maxWorkers: 3, sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: 'isolated', include: ISOLATED, maxWorkers: 1, sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: 'exclusive', include: EXCLUSIVE, maxWorkers: 2, sequence: { groupOrder: 1 } } },
      { test: { ...shared, name: 'fuzz', include: FUZZ, fileParallelism: false, sequence: { groupOrder: 2 } } },
    ],
  },
});
