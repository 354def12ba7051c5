/** The order page's sections, each shown when the order's state makes it relevant (order.tsx decides which). */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DomainItem } from '../../../../../domain/order.js';
import { pageLinks } from '../../../../../domain/pages.js';
import { revocationReasonsFor, type RevocationReason } from '../../../../../domain/revocation.js';
import type { OrderWithActions } from '../../../../../workflows/definitions.js';
import { formatAmount, formatDate, formatDateTime, relativeDays } from '../../../i18n/index.js';
import { api, ApiProblem } from '../../api.js';
import { lang, t } from '../../boot.js';
import { Alert, Checkbox, ErrorSummary, Field, PageForm, Select, Submit, useForm } from '../../ui.js';
import { CaaRefusal } from './caa.js';
import { Download, messageOf, o } from './shared.js';

/** The order as the API answers it: its view and the actions open to the caller now, which the sections offer. */
type Props = { readonly order: OrderWithActions; readonly onView: (v: OrderWithActions) => void };

function Section({ id, title, children }: { id: string; title: string; children: JSX.Element | (JSX.Element | null | false)[] }): JSX.Element {
  return (
    <section aria-labelledby={`${id}-title`} class="order-section">
      <h2 id={`${id}-title`}>{title}</h2>
      {children}
    </section>
  );
}

// ---- order form -------------------------------------------------------------------------------------------------

export function OrderForm({ order }: Pick<Props, 'order'>): JSX.Element {
  const f = o.orderForm;
  return (
    <Section id="order-form" title={f.title}>
      <p>{f.intro}</p>
      <ul class="downloads">
        <Download label={f.download} path={`/v1/orders/${order.id}/order-form?lang=${lang}`} accept="application/pdf" fileName={`${lang === 'fr' ? 'bon-de-commande' : 'order-form'}-${order.id}.pdf`} />
      </ul>
    </Section>
  );
}

// ---- payment ----------------------------------------------------------------------------------------------------

interface CaIdentityView {
  readonly legalName: string;
  readonly postalAddressLines: readonly string[];
  readonly bank: { readonly accountHolder: string; readonly bankName: string; readonly iban: string; readonly bic: string };
}

export function Payment({ order }: Pick<Props, 'order'>): JSX.Element {
  const p = o.payment;
  const [ca, setCa] = useState<CaIdentityView | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const { payment } = order;
  const settled = payment.status === 'received' || payment.status === 'purchase_order_accepted';
  const needsCa = !settled && (payment.method === 'transfer' || payment.method === 'cheque' || payment.status === 'failed');
  useEffect(() => {
    if (needsCa && ca === undefined) {
      api<CaIdentityView>('GET', '/v1/ca-identity').then(setCa, (err: unknown) => setError(messageOf(err)));
    }
  }, [needsCa]);
  const transfer = (
    <>
      <p>{p.transferIntro}</p>
      {ca !== undefined ? (
        <dl class="facts">
          <dt>{p.accountHolder}</dt>
          <dd>{ca.bank.accountHolder}</dd>
          <dt>{p.bank}</dt>
          <dd>{ca.bank.bankName}</dd>
          <dt>IBAN</dt>
          <dd>
            <code>{ca.bank.iban}</code>
          </dd>
          <dt>BIC</dt>
          <dd>
            <code>{ca.bank.bic}</code>
          </dd>
        </dl>
      ) : null}
    </>
  );
  const cheque = (
    <>
      <p>{p.chequeIntro}</p>
      {ca !== undefined ? (
        <dl class="facts">
          <dt>{p.payee}</dt>
          <dd>{ca.bank.accountHolder}</dd>
          <dt>{p.postTo}</dt>
          <dd>
            <address>
              {ca.postalAddressLines.map((line) => (
                <span class="line" key={line}>
                  {line}
                </span>
              ))}
            </address>
          </dd>
        </dl>
      ) : null}
    </>
  );
  return (
    <Section id="payment" title={p.title}>
      <dl class="facts">
        <dt>{p.amount}</dt>
        <dd>{p.exVat(formatAmount(lang, payment.priceCents))}</dd>
        <dt>{p.method}</dt>
        <dd>{p.methods[payment.method]}</dd>
        <dt>{p.status}</dt>
        <dd>
          <span class={`badge ${settled ? 'ok' : payment.status === 'failed' ? 'bad' : ''}`.trim()}>{p.statuses[payment.status]}</span>
        </dd>
        {payment.purchaseOrderNumber !== null ? (
          <>
            <dt>{p.purchaseOrder}</dt>
            <dd>{payment.purchaseOrderNumber}</dd>
          </>
        ) : null}
        {settled && payment.reference !== null ? (
          <>
            <dt>{p.paidReference}</dt>
            <dd>{payment.reference}</dd>
          </>
        ) : null}
      </dl>
      {!settled ? (
        <div class="card tint">
          {payment.method === 'transfer' ? transfer : null}
          {payment.method === 'cheque' ? cheque : null}
          {payment.method === 'card' && payment.status !== 'failed' ? <p>{p.cardIntro}</p> : null}
          {payment.method === 'card' && payment.status === 'failed' ? (
            <>
              <p class="problem">{p.cardFailed}</p>
              {transfer}
              {cheque}
            </>
          ) : null}
          {payment.method === 'purchase_order' ? <p>{p.purchaseOrderIntro}</p> : null}
          {payment.method !== 'purchase_order' ? (
            <p>
              <strong>{p.reference} :</strong> <code class="reference">{order.id}</code>
              <br />
              <span class="hint">{p.referenceHint}</span>
            </p>
          ) : null}
          {error !== undefined ? <p class="problem">{error}</p> : null}
        </div>
      ) : null}
    </Section>
  );
}

