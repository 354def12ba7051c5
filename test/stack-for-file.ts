/** What a test file starts before its tests and closes after them: its stack (test/support.ts), its fake servers. */
import { afterAll, beforeAll } from 'vitest';
import { startTestStack, type TestStack, type TestStackOptions } from './support.js';

/**
 * Registers something the file's (or `describe` block's) tests use: `start` runs before them, its `close` after
 * them, also when a test failed; what was registered later closes first. What it returns stands for the started
 * thing; reading it before, at the top level of the file, throws.
 */
export function startedForFile<T extends { close(): Promise<void> }>(start: () => Promise<T>, what = 'it'): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    await started?.close();
  });
  const current = (key: PropertyKey): T => {
    if (started === undefined) throw new Error(`${what} is used (${String(key)}) before it started, or it did not start`);
    return started;
  };
  return new Proxy({} as T, {
    get(_, key) {
      const target = current(key);
      const value: unknown = Reflect.get(target, key);
      // A method runs on the started thing itself (a class's private fields are not the proxy's).
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set(_, key, value) {
      return Reflect.set(current(key), key, value);
    },
  });
}

/**
 * The file's test stack. `options` may be a function, read when the stack starts, for options naming servers
 * registered before it with `startedForFile` (the stack is closed before them).
 */
export const testStackForFile = (options: TestStackOptions | (() => TestStackOptions) = {}): TestStack =>
  startedForFile(() => startTestStack(typeof options === 'function' ? options() : options), 'the test stack');
