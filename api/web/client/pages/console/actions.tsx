/**
 * What an operator may do to an order: the forms of the actions the API says are open to the caller now (the order's
 * `actions`, from the table of actions and roles and the order's state). The RA reviews the file (a reason per
 * document to reject it), records the payment, the originals received by post, puts on hold, releases, resumes,
 * cancels and revokes; the DRA records the face-to-face check with its signed intervention form. Auditors and
 * administrators read only. Each form shows the API's refusal beside its fields; the page shows the order as the API
 * has it after every action.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { PAYMENT_METHODS, type DocumentType } from '../../../../../domain/catalog.js';
import type { OrderStatus } from '../../../../../domain/order.js';
import { revocationReasonsFor } from '../../../../../domain/revocation.js';
import type { OrderAction, OrderWithActions } from '../../../../../workflows/definitions.js';
import { formatDate } from '../../../i18n/index.js';
import { lang, t } from '../../boot.js';
import { ErrorSummary, Field, missing, PageForm, Select, useForm, type Errors } from '../../ui.js';
import { c, call, role, today } from './shared.js';

const a = c.actions;
const CLOSED: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['completed', 'cancelled', 'abandoned', 'refused']);
const MIN_TEXT = 3;
const MAX_REASON = 500;

/** What a form tells the page: start (the last notice goes), and done (the order is read again, then this is said). */
export interface Outcome {
  readonly starting: () => void;
  readonly done: (message: string) => Promise<void>;
}

interface Props {
  readonly order: OrderWithActions;
  readonly outcome: Outcome;
}

const post = async (path: string, json: unknown = {}): Promise<void> => {
  await call('POST', path, { json });
};

const hasErrors = (e: Errors): boolean => Object.values(e).some((v) => v !== undefined);

function tooShort(values: Record<string, string>, names: readonly string[]): Errors {
  const found = missing(values, names);
  for (const name of names) if (found[name] === undefined && (values[name] ?? '').trim().length < MIN_TEXT) found[name] = a.tooShort;
  return found;
}

function ReviewForm({ order, outcome }: Props): JSX.Element {
  const docs = order.checklist.filter((item) => item.documentId !== undefined);
  const nameOf = (d: DocumentType) => `reason-${d}`;
  const form = useForm<Record<string, string>>(Object.fromEntries(docs.map((d) => [nameOf(d.documentType), ''])));
  const labels = Object.fromEntries(docs.map((d) => [nameOf(d.documentType), a.rejectionReason(c.documents[d.documentType])]));

  const approve = async () => {
    outcome.starting();
    if (await form.submit(() => post(`/v1/orders/${order.id}/review`, { decision: 'approve' }))) await outcome.done(a.done.approve);
  };
  const reject = async () => {
    const reasons = docs
      .map((d) => ({ documentType: d.documentType, reason: (form.values[nameOf(d.documentType)] ?? '').trim() }))
      .filter((r) => r.reason !== '');
    if (reasons.length === 0) return form.fail({}, a.reasonNeeded);
    const long = Object.fromEntries(reasons.filter((r) => r.reason.length > MAX_REASON).map((r) => [nameOf(r.documentType), a.reasonTooLong]));
    if (hasErrors(long)) return form.fail(long);
    outcome.starting();
    // The API names a refused reason by its place in the list it was sent (reasons.0.reason): the field it came from.
    const ok = await form.submit(() => post(`/v1/orders/${order.id}/review`, { decision: 'reject', reasons }), {
      fields: Object.fromEntries(reasons.map((r, i) => [`reasons.${i}.reason`, nameOf(r.documentType)])),
      fieldMessages: Object.fromEntries(reasons.map((r) => [nameOf(r.documentType), a.reasonTooShort])),
    });
    if (ok) await outcome.done(a.done.reject);
  };

  return (
    <section aria-labelledby="act-review">
      <h4 id="act-review">{a.review}</h4>
      <p class="hint">{a.reviewIntro}</p>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={reject} label={a.review}>
        {docs.map((d) => (
          <Field key={d.documentType} label={labels[nameOf(d.documentType)] ?? ''} {...form.text(nameOf(d.documentType))} />
        ))}
        <div class="console-buttons">
          <button type="button" class="primary" disabled={form.busy} onClick={() => void approve()}>
            {a.approve}
          </button>
          <button type="submit" class="danger" disabled={form.busy}>
            {a.reject}
          </button>
        </div>
      </PageForm>
    </section>
  );
}