// ---- domain validation ------------------------------------------------------------------------------------------

function Challenge({ item }: { item: DomainItem }): JSX.Element | null {
  const d = o.domains;
  const c = item.challenge;
  if (c === null || item.status === 'validated') return null;
  return (
    <div class="challenge">
      {c.dns !== undefined ? (
        <>
          <p>{d.publishTxt}</p>
          <dl class="facts">
            <dt>{d.recordName}</dt>
            <dd>
              <code>{c.dns.recordName}</code>
            </dd>
            <dt>{d.recordType}</dt>
            <dd>
              <code>{c.dns.recordType}</code>
            </dd>
            <dt>{d.recordValue}</dt>
            <dd>
              <code class="txt-value">{c.dns.value}</code>
            </dd>
          </dl>
        </>
      ) : null}
      {c.http !== undefined ? (
        <>
          <p>{d.publishFile}</p>
          <dl class="facts">
            <dt>{d.fileUrl}</dt>
            <dd>
              <code>{c.http.url}</code>
            </dd>
            <dt>{d.fileContent}</dt>
            <dd>
              <code class="file-content">{c.http.content}</code>
            </dd>
          </dl>
        </>
      ) : null}
      <p class="hint">{d.expires(formatDateTime(lang, c.expiresAt))}</p>
    </div>
  );
}

export function Domains({ order, onView }: Props): JSX.Element {
  const d = o.domains;
  const form = useForm({ method: 'dns' });
  const [result, setResult] = useState<string | undefined>(undefined);
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<string | undefined>(undefined);
  const items = order.domains.items;
  const pending = items.filter((i) => i.status === 'pending');
  const open = order.actions.includes('domain_validation');
  const withoutChallenge = pending.filter((i) => i.challenge === null);
  const slugs = Object.fromEntries(Object.entries(d.problems).map(([slug, message]) => [slug, { field: 'method', message }]));

  const start = async () => {
    setResult(undefined);
    await form.submit(async () => {
      onView(await api<OrderWithActions>('POST', `/v1/orders/${order.id}/domain-validation`, { json: { action: 'start', method: form.values.method, domains: (withoutChallenge.length > 0 ? withoutChallenge : pending).map((i) => i.name) } }));
    }, { slugs });
  };
  const check = async () => {
    setChecking(true);
    setCheckError(undefined);
    setResult(undefined);
    try {
      const view = await api<OrderWithActions>('POST', `/v1/orders/${order.id}/domain-validation`, { json: { action: 'check' } });
      onView(view);
      setResult(d.checked(view.domains.items.filter((i) => i.status === 'validated').length, view.domains.items.length));
    } catch (err) {
      setCheckError(messageOf(err, d.problems));
    } finally {
      setChecking(false);
    }
  };

  return (
    <Section id="domains" title={d.title}>
      {open ? <p>{d.intro}</p> : null}
      <ul class="domains">
        {items.map((item) => (
          <li key={item.name} class="card">
            <h3>
              <code>{item.name}</code>
            </h3>
            <p>
              <span class={`badge ${item.status === 'validated' ? 'ok' : 'warn'}`}>{d.status[item.status]}</span>
              {item.validatedAt !== null ? ` ${d.validatedAt(formatDateTime(lang, item.validatedAt))}` : ''}
            </p>
            <Challenge item={item} />
            {item.lastCheck !== null && item.status === 'pending' ? <p class="warning">{d.lastCheck(formatDateTime(lang, item.lastCheck.at), item.lastCheck.reason)}</p> : null}
          </li>
        ))}
      </ul>
      {pending.length === 0 && items.length > 0 ? <p class="notice">{d.allValidated}</p> : null}
      <CaaRefusal order={order} onView={onView} />
      {open && withoutChallenge.length > 0 ? (
        <>
          <ErrorSummary form={form} labels={{ method: d.method }} />
          <PageForm onSubmit={start} label={d.start}>
            <Select label={d.method} hint={d.wildcardDnsOnly} options={[['dns', d.methods.dns], ['http', d.methods.http]]} {...form.text('method')} />
            <Submit busy={form.busy}>{d.start}</Submit>
          </PageForm>
        </>
      ) : null}
      {open && withoutChallenge.length < pending.length ? (
        <div class="actions">
          <button type="button" class="primary" onClick={() => void check()} disabled={checking} aria-busy={checking ? 'true' : undefined}>
            {checking ? d.checking : d.check}
          </button>
        </div>
      ) : null}
      <p role="status" class={result === undefined ? 'visually-hidden' : 'notice'}>
        {result ?? ''}
      </p>
      <Alert text={checkError} />
    </Section>
  );
}

