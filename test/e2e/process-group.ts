/** Stopping a stack started in its own process group, the way a terminal's Ctrl-C does. */
import type { ChildProcess } from 'node:child_process';

/**
 * SIGINT to the whole process group; resolves once every process of the group has closed its output. A group still
 * alive after 30 s is killed, so a hung stack fails its test instead of hanging the run.
 */
export async function interruptGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const closed = new Promise<void>((resolve) => (child.stdout?.readableEnded === true ? resolve() : child.once('close', () => resolve())));
  try {
    process.kill(-child.pid, 'SIGINT');
  } catch {
    // the group is already gone
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone in the meantime
    }
  }, 30_000);
  await closed;
  clearTimeout(timer);
}