function PaymentForm({ order, outcome }: Props): JSX.Element {
  const form = useForm({ paymentStatus: 'received', paymentMethod: '', paymentReference: '' });
  const labels = { paymentStatus: a.paymentResult, paymentMethod: a.paymentMethod, paymentReference: a.paymentReference };
  const onSubmit = async () => {
    const found = missing(form.values, ['paymentReference']);
    if (hasErrors(found)) return form.fail(found);
    const v = form.values;
    outcome.starting();
    const body = { status: v.paymentStatus, reference: v.paymentReference.trim(), ...(v.paymentMethod === '' ? {} : { method: v.paymentMethod }) };
    const ok = await form.submit(() => post(`/v1/orders/${order.id}/payment`, body), { fields: { status: 'paymentStatus', method: 'paymentMethod', reference: 'paymentReference' } });
    if (ok) await outcome.done(a.done.payment);
  };
  return (
    <section aria-labelledby="act-payment">
      <h4 id="act-payment">{a.payment}</h4>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={onSubmit} label={a.payment}>
        <Select label={a.paymentResult} options={[['received', a.paymentReceived], ['failed', a.paymentFailed]]} {...form.text('paymentStatus')} />
        <Select
          label={a.paymentMethod}
          options={[['', a.asOrdered(c.paymentMethods[order.payment.method])], ...PAYMENT_METHODS.map((m): [string, string] => [m, c.paymentMethods[m]])]}
          {...form.text('paymentMethod')}
        />
        <Field label={a.paymentReference} hint={a.paymentReferenceHint} required spellcheck={false} {...form.text('paymentReference')} />
        <button type="submit" class="primary" disabled={form.busy}>
          {a.recordPayment}
        </button>
      </PageForm>
    </section>
  );
}

function OriginalsForm({ order, outcome }: Props): JSX.Element {
  const form = useForm({});
  const onSubmit = async () => {
    outcome.starting();
    if (await form.submit(() => post(`/v1/orders/${order.id}/originals-received`))) await outcome.done(a.done.originals);
  };
  return (
    <section aria-labelledby="act-originals">
      <h4 id="act-originals">{a.originals}</h4>
      <ErrorSummary form={form} labels={{}} />
      {order.originals.received ? (
        <p>{a.originalsAlready}</p>
      ) : (
        <PageForm onSubmit={onSubmit} label={a.originals}>
          <button type="submit" class="primary" disabled={form.busy}>
            {a.originalsReceived}
          </button>
        </PageForm>
      )}
    </section>
  );
}

/** A change that cannot be undone: the first click asks, the second does it. */
function Confirm({ question, yes, no, onYes, onNo, busy }: { question: string; yes: string; no: string; onYes: () => void; onNo: () => void; busy: boolean }): JSX.Element {
  const ref = useRef<HTMLDivElement>(null);
  // The question takes the focus: it is what the operator must read before going on.
  useEffect(() => ref.current?.focus(), []);
  return (
    <div class="warning console-confirm" tabIndex={-1} ref={ref}>
      <p>{question}</p>
      <div class="console-buttons">
        <button type="button" class="danger" disabled={busy} onClick={onYes}>
          {yes}
        </button>
        <button type="button" onClick={onNo}>
          {no}
        </button>
      </div>
    </div>
  );
}

/** The order's hold and its way back: retry the stopped step, release it, or put it on hold, as the API offers. */
function HoldForm({ order, outcome }: Props): JSX.Element {
  const form = useForm({ holdComment: '' });
  const labels = { holdComment: a.holdComment };
  const open = (action: OrderAction) => order.actions.includes(action);
  const send = async (path: string, message: string) => {
    outcome.starting();
    if (await form.submit(() => post(`/v1/orders/${order.id}/${path}`))) await outcome.done(message);
  };
  const hold = async () => {
    const found = tooShort(form.values, ['holdComment']);
    if (hasErrors(found)) return form.fail(found);
    outcome.starting();
    const ok = await form.submit(() => post(`/v1/orders/${order.id}/hold`, { comment: form.values.holdComment.trim() }), { fields: { comment: 'holdComment' } });
    if (ok) await outcome.done(a.done.hold);
  };
  return (
    <>
      <ErrorSummary form={form} labels={labels} />
      {open('resume') ? (
        <PageForm onSubmit={() => send('resume', a.done.resume)} label={a.resume}>
          <p class="hint">{a.resumeHint}</p>
          <button type="submit" class="primary" disabled={form.busy}>
            {a.resume}
          </button>
        </PageForm>
      ) : null}
      {open('release') ? (
        <PageForm onSubmit={() => send('release', a.done.release)} label={a.release}>
          <button type="submit" class="primary" disabled={form.busy}>
            {a.release}
          </button>
        </PageForm>
      ) : null}
      {open('hold') ? (
        <PageForm onSubmit={hold} label={a.putOnHold}>
          <Field label={a.holdComment} required {...form.text('holdComment')} />
          <button type="submit" disabled={form.busy}>
            {a.putOnHold}
          </button>
        </PageForm>
      ) : null}
    </>
  );
}

