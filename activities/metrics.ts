/**
 * What the worker counts itself, because the database keeps no trace of it: activity failures (each failed
 * attempt, retries included) and messages handed to the mail relay or the SMS provider. One registry per process;
 * the worker serves it on WORKER_METRICS_PORT, `npm start` adds it to the API's /metrics.
 */
import { Context } from '@temporalio/activity';
import { Counter, Registry } from 'prom-client';

export const workerMetrics = new Registry();

const activityFailures = new Counter({
  name: 'certflow_activity_failures_total',
  help: 'Activity attempts that threw (each retry counts), by activity',
  labelNames: ['activity'] as const,
  registers: [workerMetrics],
});

const stuckActivities = new Counter({
  name: 'certflow_activity_stuck_total',
  help: 'Activities of an order that kept failing past its bound (ORDER_DEADLINES activityAlertAfter, 10 minutes) and raised a staff alert; each episode counts once',
  labelNames: ['activity'] as const,
  registers: [workerMetrics],
});

/**
 * The workflow's staff alert for a stuck step (workflows/attention.ts) is an order mail: counted on its first attempt
 * only, so an alert that itself retries (SMTP down) counts once.
 */
function countStuckAlert(name: string, args: unknown[]): void {
  if (name !== 'sendOrderMail' && name !== 'sendCertificateMail') return;
  const req = args[0] as { template?: string; extra?: Record<string, unknown> } | undefined;
  if (req?.template !== 'activity_failing_staff' || req.extra?.kind !== 'stuck') return;
  let attempt = 1;
  try {
    attempt = Context.current().info.attempt;
  } catch {
    // Called outside an activity (a unit test): one call, one attempt.
  }
  const activity = req.extra.activity;
  if (attempt === 1) stuckActivities.inc({ activity: typeof activity === 'string' ? activity : 'unknown' });
}

const messages = new Counter({
  name: 'certflow_messages_total',
  help: 'Mails and SMS the worker tried to hand over, by channel and result (sent or failed)',
  labelNames: ['channel', 'result'] as const,
  registers: [workerMetrics],
});

/** The activities that send one message each, and on which channel. */
const CHANNEL: Readonly<Record<string, 'email' | 'sms'>> = {
  sendOrderMail: 'email',
  sendCertificateMail: 'email',
  sendUnlockCode: 'sms',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wraps activities of every signature alike
type AnyFn = (...args: any[]) => any;

/** The same activities, each counted when it fails (and, for the message ones, when it sends). */
export function countedActivities<T extends object>(activities: T): T {
  const wrapped = Object.entries(activities as Record<string, AnyFn>).map(([name, fn]) => [
    name,
    async (...args: unknown[]) => {
      const channel = CHANNEL[name];
      countStuckAlert(name, args);
      try {
        const result: unknown = await fn(...args);
        if (channel !== undefined) messages.inc({ channel, result: 'sent' });
        return result;
      } catch (err) {
        activityFailures.inc({ activity: name });
        if (channel !== undefined) messages.inc({ channel, result: 'failed' });
        throw err;
      }
    },
  ]);
  return Object.fromEntries(wrapped) as T;
}

/** Where the Temporal SDK's exporter of this process listens: loopback only, read through the process's /metrics. */
export const sdkMetricsAddress = (port: number): string => `127.0.0.1:${port}`;

/**
 * Runtime.install's telemetry options for that exporter (none when the port is 0), named as Prometheus expects:
 * counters end in _total, durations are in seconds and say so (`promtool check metrics` lints both).
 */
export const sdkTelemetryOptions = (port: number) =>
  port === 0
    ? {}
    : { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress(port), countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } } } };
