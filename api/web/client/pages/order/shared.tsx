/** What the order pages share: the words of an order's product, deadlines and date, and a download from a blob: URL. */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { CATALOG } from '../../../../../domain/catalog.js';
import type { Deadline, OrderStatus, OrderView } from '../../../../../domain/order.js';
import { formatDate, relativeDays } from '../../../i18n/index.js';
import { api, ApiProblem } from '../../api.js';
import { lang, t } from '../../boot.js';
import { generalMessage } from '../../ui.js';

export const o = t.orders;

export const productName = (view: Pick<OrderView, 'product'>): string => CATALOG[view.product].name[lang];

export const orderPath = (id: string): string => `/orders/${encodeURIComponent(id)}`;

/** Reminders are the CA's own business; what the customer must beat is the rest. The earliest of those, else any. */
export function nextDeadline(view: Pick<OrderView, 'deadlines'>): Deadline | undefined {
  const sorted = [...view.deadlines].sort((a, b) => a.at.localeCompare(b.at));
  return sorted.find((d) => !d.kind.endsWith('_reminder')) ?? sorted[0];
}

export function deadlineText(d: Deadline, now: Date = new Date()): string {
  return o.deadlineLine(o.deadlines[d.kind] ?? o.deadlines.other ?? '', formatDate(lang, d.at), relativeDays(lang, d.at, now));
}

export const TERMINAL: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['completed', 'cancelled', 'abandoned', 'refused']);
const BAD: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['cancelled', 'abandoned', 'refused', 'originals_overdue', 'on_hold']);

/** A status badge: green when done, red when it ended badly or is stuck, amber when the customer has to act. */
export function StatusBadge({ view }: { view: Pick<OrderView, 'status' | 'waitingOn'> }): JSX.Element {
  const tone = view.status === 'completed' ? 'ok' : BAD.has(view.status) ? 'bad' : view.waitingOn === 'customer' ? 'warn' : '';
  return <span class={`badge ${tone}`.trim()}>{t.statuses[view.status]}</span>;
}

/** A problem's sentence for a section that has no form of its own. */
export function messageOf(err: unknown, own: Readonly<Record<string, string>> = {}): string {
  if (!(err instanceof ApiProblem)) return t.errors.unexpected;
  return own[err.slug] ?? generalMessage(err);
}

/**
 * A button that fetches a file through the API (session and all) and saves it from a blob: URL; the link stays on the
 * page afterwards, for a second copy or for opening it.
 */
export function Download({ label, path, accept, fileName }: { label: string; path: string; accept: string; fileName: string }): JSX.Element {
  const [url, setUrl] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const urlRef = useRef<string | undefined>(undefined);
  useEffect(
    () => () => {
      if (urlRef.current !== undefined) URL.revokeObjectURL(urlRef.current);
    },
    [],
  );
  const fetchIt = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const blob = await api<Blob>('GET', path, { blob: true, headers: { accept } });
      if (urlRef.current !== undefined) URL.revokeObjectURL(urlRef.current);
      const made = URL.createObjectURL(blob);
      urlRef.current = made;
      setUrl(made);
      const a = document.createElement('a');
      a.href = made;
      a.download = fileName;
      a.click();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="download">
      <button type="button" onClick={() => void fetchIt()} disabled={busy} aria-busy={busy ? 'true' : undefined}>
        {busy ? t.loading : label}
      </button>
      <span role="status">
        {url !== undefined ? (
          <a href={url} download={fileName}>
            {o.downloads.save(label)}
          </a>
        ) : null}
      </span>
      {error !== undefined ? <p class="field-error">{error}</p> : null}
    </li>
  );
}
