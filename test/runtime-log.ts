/**
 * The Temporal runtime of a test process, with its warnings and errors — the SDK's and Rust core's, forwarded — kept
 * for the test to assert on. Import it first in a test file that provokes them on purpose (a non-deterministic
 * replay): the lines the test expects stay out of the output and are asserted instead; every other warning or error
 * is printed as usual, so that a real one is still seen.
 *
 * Must be imported before test/support.ts (which installs a plain runtime when none is installed yet).
 */
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';

/** Every WARN and ERROR of the runtime since the process started. */
export const runtimeLog: LogEntry[] = [];
/** What the test provokes on purpose; matched against `entryText`. */
const expected: RegExp[] = [];

const printer = new DefaultLogger('WARN');

/** An entry's message and metadata as one text (core puts the failure itself in the metadata). */
export const entryText = (entry: LogEntry): string =>
  `${entry.message} ${JSON.stringify(entry.meta ?? {}, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}`;

/** Lines matching `pattern` are the test's to assert on (in `runtimeLog`), not printed. */
export function expectRuntimeLines(pattern: RegExp): void {
  expected.push(pattern);
}

try {
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      runtimeLog.push(entry);
      if (!expected.some((p) => p.test(entryText(entry)))) printer.log(entry.level, entry.message, entry.meta);
    }),
    // Core's lines through the logger above, instead of straight to the console.
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
  });
} catch (err) {
  throw new Error(`test/runtime-log.ts must be imported before anything installs the Temporal runtime: ${String(err)}`);
}
