/**
 * The order's supporting documents: each one's label and status, the reason it was refused, and, while the file is
 * being prepared, an upload for what is missing or was refused (drag and drop, or a plain file input) with its
 * progress; then the file is sent for review.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { DOCUMENT_LABELS } from '../../../../../domain/catalog.js';
import type { ChecklistItem, OrderView } from '../../../../../domain/order.js';
import type { OrderWithActions } from '../../../../../workflows/definitions.js';
import { api, ApiProblem } from '../../api.js';
import { lang, t } from '../../boot.js';
import { generalMessage } from '../../ui.js';
import { o } from './shared.js';

const c = o.checklist;
/** The API's limit (SPEC §3): a larger file is told at once, before minutes of upload end in a refusal. */
const MAX_BYTES = 10 * 1024 * 1024;

interface Upload {
  readonly fraction: number;
  readonly done: boolean;
  readonly error?: string;
}

function uploadError(err: unknown): string {
  if (!(err instanceof ApiProblem)) return t.errors.unexpected;
  if (err.status === 400 && /empty/i.test(err.detail)) return c.problems.empty ?? err.detail;
  return c.problems[err.slug] ?? generalMessage(err);
}

function Item(props: { item: ChecklistItem; order: OrderView; editable: boolean; upload: Upload | undefined; onFile: (file: File) => void }): JSX.Element {
  const { item, editable } = props;
  // A finished upload is told until the document's status moves on (refused by the review: a new upload is asked).
  const upload = props.upload?.done === true && item.status !== 'uploaded' ? undefined : props.upload;
  const [over, setOver] = useState(false);
  const label = DOCUMENT_LABELS[item.documentType][lang];
  const id = `doc-${item.documentType}`;
  const needsFile = editable && (item.status === 'missing' || item.status === 'rejected');
  const tone = item.status === 'accepted' ? 'ok' : item.status === 'rejected' ? 'bad' : item.status === 'missing' ? 'warn' : '';
  const described = [item.rejectionReason !== undefined ? `${id}-reason` : '', upload?.error !== undefined ? `${id}-error` : ''].filter((s) => s !== '').join(' ');
  return (
    <li class={`card doc${upload?.error !== undefined ? ' invalid' : ''}`} id={id}>
      <h3>{label}</h3>
      <p>
        <span class={`badge ${tone}`.trim()}>{c.status[item.status]}</span>
      </p>
      {item.rejectionReason !== undefined && item.status === 'rejected' ? (
        <p class="warning" id={`${id}-reason`}>
          <strong>{c.reason} :</strong> {item.rejectionReason}
        </p>
      ) : null}
      {needsFile ? (
        <div
          class={over ? 'dropzone over' : 'dropzone'}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => {
            e.preventDefault();
            setOver(false);
            const file = e.dataTransfer?.files[0];
            if (file !== undefined) props.onFile(file);
          }}
        >
          <p aria-hidden="true">
            {c.drop} — {c.or}
          </p>
          <label for={`${id}-file`}>
            {item.status === 'rejected' ? c.replace : c.choose}
            <span class="visually-hidden">{c.forDocument(label)}</span>
          </label>
          <input
            type="file"
            id={`${id}-file`}
            accept="application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"
            aria-describedby={described === '' ? undefined : described}
            aria-invalid={upload?.error !== undefined ? 'true' : undefined}
            disabled={upload !== undefined && !upload.done && upload.error === undefined}
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file !== undefined) props.onFile(file);
              e.currentTarget.value = '';
            }}
          />
        </div>
      ) : null}
      {upload !== undefined && upload.error === undefined ? (
        <div class="upload">
          <progress max={1} value={upload.fraction} aria-label={c.progress(label)} />
          <p role="status">{upload.done ? c.uploaded(label) : `${c.uploading(label)} : ${Math.round(upload.fraction * 100)} %`}</p>
        </div>
      ) : null}
      {upload?.error !== undefined ? (
        <p class="field-error" id={`${id}-error`} role="alert">
          {upload.error}
        </p>
      ) : null}
    </li>
  );
}

export function Checklist({ order, onView }: { order: OrderWithActions; onView: (v: OrderWithActions) => void }): JSX.Element {
  const [uploads, setUploads] = useState<Partial<Record<string, Upload>>>({});
  const [submitError, setSubmitError] = useState<string | undefined>(undefined);
  const [submitting, setSubmitting] = useState(false);
  // What the API says the caller may do now: upload the file's documents, send it for review.
  const editable = order.actions.includes('upload_evidence');
  const submittable = order.actions.includes('submit');
  const documents = order.checklist.filter((i) => i.documentType !== 'intervention_form');

  const send = async (item: ChecklistItem, file: File) => {
    const key = item.documentType;
    const tooBig = file.size > MAX_BYTES ? c.problems['file-too-large'] : file.size === 0 ? c.problems.empty : undefined;
    if (tooBig !== undefined) {
      setUploads((u) => ({ ...u, [key]: { fraction: 0, done: false, error: tooBig } }));
      return;
    }
    setUploads((u) => ({ ...u, [key]: { fraction: 0, done: false } }));
    const form = new FormData();
    form.append('documentType', key);
    form.append('file', file, file.name);
    try {
      const answer = await api<{ order: OrderWithActions }>('POST', `/v1/orders/${order.id}/evidence`, {
        form,
        onProgress: (fraction) => setUploads((u) => ({ ...u, [key]: { fraction, done: false } })),
      });
      setUploads((u) => ({ ...u, [key]: { fraction: 1, done: true } }));
      onView(answer.order);
    } catch (err) {
      setUploads((u) => ({ ...u, [key]: { fraction: 0, done: false, error: uploadError(err) } }));
    }
  };

  const submit = async () => {
    setSubmitError(undefined);
    if (documents.some((i) => i.status === 'missing' || i.status === 'rejected')) {
      setSubmitError(c.missingBeforeSubmit);
      return;
    }
    setSubmitting(true);
    try {
      onView(await api<OrderWithActions>('POST', `/v1/orders/${order.id}/submit`, { json: {} }));
      setUploads({});
    } catch (err) {
      setSubmitError(err instanceof ApiProblem ? (c.problems[err.slug] ?? generalMessage(err)) : t.errors.unexpected);
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <section aria-labelledby="checklist-title">
      <h2 id="checklist-title">{c.title}</h2>
      {editable ? <p>{c.intro}</p> : order.status === 'under_review' ? <p>{c.reviewing}</p> : null}
      <ul class="docs">
        {documents.map((item) => (
          <Item key={item.documentType} item={item} order={order} editable={editable} upload={uploads[item.documentType]} onFile={(f) => void send(item, f)} />
        ))}
      </ul>
      {submittable ? (
        <div class="actions">
          <button type="button" class="primary" onClick={() => void submit()} disabled={submitting} aria-busy={submitting ? 'true' : undefined} aria-describedby={submitError !== undefined ? 'submit-error' : undefined}>
            {submitting ? t.saving : c.submit}
          </button>
        </div>
      ) : null}
      {submitError !== undefined ? (
        <p class="field-error" id="submit-error" role="alert">
          {submitError}
        </p>
      ) : null}
    </section>
  );
}