// ---- face-to-face and originals ---------------------------------------------------------------------------------

export function FaceToFace({ order }: Pick<Props, 'order'>): JSX.Element {
  const f = o.faceToFace;
  return (
    <Section id="face-to-face" title={f.title}>
      {order.faceToFace.done && order.faceToFace.meetingDate !== null ? <p class="notice">{f.done(formatDate(lang, order.faceToFace.meetingDate))}</p> : <p>{f.intro}</p>}
      {!order.faceToFace.done ? <p>{f.waiting}</p> : null}
    </Section>
  );
}

export function Originals({ order }: Pick<Props, 'order'>): JSX.Element {
  const r = o.originals;
  const [ca, setCa] = useState<CaIdentityView | undefined>(undefined);
  const due = order.deadlines.find((d) => d.kind === 'originals_due');
  useEffect(() => {
    if (!order.originals.received) api<CaIdentityView>('GET', '/v1/ca-identity').then(setCa, () => undefined);
  }, [order.originals.received]);
  if (order.originals.received) {
    return (
      <Section id="originals" title={r.title}>
        <p class="notice">{r.received}</p>
      </Section>
    );
  }
  return (
    <Section id="originals" title={r.title}>
      {order.originals.overdue ? <p class="problem">{r.overdue}</p> : null}
      <p>{r.intro}</p>
      {ca !== undefined ? (
        <address class="card tint">
          {ca.postalAddressLines.map((line) => (
            <span class="line" key={line}>
              {line}
            </span>
          ))}
        </address>
      ) : null}
      {due !== undefined ? <p>{r.due(formatDate(lang, due.at), relativeDays(lang, due.at))}</p> : null}
    </Section>
  );
}

// ---- acceptance -------------------------------------------------------------------------------------------------

interface CertificateContent {
  readonly serial: string;
  readonly subject: string;
  readonly issuer: string;
  readonly names: readonly { type: string; value: string }[];
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprintSha256: string;
}

