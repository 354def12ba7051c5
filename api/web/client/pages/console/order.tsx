/**
 * An order as staff see it: its state and whom it waits on, the supporting documents with the one on show, the
 * deadlines, the payment, the face-to-face check, the originals and the domains, the actions of the operator's role,
 * and the timeline (who did what, what was refused, which deadline fired), each entry the Temporal history backs
 * citing its event, and the history itself to download.
 */
import { Fragment, type JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { CATALOG } from '../../../../../domain/catalog.js';
import type { OrderView } from '../../../../../domain/order.js';
import type { OrderWithActions } from '../../../../../workflows/definitions.js';
import { formatAmount, formatDate, formatDateTime } from '../../../i18n/index.js';
import { ApiProblem } from '../../api.js';
import { lang, t } from '../../boot.js';
import { Alert, generalMessage } from '../../ui.js';
import { Actions, type Outcome } from './actions.js';
import { Evidence } from './evidence.js';
import { c, call, FocusHeading, lastQueueHash, StatusLine, words } from './shared.js';

const o = c.order;

interface TimelineEntry {
  readonly at: string;
  readonly kind: string;
  readonly text: string;
  readonly source?: { readonly workflowId: string; readonly runId: string; readonly eventId: string };
}

type Timeline = { readonly items: readonly TimelineEntry[] } | 'unavailable';

/** The timeline's texts are the API's, in English: a French page says so to screen readers. */
const apiLang = lang === 'en' ? undefined : 'en';

function Facts({ order }: { order: OrderView }): JSX.Element {
  const f = o.facts;
  const rows: [string, string][] = [
    [f.status, t.statuses[order.status]],
    [f.waitingOn, c.waitingOn[order.waitingOn]],
    [f.product, `${CATALOG[order.product].name[lang]} (${order.product}), ${c.years(order.durationYears)}, ${c.os[order.os] ?? order.os}`],
    [f.key, c.keyOrigin[order.keyOrigin]],
    [f.reviewRounds, String(order.reviewRounds)],
    [f.created, formatDateTime(lang, order.createdAt)],
    [f.updated, formatDateTime(lang, order.updatedAt)],
  ];
  if (order.partnerCode !== null) rows.push([f.partnerCode, order.partnerCode]);
  if (order.heldStatus !== null) rows.push([f.heldFrom, t.statuses[order.heldStatus]], [f.holdComment, order.holdComment ?? '—']);
  if (order.attention) {
    rows.push([f.attentionStep, `${order.attention.step} (${order.attention.activity})`], [f.attentionMessage, order.attention.message], [f.attentionSince, formatDateTime(lang, order.attention.since)]);
  }
  if (order.closedReason !== null) rows.push([f.closedReason, words(order.closedReason)]);
  if (order.certificateSerial !== null) rows.push([f.serial, order.certificateSerial]);
  return (
    <section class="card" aria-labelledby="summary-title">
      <h3 id="summary-title">{o.summary}</h3>
      <dl class="facts">
        {rows.map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </Fragment>
        ))}
      </dl>
    </section>
  );
}

