/**
 * The new order wizard (SPEC §9, the seeds' "Nouvelle commande"): the catalog with its prices ex-VAT and with VAT,
 * a partner code, the duration and OS; for server products the CSR pasted (or the openssl line to make it) and
 * verified, with its names and key read back, extra names and the domains' owner; the holder (an agent may choose a
 * member of its organisation or invite one); the payment method, the terms, a quote PDF; then one order (one
 * Idempotency-Key per wizard) and its page. `?renew=<orderId>` (the expiry mail's link) fills in that order's choices.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { OPERATING_SYSTEMS as OS, PAYMENT_METHODS } from '../../../../domain/catalog.js';
import { PAGES } from '../../../../domain/pages.js';
import { api, ApiProblem, toSignIn } from '../api.js';
import { boot, lang, t } from '../boot.js';
import { Checkbox, ErrorSummary, Field, Notice, PageForm, readProblem, Select, useForm, type Errors, type Form, type ProblemMap } from '../ui.js';
import {
  csrErrors,
  deliveryText,
  hasNames,
  initialValues,
  isServer,
  LABELS,
  linesOf,
  money,
  n,
  newIdempotencyKey,
  osText,
  paymentText,
  problemMap,
  productName,
  proofingText,
  provesDomains,
  STEP_OF,
  VAT,
  withVat,
  type Catalog,
  type CatalogProduct,
  type Member,
  type OrderView,
  type Organisation,
  type StepId,
  type VerifiedCsr,
  type WizardValues,
} from './new-order/model.js';
import { Radios } from './new-order/radios.js';

type WizardForm = Form<WizardValues>;
const user = boot.user;
const isAgent = user?.role === 'agent';

/** What the page loaded before the form can be shown. */
interface Loaded {
  /** The catalog without a partner code: the list prices a discount is shown against. */
  readonly publicCatalog: Catalog;
  readonly organisation: Organisation | null;
  readonly renewed: OrderView | null | 'missing';
}

/** Catches an API problem: 401 goes to sign in, the rest is the caller's. */
async function attempt<T>(action: () => Promise<T>, onProblem: (p: ApiProblem) => void): Promise<T | undefined> {
  try {
    return await action();
  } catch (err) {
    if (!(err instanceof ApiProblem)) throw err;
    if (err.status === 401) {
      toSignIn();
      return undefined;
    }
    onProblem(err);
    return undefined;
  }
}

function PriceBox({ product, years, catalog, publicCatalog }: { product: CatalogProduct | undefined; years: number; catalog: Catalog; publicCatalog: Catalog }): JSX.Element {
  const duration = product?.durations.find((d) => d.years === years);
  const list = publicCatalog.products.find((p) => p.code === product?.code)?.durations.find((d) => d.years === years);
  const price = duration === undefined ? undefined : withVat(duration.priceCentsExVat);
  const discount = catalog.partner?.discountPercent ?? 0;
  return (
    <div class="price-box" aria-live="polite" aria-atomic="true">
      <p class="price-label">{n.price.label}</p>
      {price !== undefined && product !== undefined ? (
        <>
          <p class="price-line" data-testid="price">
            <strong>{n.price.line(money(price.exVat), money(price.vat), money(price.inclVat), VAT)}</strong>
          </p>
          {discount > 0 && list !== undefined ? <p class="price-note">{n.price.discount(discount, money(list.priceCentsExVat))}</p> : null}
          {product.proofing === 'face_to_face' ? <p class="price-note">{n.price.faceToFace}</p> : null}
        </>
      ) : (
        <p>—</p>
      )}
    </div>
  );
}

function ProductStep({ form, catalog, publicCatalog, onPartner }: { form: WizardForm; catalog: Catalog; publicCatalog: Catalog; onPartner: (code: string | null) => Promise<void> }): JSX.Element {
  const v = form.values;
  const products = catalog.products.filter((p) => p.orderable);
  const product = products.find((p) => p.code === v.product);
  return (
    <>
      <fieldset>
        <legend>{n.partner.legend}</legend>
        <Field label={n.partner.field} hint={n.partner.hint} autoComplete="off" spellcheck={false} {...form.text('partnerCode')} />
        <div class="actions">
          <button type="button" disabled={form.busy || v.partnerCode.trim() === ''} onClick={() => void onPartner(v.partnerCode.trim())}>
            {n.partner.apply}
          </button>
          {catalog.partner !== undefined ? (
            <button type="button" class="link" onClick={() => void onPartner(null)}>
              {n.partner.remove}
            </button>
          ) : null}
        </div>
        {catalog.partner !== undefined ? (
          <Notice>{catalog.partner.discountPercent > 0 ? n.partner.applied(catalog.partner.code, catalog.partner.discountPercent) : n.partner.appliedNoDiscount(catalog.partner.code)}</Notice>
        ) : null}
      </fieldset>
      <Radios
        legend={n.product.legend}
        {...form.text('product')}
        choices={products.map((p) => {
          const cheapest = Math.min(...p.durations.map((d) => d.priceCentsExVat));
          return {
            value: p.code,
            label: <strong>{productName(p)}</strong>,
            detail: `${proofingText(p)}. ${deliveryText(p)}. ${n.product.from(money(cheapest))}.`,
          };
        })}
      />
      {product !== undefined ? (
        <>
          <Radios
            legend={n.duration.legend}
            {...form.text('durationYears')}
            choices={product.durations.map((d) => {
              const price = withVat(d.priceCentsExVat);
              return { value: String(d.years), label: n.duration.years(d.years), detail: n.duration.price(money(price.exVat), money(price.inclVat)) };
            })}
          />
          {provesDomains(product) ? <p class="hint">{n.product.subscription}</p> : null}
          {!isServer(product) ? (
            <Radios
              legend={n.os.legend}
              hint={n.os.hint}
              {...form.text('os')}
              choices={OS.map((os) => ({ value: os, label: osText(os) }))}
            />
          ) : null}
        </>
      ) : null}
      <PriceBox product={product} years={Number(v.durationYears)} catalog={catalog} publicCatalog={publicCatalog} />
    </>
  );
}

function KeyStep({
  form,
  product,
  verified,
  onVerify,
  command,
  onCommand,
}: {
  form: WizardForm;
  product: CatalogProduct;
  verified: VerifiedCsr | undefined;
  onVerify: () => Promise<void>;
  command: string | undefined;
  onCommand: () => Promise<void>;
}): JSX.Element {
  const v = form.values;
  const named = hasNames(product);
  const [copied, setCopied] = useState(false);
  return (
    <>
      <p class="hint">{n.csr.caNeverGenerates}</p>
      <Radios
        legend={n.csr.methodLegend}
        {...form.text('csrMethod')}
        choices={[
          { value: 'paste', label: n.csr.methodPaste },
          { value: 'generate', label: n.csr.methodGenerate },
        ]}
      />
      {v.csrMethod === 'generate' ? (
        <fieldset>
          <legend>{n.csr.methodGenerate}</legend>
          <Field label={named ? n.csr.commonName : n.csr.commonNameSeal} hint={named ? n.csr.commonNameHint : undefined} spellcheck={false} autoComplete="off" required {...form.text('commonName')} />
          {named ? <Field label={n.csr.extraSans} hint={n.csr.extraSansHint} multiline rows={3} spellcheck={false} {...form.text('extraSans')} /> : null}
          <Select label={n.csr.keyType} options={[['rsa', n.csr.keyRsa], ['ec', n.csr.keyEc]]} {...form.text('keyType')} />
          <div class="actions">
            <button type="button" disabled={form.busy} onClick={() => void onCommand()}>
              {n.csr.getCommand}
            </button>
          </div>
          {command !== undefined ? (
            <div class="command">
              <p>{n.csr.commandIntro}</p>
              <p class="command-label" id="openssl-command-label">
                {n.csr.commandLabel}
              </p>
              <pre aria-labelledby="openssl-command-label" tabIndex={0}>
                <code data-testid="openssl-command">{command}</code>
              </pre>
              <div class="actions">
                <button
                  type="button"
                  onClick={() => {
                    void navigator.clipboard?.writeText(command).then(
                      () => setCopied(true),
                      () => undefined,
                    );
                  }}
                >
                  {n.csr.copy}
                </button>
                {copied ? <Notice>{n.csr.copied}</Notice> : null}
              </div>
            </div>
          ) : null}
        </fieldset>
      ) : null}
      <Field label={n.csr.field} hint={n.csr.fieldHint} multiline rows={10} spellcheck={false} autoComplete="off" required {...form.text('csr')} />
      {named && v.csrMethod === 'paste' ? <Field label={n.csr.extraSans} hint={n.csr.extraSansHint} multiline rows={3} spellcheck={false} {...form.text('extraSans')} /> : null}
      <div class="actions">
        <button type="button" class="primary" disabled={form.busy} onClick={() => void onVerify()}>
          {n.csr.verify}
        </button>
      </div>
      <div aria-live="polite">
        {verified !== undefined ? (
          <div class="card verified" data-testid="csr-verified">
            <p class="ok-line">{n.csr.verified}</p>
            <dl class="facts">
              {named ? (
                <>
                  <dt>{n.csr.names}</dt>
                  <dd>
                    <ul class="names">
                      {verified.names.map((name) => (
                        <li key={name}>
                          <code>{name}</code>
                        </li>
                      ))}
                    </ul>
                  </dd>
                </>
              ) : (
                <>
                  <dt>{n.csr.subject}</dt>
                  <dd>{verified.subject}</dd>
                </>
              )}
              <dt>{n.csr.key}</dt>
              <dd>{verified.keyDescription}</dd>
            </dl>
          </div>
        ) : null}
      </div>
      {provesDomains(product) ? (
        <Radios
          legend={n.csr.ownerLegend}
          {...form.text('ownerKind')}
          choices={[
            { value: 'self', label: n.csr.ownerSelf },
            { value: 'other', label: n.csr.ownerOther },
          ]}
        >
          {v.ownerKind === 'other' ? <Field label={n.csr.ownerName} hint={n.csr.ownerHint} required autoComplete="off" {...form.text('domainOwner')} /> : null}
        </Radios>
      ) : null}
    </>
  );
}

const memberName = (m: Pick<Member, 'givenName' | 'surname' | 'email'>): string => `${m.givenName} ${m.surname}`.trim() || m.email;

function HolderStep({
  form,
  members,
  product,
  invited,
  onInvite,
}: {
  form: WizardForm;
  members: Member[] | 'unavailable' | undefined;
  product: CatalogProduct | undefined;
  invited: Member | undefined;
  onInvite: () => Promise<void>;
}): JSX.Element {
  const v = form.values;
  const others = Array.isArray(members) ? members.filter((m) => m.id !== user?.userId && m.status !== 'disabled') : [];
  return (
    <>
      <Radios
        legend={n.holder.legend}
        {...form.text('holderMode')}
        choices={[
          { value: 'self', label: n.holder.self },
          { value: 'member', label: n.holder.member },
          { value: 'invite', label: n.holder.invite },
        ]}
      />
      {v.holderMode !== 'self' ? <p class="hint">{n.holder.mandate}</p> : null}
      {v.holderMode === 'member' ? (
        members === 'unavailable' ? (
          <p class="warning">{n.holder.membersUnavailable}</p>
        ) : members === undefined ? (
          <p>{t.loading}</p>
        ) : others.length === 0 ? (
          <p class="warning">{n.holder.noMembers}</p>
        ) : (
          <Select
            label={n.holder.memberField}
            required
            options={[['', '—'], ...others.map((m): [string, string] => [m.id, m.status === 'pending' ? n.holder.memberPending(memberName(m)) : `${memberName(m)} — ${m.email}`])]}
            {...form.text('holderUserId')}
          />
        )
      ) : null}
      {invited !== undefined && v.holderMode === 'member' && v.holderUserId === invited.id ? <Notice>{n.holder.invited(memberName(invited), invited.email)}</Notice> : null}
      {v.holderMode === 'invite' ? (
        <fieldset>
          <legend>{n.holder.invite}</legend>
          <p class="hint">{n.holder.inviteIntro}</p>
          <div class="row">
            <Field label={n.holder.givenName} autoComplete="off" required {...form.text('givenName')} />
            <Field label={n.holder.surname} autoComplete="off" required {...form.text('surname')} />
          </div>
          <Field label={n.holder.email} type="email" autoComplete="off" spellcheck={false} required {...form.text('email')} />
          <Field label={n.holder.phone} hint={n.holder.phoneHint} type="tel" autoComplete="off" required={product?.smsUnlock === true} {...form.text('phone')} />
          <Select label={n.holder.language} options={[['fr', t.auth.languages.fr], ['en', t.auth.languages.en]]} required {...form.text('language')} />
          <div class="actions">
            <button type="button" disabled={form.busy} onClick={() => void onInvite()}>
              {n.holder.inviteSubmit}
            </button>
          </div>
        </fieldset>
      ) : null}
    </>
  );
}