export function Acceptance({ order, onView }: Props): JSX.Element {
  const a = o.acceptance;
  const isHolder = order.actions.includes('respond_to_certificate');
  const [content, setContent] = useState<CertificateContent | undefined>(undefined);
  const [confirm, setConfirm] = useState<'accept' | 'refuse' | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const question = useRef<HTMLParagraphElement | null>(null);
  useEffect(() => {
    api<CertificateContent>('GET', `/v1/orders/${order.id}/certificate/content`).then(setContent, (err: unknown) => setError(messageOf(err)));
  }, [order.certificateSerial]);
  useEffect(() => {
    if (confirm !== undefined) question.current?.focus();
  }, [confirm]);
  const decide = async (decision: 'accept' | 'refuse') => {
    setBusy(true);
    setError(undefined);
    try {
      onView(await api<OrderWithActions>('POST', `/v1/orders/${order.id}/acceptance`, { json: { decision } }));
      setConfirm(undefined);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section id="acceptance" title={a.title}>
      <p>{a.intro}</p>
      {content !== undefined ? (
        <dl class="facts card">
          <dt>{a.subject}</dt>
          <dd>{content.subject}</dd>
          <dt>{a.names}</dt>
          <dd>
            <ul class="plain">
              {content.names.map((n) => (
                <li key={n.value}>
                  <code>{n.value}</code>
                </li>
              ))}
            </ul>
          </dd>
          <dt>{a.validFrom}</dt>
          <dd>{formatDateTime(lang, content.notBefore)}</dd>
          <dt>{a.validTo}</dt>
          <dd>{formatDateTime(lang, content.notAfter)}</dd>
          <dt>{a.issuer}</dt>
          <dd>{content.issuer}</dd>
          <dt>{a.serial}</dt>
          <dd>
            <code>{content.serial}</code>
          </dd>
          <dt>{a.fingerprint}</dt>
          <dd>
            <code>{content.fingerprintSha256}</code>
          </dd>
        </dl>
      ) : (
        <p role="status">{error === undefined ? t.loading : ''}</p>
      )}
      {isHolder && confirm === undefined ? (
        <div class="actions">
          <button type="button" class="primary" onClick={() => setConfirm('accept')}>
            {a.accept}
          </button>
          <button type="button" class="danger" onClick={() => setConfirm('refuse')}>
            {a.refuse}
          </button>
        </div>
      ) : null}
      {isHolder && confirm !== undefined ? (
        <div class={`confirm card ${confirm === 'refuse' ? 'danger-zone' : ''}`} role="group" aria-labelledby="acceptance-question">
          <p id="acceptance-question" tabIndex={-1} ref={question}>
            <strong>{confirm === 'accept' ? a.confirmAccept : a.confirmRefuse}</strong>
          </p>
          <div class="actions">
            <button type="button" class={confirm === 'accept' ? 'primary' : 'danger'} onClick={() => void decide(confirm)} disabled={busy} aria-busy={busy ? 'true' : undefined}>
              {busy ? t.saving : confirm === 'accept' ? a.confirmAcceptButton : a.confirmRefuseButton}
            </button>
            <button type="button" onClick={() => setConfirm(undefined)} disabled={busy}>
              {a.cancel}
            </button>
          </div>
        </div>
      ) : null}
      <Alert text={error} />
    </Section>
  );
}

// ---- SMS unlock -------------------------------------------------------------------------------------------------

export function Unlock({ order, pin, onPin }: Pick<Props, 'order'> & { pin: string | undefined; onPin: (pin: string) => void }): JSX.Element {
  const u = o.unlock;
  const [sent, setSent] = useState<{ expiresAt: string; codesLeftToday: number } | undefined>(undefined);
  const [sending, setSending] = useState(false);
  const [sendError, setSendError] = useState<string | undefined>(undefined);
  const form = useForm({ code: '' }, { signedIn: true });
  const pinRef = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    if (pin !== undefined) pinRef.current?.focus();
  }, [pin]);

  if (pin !== undefined) {
    return (
      <Section id="unlock" title={u.title}>
        <div class="pin card" tabIndex={-1} ref={pinRef} role="region" aria-labelledby="pin-title">
          <h3 id="pin-title">{u.pinTitle}</h3>
          <p class="pin-value">
            <code>{pin}</code>
          </p>
          <p class="warning">
            <strong>{u.pinWarning}</strong>
          </p>
        </div>
        <p class="notice">{u.done}</p>
      </Section>
    );
  }
  const send = async () => {
    setSending(true);
    setSendError(undefined);
    try {
      setSent(await api<{ expiresAt: string; codesLeftToday: number }>('POST', `/v1/orders/${order.id}/unlock-code`, { json: {} }));
    } catch (err) {
      setSendError(messageOf(err));
    } finally {
      setSending(false);
    }
  };
  const verify = async () => {
    const code = form.values.code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(code)) return form.fail({ code: u.problems.codeFormat });
    let attemptsLeft: number | undefined;
    const ok = await form.submit(
      async () => {
        try {
          const answer = await api<{ unlockPin: string }>('POST', `/v1/orders/${order.id}/unlock-code/verify`, { json: { code } });
          onPin(answer.unlockPin);
        } catch (err) {
          if (err instanceof ApiProblem && err.slug === 'wrong-code' && typeof err.body.attemptsLeft === 'number') attemptsLeft = err.body.attemptsLeft;
          throw err;
        }
      },
      { slugs: { 'wrong-code': { field: 'code', message: u.problems['wrong-code'] ?? '' }, 'pin-already-shown': { message: u.problems['pin-already-shown'] ?? '' } } },
    );
    if (!ok && attemptsLeft !== undefined) form.fail({ code: u.attemptsLeft(attemptsLeft) });
  };
  return (
    <Section id="unlock" title={u.title}>
      <p>{u.intro}</p>
      <div class="actions">
        <button type="button" class={sent === undefined ? 'primary' : ''} onClick={() => void send()} disabled={sending} aria-busy={sending ? 'true' : undefined}>
          {sending ? t.saving : sent === undefined ? u.send : u.sendAgain}
        </button>
      </div>
      <p role="status" class={sent === undefined ? 'visually-hidden' : 'notice'}>
        {sent !== undefined ? u.sent(new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeStyle: 'short', timeZone: 'Europe/Paris' }).format(new Date(sent.expiresAt)), sent.codesLeftToday) : ''}
      </p>
      <Alert text={sendError} />
      {sent !== undefined ? (
        <>
          <ErrorSummary form={form} labels={{ code: u.code }} />
          <PageForm onSubmit={verify} label={u.verify}>
            <Field label={u.code} hint={u.codeHint} inputMode="numeric" autoComplete="one-time-code" required {...form.text('code')} />
            <Submit busy={form.busy}>{u.verify}</Submit>
          </PageForm>
        </>
      ) : null}
    </Section>
  );
}

