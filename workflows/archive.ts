/**
 * Archives every closed run of the namespace (db/history-archive.ts) so that histories outlive Temporal's retention.
 * Each round the activity lists the runs closed since the last one archived (a visibility query) and archives those
 * not archived yet; archiving is idempotent per run, so a round retried after a crash archives nothing twice.
 *
 * One per namespace (a fixed id), a round every `every` (a minute by default) or at once on the `archiveNow` signal;
 * it continues as new, and its own closed runs are archived like any other.
 */
import { condition, continueAsNew, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ArchiveActivities, ArchiveScope } from '../activities/archive.js';

const act = proxyActivities<ArchiveActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export const HISTORY_ARCHIVE_ID = 'history-archive';

/** Archives now rather than at the next round. */
export const archiveNowSignal = defineSignal('archiveNow');

/** Rounds before continuing as new: about a dozen events each. */
const ROUNDS_PER_RUN = 200;

export interface HistoryArchiveOptions extends ArchiveScope {
  /** Time between rounds: '1 minute' keeps every closed run archived within a minute or so of closing. */
  readonly every?: string;
}

export async function historyArchiveWorkflow(opts: HistoryArchiveOptions = {}): Promise<void> {
  const every = opts.every ?? '1 minute';
  let wake = false;
  setHandler(archiveNowSignal, () => {
    wake = true;
  });
  for (let round = 0; round < ROUNDS_PER_RUN; round++) {
    wake = false;
    // A round archives a bounded batch; a backlog (the first round, an archiver down for a while) takes several.
    for (;;) {
      const done = await act.archiveClosedRuns({ ...(opts.query !== undefined ? { query: opts.query } : {}) });
      if (!done.more) break;
    }
    await condition(() => wake, every);
  }
  await continueAsNew<typeof historyArchiveWorkflow>(opts);
}