function PaymentStep({
  form,
  organisation,
  quote,
  onQuote,
}: {
  form: WizardForm;
  organisation: Organisation | null;
  quote: { number: string; url: string } | undefined;
  onQuote: () => Promise<void>;
}): JSX.Element {
  const v = form.values;
  const publicAdministration = organisation?.publicAdministration === true;
  const methods = publicAdministration ? (['purchase_order'] as const) : PAYMENT_METHODS;
  return (
    <>
      <Radios
        legend={n.payment.legend}
        hint={publicAdministration ? n.payment.publicAdministration : undefined}
        {...form.text('paymentMethod')}
        choices={methods.map((m) => ({ value: m, label: paymentText(m) }))}
      >
        {v.paymentMethod === 'purchase_order' ? (
          <Field label={n.payment.purchaseOrderNumber} hint={n.payment.purchaseOrderHint} autoComplete="off" required {...form.text('purchaseOrderNumber')} />
        ) : null}
      </Radios>
      <fieldset>
        <legend>{n.quote.legend}</legend>
        <p class="hint">{n.quote.intro}</p>
        <div class="actions">
          <button type="button" disabled={form.busy} onClick={() => void onQuote()}>
            {n.quote.get}
          </button>
        </div>
        <div aria-live="polite">
          {quote !== undefined ? (
            <p>
              {n.quote.ready(quote.number)}{' '}
              <a href={quote.url} download={n.quote.fileName(quote.number)} data-testid="quote-link">
                {n.quote.download(quote.number)}
              </a>
            </p>
          ) : null}
        </div>
      </fieldset>
      <Checkbox
        label={n.terms.accept}
        {...form.check('termsAccepted')}
        required
      />
      <p class="terms-link">
        <a href={`/pds/${lang}`} target="_blank" rel="noopener">
          {n.terms.link}
        </a>
      </p>
    </>
  );
}

function Summary({ values, product, members, names, organisation }: { values: WizardValues; product: CatalogProduct; members: Member[] | 'unavailable' | undefined; names: readonly string[]; organisation: Organisation | null }): JSX.Element {
  const duration = product.durations.find((d) => d.years === Number(values.durationYears));
  const price = duration === undefined ? undefined : withVat(duration.priceCentsExVat);
  const holder =
    values.holderMode === 'member' && Array.isArray(members) ? members.find((m) => m.id === values.holderUserId) : undefined;
  return (
    <div class="card tint">
      <h3>{n.summary.legend}</h3>
      <dl class="facts">
        <dt>{n.summary.product}</dt>
        <dd>{productName(product)}</dd>
        <dt>{n.summary.duration}</dt>
        <dd>{n.duration.years(Number(values.durationYears))}</dd>
        {names.length > 0 ? (
          <>
            <dt>{n.summary.names}</dt>
            <dd>{names.join(', ')}</dd>
          </>
        ) : null}
        <dt>{n.summary.price}</dt>
        <dd>{price === undefined ? '—' : n.price.line(money(price.exVat), money(price.vat), money(price.inclVat), VAT)}</dd>
        <dt>{n.summary.holder}</dt>
        <dd>{holder !== undefined ? `${memberName(holder)} (${holder.email})` : `${n.summary.you}${organisation !== null ? ` — ${organisation.name}` : ''}`}</dd>
        <dt>{n.summary.payment}</dt>
        <dd>
          {paymentText(values.paymentMethod)}
          {values.paymentMethod === 'purchase_order' && values.purchaseOrderNumber.trim() !== '' ? ` n° ${values.purchaseOrderNumber.trim()}` : ''}
        </dd>
      </dl>
    </div>
  );
}