// ---- downloads, revocation, renewal -----------------------------------------------------------------------------

export function Downloads({ order }: Pick<Props, 'order'>): JSX.Element {
  const d = o.downloads;
  const serial = order.certificateSerial ?? 'certificate';
  const path = `/v1/orders/${order.id}/certificate`;
  return (
    <Section id="downloads" title={d.title}>
      <p>{d.intro}</p>
      <ul class="downloads">
        <Download label={d.pem} path={path} accept="application/x-pem-file" fileName={`${serial}.pem`} />
        <Download label={d.der} path={path} accept="application/pkix-cert" fileName={`${serial}.cer`} />
        <Download label={d.chain} path={path} accept="application/pem-certificate-chain" fileName={`${serial}-chain.pem`} />
      </ul>
    </Section>
  );
}

interface CertificateState {
  readonly status: string;
  readonly revokedAt: string | null;
  readonly revocationReason: string | null;
}

export function Revoke({ order }: Pick<Props, 'order'>): JSX.Element | null {
  const r = o.revoke;
  const serial = order.certificateSerial ?? '';
  const [cert, setCert] = useState<CertificateState | undefined>(undefined);
  const [done, setDone] = useState(false);
  const form = useForm<{ reason: string; confirm: boolean }>({ reason: '', confirm: false }, { signedIn: true });
  const load = () => api<CertificateState>('GET', `/v1/certificates/${serial}`).then(setCert, () => undefined);
  useEffect(() => {
    void load();
  }, [serial]);
  if (cert === undefined) return null;
  const reasonWord = (reason: string | null): string => (reason !== null && reason in r.reasons ? r.reasons[reason as RevocationReason] : (reason ?? ''));
  if (cert.status === 'revoked') {
    return (
      <Section id="revoke" title={r.title}>
        <p class={done ? 'notice' : ''} role="status">
          {r.revokedOn(formatDateTime(lang, cert.revokedAt ?? new Date().toISOString()), reasonWord(cert.revocationReason))}
        </p>
      </Section>
    );
  }
  const labels = { reason: r.reason, confirm: r.confirm };
  const submit = async () => {
    const errors: Record<string, string> = {};
    if (form.values.reason === '') errors.reason = t.errors.field.choose;
    if (form.values.confirm !== true) errors.confirm = t.errors.field.required;
    if (Object.keys(errors).length > 0) return form.fail(errors);
    const ok = await form.submit(async () => {
      await api('POST', `/v1/certificates/${serial}/revoke`, { json: { reason: form.values.reason } });
    });
    if (ok) {
      setDone(true);
      await load();
    }
  };
  return (
    <Section id="revoke" title={r.title}>
      <p>{r.intro}</p>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={submit} label={r.title}>
        <Select label={r.reason} required options={[['', r.choose], ...revocationReasonsFor(order.product).map((reason) => [reason, r.reasons[reason]] as const)]} {...form.text('reason')} />
        <Checkbox label={r.confirm} required {...form.check('confirm')} />
        <button type="submit" class="danger" disabled={form.busy} aria-busy={form.busy ? 'true' : undefined}>
          {form.busy ? t.saving : r.submit}
        </button>
      </PageForm>
    </Section>
  );
}

export function Renew({ order }: Pick<Props, 'order'>): JSX.Element {
  const r = o.renew;
  return (
    <Section id="renew" title={r.title}>
      <p>{r.intro}</p>
      <p>
        <a href={pageLinks.renew('', order.id)}>{r.link}</a>
      </p>
    </Section>
  );
}
