/**
 * The audit chain as an order leaves it over HTTP, and GET /v1/audit/verify naming a row edited or deleted in
 * Postgres, and rows cut from the end against an anchor: one an auditor kept (`expectHead`) and the one the system
 * recorded in the history of its anchoring workflow. The database is the run's shared one: each tampering is undone
 * (in `finally`) so that the chain keeps verifying for everyone else; cutting the end happens while this file holds
 * the chain's lock (a session advisory lock on the key appends take), so no other writer appends meanwhile.
 */
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { and, asc, eq, gte, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { auditAnchorRounds } from '../../api/audit-anchor.js';
import { appendAudit, auditHash, GENESIS_HASH, type AnchorCheck, type AuditRow, type AuditVerification } from '../../db/audit-log.js';
import type { AuditHead } from '../../domain/audit.js';
import { openPostgres, type Database } from '../../db/client.js';
import { auditLog, sentMessages } from '../../db/schema.js';
import { anchorNowSignal, AUDIT_ANCHOR_ID, type auditAnchorWorkflow } from '../../workflows/audit-anchor.js';
import type { Account } from '../support.js';
import { Driver } from '../workflows/drive.js';
import { testStackForFile } from '../stack-for-file.js';

const stack = testStackForFile();
let drive: Driver;
let auditor: Account;
let orderId: string;

beforeAll(async () => {
  drive = await Driver.withNewActors(stack);
  auditor = await stack.account('auditor');

  orderId = (await drive.throughOneRejection()).id;
});

type Verified = AuditVerification & { systemAnchor: (AnchorCheck & { runId: string; eventId: number }) | null };
const verify = (expectHead?: AuditHead) =>
  stack.http<Verified>('GET', `/v1/audit/verify${expectHead !== undefined ? `?expectHead=${expectHead.seq}:${expectHead.hash}` : ''}`, { key: auditor.key });

/**
 * Runs `cut` with the chain locked: one connection holds the session advisory lock appends wait for (and, being
 * the same session, may append itself). The rows from `from` on are put back afterwards, whatever `cut` did.
 */
async function withChainLocked<T>(cut: (db: Database, takeTail: (from: number) => Promise<AuditRow[]>) => Promise<T>): Promise<T> {
  const handle = openPostgres(inject('databaseUrl'), 1);
  let kept: { from: number; rows: AuditRow[] } | undefined;
  try {
    await handle.db.execute(sql`select pg_advisory_lock(hashtext('certflow-audit-log'))`);
    return await cut(handle.db, async (from) => {
      const rows = await handle.db.select().from(auditLog).where(gte(auditLog.seq, from)).orderBy(asc(auditLog.seq));
      kept = { from, rows };
      await handle.db.delete(auditLog).where(gte(auditLog.seq, from));
      return rows;
    });
  } finally {
    if (kept !== undefined) {
      await handle.db.delete(auditLog).where(gte(auditLog.seq, kept.from));
      if (kept.rows.length > 0) await handle.db.insert(auditLog).values(kept.rows);
    }
    await handle.db.execute(sql`select pg_advisory_unlock(hashtext('certflow-audit-log'))`);
    await handle.close();
  }
}

describe('the audit chain', () => {
  it('holds the decisions, refusals, documents, messages and the certificate of an order driven over HTTP', async () => {
    const rows = await stack.db.select().from(auditLog).where(eq(auditLog.orderId, orderId)).orderBy(asc(auditLog.seq));
    const seen = rows.map((r) => `${r.kind} ${r.action}`);
    expect(seen).toContain('refused submit');
    expect(seen).toContain('decision reject');
    expect(seen).toContain('decision approve');
    expect(seen).toContain('decision record_payment');
    expect(seen.filter((s) => s === 'document document_stored').length).toBeGreaterThanOrEqual(2);
    expect(seen).toContain('message email_sent');
    expect(seen).toContain('certificate certificate_issued');
    const refused = rows.find((r) => r.kind === 'refused');
    expect(refused).toMatchObject({ actorUserId: drive.actors.holder.user.id, actorRole: 'customer' });
    expect(refused?.detail).toMatchObject({ code: 'checklist-incomplete' });
    const document = rows.find((r) => r.kind === 'document');
    expect(document?.detail.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Personal data stays in the ledger: the chain names the message, not its recipient.
    const recipients = (await stack.db.select().from(sentMessages).where(eq(sentMessages.orderId, orderId))).map((m) => m.recipient);
    expect(recipients.length).toBeGreaterThan(0);
    const chained = JSON.stringify(rows);
    for (const recipient of recipients) expect(chained).not.toContain(recipient);

    const res = await verify();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true });
  });

  it('names the row whose detail was edited with plain SQL', async () => {
    const [approve] = await stack.db.select().from(auditLog).where(and(eq(auditLog.orderId, orderId), eq(auditLog.action, 'approve')));
    expect(approve).toBeDefined();
    await stack.db.execute(sql`update audit_log set detail = detail || '{"note":"nothing to see"}'::jsonb where seq = ${approve!.seq}`);
    try {
      const res = await verify();
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ok: false, finding: 'broken', firstBrokenSeq: approve!.seq });
    } finally {
      await stack.db.execute(sql`update audit_log set detail = ${JSON.stringify(approve!.detail)}::jsonb where seq = ${approve!.seq}`);
    }
    expect((await verify()).body).toMatchObject({ ok: true });
  });

  it('names the gap a deleted row leaves', async () => {
    const [refused] = await stack.db.select().from(auditLog).where(and(eq(auditLog.orderId, orderId), eq(auditLog.kind, 'refused')));
    expect(refused).toBeDefined();
    await stack.db.execute(sql`delete from audit_log where seq = ${refused!.seq}`);
    try {
      const res = await verify();
      expect(res.body).toMatchObject({ ok: false, firstBrokenSeq: refused!.seq });
      expect(res.body.ok ? '' : res.body.reason).toMatch(/missing/);
    } finally {
      await stack.db.insert(auditLog).values(refused!);
    }
    expect((await verify()).body).toMatchObject({ ok: true });
  });

  it('returns its head to keep as an anchor, and reports rows deleted from the end since that anchor', async () => {
    await withChainLocked(async (db, takeTail) => {
      // Three rows appended: the anchor is the last.
      const appended: AuditRow[] = [];
      for (const step of ['first', 'second', 'third']) appended.push(await appendAudit(db, { kind: 'decision', orderId, actorRole: 'ra_operator', action: `anchor_test_${step}` }));
      const taken = await verify();
      expect(taken.body).toMatchObject({ ok: true, head: { seq: appended[2]?.seq, hash: appended[2]?.hash }, count: appended[2]?.seq });
      const anchor = taken.body.head;
      // The caller's anchor, checked; an API process another test file started may have added the system's own.
      const checked = (await verify(anchor)).body;
      expect(checked).toMatchObject({ ok: true });
      expect(checked.ok ? checked.anchors : []).toEqual(expect.arrayContaining([expect.objectContaining({ seq: anchor.seq, hash: anchor.hash, source: 'expectHead', status: 'ok' })]));

      // The last three rows deleted with plain SQL: the rest of the chain is intact, the anchor's row is gone.
      const first = appended[0]?.seq as number;
      expect((await takeTail(first)).map((r) => r.seq)).toEqual([first, first + 1, first + 2]);
      const truncated = await verify(anchor);
      expect(truncated.status).toBe(200);
      expect(truncated.body).toMatchObject({
        ok: false,
        finding: 'truncated',
        firstBrokenSeq: first,
        head: { seq: first - 1 },
        count: first - 1,
        anchor: { seq: anchor.seq, hash: anchor.hash, source: 'expectHead', status: 'truncated' },
      });
      expect(truncated.body.ok ? '' : truncated.body.reason).toContain(`the anchor ${anchor.seq}:${anchor.hash} (expectHead) names row ${anchor.seq}: rows ${first} to ${anchor.seq} were deleted`);

      // The end written anew with fresh hashes (a valid chain): the anchor's row is there with another hash.
      let prevHash = truncated.body.head.hash;
      for (let seq = first; seq <= anchor.seq; seq++) {
        const unhashed = { seq, at: new Date(), kind: 'decision', orderId, actorUserId: null, actorRole: 'ra_operator', action: 'rewritten', detail: {}, prevHash };
        prevHash = auditHash(unhashed);
        await db.insert(auditLog).values({ ...unhashed, hash: prevHash });
      }
      const rewritten = await verify(anchor);
      expect(rewritten.body).toMatchObject({ ok: false, finding: 'anchor-mismatch', firstBrokenSeq: anchor.seq, head: { seq: anchor.seq }, anchor: { source: 'expectHead', status: 'anchor-mismatch' } });
    });
    expect((await verify()).body).toMatchObject({ ok: true });
  });

  it('refuses an expectHead that is not `<seq>:<hash>` with a problem', async () => {
    for (const bad of ['12', `12:${'z'.repeat(64)}`, `twelve:${GENESIS_HASH}`, `12:${GENESIS_HASH.slice(2)}`]) {
      const res = await stack.http<{ type: string; detail: string }>('GET', `/v1/audit/verify?expectHead=${encodeURIComponent(bad)}`, { key: auditor.key });
      expect(res.status, bad).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body.detail).toMatch(/expectHead must be `<seq>:<hash>`/);
    }
  });

  it('is anchored by the system in a Temporal history, which shows rows cut from the end without an anchor of the auditor', async () => {
    // This file's worker runs the namespace's anchoring workflow (a process of another test may have started one).
    const handle = await stack.client.workflow.start<typeof auditAnchorWorkflow>('auditAnchorWorkflow', {
      workflowId: AUDIT_ANCHOR_ID,
      taskQueue: stack.taskQueue,
      args: ['1 hour', null],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    });
    const roundsSoFar = async (): Promise<number> => (await auditAnchorRounds(stack.client))?.rounds.length ?? 0;
    const nextRound = async (after: number) => {
      for (let i = 0; i < 120; i++) {
        const found = await auditAnchorRounds(stack.client);
        if (found !== undefined && found.runId === handle.firstExecutionRunId && found.rounds.length > after) return found.rounds[after]!;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error('the anchoring workflow recorded no new round');
    };
    try {
      await withChainLocked(async (db, takeTail) => {
        const appended = [];
        for (const step of ['one', 'two']) appended.push(await appendAudit(db, { kind: 'decision', orderId, actorRole: 'ra_operator', action: `system_anchor_${step}` }));
        const last = appended[1] as AuditRow;
        // The first round runs at start; one more, now that the rows are in.
        const before = await roundsSoFar();
        await handle.signal(anchorNowSignal);
        const round = await nextRound(Math.max(before, 1));
        expect(round.record).toMatchObject({ ok: true, head: { seq: last.seq, hash: last.hash }, count: last.seq });

        const anchored = await verify();
        expect(anchored.body).toMatchObject({ ok: true, head: { seq: last.seq } });
        expect(anchored.body.systemAnchor).toMatchObject({ seq: last.seq, hash: last.hash, runId: handle.firstExecutionRunId, eventId: round.eventId });
        expect(anchored.body.anchors).toEqual([expect.objectContaining({ seq: last.seq, status: 'ok', source: `temporal workflow ${AUDIT_ANCHOR_ID} run ${handle.firstExecutionRunId} event ${round.eventId}` })]);

        // The two rows deleted: the auditor passes no anchor, the system's shows the cut.
        await takeTail(appended[0]!.seq);
        const cut = await verify();
        expect(cut.body).toMatchObject({ ok: false, finding: 'truncated', firstBrokenSeq: appended[0]!.seq, head: { seq: appended[0]!.seq - 1 }, anchor: { seq: last.seq, status: 'truncated' } });
        expect(cut.body.ok ? '' : cut.body.reason).toContain(`(temporal workflow ${AUDIT_ANCHOR_ID} run ${handle.firstExecutionRunId} event ${round.eventId}`);

        // The workflow's next round finds the cut too, records it in its history, and keeps its good anchor.
        const seen = await roundsSoFar();
        await handle.signal(anchorNowSignal);
        const finding = await nextRound(seen);
        expect(finding.record).toMatchObject({ ok: false, finding: 'truncated', firstBrokenSeq: appended[0]!.seq });
        expect((await verify()).body.systemAnchor).toMatchObject({ seq: last.seq, eventId: round.eventId });
      });
      // The rows are back: the chain verifies against the system's anchor again.
      expect((await verify()).body).toMatchObject({ ok: true, anchors: [{ status: 'ok' }] });
    } finally {
      await handle.terminate('test over');
    }
  }, 60_000);

  it('is for auditors and admins: a customer and an RA operator get 403', async () => {
    expect((await stack.http('GET', '/v1/audit/verify', { key: drive.actors.holder.key })).status).toBe(403);
    expect((await stack.http('GET', '/v1/audit/verify', { key: drive.actors.ra.key })).status).toBe(403);
    const admin = await stack.account('admin');
    expect((await stack.http('GET', '/v1/audit/verify', { key: admin.key })).status).toBe(200);
  });
});
