/**
 * The activity of the history archive (workflows/archive.ts): lists the runs closed since the last archived close
 * (less a margin, for visibility's lag), fetches each one's full history as Temporal holds it (payloads encoded)
 * and archives it with db/history-archive.ts, which skips a run archived already.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time.js';
// A CommonJS module whose named exports Node's ESM loader cannot see: take them from its default export.
import proto from '@temporalio/proto';
import type { Database } from '../db/client.js';
import { archivedKeys, archiveRun, latestArchivedClose } from '../db/history-archive.js';
import { historyJsonText } from '../lib/history/json.js';

export interface ArchiveScope {
  /** A visibility clause the closed runs must match too (a test's task queue); unset: the whole namespace. */
  readonly query?: string;
}

export interface ArchiveRound {
  readonly listed: number;
  readonly archived: number;
  /** More closed runs are waiting than one call archives. */
  readonly more: boolean;
}

export interface ArchiveActivities {
  archiveClosedRuns(scope: ArchiveScope): Promise<ArchiveRound>;
}

/** Runs archived per call, at most. */
const BATCH = 100;
/** How far before the latest archived close the listing starts: visibility can record a close late. */
const MARGIN_MS = 10 * 60_000;

const STATUS_PREFIX = 'WORKFLOW_EXECUTION_STATUS_';
const WorkflowExecutionStatus = proto.temporal.api.enums.v1.WorkflowExecutionStatus;

export function createArchiveActivities(db: Database, clientOf: () => Client = () => Context.current().client): ArchiveActivities {
  return {
    async archiveClosedRuns(scope) {
      const client = clientOf();
      const latest = await latestArchivedClose(db);
      const clauses = ["ExecutionStatus != 'Running'"];
      if (latest !== undefined) clauses.push(`CloseTime > '${new Date(latest.getTime() - MARGIN_MS).toISOString()}'`);
      if (scope.query !== undefined) clauses.push(`(${scope.query})`);
      const query = clauses.join(' AND ');
      let listed = 0;
      let archived = 0;
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize: 500, nextPageToken });
        const executions = page.executions ?? [];
        listed += executions.length;
        const keys = executions.map((e) => ({ workflowId: e.execution?.workflowId ?? '', runId: e.execution?.runId ?? '' }));
        const done = await archivedKeys(db, keys);
        for (const e of executions) {
          const workflowId = e.execution?.workflowId ?? '';
          const runId = e.execution?.runId ?? '';
          if (done.has(`${workflowId}/${runId}`)) continue;
          if (archived === BATCH) return { listed, archived, more: true };
          const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
          const status = (WorkflowExecutionStatus[e.status ?? 0] ?? String(e.status)).replace(STATUS_PREFIX, '');
          const result = await archiveRun(db, {
            workflowId,
            runId,
            workflowType: e.type?.name ?? '',
            status,
            startedAt: optionalTsToDate(e.startTime) ?? null,
            closedAt: optionalTsToDate(e.closeTime) ?? new Date(),
            eventCount: history.events?.length ?? 0,
            json: historyJsonText(history),
          });
          if (result.created) archived++;
          Context.current().heartbeat({ archived });
        }
        nextPageToken = page.nextPageToken !== undefined && page.nextPageToken !== null && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
      } while (nextPageToken !== undefined);
      return { listed, archived, more: false };
    },
  };
}
