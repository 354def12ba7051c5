/** The history archive's workflow (workflows/archive.ts), started by whichever process comes first. */
import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { HISTORY_ARCHIVE_ID, type HistoryArchiveOptions, type historyArchiveWorkflow } from '../../workflows/archive.js';

/** Starts the archiving workflow if it is not running; every API process may call it, one runs. */
export async function ensureHistoryArchive(client: Client, taskQueue: string, opts: HistoryArchiveOptions & { workflowId?: string } = {}): Promise<void> {
  const { workflowId, ...args } = opts;
  await client.workflow.start<typeof historyArchiveWorkflow>('historyArchiveWorkflow', {
    workflowId: workflowId ?? HISTORY_ARCHIVE_ID,
    taskQueue,
    args: [args],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}
