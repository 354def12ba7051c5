/**
 * An order's supporting documents and the one on show: fetched with the session (never a link the browser would
 * open without it), shown from a blob: URL the page made itself, a PDF in the browser's own viewer inside a frame,
 * an image as an image. The URL is released when another document replaces it or the page moves on.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { DocumentType } from '../../../../../domain/catalog.js';
import type { ChecklistItem, OrderView } from '../../../../../domain/order.js';
import { ApiProblem } from '../../api.js';
import { t } from '../../boot.js';
import { Alert, generalMessage } from '../../ui.js';
import { c, call } from './shared.js';

interface Shown {
  readonly documentId: string;
  readonly documentType: DocumentType;
  readonly url: string;
  readonly mediaType: string;
}

const STATUS_CLASS: Readonly<Record<ChecklistItem['status'], string>> = { missing: 'badge', uploaded: 'badge warn', accepted: 'badge ok', rejected: 'badge bad' };

export function Evidence({ order }: { order: OrderView }): JSX.Element {
  const o = c.order;
  const [shown, setShown] = useState<Shown | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);

  // Released when replaced, and when the order page goes away.
  useEffect(() => {
    if (shown === undefined) return undefined;
    const url = shown.url;
    return () => URL.revokeObjectURL(url);
  }, [shown]);
  // A document that left the checklist (sent again after a rejection) is no longer the one to look at.
  useEffect(() => {
    if (shown !== undefined && !order.checklist.some((i) => i.documentId === shown.documentId)) setShown(undefined);
  }, [order, shown]);

  const view = async (item: ChecklistItem) => {
    if (item.documentId === undefined) return;
    setProblem(undefined);
    setBusy(item.documentId);
    try {
      const blob = await call<Blob>('GET', `/v1/orders/${order.id}/evidence/${item.documentId}`, { blob: true });
      setShown({ documentId: item.documentId, documentType: item.documentType, url: URL.createObjectURL(blob), mediaType: blob.type });
    } catch (err) {
      setProblem(err instanceof ApiProblem ? generalMessage(err) : t.errors.unexpected);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <section class="card" aria-labelledby="evidence-title">
      <h3 id="evidence-title">{o.evidence}</h3>
      <div class="table-wrap">
        <table>
          <caption class="console-sr">{o.checklistCaption}</caption>
          <thead>
            <tr>
              <th scope="col">{o.columns.document}</th>
              <th scope="col">{o.columns.status}</th>
              <th scope="col">{o.columns.file}</th>
            </tr>
          </thead>
          <tbody>
            {order.checklist.map((item) => (
              <tr key={item.documentType}>
                <td>{c.documents[item.documentType]}</td>
                <td>
                  <span class={STATUS_CLASS[item.status]}>{c.documentStatuses[item.status]}</span>
                  {item.rejectionReason !== undefined ? <p class="console-reason">{o.reason(item.rejectionReason)}</p> : null}
                </td>
                <td>
                  {item.documentId !== undefined ? (
                    <button
                      type="button"
                      onClick={() => void view(item)}
                      disabled={busy === item.documentId}
                      aria-pressed={shown?.documentId === item.documentId ? 'true' : 'false'}
                    >
                      {o.view}
                      <span class="console-sr">{o.viewWhich(c.documents[item.documentType])}</span>
                    </button>
                  ) : (
                    <span class="console-muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Alert text={problem} />
      <div class="console-viewer" role="region" aria-label={o.viewer}>
        {shown === undefined ? (
          <p class="console-muted">{o.viewerEmpty}</p>
        ) : (
          <>
            <h4>{o.documentTitle(c.documents[shown.documentType])}</h4>
            {shown.mediaType.startsWith('image/') ? (
              <img src={shown.url} alt={o.documentTitle(c.documents[shown.documentType])} />
            ) : (
              <iframe src={shown.url} title={o.documentTitle(c.documents[shown.documentType])} data-media-type={shown.mediaType} />
            )}
            <p>
              <a href={shown.url} target="_blank" rel="noopener">
                {o.openSeparately}
              </a>
            </p>
          </>
        )}
      </div>
    </section>
  );
}
