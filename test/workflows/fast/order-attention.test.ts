/**
 * Steps that fail (workflows/attention.ts) on the time-skipping server with stub activities: a refusal no retry can
 * fix puts the order in needs_attention with the step and the CA's message and alerts staff once, until staff resume
 * it (the step runs again) or cancel it; a CA that stays unreachable for the alert window raises one staff alert and
 * the order carries on once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resumeUpdate } from '../../../workflows/definitions.js';
import { startFastStack, type FastStack } from '../stub-activities.js';
import { between, eventually, OrderRun, refusalOf } from './order-run.js';

let stack: FastStack;
beforeAll(async () => {
  stack = await startFastStack('fast-attention');
});
afterAll(() => stack?.close());

const MINUTE = 60_000;
const REFUSAL = 'The key is already certified in another certificate.';

/** An order paid and approved while the CA refuses to sign: it waits in needs_attention. */
async function refusedAtIssuance(): Promise<OrderRun> {
  const { run } = await OrderRun.startApproved(stack);
  stack.stubs.refuseIssuance = REFUSAL;
  try {
    await run.pay();
    await run.until((o) => o.status === 'needs_attention');
  } finally {
    stack.stubs.refuseIssuance = null;
  }
  return run;
}

const alertsOf = (run: OrderRun) => stack.stubs.mails(run.id).filter((m) => m.template === 'activity_failing_staff');

describe('a refusal no retry can fix', () => {
  it('waits in needs_attention with the step and message, alerts staff once, and runs the step again on resume', async () => {
    const run = await refusedAtIssuance();
    const waiting = await run.state();
    expect(waiting).toMatchObject({
      status: 'needs_attention',
      waitingOn: 'ra',
      attention: { step: 'issueCertificate certificate', activity: 'issueCertificate', message: REFUSAL, resumeTo: 'issuing' },
      certificateSerial: null,
    });
    const [alert] = await eventually(() => (alertsOf(run).length > 0 ? alertsOf(run) : undefined), 'the staff alert');
    expect(alert!).toMatchObject({
      idempotencyKey: `order-${run.id}:refused:issueCertificate certificate:${waiting.attention!.since}`,
      extra: { kind: 'refused', step: 'issueCertificate certificate', activity: 'issueCertificate', message: REFUSAL },
    });
    // The customer's actions wait too: the RA decides.
    expect(await refusalOf(run.respond('accept'))).toMatchObject({ kind: 'state', status: 'needs_attention' });

    const resumed = await run.handle.executeUpdate(resumeUpdate, { args: [{ actor: run.ra }] });
    // Back to issuing; the step may already have run again by the time the Update answers.
    expect(resumed.attention).toBeNull();
    expect(['issuing', 'awaiting_acceptance']).toContain(resumed.status);
    const issued = await run.until((o) => o.status === 'awaiting_acceptance');
    expect(issued.certificateSerial).not.toBeNull();
    expect(stack.stubs.callsOf('issueCertificate', run.id).map((c) => (c.req as { issuanceKey: string }).issuanceKey)).toEqual([
      `order-${run.id}:certificate`,
      `order-${run.id}:certificate`,
    ]);
    expect(alertsOf(run)).toHaveLength(1);
    expect(await refusalOf(run.handle.executeUpdate(resumeUpdate, { args: [{ actor: run.ra }] }))).toMatchObject({ code: 'not-needs-attention' });
  });

  it('is cancelled by staff while it needs attention, and nothing is issued', async () => {
    const run = await refusedAtIssuance();
    expect(await run.cancel('The customer reuses a key.', run.ra)).toMatchObject({ status: 'cancelled', attention: null });
    expect((await run.handle.result()).status).toBe('cancelled');
    expect(stack.stubs.mails(run.id).at(-1)).toMatchObject({ template: 'order_cancelled', extra: { cancelledBy: 'staff' } });
    expect(stack.stubs.callsOf('issueCertificate', run.id)).toHaveLength(1);
  });
});

describe('a CA that stays unreachable', () => {
  it('alerts staff once after 10 minutes of failures, keeps trying, and issues once the CA is back', async () => {
    const { run } = await OrderRun.startApproved(stack);
    stack.stubs.issuanceDown = true;
    try {
      await run.pay();
      const firstTry = await eventually(() => stack.stubs.callsOf('issueCertificate', run.id)[0], 'the first issuance attempt');
      await stack.env.sleep(10 * MINUTE - 30_000);
      expect(alertsOf(run)).toHaveLength(0);
      await stack.env.sleep(MINUTE);
      const [alert] = await eventually(() => (alertsOf(run).length > 0 ? alertsOf(run) : undefined), 'the stuck alert');
      expect(alert!.extra).toMatchObject({ kind: 'stuck', step: 'issueCertificate certificate', activity: 'issueCertificate', message: 'connect ECONNREFUSED 127.0.0.1:8443' });
      expect(Math.abs(between(firstTry.at, alert!.at) - 10 * MINUTE)).toBeLessThan(30_000);
      // Still the CA's turn: an outage is not the RA's decision.
      expect(await run.state()).toMatchObject({ status: 'issuing', waitingOn: 'ca' });
      // The next window fails on: no second alert for the same outage.
      await stack.env.sleep(15 * MINUTE);
      expect(alertsOf(run)).toHaveLength(1);
    } finally {
      stack.stubs.issuanceDown = false;
    }
    await stack.env.sleep(6 * MINUTE);
    expect((await run.until((o) => o.status === 'awaiting_acceptance')).certificateSerial).not.toBeNull();
    expect(alertsOf(run)).toHaveLength(1);
  });
});
