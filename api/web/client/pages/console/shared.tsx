/**
 * What the console's views share: its texts, the role of the operator, where each URL fragment leads (#/ the queue
 * with its filters, #/orders/<id> an order, so that the browser's back and a reload keep the place), and the way
 * back to the sign-in page when the session has ended, to this very place afterwards.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Role } from '../../../../../domain/roles.js';
import { api, ApiProblem, type CallOptions } from '../../api.js';
import { boot, t } from '../../boot.js';

export const c = t.console;
export const role: Role | undefined = boot.user?.role;

export const FILTER_NAMES = ['product', 'status', 'waitingOn', 'organisationId'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];
export type Filters = Readonly<Record<FilterName, string>>;

/** Where each role's queue starts: what waits on that role. Everyone else sees every order. */
export const defaultFilters = (r: Role | undefined): Filters => ({
  product: '',
  status: '',
  waitingOn: r === 'ra_operator' ? 'ra' : r === 'dra_operator' ? 'dra' : '',
  organisationId: '',
});

export type Route =
  | { readonly view: 'queue'; readonly filters: Filters; readonly cursor: string | undefined; readonly pageNumber: number }
  | { readonly view: 'order'; readonly orderId: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID.test(s);

/** The place a fragment names; a fragment without filters is the role's own queue. */
export function parseRoute(hash: string): Route {
  const order = /^#\/orders\/([^/?]+)$/.exec(hash);
  if (order?.[1] !== undefined && isUuid(order[1])) return { view: 'order', orderId: order[1].toLowerCase() };
  const query = hash.startsWith('#/?') ? new URLSearchParams(hash.slice(3)) : undefined;
  if (query === undefined) return { view: 'queue', filters: defaultFilters(role), cursor: undefined, pageNumber: 1 };
  const filters = Object.fromEntries(FILTER_NAMES.map((name) => [name, query.get(name) ?? ''])) as Record<FilterName, string>;
  const cursor = query.get('cursor') ?? undefined;
  const pageNumber = Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1);
  return { view: 'queue', filters, cursor: cursor === '' ? undefined : cursor, pageNumber };
}

/** Every filter is written, even empty: "anybody" chosen is not the role's default. */
export function queueHash(filters: Filters, cursor?: string, pageNumber = 1): string {
  const query = new URLSearchParams();
  for (const name of FILTER_NAMES) query.set(name, filters[name]);
  if (cursor !== undefined) {
    query.set('cursor', cursor);
    query.set('page', String(pageNumber));
  }
  return `#/?${query.toString()}`;
}

export const orderHash = (id: string): string => `#/orders/${id}`;

/** The queue the operator last looked at, for the order page's way back. */
let lastQueue = '#/';
export const rememberQueue = (hash: string): void => {
  lastQueue = hash === '' ? '#/' : hash;
};
export const lastQueueHash = (): string => lastQueue;

/** After the session ended: the sign-in page, then back to this queue or order (the fragment included). */
export function toSignInHere(): void {
  window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search + window.location.hash)}`);
}

/** The API, as the console calls it: a session that has ended sends to the sign-in page. */
export async function call<T = unknown>(method: 'GET' | 'POST', path: string, opts: CallOptions = {}): Promise<T> {
  try {
    return await api<T>(method, path, opts);
  } catch (err) {
    if (err instanceof ApiProblem && err.status === 401) toSignInHere();
    throw err;
  }
}

/** "ra_operator" → the role's name; codes the catalogue does not know are shown with spaces. */
export const words = (code: string): string => code.replaceAll('_', ' ');

/** Set once the operator moved inside the console: the first view of the page leaves the focus where it is. */
let moved = false;
export const markMoved = (): void => {
  moved = true;
};

/** A heading that takes the focus when its view appears after a move, so that a screen reader says where the operator is now. */
export function FocusHeading({ children, id }: { children: ComponentChildren; id?: string }): JSX.Element {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (moved) ref.current?.focus();
  }, []);
  return (
    <h2 ref={ref} id={id} tabIndex={-1} class="console-focus">
      {children}
    </h2>
  );
}

/** A polite live region that exists before anything is said in it, so that what is said is read out. */
export function StatusLine({ text }: { text: string }): JSX.Element {
  return (
    <p role="status" class={text === '' ? 'console-status empty' : 'console-status notice'}>
      {text}
    </p>
  );
}

/** Today in the operator's time zone, as an ISO date (a date input's value). */
export function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
