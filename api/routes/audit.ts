/**
 * The audit chain's check (db/audit-log.ts): auditors and admins ask whether any row was changed, deleted or moved,
 * and whether rows were cut from its end since an anchor: one they kept (`expectHead`) and the latest the system
 * recorded in Temporal (workflows/audit-anchor.ts).
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { parseAuditHead, verifyAuditChain, type AuditAnchor } from '../../db/audit-log.js';
import { latestAuditAnchor, type TemporalAnchor } from '../audit-anchor.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

export interface AuditDeps {
  readonly db: Database;
  /** Where the system's anchors are read from; without it only the anchor of the request is checked. */
  readonly temporal?: Client;
  /** The anchoring workflow (default AUDIT_ANCHOR_ID). */
  readonly anchorWorkflowId?: string;
}

export function auditRoutes(deps: AuditDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/audit/verify',
      summary: 'Walks the hash-chained audit log, names the first broken row, and checks it against anchors of its head',
      tags: ['audit'],
      access: ['auditor', 'admin'],
      query: z.object({
        expectHead: z
          .string()
          .max(100)
          .optional()
          .describe('An anchor kept from an earlier verification, `<seq>:<hash>`: that row must still be there with that hash'),
      }),
      responses: {
        200: {
          description:
            '{ ok, count, head: { seq, hash }, anchors?, systemAnchor } and, when not ok, { finding: broken | truncated | anchor-mismatch, firstBrokenSeq, reason, anchor? }: a finding is not an error',
        },
        400: problemResponse('expectHead is not `<seq>:<64 hex digits>`'),
      },
      async handle({ res, query }) {
        const anchors: AuditAnchor[] = [];
        if (query.expectHead !== undefined) {
          const head = parseAuditHead(query.expectHead);
          if (head === undefined) throw Problem.badRequest('expectHead must be `<seq>:<hash>`: the seq and the 64 hex digits of a head returned by an earlier verification.');
          anchors.push({ ...head, source: 'expectHead' });
        }
        let systemAnchor: TemporalAnchor | undefined;
        let systemAnchorError: string | undefined;
        if (deps.temporal !== undefined) {
          try {
            systemAnchor = await latestAuditAnchor(deps.temporal, deps.anchorWorkflowId);
          } catch (err) {
            // The chain is still checked; the answer says the system's anchor could not be.
            systemAnchorError = `the system's anchor could not be read from Temporal: ${(err as Error).message}`;
          }
        }
        if (systemAnchor !== undefined) anchors.push(systemAnchor);
        const verification = await verifyAuditChain(deps.db, { anchors });
        res.json({ ...verification, systemAnchor: systemAnchor ?? null, ...(systemAnchorError !== undefined ? { systemAnchorError } : {}) });
      },
    }),
  ];
}
