/**
 * The auditors' view of Temporal: an order's decoded event history, every run of it, and the replay of the
 * histories a visibility query matches against the code this process runs.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { certificateWorkflowId, orderWorkflowId } from '../../workflows/definitions.js';
import { historyAsJson, readableHistoryJson } from '../../lib/history/json.js';
import { archivedHistories, DEFAULT_REPLAY_QUERY, historiesMatching, workflowRuns, type RunHistory } from '../../lib/history/read.js';
import { replayHistories, type WorkflowBundle } from '../../lib/history/replay.js';
import { visibleOrder } from '../order-updates.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

export interface HistoryDeps {
  readonly db: Database;
  /** Its data converter's codec, when one is configured, decodes the payloads. */
  readonly temporal: Client;
  /** The workflow code replays run against; by default this process's sources, bundled once. */
  readonly replayBundle?: WorkflowBundle;
}

/** A replay request names at most this many runs: the replay runs inside the API process. */
const MAX_REPLAY = 500;

/** The workflow types the default query names: its archived runs are replayed with the ones Temporal still has. */
const DEFAULT_REPLAY_TYPES = ['orderWorkflow', 'certificateWorkflow'] as const;

export function historyRoutes(deps: HistoryDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orders/{id}/history',
      summary: "The order's decoded Temporal event history, every run (continue-as-new) oldest first; from the archive once Temporal no longer has a run",
      tags: ['audit'],
      access: ['ra_operator', 'dra_operator', 'admin', 'auditor'],
      params: z.object({ id: z.uuid() }),
      query: z.object({
        workflow: z.enum(['order', 'certificate']).default('order'),
        /** `json`: each payload its decoded JSON value (Temporal's shorthand payloads); `base64`: the byte-exact form `temporal workflow show --output json` writes, for tools that read only that. */
        payloads: z.enum(['json', 'base64']).default('json'),
      }),
      responses: {
        200: {
          description:
            '{ workflowId, runs: [{ runId, source, sha256, history }] }; each history in the proto JSON of `temporal workflow show --output json`, its payloads decoded and, ' +
            'by default, each written as its JSON value (shorthand payloads, as the Temporal CLI and HTTP API print them; `payloads=base64` keeps them base64); ' +
            '`npm run replay` and POST /v1/audit/replay read both forms. `source` is `temporal` or `archive`, `sha256` the hash of the run as archived (its payloads encoded), the same either way',
        },
        404: problemResponse('No such order, or no certificate workflow yet'),
      },
      async handle({ res, params, query, principal }) {
        const order = await visibleOrder(deps.db, principal, params.id);
        const workflowId = query.workflow === 'order' ? orderWorkflowId(order.id) : certificateWorkflowId(order.id);
        let runs: RunHistory[];
        try {
          runs = await workflowRuns(deps.temporal, workflowId, deps.db);
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw Problem.notFound(`No workflow ${workflowId}.`);
          throw err;
        }
        const asJson = query.payloads === 'json' ? readableHistoryJson : historyAsJson;
        res.json({ workflowId, runs: runs.map((r) => ({ runId: r.runId, source: r.source, sha256: r.sha256, history: asJson(r.history) })) });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/audit/replay',
      summary:
        'Replays the histories a visibility query matches against the current workflow code, with a report; the default query also replays the archived runs Temporal no longer has',
      tags: ['audit'],
      access: ['auditor', 'admin'],
      body: z.object({
        query: z.string().min(1).max(2000).default(DEFAULT_REPLAY_QUERY),
        /** Instead of the query: every run of these orders' workflows, read as GET …/history reads them (archive included). */
        orders: z.array(z.uuid()).min(1).max(100).optional(),
      }),
      responses: {
        200: { description: '{ query | orders, fromArchive, replayed, ok, nonDeterministic, failed, failures: [{ workflowId, runId, result, event?, message }] }' },
        400: problemResponse('Not a valid visibility query, or more runs than one request replays'),
      },
      async handle({ res, body }) {
        const runs: RunHistory[] = [];
        if (body.orders !== undefined) {
          for (const id of body.orders) {
            for (const workflowId of [orderWorkflowId(id), certificateWorkflowId(id)]) {
              try {
                runs.push(...(await workflowRuns(deps.temporal, workflowId, deps.db)));
              } catch (err) {
                if (!(err instanceof WorkflowNotFoundError)) throw err;
              }
            }
            if (runs.length > MAX_REPLAY) throw Problem.badRequest(`These orders have more than ${MAX_REPLAY} runs; name fewer or use npm run replay.`);
          }
          const report = await replayHistories(runs, deps.replayBundle !== undefined ? { workflowBundle: deps.replayBundle } : {});
          res.json({ orders: body.orders, fromArchive: runs.filter((r) => r.source === 'archive').length, ...report });
          return;
        }
        try {
          for await (const run of historiesMatching(deps.temporal, body.query)) {
            if (runs.length === MAX_REPLAY) throw Problem.badRequest(`The query matches more than ${MAX_REPLAY} runs; narrow it or use npm run replay.`);
            runs.push(run);
          }
        } catch (err) {
          // The server refuses a malformed query with INVALID_ARGUMENT (gRPC code 3), wrapped in the client's ServiceError.
          const grpc = (err as { code?: number; cause?: { code?: number } }).cause?.code ?? (err as { code?: number }).code;
          if (grpc === 3) throw Problem.badRequest(`Not a valid visibility query: ${(err as Error).message}`);
          throw err;
        }
        // A visibility query cannot see the archive; the default one (every order and certificate) has its archived
        // runs added, those whose run Temporal no longer lists.
        let fromArchive = 0;
        if (body.query === DEFAULT_REPLAY_QUERY) {
          const listed = new Set(runs.map((r) => `${r.workflowId}/${r.runId}`));
          const archived = await archivedHistories(deps.temporal, deps.db, DEFAULT_REPLAY_TYPES, listed, MAX_REPLAY + 1 - runs.length);
          if (runs.length + archived.length > MAX_REPLAY) throw Problem.badRequest(`The query matches more than ${MAX_REPLAY} runs; narrow it or use npm run replay.`);
          runs.push(...archived);
          fromArchive = archived.length;
        }
        const report = await replayHistories(runs, deps.replayBundle !== undefined ? { workflowBundle: deps.replayBundle } : {});
        res.json({ query: body.query, fromArchive, ...report });
      },
    }),
  ];
}