function CancelForm({ order, outcome }: Props): JSX.Element {
  const form = useForm({ cancelReason: '' });
  const [asking, setAsking] = useState(false);
  const labels = { cancelReason: a.cancelReason };
  const ask = () => {
    const found = tooShort(form.values, ['cancelReason']);
    if (hasErrors(found)) return form.fail(found);
    setAsking(true);
  };
  const cancel = async () => {
    outcome.starting();
    const ok = await form.submit(() => post(`/v1/orders/${order.id}/cancel`, { reason: form.values.cancelReason.trim() }), { fields: { reason: 'cancelReason' } });
    setAsking(false);
    if (ok) await outcome.done(a.done.cancel);
  };
  return (
    <>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={ask} label={a.cancel}>
        <Field label={a.cancelReason} required {...form.text('cancelReason')} />
        {asking ? (
          <Confirm question={a.cancelConfirm} yes={a.cancelYes} no={a.cancelNo} busy={form.busy} onYes={() => void cancel()} onNo={() => setAsking(false)} />
        ) : (
          <button type="submit" class="danger">
            {a.cancel}
          </button>
        )}
      </PageForm>
    </>
  );
}

function RevokeForm({ order, outcome, serial }: Props & { serial: string }): JSX.Element {
  const reasons = revocationReasonsFor(order.product);
  const form = useForm({ revocationReason: reasons[0] ?? 'unspecified' });
  const [asking, setAsking] = useState(false);
  const revoke = async () => {
    outcome.starting();
    const ok = await form.submit(() => post(`/v1/certificates/${serial}/revoke`, { reason: form.values.revocationReason }), { fields: { reason: 'revocationReason' } });
    setAsking(false);
    if (ok) await outcome.done(a.done.revoke);
  };
  return (
    <section aria-labelledby="act-certificate">
      <h4 id="act-certificate">{a.certificate}</h4>
      <ErrorSummary form={form} labels={{ revocationReason: a.revocationReason }} />
      <PageForm onSubmit={() => setAsking(true)} label={a.revoke}>
        <Select label={a.revocationReason} options={reasons.map((r): [string, string] => [r, c.revocationReasons[r]])} {...form.text('revocationReason')} />
        {asking ? (
          <Confirm question={a.revokeConfirm(serial)} yes={a.revokeYes} no={a.revokeNo} busy={form.busy} onYes={() => void revoke()} onNo={() => setAsking(false)} />
        ) : (
          <button type="submit" class="danger">
            {a.revoke}
          </button>
        )}
      </PageForm>
    </section>
  );
}