export function NewOrder(): JSX.Element {
  const [loaded, setLoaded] = useState<Loaded | 'failed' | undefined>(undefined);
  const [catalog, setCatalog] = useState<Catalog | undefined>(undefined);
  const form = useForm<WizardValues>({ ...initialValues }, { signedIn: true });
  const [stepIndex, setStepIndex] = useState(0);
  const [busy, setBusy] = useState(false);
  const [verified, setVerified] = useState<{ key: string; result: VerifiedCsr } | undefined>(undefined);
  const [command, setCommand] = useState<string | undefined>(undefined);
  const [members, setMembers] = useState<Member[] | 'unavailable' | undefined>(undefined);
  const [invited, setInvited] = useState<Member | undefined>(undefined);
  const [quote, setQuote] = useState<{ number: string; url: string; key: string } | undefined>(undefined);
  const [ordered, setOrdered] = useState(false);
  const idempotencyKey = useRef(newIdempotencyKey());
  const stepHeading = useRef<HTMLHeadingElement | null>(null);
  const moved = useRef(false);
  const v = form.values;

  // The catalog, the caller's organisation (public administration?), and the order to renew.
  useEffect(() => {
    void (async () => {
      try {
        const renewId = new URLSearchParams(window.location.search).get('renew');
        const [publicCatalog, organisation, renewed] = await Promise.all([
          api<Catalog>('GET', '/v1/catalog'),
          user?.organisationId == null ? Promise.resolve(null) : api<Organisation>('GET', `/v1/organisations/${user.organisationId}`).catch(() => null),
          renewId === null || renewId === '' ? Promise.resolve(null) : api<OrderView>('GET', `/v1/orders/${encodeURIComponent(renewId)}`).catch((): 'missing' => 'missing'),
        ]);
        let partnerCatalog: Catalog = publicCatalog;
        if (renewed !== null && renewed !== 'missing' && renewed.partnerCode !== null) {
          partnerCatalog = await api<Catalog>('GET', `/v1/catalog?partnerCode=${encodeURIComponent(renewed.partnerCode)}`).catch(() => publicCatalog);
        }
        setCatalog(partnerCatalog);
        setLoaded({ publicCatalog, organisation, renewed });
        if (organisation?.publicAdministration === true) form.set('paymentMethod', 'purchase_order');
        if (renewed !== null && renewed !== 'missing') prefill(renewed, partnerCatalog, organisation);
      } catch (err) {
        if (err instanceof ApiProblem && err.status === 401) toSignIn();
        else setLoaded('failed');
      }
    })();
  }, []);

  function prefill(order: OrderView, cat: Catalog, organisation: Organisation | null) {
    if (!cat.products.some((p) => p.code === order.product)) return;
    form.set('product', order.product);
    form.set('durationYears', String(order.durationYears));
    form.set('os', order.os);
    if (order.partnerCode !== null && cat.partner !== undefined) form.set('partnerCode', order.partnerCode);
    if (organisation?.publicAdministration !== true) form.set('paymentMethod', order.payment.method);
    if (order.payment.purchaseOrderNumber !== null) form.set('purchaseOrderNumber', order.payment.purchaseOrderNumber);
    if (isAgent && order.holderUserId !== user?.userId) {
      form.set('holderMode', 'member');
      form.set('holderUserId', order.holderUserId);
    }
    const names = order.domains.items.map((d) => d.name);
    if (names.length > 0) {
      form.set('csrMethod', 'generate');
      form.set('commonName', names[0] ?? '');
      form.set('extraSans', names.slice(1).join('\n'));
    }
  }

  // An agent chooses among its organisation's people.
  useEffect(() => {
    if (!isAgent || user?.organisationId == null) return;
    void api<{ items: Member[] }>('GET', `/v1/organisations/${user.organisationId}/users`).then(
      (r) => setMembers(r.items),
      () => setMembers('unavailable'),
    );
  }, []);

  const product = catalog?.products.find((p) => p.code === v.product);
  const steps: StepId[] = ['product', ...(isServer(product) ? (['key'] as const) : []), ...(isAgent ? (['holder'] as const) : []), 'payment'];
  const step: StepId = steps[Math.min(stepIndex, steps.length - 1)] ?? 'product';

  useEffect(() => {
    if (moved.current) stepHeading.current?.focus();
  }, [step]);

  const goTo = (s: StepId) => {
    moved.current = true;
    setStepIndex(Math.max(0, steps.indexOf(s)));
  };

  /** Errors found here or by the API, and the step of the first one opened. */
  const fail = (errors: Errors, general?: string) => {
    const first = Object.keys(errors).find((k) => errors[k] !== undefined) as keyof typeof STEP_OF | undefined;
    if (first !== undefined && STEP_OF[first] !== step && steps.includes(STEP_OF[first])) goTo(STEP_OF[first]);
    form.fail(errors, general);
  };
  const failWith = (p: ApiProblem, map: ProblemMap = problemMap()) => {
    const fromCsr = csrErrors(p);
    if (fromCsr !== undefined) return fail(fromCsr);
    const read = readProblem(p, v, map);
    fail(read.fields, read.general);
  };
  const run = async <T,>(action: () => Promise<T>, onProblem: (p: ApiProblem) => void = (p) => failWith(p)): Promise<T | undefined> => {
    setBusy(true);
    try {
      return await attempt(action, onProblem);
    } finally {
      setBusy(false);
    }
  };
  const wizard: WizardForm = { ...form, busy: form.busy || busy };

  const sans = linesOf(v.extraSans);
  const csrKey = JSON.stringify([v.product, v.csr.trim(), hasNames(product) ? sans : []]);
  const verifiedNow = verified !== undefined && verified.key === csrKey ? verified.result : undefined;
  const quoteKey = JSON.stringify([v.product, v.durationYears, catalog?.partner?.code ?? null]);
  const quoteNow = quote !== undefined && quote.key === quoteKey ? quote : undefined;

  const applyPartner = async (code: string | null) => {
    if (code === null) {
      form.set('partnerCode', '');
      if (loaded !== undefined && loaded !== 'failed') setCatalog(loaded.publicCatalog);
      return;
    }
    const next = await run(() => api<Catalog>('GET', `/v1/catalog?partnerCode=${encodeURIComponent(code)}`), (p) =>
      failWith(p, { fields: {}, slugs: { 'unknown-partner-code': { field: 'partnerCode', message: n.problems['unknown-partner-code'] } } }),
    );
    if (next === undefined) return;
    setCatalog(next);
    form.fail({});
    if (!next.products.some((p) => p.code === v.product)) form.set('product', '');
  };

  const verifyCsr = async () => {
    if (v.csr.trim() === '') return fail({ csr: n.csrProblems['csr-required'] });
    const key = csrKey;
    const result = await run(() =>
      api<VerifiedCsr>('POST', '/v1/csr/verify', { json: { product: v.product, csr: v.csr, ...(hasNames(product) && sans.length > 0 ? { extraSans: sans } : {}) } }),
    );
    if (result === undefined) {
      setVerified(undefined);
      return;
    }
    form.fail({});
    setVerified({ key, result });
  };

  const getCommand = async () => {
    if (v.commonName.trim() === '') return fail({ commonName: t.errors.field.required });
    const named = hasNames(product);
    const result = await run(
      () => api<{ command: string }>('POST', '/v1/csr-command', { json: { product: v.product, commonName: v.commonName.trim(), keyType: v.keyType, ...(named && sans.length > 0 ? { sans } : {}) } }),
      (p) => {
        // A name's rule: beside the additional names when the refused name is one of them.
        const sentence = n.csrProblems[p.slug as keyof typeof n.csrProblems] as string | undefined;
        if (sentence === undefined) return failWith(p, { fields: { sans: 'extraSans' } });
        const inSans = sans.some((s) => p.detail.startsWith(`${s}:`) || p.detail.startsWith(`${s} `)) && !p.detail.startsWith(`${v.commonName.trim()}`);
        fail({ [inSans ? 'extraSans' : 'commonName']: sentence });
      },
    );
    if (result === undefined) return;
    form.fail({});
    setCommand(result.command);
  };

  const invite = async () => {
    const required: ('givenName' | 'surname' | 'email' | 'phone')[] = ['givenName', 'surname', 'email', ...(product?.smsUnlock === true ? (['phone'] as const) : [])];
    const missing: Errors = {};
    for (const f of required) if (v[f].trim() === '') missing[f] = t.errors.field.required;
    if (Object.keys(missing).length > 0) return fail(missing);
    const phone = v.phone.replace(/[\s.-]/g, '');
    const member = await run(
      () =>
        api<Member>('POST', `/v1/organisations/${user?.organisationId ?? ''}/users`, {
          json: { givenName: v.givenName.trim(), surname: v.surname.trim(), email: v.email.trim(), language: v.language, ...(phone !== '' ? { phone } : {}) },
        }),
      (p) => (p.status === 403 ? fail({}, n.holder.inviteForbidden) : failWith(p)),
    );
    if (member === undefined) return;
    form.fail({});
    setInvited(member);
    setMembers((ms) => (Array.isArray(ms) ? [...ms, member] : [member]));
    form.set('holderMode', 'member');
    form.set('holderUserId', member.id);
  };

  const getQuote = async () => {
    const key = quoteKey;
    const made = await run(async () => {
      const organisation = loaded !== undefined && loaded !== 'failed' ? loaded.organisation : null;
      const created = await api<{ number: string }>('POST', '/v1/quotes', {
        json: {
          siret: organisation?.siret ?? '',
          ...(organisation !== null ? { organisationName: organisation.name } : {}),
          product: v.product,
          durationYears: Number(v.durationYears),
          quantity: 1,
          ...(catalog?.partner !== undefined ? { partnerCode: catalog.partner.code } : {}),
        },
      });
      const pdf = await api<Blob>('GET', `/v1/quotes/${created.number}?lang=${lang}`, { blob: true, headers: { accept: 'application/pdf' } });
      return { number: created.number, url: URL.createObjectURL(pdf), key };
    });
    if (made === undefined) return;
    if (quote !== undefined) URL.revokeObjectURL(quote.url);
    setQuote(made);
  };

  /** What a step needs before the next one (the API checks everything again when ordering). */
  const stepErrors = (s: StepId): Errors => {
    if (s === 'product') return v.product === '' ? { product: t.errors.field.choose } : {};
    if (s === 'key') {
      if (v.csr.trim() === '') return { csr: n.csrProblems['csr-required'] };
      if (verifiedNow === undefined) return { csr: verified === undefined ? n.csr.mustVerify : n.csr.changed };
      if (provesDomains(product) && v.ownerKind === 'other' && v.domainOwner.trim() === '') return { domainOwner: t.errors.field.required };
      return {};
    }
    if (s === 'holder') {
      if (v.holderMode === 'invite') return { holderMode: n.holder.inviteFirst };
      if (v.holderMode === 'member' && v.holderUserId === '') return { holderUserId: n.holder.chooseMember };
    }
    return {};
  };

  const next = () => {
    const errors = stepErrors(step);
    if (Object.keys(errors).length > 0) return form.fail(errors);
    form.fail({});
    goTo(steps[steps.indexOf(step) + 1] ?? step);
  };

  const order = async () => {
    for (const s of steps.slice(0, -1)) {
      const errors = stepErrors(s);
      if (Object.keys(errors).length > 0) return fail(errors);
    }
    if (product === undefined) return;
    const server = isServer(product);
    const body = {
      product: v.product,
      durationYears: Number(v.durationYears),
      os: server ? 'other' : v.os,
      ...(catalog?.partner !== undefined ? { partnerCode: catalog.partner.code } : {}),
      ...(v.holderMode === 'member' && v.holderUserId !== '' ? { holderUserId: v.holderUserId } : {}),
      payment: { method: v.paymentMethod, ...(v.paymentMethod === 'purchase_order' && v.purchaseOrderNumber.trim() !== '' ? { purchaseOrderNumber: v.purchaseOrderNumber.trim() } : {}) },
      termsAccepted: v.termsAccepted,
      ...(server ? { csr: v.csr } : {}),
      ...(server && hasNames(product) && sans.length > 0 ? { extraSans: sans } : {}),
      ...(provesDomains(product) && v.ownerKind === 'other' && v.domainOwner.trim() !== '' ? { domainOwner: v.domainOwner.trim() } : {}),
    };
    const created = await run(() => api<{ id: string }>('POST', '/v1/orders', { json: body, headers: { 'idempotency-key': idempotencyKey.current } }));
    if (created === undefined) return;
    setOrdered(true);
    window.location.assign(PAGES.order.replace(':id', encodeURIComponent(created.id)));
  };

  if (loaded === 'failed') return <p class="problem">{n.catalogFailed}</p>;
  if (loaded === undefined || catalog === undefined) return <p>{n.loadingCatalog}</p>;
  if (ordered) return <Notice>{n.ordered}</Notice>;

  const renewed = loaded.renewed;
  const last = step === steps[steps.length - 1];
  return (
    <>
      {renewed === 'missing' ? <p class="warning">{n.renewNotFound}</p> : null}
      {renewed !== null && renewed !== 'missing' && product !== undefined ? (
        <div class="notice" role="status">
          <p>{n.renewing(productName(product))}</p>
          {isServer(product) ? <p>{n.renewingServer}</p> : null}
        </div>
      ) : (
        <p>{n.intro}</p>
      )}
      <ol class="stepper">
        {steps.map((s, i) => (
          <li key={s} aria-current={s === step ? 'step' : undefined} class={s === step ? 'current' : i < steps.indexOf(step) ? 'done' : undefined}>
            {n.steps[s]}
          </li>
        ))}
      </ol>
      <ErrorSummary form={wizard} labels={LABELS} />
      <PageForm onSubmit={() => (last ? order() : next())} label={t.titles.newOrder}>
        <h2 ref={stepHeading} tabIndex={-1}>
          <span class="step-of">{n.stepOf(steps.indexOf(step) + 1, steps.length)}</span>
          {n.steps[step]}
        </h2>
        {step === 'product' ? <ProductStep form={wizard} catalog={catalog} publicCatalog={loaded.publicCatalog} onPartner={applyPartner} /> : null}
        {step === 'key' && product !== undefined ? <KeyStep form={wizard} product={product} verified={verifiedNow} onVerify={verifyCsr} command={command} onCommand={getCommand} /> : null}
        {step === 'holder' ? <HolderStep form={wizard} members={members} product={product} invited={invited} onInvite={invite} /> : null}
        {step === 'payment' && product !== undefined ? (
          <>
            {!isAgent && user !== null ? <p>{n.holder.you(`${user.givenName} ${user.surname}`.trim(), user.email)}</p> : null}
            <PaymentStep form={wizard} organisation={loaded.organisation} quote={quoteNow} onQuote={getQuote} />
            <Summary values={v} product={product} members={members} names={verifiedNow?.names ?? []} organisation={loaded.organisation} />
          </>
        ) : null}
        <div class="actions wizard-nav">
          {steps.indexOf(step) > 0 ? (
            <button type="button" onClick={() => goTo(steps[steps.indexOf(step) - 1] ?? 'product')}>
              {n.previous}
            </button>
          ) : null}
          <button type="submit" class="primary" disabled={wizard.busy} aria-busy={wizard.busy ? 'true' : undefined}>
            {wizard.busy && last ? t.saving : last ? n.submit : n.next}
          </button>
        </div>
      </PageForm>
    </>
  );
}

