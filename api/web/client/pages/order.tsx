/**
 * The order page (SPEC §9): where the order stands, who it waits on and its next deadline, kept up to date without a
 * reload (the order is read again every few seconds while the page is visible; a change of state is announced
 * politely), and the sections the state makes relevant: documents, order form, payment, domains, face-to-face,
 * originals, acceptance, unlock, downloads, revocation, renewal.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { PAGES } from '../../../../domain/pages.js';
import type { OrderWithActions } from '../../../../workflows/definitions.js';
import { formatDate, formatDateTime } from '../../i18n/index.js';
import { api, ApiProblem, toSignIn } from '../api.js';
import { boot, lang, t } from '../boot.js';
import { Checklist } from './order/checklist.js';
import { Acceptance, Domains, Downloads, FaceToFace, OrderForm, Originals, Payment, Renew, Revoke, Unlock } from './order/sections.js';
import { deadlineText, messageOf, nextDeadline, o, productName, StatusBadge, TERMINAL } from './order/shared.js';

/** Often enough that an RA decision shows within seconds, rarely enough to cost nothing. */
export const POLL_MS = 3000;

const ISSUED = new Set(['awaiting_acceptance', 'awaiting_unlock', 'completed']);

function useOrder(id: string): { view: OrderWithActions | undefined; error: string | undefined; accept: (v: OrderWithActions) => void } {
  const [view, setView] = useState<OrderWithActions | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const current = useRef<OrderWithActions | undefined>(undefined);
  // An answer older than the view shown (a poll that crossed an action) never takes its place.
  const accept = (next: OrderWithActions) => {
    if (current.current !== undefined && next.version < current.current.version) return;
    current.current = next;
    setView(next);
  };
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      try {
        const next = await api<OrderWithActions>('GET', `/v1/orders/${encodeURIComponent(id)}`);
        if (!stopped) {
          accept(next);
          setError(undefined);
        }
      } catch (err) {
        if (err instanceof ApiProblem && err.status === 401) return toSignIn();
        if (!stopped) setError(err instanceof ApiProblem && err.status === 404 ? t.errors.notFound : messageOf(err));
      }
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        if (document.visibilityState === 'visible') await read();
        if (!stopped) schedule();
      }, POLL_MS);
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') void read();
    };
    void read().then(schedule);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [id]);
  return { view, error, accept };
}

export function Order(): JSX.Element {
  const id = boot.params.id ?? '';
  const { view, error, accept } = useOrder(id);
  const [announcement, setAnnouncement] = useState('');
  const [pin, setPin] = useState<string | undefined>(undefined);
  const lastStatus = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (view === undefined) return;
    if (lastStatus.current !== undefined && lastStatus.current !== view.status) setAnnouncement(o.page.updated(t.statuses[view.status]));
    lastStatus.current = view.status;
  }, [view?.status]);

  if (view === undefined) {
    return error === undefined ? (
      <p role="status">{t.loading}</p>
    ) : (
      <>
        <p class="problem" role="alert">
          {error}
        </p>
        <p>
          <a href={PAGES.orders}>{o.page.backToList}</a>
        </p>
      </>
    );
  }

  const next = nextDeadline(view);
  const s = view.status;
  const issued = ISSUED.has(s) && view.certificateSerial !== null;
  const p = o.page;
  return (
    <>
      <p class="order-name">
        {o.list.orderName(productName(view), formatDate(lang, view.createdAt))}
      </p>
      <section aria-labelledby="summary-title" class="card summary-card">
        <h2 id="summary-title">{p.summary}</h2>
        <dl class="facts">
          <dt>{p.status}</dt>
          <dd>
            <StatusBadge view={view} /> <span class="waiting">{t.waitingOn[view.waitingOn]}</span>
          </dd>
          <dt>{p.nextDeadline}</dt>
          <dd>{next === undefined ? p.noDeadline : deadlineText(next)}</dd>
          <dt>{p.product}</dt>
          <dd>{productName(view)}</dd>
          <dt>{p.durationLabel}</dt>
          <dd>{p.duration(view.durationYears)}</dd>
          <dt>{p.createdAt}</dt>
          <dd>{formatDateTime(lang, view.createdAt)}</dd>
          <dt>{p.orderId}</dt>
          <dd>
            <code>{view.id}</code>
          </dd>
          {s === 'on_hold' && view.holdComment !== null ? (
            <>
              <dt>{p.holdComment}</dt>
              <dd>{view.holdComment}</dd>
            </>
          ) : null}
          {TERMINAL.has(s) && view.closedReason !== null ? (
            <>
              <dt>{p.closedReason}</dt>
              <dd>{view.closedReason}</dd>
            </>
          ) : null}
        </dl>
        <p class="hint">{p.live}</p>
        <p class="visually-hidden" aria-live="polite" aria-atomic="true" id="order-updates">
          {announcement}
        </p>
        {error !== undefined ? <p class="problem">{error}</p> : null}
      </section>

      {view.checklist.length > 0 && !issued && !TERMINAL.has(s) ? <Checklist order={view} onView={accept} /> : null}
      {s === 'awaiting_evidence' && view.checklist.some((c) => c.documentType === 'signed_order_form' && c.status !== 'accepted') ? <OrderForm order={view} /> : null}
      {view.domains.required && !TERMINAL.has(s) && !issued ? <Domains order={view} onView={accept} /> : null}
      {view.faceToFace.required && !TERMINAL.has(s) && !issued ? <FaceToFace order={view} /> : null}
      {view.originals.required && !TERMINAL.has(s) && !issued && (s !== 'awaiting_evidence' && s !== 'under_review') ? <Originals order={view} /> : null}
      {!TERMINAL.has(s) && !issued ? <Payment order={view} /> : null}
      {s === 'awaiting_acceptance' && view.certificateSerial !== null ? <Acceptance order={view} onView={accept} /> : null}
      {view.actions.includes('request_unlock_code') || pin !== undefined ? <Unlock order={view} pin={pin} onPin={setPin} /> : null}
      {issued ? <Downloads order={view} /> : null}
      {s === 'completed' && view.certificateSerial !== null ? <Revoke order={view} /> : null}
      {s === 'completed' || s === 'refused' ? <Renew order={view} /> : null}
      <p>
        <a href={PAGES.orders}>{p.backToList}</a>
      </p>
    </>
  );
}