function FaceToFaceForm({ order, outcome }: Props): JSX.Element {
  const form = useForm({ meetingDate: today(), interventionForm: '' });
  const [file, setFile] = useState<File | undefined>(undefined);
  /** The form already stored for this order, so that a second try after a refusal does not store it twice. */
  const stored = useRef<{ file: File; id: string } | undefined>(undefined);
  const labels = { interventionForm: a.interventionForm, meetingDate: a.meetingDate };
  const fileError = form.errors.interventionForm;

  const onSubmit = async () => {
    const found: Errors = { ...missing(form.values, ['meetingDate']) };
    if (file === undefined || file.size === 0) found.interventionForm = a.interventionFormMissing;
    if (hasErrors(found) || file === undefined) return form.fail(found);
    outcome.starting();
    const ok = await form.submit(
      async () => {
        let documentId = stored.current?.file === file ? stored.current.id : undefined;
        if (documentId === undefined) {
          const upload = new FormData();
          upload.append('documentType', 'intervention_form');
          upload.append('file', file, file.name);
          const answer = await call<{ document: { id: string } }>('POST', `/v1/orders/${order.id}/evidence`, { form: upload });
          documentId = answer.document.id;
          stored.current = { file, id: documentId };
        }
        await post(`/v1/orders/${order.id}/face-to-face`, { interventionFormDocumentId: documentId, meetingDate: form.values.meetingDate });
      },
      {
        fields: { file: 'interventionForm', meetingDate: 'meetingDate' },
        slugs: {
          'unsupported-file-type': { field: 'interventionForm', message: a.problems['unsupported-file-type'] ?? '' },
          'file-too-large': { field: 'interventionForm', message: a.problems['file-too-large'] ?? '' },
          'intervention-form-required': { message: a.problems['intervention-form-required'] ?? '' },
        },
      },
    );
    if (ok) await outcome.done(a.done.faceToFace);
  };

  return (
    <section aria-labelledby="act-f2f">
      <h4 id="act-f2f">{a.faceToFace}</h4>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={onSubmit} label={a.faceToFace}>
        <div class={fileError === undefined ? 'field' : 'field invalid'}>
          <label for="f-interventionForm">
            {a.interventionForm}
            <span class="req"> ({t.required})</span>
          </label>
          <p class="hint" id="f-interventionForm-hint">
            {a.interventionFormHint}
          </p>
          <input
            type="file"
            id="f-interventionForm"
            name="interventionForm"
            accept="application/pdf,image/png,image/jpeg"
            aria-invalid={fileError === undefined ? undefined : 'true'}
            aria-describedby={fileError === undefined ? 'f-interventionForm-hint' : 'f-interventionForm-hint f-interventionForm-error'}
            onChange={(e) => {
              const chosen = e.currentTarget.files?.[0];
              setFile(chosen);
              form.set('interventionForm', chosen?.name ?? '');
            }}
          />
          {fileError !== undefined ? (
            <p class="field-error" id="f-interventionForm-error">
              {fileError}
            </p>
          ) : null}
        </div>
        <Field label={a.meetingDate} type="date" required {...form.text('meetingDate')} />
        <button type="submit" class="primary" disabled={form.busy}>
          {a.recordFaceToFace}
        </button>
      </PageForm>
    </section>
  );
}

/** `notice`: what the last action did, said where the operator's eyes are. */
export function Actions({ order, outcome, notice }: Props & { notice: JSX.Element }): JSX.Element {
  const props = { order, outcome };
  const open = (action: OrderAction) => order.actions.includes(action);
  let body: JSX.Element;
  if (role === 'ra_operator') {
    body = (
      <>
        {CLOSED.has(order.status) ? <p>{a.closed}</p> : null}
        {open('review') ? <ReviewForm {...props} /> : null}
        {open('record_payment') ? <PaymentForm {...props} /> : null}
        {open('record_originals') || (order.originals.required && order.originals.received) ? <OriginalsForm {...props} /> : null}
        {open('hold') || open('release') || open('resume') || open('cancel') ? (
          <section aria-labelledby="act-hold">
            <h4 id="act-hold">{a.hold}</h4>
            <HoldForm {...props} />
            {open('cancel') ? <CancelForm {...props} /> : null}
          </section>
        ) : null}
        {order.certificateSerial !== null ? <RevokeForm {...props} serial={order.certificateSerial} /> : null}
      </>
    );
  } else if (role === 'dra_operator') {
    body = open('record_face_to_face') ? (
      <FaceToFaceForm {...props} />
    ) : !order.faceToFace.required ? (
      <p>{a.faceToFaceNotRequired}</p>
    ) : order.faceToFace.done ? (
      <p>{a.faceToFaceDone(order.faceToFace.meetingDate === null ? '—' : formatDate(lang, order.faceToFace.meetingDate))}</p>
    ) : (
      <p>{a.faceToFaceNotNow}</p>
    );
  } else {
    body = <p>{a.readOnly}</p>;
  }
  return (
    <section class="card console-actions" aria-labelledby="actions-title">
      <h3 id="actions-title">{a.title}</h3>
      {notice}
      {/* Keyed by the order's version: after an action every form starts again from the order as it is now. */}
      <div key={order.version}>{body}</div>
    </section>
  );
}
