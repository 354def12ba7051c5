/**
 * The staff console (SPEC §1): RA and DRA operators and auditors, on the same pages and the same /v1 API as the
 * customer area. One page, two views chosen by the URL fragment: the review queue (#/, with its filters) and an
 * order (#/orders/<id>). Anyone else signed in is told the console is not theirs and where their orders are.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { STAFF_ROLES } from '../../../../../domain/roles.js';
import { PAGES } from '../../../../../domain/pages.js';
import { boot } from '../../boot.js';
import { Order } from './order.js';
import { Queue } from './queue.js';
import { c, markMoved, parseRoute, rememberQueue, role } from './shared.js';

function NotForYou(): JSX.Element {
  return (
    <div class="warning" role="alert">
      <h2>{c.notForYou.title}</h2>
      <p>{c.notForYou.text}</p>
      <p>
        <a href={PAGES.orders}>{c.notForYou.link}</a>
      </p>
    </div>
  );
}

export function Console(): JSX.Element {
  const [hash, setHash] = useState(window.location.hash);
  /** Bumped by "apply" with unchanged filters: the list is read again. */
  const [reload, setReload] = useState(0);
  useEffect(() => {
    // The frame's language link reloads the page: it keeps the queue or the order on show (the fragment survives
    // the server's redirect that drops ?lang=).
    const switcher = document.querySelector<HTMLAnchorElement>('header.site a.lang');
    const base = switcher?.getAttribute('href')?.split('#')[0];
    const keepPlace = () => {
      if (switcher !== null && base !== undefined) switcher.setAttribute('href', base + window.location.hash);
    };
    keepPlace();
    const follow = () => {
      markMoved();
      keepPlace();
      setHash(window.location.hash);
    };
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);

  if (role === undefined || !STAFF_ROLES.has(role)) return <NotForYou />;
  const route = parseRoute(hash);
  if (route.view === 'queue') rememberQueue(hash);
  return (
    <div class="console">
      <p class="console-who">{c.signedInAs(boot.user?.email ?? '', c.roles[role])}</p>
      {route.view === 'order' ? (
        <Order key={route.orderId} orderId={route.orderId} />
      ) : (
        <Queue filters={route.filters} cursor={route.cursor} pageNumber={route.pageNumber} reload={reload} onReload={() => setReload((n) => n + 1)} />
      )}
    </div>
  );
}
