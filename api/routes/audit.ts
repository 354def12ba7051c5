/** The audit chain's check (db/audit-log.ts): auditors and admins ask whether any row was changed, deleted or moved. */
import type { Database } from '../../db/client.js';
import { verifyAuditChain } from '../../db/audit-log.js';
import { defineRoute, type AnyRoute } from '../routing.js';

export function auditRoutes(deps: { readonly db: Database }): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/audit/verify',
      summary: 'Walks the hash-chained audit log and names the first broken row (changed, deleted or reordered)',
      tags: ['audit'],
      access: ['auditor', 'admin'],
      responses: {
        200: { description: '{ ok: true, rows, headHash } or { ok: false, firstBrokenSeq, reason }: a broken chain is a finding, not an error' },
      },
      async handle({ res }) {
        res.json(await verifyAuditChain(deps.db));
      },
    }),
  ];
}
