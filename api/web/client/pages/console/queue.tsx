/**
 * The review queue: the orders the filters select (product, status, whom they wait on, organisation), a page of 50 at
 * a time by the API's cursor. The filters and the cursor live in the URL fragment, so that back, a reload and a link
 * pasted to a colleague show the same list.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { CATALOG, PRODUCT_CODES } from '../../../../../domain/catalog.js';
import { ORDER_STATUSES, WAITING_ON, type OrderView } from '../../../../../domain/order.js';
import { formatDateTime } from '../../../i18n/index.js';
import { ApiProblem } from '../../api.js';
import { lang, t } from '../../boot.js';
import { ErrorSummary, Field, generalMessage, PageForm, Select, useForm } from '../../ui.js';
import { c, call, FILTER_NAMES, FocusHeading, isUuid, orderHash, queueHash, type Filters } from './shared.js';

const PAGE_SIZE = 50;

interface Page {
  readonly items: readonly OrderView[];
  readonly nextCursor: string | null;
}

export function Queue({ filters, cursor, pageNumber, reload, onReload }: { filters: Filters; cursor: string | undefined; pageNumber: number; reload: number; onReload: () => void }): JSX.Element {
  const q = c.queue;
  const form = useForm({ ...filters });
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  // The form follows the fragment (back and forward change it).
  const key = queueHash(filters, cursor, pageNumber);
  useEffect(() => {
    for (const name of FILTER_NAMES) form.set(name, filters[name]);
  }, [key]);

  useEffect(() => {
    let live = true;
    setProblem(undefined);
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    for (const name of FILTER_NAMES) if (filters[name] !== '') query.set(name, filters[name]);
    if (cursor !== undefined) query.set('cursor', cursor);
    call<Page>('GET', `/v1/orders?${query.toString()}`)
      .then((answer) => {
        if (live) setPage(answer);
      })
      .catch((err: unknown) => {
        if (!live) return;
        setPage(undefined);
        setProblem(err instanceof ApiProblem ? generalMessage(err) : t.errors.unexpected);
      });
    return () => {
      live = false;
    };
  }, [key, reload]);

  const labels = { product: q.product, status: q.status, waitingOn: q.waitingOn, organisationId: q.organisation };
  const apply = () => {
    const v = form.values;
    const organisationId = v.organisationId.trim();
    if (organisationId !== '' && !isUuid(organisationId)) return form.fail({ organisationId: q.organisationInvalid });
    const next = queueHash({ product: v.product, status: v.status, waitingOn: v.waitingOn, organisationId });
    // The same filters again: the operator wants the list as it is now.
    if (next === window.location.hash) onReload();
    else window.location.hash = next;
  };

  const items = page?.items ?? [];
  return (
    <section aria-labelledby="queue-title">
      <FocusHeading id="queue-title">{q.title}</FocusHeading>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={apply} label={q.filters}>
        <div class="console-filters">
          <Select label={q.product} options={[['', q.anyProduct], ...PRODUCT_CODES.map((p): [string, string] => [p, `${CATALOG[p].name[lang]} (${p})`])]} {...form.text('product')} />
          <Select label={q.status} options={[['', q.anyStatus], ...ORDER_STATUSES.map((s): [string, string] => [s, t.statuses[s]])]} {...form.text('status')} />
          <Select label={q.waitingOn} options={[['', q.anybody], ...WAITING_ON.map((w): [string, string] => [w, c.waitingOn[w]])]} {...form.text('waitingOn')} />
          <Field label={q.organisation} hint={q.organisationHint} spellcheck={false} {...form.text('organisationId')} />
        </div>
        <button type="submit" class="primary">
          {q.apply}
        </button>
      </PageForm>
      {problem !== undefined ? (
        <p class="problem" role="alert">
          {problem}
        </p>
      ) : page === undefined ? (
        <p>{t.loading}</p>
      ) : (
        <>
          <p class="console-count">
            {pageNumber > 1 ? `${q.pageOf(pageNumber)} · ` : ''}
            {items.length === 0 ? q.none : q.count(items.length, page.nextCursor !== null)}
          </p>
          {items.length === 0 ? null : (
            <div class="table-wrap console-table" role="region" aria-labelledby="queue-caption" tabIndex={0}>
              <table class="console-queue">
                <caption id="queue-caption">{q.caption}</caption>
                <thead>
                  <tr>
                    <th scope="col">{q.columns.order}</th>
                    <th scope="col">{q.columns.product}</th>
                    <th scope="col">{q.columns.status}</th>
                    <th scope="col">{q.columns.waitingOn}</th>
                    <th scope="col">{q.columns.created}</th>
                    <th scope="col">{q.columns.updated}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((o) => (
                    <tr key={o.id}>
                      <td>
                        <a href={orderHash(o.id)} aria-label={q.open(o.id)} class="console-id">
                          {o.id.slice(0, 8)}
                        </a>
                      </td>
                      <td>{CATALOG[o.product].name[lang]}</td>
                      <td>{t.statuses[o.status]}</td>
                      <td>{c.waitingOn[o.waitingOn]}</td>
                      <td>{formatDateTime(lang, o.createdAt)}</td>
                      <td>{formatDateTime(lang, o.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {/* On a phone the same orders as cards (only one of the two is ever displayed, so read). */}
          {items.length === 0 ? null : (
            <ul class="console-cards" aria-label={q.caption}>
              {items.map((o) => (
                <li key={o.id}>
                  <p>
                    <a href={orderHash(o.id)} aria-label={q.open(o.id)} class="console-id">
                      {o.id.slice(0, 8)}
                    </a>{' '}
                    · {CATALOG[o.product].name[lang]}
                  </p>
                  <dl class="facts">
                    <dt>{q.columns.status}</dt>
                    <dd>{t.statuses[o.status]}</dd>
                    <dt>{q.columns.waitingOn}</dt>
                    <dd>{c.waitingOn[o.waitingOn]}</dd>
                    <dt>{q.columns.updated}</dt>
                    <dd>{formatDateTime(lang, o.updatedAt)}</dd>
                  </dl>
                </li>
              ))}
            </ul>
          )}
          <ul class="console-paging">
            {cursor !== undefined ? (
              <li>
                <a href={queueHash(filters)}>{q.first}</a>
              </li>
            ) : null}
            {page.nextCursor !== null ? (
              <li>
                <a href={queueHash(filters, page.nextCursor, pageNumber + 1)}>{q.next}</a>
              </li>
            ) : null}
          </ul>
        </>
      )}
    </section>
  );
}
