/** What one more API app (api/app.ts createApp) needs to run beside a test stack. */
import type { AppDeps } from '../api/app.js';
import { createLogger } from '../config/logger.js';
import type { TestStack } from './support.js';

/**
 * An API app on the stack's database, CA and Temporal task queue: silent, no readiness checks, no sweeper of expired
 * rate-limit rows (its timer would outlive the test); `over` replaces any.
 */
export const appDepsOn = (stack: TestStack, over: Partial<AppDeps> = {}): AppDeps => ({
  db: stack.db,
  services: stack.services,
  temporal: stack.client,
  taskQueue: stack.taskQueue,
  log: createLogger('silent'),
  publicBaseUrl: 'http://127.0.0.1',
  readinessChecks: {},
  ...over,
  rateLimits: { sweepExpired: false, ...over.rateLimits },
});
