/**
 * An order's human timeline, as staff and auditors read it: actions, refused attempts, messages, the certificate, and
 * from the Temporal history the deadlines that fired and the Update behind each action.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../api/routes/timeline.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import { holdUpdate, orderWorkflowId } from '../../workflows/definitions.js';
import type { Account } from '../support.js';
import { Driver } from '../workflows/drive.js';
import { testStackForFile } from '../stack-for-file.js';

/** The originals by post fall due in seconds (no other product of these tests has originals to wait for). */
const deadlines = { ...DEFAULT_DEADLINES, originalsReminder: '1 second', originalsDue: '2 seconds', originalsAbandon: '1 hour' };

/** One event of a history as GET /history returns it (`temporal workflow show --output json`, payloads as JSON values). */
interface JsonEvent {
  eventId: string;
  eventType: string;
  eventTime: string;
  /** The timer's summary, its payload written as its JSON value (a string). */
  userMetadata?: { summary?: unknown };
  timerFiredEventAttributes?: { startedEventId: string };
  workflowExecutionUpdateAcceptedEventAttributes?: { acceptedRequest: { input: { name: string } } };
}

const stack = testStackForFile({ deadlines });
let drive: Driver;
let auditor: Account;

beforeAll(async () => {
  drive = await Driver.withNewActors(stack);
  auditor = await stack.account('auditor');
});

describe('GET /v1/orders/{id}/timeline', () => {
  it('tells who did what, what was refused, which messages went out and the certificate, oldest first', async () => {
    // Submitting an incomplete file is refused, and the attempt is on the timeline.
    const created = await drive.throughOneRejection();

    const res = await stack.http<{ items: TimelineEntry[] }>('GET', `/v1/orders/${created.id}/timeline`, { key: auditor.key });
    expect(res.status).toBe(200);
    const texts = res.body.items.map((e) => e.text);
    expect(texts[0]).toBe('order created');
    expect(texts).toContain('customer: submit refused (checklist-incomplete)');
    expect(texts).toContain('ra operator: reject');
    expect(texts).toContain('ra operator: approve');
    expect(texts).toContain('ra operator: record payment');
    expect(texts).toContain('email sent: order confirmation');
    expect(texts).toContain('email sent: evidence rejected');
    expect(texts.some((t) => /^certificate [0-9a-f]+ issued by persons-issuing$/.test(t))).toBe(true);
    const times = res.body.items.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const reject = res.body.items.find((e) => e.text === 'ra operator: reject');
    expect(reject?.actor).toEqual({ userId: drive.actors.ra.user.id, role: 'ra_operator' });
    // Each action the API recorded is the Update the workflow accepted, cited from its history; nothing else is there.
    for (const e of res.body.items.filter((x) => x.kind === 'action')) expect(e.source?.workflowId, e.text).toBe(`order-${created.id}`);
    expect(res.body.items.find((e) => e.text === 'customer: submit refused (checklist-incomplete)')?.source).toBeUndefined();
    expect(texts.filter((t) => t.endsWith('in the workflow history only'))).toEqual([]);
  });

  it('names the deadlines that fired, from the TimerFired events of the history and the TimerStarted they answer', async () => {
    const approved = await drive.approve((await drive.completeAndSubmit(await drive.create('ID_RGS_2STAR'))).id);
    expect(approved.status).toBe('awaiting_face_to_face');
    await drive.until(approved.id, (o) => o.originals.overdue, 20_000);

    const res = await stack.http<{ items: TimelineEntry[] }>('GET', `/v1/orders/${approved.id}/timeline`, { key: auditor.key });
    expect(res.status).toBe(200);
    const fired = res.body.items.filter((e) => e.kind === 'deadline');
    expect(fired.map((e) => e.text)).toEqual(['deadline reached: originals reminder', 'deadline reached: originals due']);
    const due = fired[1] as TimelineEntry;
    expect(due).toMatchObject({ detail: { deadline: 'originals_due', step: 'originals-due' }, source: { workflowId: orderWorkflowId(approved.id) } });
    const approval = res.body.items.find((e) => e.text === 'ra operator: approve') as TimelineEntry;
    const dueAt = Date.parse(String(due.detail?.dueAt));
    expect(Date.parse(due.at)).toBeGreaterThanOrEqual(dueAt);
    // What the entry cites is in the decoded history the auditors download: the timer fired, named when it started.
    const history = await stack.http<{ runs: { runId: string; history: { events: JsonEvent[] } }[] }>('GET', `/v1/orders/${approved.id}/history`, { key: auditor.key });
    const events = history.body.runs.find((r) => r.runId === due.source?.runId)?.history.events ?? [];
    const timerFired = events.find((e) => e.eventId === due.source?.eventId);
    expect(timerFired?.eventType).toBe('EVENT_TYPE_TIMER_FIRED');
    const timerStarted = events.find((e) => e.eventId === timerFired?.timerFiredEventAttributes?.startedEventId);
    expect(timerStarted?.eventType).toBe('EVENT_TYPE_TIMER_STARTED');
    expect(timerStarted?.userMetadata?.summary).toBe(`deadline originals_due originals-due due ${new Date(dueAt).toISOString()}`);
    const review = events.find((e) => e.eventId === approval.source?.eventId);
    expect(review?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest.input.name).toBe('review');
    // Due two seconds after the online validation: the workflow's time when it applied the approval, which is the
    // start of the workflow task that accepted the Update.
    const taskStarted = events.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_STARTED' && Number(e.eventId) < Number(review?.eventId)).at(-1);
    expect(Math.abs(dueAt - 2_000 - Date.parse(taskStarted?.eventTime ?? ''))).toBeLessThanOrEqual(1);
  });

  it('shows an Update the workflow accepted that the API never recorded, from the history alone', async () => {
    const order = await drive.completeAndSubmit(await drive.create('ID_RGS_STAR'));
    const ra = drive.actors.ra.user;
    // Straight to Temporal, as someone holding the cluster's credentials could: no order_events row.
    const held = await stack.client.workflow
      .getHandle(orderWorkflowId(order.id))
      .executeUpdate(holdUpdate, { args: [{ actor: { userId: ra.id, role: 'ra_operator' }, comment: 'Checking the Kbis with the registry' }] });
    expect(held.status).toBe('on_hold');

    const res = await stack.http<{ items: TimelineEntry[] }>('GET', `/v1/orders/${order.id}/timeline`, { key: auditor.key });
    const entry = res.body.items.find((e) => e.text === 'ra operator: hold, in the workflow history only');
    expect(entry).toMatchObject({ kind: 'action', actor: { userId: ra.id, role: 'ra_operator' }, detail: { update: 'hold' } });
    expect(entry?.source?.workflowId).toBe(orderWorkflowId(order.id));
    // The customer's own actions went through the API and are recorded once, with their Update.
    expect(res.body.items.filter((e) => e.text.endsWith('in the workflow history only'))).toHaveLength(1);
  });

  it('is for staff and auditors: the customer gets 403', async () => {
    const order = await drive.create('ID_RGS_STAR');
    const mine = await stack.http('GET', `/v1/orders/${order.id}/timeline`, { key: drive.actors.holder.key });
    expect(mine.status).toBe(403);
    const dra = await stack.http('GET', `/v1/orders/${order.id}/timeline`, { key: drive.actors.dra.key });
    expect(dra.status).toBe(200);
  });
});
