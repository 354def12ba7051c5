/**
 * The audit chain as an order leaves it over HTTP, and GET /v1/audit/verify naming a row edited or deleted in
 * Postgres. The database is the run's shared one: each tampering is undone (in `finally`) so that the chain keeps
 * verifying for everyone else.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditVerification } from '../../db/audit-log.js';
import { auditLog, sentMessages } from '../../db/schema.js';
import { startTestStack, type Account, type TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';

let stack: TestStack;
let drive: Driver;
let auditor: Account;
let orderId: string;

beforeAll(async () => {
  stack = await startTestStack();
  drive = new Driver(stack, { holder: await stack.account('customer'), ra: await stack.account('ra_operator'), dra: await stack.account('dra_operator') });
  auditor = await stack.account('auditor');

  const created = await drive.create('ID_RGS_STAR');
  orderId = created.id;
  expect((await drive.post(drive.actors.holder.key, `/v1/orders/${created.id}/submit`)).status).toBe(422);
  const submitted = await drive.completeAndSubmit(created);
  await drive.reject(submitted.id, 'holder_identity', 'The identity document has expired.');
  const again = await drive.completeAndSubmit(await drive.get(submitted.id));
  await drive.approve(again.id);
  await drive.pay(again.id);
  await drive.until(again.id, (o) => o.status === 'awaiting_acceptance');
});
afterAll(async () => {
  await stack?.close();
});

const verify = () => stack.http<AuditVerification>('GET', '/v1/audit/verify', { key: auditor.key });

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
      expect(res.body).toMatchObject({ ok: false, firstBrokenSeq: approve!.seq });
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

  it('is for auditors and admins: a customer and an RA operator get 403', async () => {
    expect((await stack.http('GET', '/v1/audit/verify', { key: drive.actors.holder.key })).status).toBe(403);
    expect((await stack.http('GET', '/v1/audit/verify', { key: drive.actors.ra.key })).status).toBe(403);
    const admin = await stack.account('admin');
    expect((await stack.http('GET', '/v1/audit/verify', { key: admin.key })).status).toBe(200);
  });
});
