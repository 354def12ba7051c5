/** A test file's stack (test/support.ts startTestStack), started before its tests and closed after them. */
import { afterAll, beforeAll } from 'vitest';
import { startTestStack, type TestStack, type TestStackOptions } from './support.js';

/**
 * Registers the file's (or `describe` block's) stack: started before its tests, closed after them, also when a
 * test failed. `options` may be a function, read when the stack starts, for options naming servers that a
 * `beforeAll` registered earlier started (the stack is closed before them). What it returns stands for the stack
 * once started; reading it before, at the top level of the file, throws.
 */
export function testStackForFile(options: TestStackOptions | (() => TestStackOptions) = {}): TestStack {
  let started: TestStack | undefined;
  beforeAll(async () => {
    started = await startTestStack(typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as TestStack, {
    get(_, key) {
      if (started === undefined) throw new Error(`the test stack is read (${String(key)}) before it started, or it did not start`);
      return Reflect.get(started, key) as unknown;
    },
  });
}
