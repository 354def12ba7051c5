import { defineConfig } from 'vitest/config';

/**
 * The fixture recorders (scripts/record-histories/), kept out of the test run: `npm run record:histories`.
 * Same global setup as the suite: a Temporal dev server, a fresh Postgres database, the workflow bundle.
 */
export default defineConfig({
  test: {
    include: ['scripts/record-histories/**/*.record.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 90_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
