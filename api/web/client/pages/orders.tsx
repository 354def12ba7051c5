/** "Mes commandes" (SPEC §9): the customer's orders, newest first, each with its state in words and its next deadline. */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { OrderView } from '../../../../domain/order.js';
import { PAGES } from '../../../../domain/pages.js';
import { formatDate } from '../../i18n/index.js';
import { api, ApiProblem, toSignIn } from '../api.js';
import { lang, t } from '../boot.js';
import { Alert } from '../ui.js';
import { deadlineText, messageOf, nextDeadline, o, orderPath, productName, StatusBadge } from './order/shared.js';

interface Page {
  readonly items: OrderView[];
  readonly nextCursor: string | null;
}

const PAGE_SIZE = 20;

/** Link texts must tell the orders apart: two of the same product on the same day also get their short number. */
function names(items: readonly OrderView[]): Map<string, string> {
  const base = new Map(items.map((v) => [v.id, o.list.orderName(productName(v), formatDate(lang, v.createdAt))]));
  const counts = new Map<string, number>();
  for (const name of base.values()) counts.set(name, (counts.get(name) ?? 0) + 1);
  return new Map([...base].map(([id, name]) => [id, (counts.get(name) ?? 0) > 1 ? `${name} (${o.list.shortId(id)})` : name]));
}

export function Orders(): JSX.Element {
  const [items, setItems] = useState<OrderView[] | undefined>(undefined);
  const itemsRef = useRef<OrderView[] | undefined>(undefined);
  const [cursor, setCursor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [announce, setAnnounce] = useState('');
  const firstNew = useRef<HTMLAnchorElement | null>(null);
  const [focusIndex, setFocusIndex] = useState<number | undefined>(undefined);

  const load = async (after: string | null) => {
    setBusy(true);
    setError(undefined);
    try {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (after !== null) query.set('cursor', after);
      const page = await api<Page>('GET', `/v1/orders?${query.toString()}`);
      const before = after === null ? [] : (itemsRef.current ?? []);
      const all = [...before, ...page.items];
      itemsRef.current = all;
      setItems(all);
      if (after !== null) {
        setFocusIndex(before.length);
        setAnnounce(o.list.loadedMore(all.length));
      }
      setCursor(page.nextCursor);
    } catch (err) {
      if (err instanceof ApiProblem && err.status === 401) return toSignIn();
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void load(null);
  }, []);
  // After "more", the focus goes to the first order just shown (the button it was on may be gone).
  useEffect(() => {
    if (focusIndex !== undefined) firstNew.current?.focus();
  }, [focusIndex, items]);

  if (items === undefined) {
    return error === undefined ? <p role="status">{t.loading}</p> : <p class="problem" role="alert">{error}</p>;
  }
  if (items.length === 0) {
    return (
      <div class="card tint">
        <p>{o.list.empty}</p>
        <p>
          <a href={PAGES.newOrder}>{o.list.emptyLink}</a>
        </p>
      </div>
    );
  }
  const linkNames = names(items);
  const now = new Date();
  return (
    <>
      <p>{o.list.intro}</p>
      <ul class="order-list">
        {items.map((view, i) => {
          const next = nextDeadline(view);
          return (
            <li key={view.id} class="card order-item">
              <h2>
                <a href={orderPath(view.id)} ref={i === focusIndex ? firstNew : undefined}>
                  {linkNames.get(view.id)}
                </a>
              </h2>
              <dl class="facts">
                <dt>{o.list.status}</dt>
                <dd>
                  <StatusBadge view={view} /> <span class="waiting">{t.waitingOn[view.waitingOn]}</span>
                </dd>
                <dt>{o.list.next}</dt>
                <dd>{next === undefined ? o.list.none : deadlineText(next, now)}</dd>
              </dl>
            </li>
          );
        })}
      </ul>
      <p class="visually-hidden" role="status">
        {announce}
      </p>
      <Alert text={error} />
      {cursor !== null ? (
        <button type="button" onClick={() => void load(cursor)} disabled={busy} aria-busy={busy ? 'true' : undefined}>
          {busy ? t.loading : o.list.more}
        </button>
      ) : null}
    </>
  );
}