function Deadlines({ order }: { order: OrderView }): JSX.Element {
  return (
    <section class="card" aria-labelledby="deadlines-title">
      <h3 id="deadlines-title">{o.deadlines}</h3>
      {order.deadlines.length === 0 ? (
        <p class="console-muted">{o.noDeadline}</p>
      ) : (
        <ul>
          {order.deadlines.map((d) => (
            <li key={`${d.kind}-${d.at}`}>
              {c.deadlines[d.kind] ?? words(d.kind)}
              {c.colon}
              <time dateTime={d.at}>{formatDateTime(lang, d.at)}</time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Payment({ order }: { order: OrderView }): JSX.Element {
  const p = order.payment;
  const pf = o.paymentFacts;
  return (
    <section class="card" aria-labelledby="payment-title">
      <h3 id="payment-title">{o.payment}</h3>
      <dl class="facts">
        <dt>{pf.method}</dt>
        <dd>
          {c.paymentMethods[p.method]}
          {p.purchaseOrderNumber !== null ? ` (${pf.po(p.purchaseOrderNumber)})` : ''}
        </dd>
        <dt>{pf.status}</dt>
        <dd>{c.paymentStatuses[p.status]}</dd>
        <dt>{pf.price}</dt>
        <dd>{formatAmount(lang, p.priceCents)}</dd>
        <dt>{pf.reference}</dt>
        <dd>{p.reference ?? '—'}</dd>
      </dl>
    </section>
  );
}

function Proofing({ order }: { order: OrderView }): JSX.Element {
  const f2f = order.faceToFace;
  const originals = order.originals;
  return (
    <section class="card" aria-labelledby="proofing-title">
      <h3 id="proofing-title">{o.proofing}</h3>
      <dl class="facts">
        <dt>{o.faceToFace}</dt>
        <dd>{!f2f.required ? o.notRequired : f2f.done ? o.doneOn(f2f.meetingDate === null ? '—' : formatDate(lang, f2f.meetingDate)) : o.pending}</dd>
        <dt>{o.originals}</dt>
        <dd>{!originals.required ? o.notRequired : originals.received ? o.received : originals.overdue ? o.overdue : o.awaited}</dd>
        {order.domains.required ? (
          <>
            <dt>{o.domains}</dt>
            <dd>
              <ul class="console-plain">
                {order.domains.items.map((d) => (
                  <li key={d.name}>
                    <code>{d.name}</code>
                    {c.colon}
                    {o.domainStatus[d.status] ?? d.status}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}

function TimelinePanel({ orderId, timeline }: { orderId: string; timeline: Timeline }): JSX.Element {
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const download = async () => {
    setProblem(undefined);
    try {
      const blob = await call<Blob>('GET', `/v1/orders/${orderId}/history`, { blob: true });
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `order-${orderId}-history.json`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setProblem(err instanceof ApiProblem ? generalMessage(err) : t.errors.unexpected);
    }
  };
  return (
    <section class="card" aria-labelledby="timeline-title">
      <h3 id="timeline-title">{o.timeline}</h3>
      {timeline === 'unavailable' ? (
        <p class="console-muted">{o.timelineUnavailable}</p>
      ) : timeline.items.length === 0 ? (
        <p class="console-muted">{o.timelineEmpty}</p>
      ) : (
        <ol class="console-timeline" aria-labelledby="timeline-title">
          {timeline.items.map((e, i) => (
            <li key={`${e.at}-${i}`} class={`timeline-${e.kind}`}>
              <time dateTime={e.at}>{formatDateTime(lang, e.at)}</time> — <span lang={apiLang}>{e.text}</span>
              {e.source !== undefined ? (
                <span class="console-muted" title={o.historySource(e.source.workflowId, e.source.runId)}>
                  {' · '}
                  {o.historyEvent(e.source.eventId)}
                </span>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      <Alert text={problem} />
      <p>
        <button type="button" onClick={() => void download()}>
          {o.downloadHistory}
        </button>
      </p>
    </section>
  );
}

export function Order({ orderId }: { orderId: string }): JSX.Element {
  const [order, setOrder] = useState<OrderWithActions | undefined>(undefined);
  const [timeline, setTimeline] = useState<Timeline>('unavailable');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState('');

  const load = async (): Promise<void> => {
    try {
      const [view, events] = await Promise.all([
        call<OrderWithActions>('GET', `/v1/orders/${orderId}`),
        // The timeline may be missing on a server that has no Temporal history to read: the page goes on without it.
        call<{ items: TimelineEntry[] }>('GET', `/v1/orders/${orderId}/timeline`).catch((err: unknown): Timeline => {
          if (err instanceof ApiProblem && err.status !== 401) return 'unavailable';
          throw err;
        }),
      ]);
      setOrder(view);
      setTimeline(events);
      setProblem(undefined);
    } catch (err) {
      setProblem(err instanceof ApiProblem ? generalMessage(err) : t.errors.unexpected);
    }
  };

  useEffect(() => {
    void load();
    document.title = `${o.title(orderId)} · ${t.titles.console} · ${t.appName}`;
    return () => {
      document.title = `${t.titles.console} · ${t.appName}`;
    };
  }, [orderId]);

  const outcome: Outcome = {
    starting: () => setNotice(''),
    // Said once the page shows the order as the API now has it.
    done: async (message) => {
      await load();
      setNotice(message);
    },
  };

  return (
    <section aria-labelledby="order-title">
      <p>
        <a href={lastQueueHash()}>{o.back}</a>
      </p>
      <FocusHeading id="order-title">{o.title(orderId)}</FocusHeading>
      <Alert text={problem} />
      {order === undefined ? (
        problem === undefined ? (
          <p>{t.loading}</p>
        ) : null
      ) : (
        <div class="console-panels">
          <div>
            <Facts order={order} />
            <Evidence order={order} />
            <Deadlines order={order} />
            <Payment order={order} />
            <Proofing order={order} />
          </div>
          <div>
            <Actions order={order} outcome={outcome} notice={<StatusLine text={notice} />} />
            <TimelinePanel orderId={order.id} timeline={timeline} />
          </div>
        </div>
      )}
    </section>
  );
}
