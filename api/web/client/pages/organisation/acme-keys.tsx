/**
 * My organisation's ACME keys (SPEC §9, §11), for its admin: the keys with their product, dates and status; a form
 * that makes one for a TLS product and then shows its kid and HMAC key once, with the certbot command to use them
 * (announced by an aria-live region, the focus moved to it); revocation after a confirmation.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ACME_PRODUCTS, type AcmeProduct } from '../../../../../domain/acme.js';
import { CATALOG } from '../../../../../domain/catalog.js';
import { formatDate, formatDateTime } from '../../../i18n/index.js';
import { api, ApiProblem } from '../../api.js';
import { lang, t } from '../../boot.js';
import { Alert, ErrorSummary, generalMessage, Notice, PageForm, Select, Submit, TableWrap, useForm } from '../../ui.js';

const a = t.organisation.acme;

interface AcmeKey {
  readonly kid: string;
  readonly product: AcmeProduct;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
  readonly status: 'active' | 'revoked';
}

interface CreatedKey {
  readonly kid: string;
  readonly hmacKey: string;
  readonly product: AcmeProduct;
  readonly createdAt: string;
  readonly directoryUrl: string;
}

const productName = (p: AcmeProduct): string => CATALOG[p].name[lang];
const messageOf = (err: unknown): string => (err instanceof ApiProblem ? generalMessage(err) : t.errors.unexpected);

/** A value to copy: selected whole on a click (user-select: all), and a copy button where the browser allows it. */
function Copyable({ label, value, block }: { label: string; value: string; block?: boolean }): JSX.Element {
  const [copied, setCopied] = useState(false);
  const canCopy = typeof navigator !== 'undefined' && navigator.clipboard !== undefined;
  const copy = () => {
    navigator.clipboard.writeText(value).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <div class="command">
      <p class="command-label">{label}</p>
      {block === true ? (
        <pre>
          <code class="txt-value">{value}</code>
        </pre>
      ) : (
        <p>
          <code class="txt-value">{value}</code>
        </p>
      )}
      {canCopy ? (
        <button type="button" onClick={copy}>
          {a.copy(label)}
        </button>
      ) : null}
      {copied ? <span class="hint"> {a.copied(label)}</span> : null}
    </div>
  );
}

/** The one-time display of a new key: kid, HMAC key, directory and certbot command. */
function NewKey({ created, onDone }: { created: CreatedKey; onDone: () => void }): JSX.Element {
  const heading = useRef<HTMLHeadingElement | null>(null);
  useEffect(() => heading.current?.focus(), [created.kid]);
  const command = `certbot certonly --server ${created.directoryUrl} --eab-kid ${created.kid} --eab-hmac-key ${created.hmacKey} -d ${a.domainPlaceholder}`;
  return (
    <div class="card confirm" role="group" aria-labelledby="acme-new-key">
      <h3 id="acme-new-key" tabIndex={-1} ref={heading}>
        {a.createdTitle}
      </h3>
      <p class="warning">
        <strong>{a.createdOnce}</strong>
      </p>
      <dl class="facts">
        <dt>{a.columns.product}</dt>
        <dd>{productName(created.product)}</dd>
      </dl>
      <Copyable label={a.kid} value={created.kid} />
      <Copyable label={a.hmacKey} value={created.hmacKey} />
      <Copyable label={a.directory} value={created.directoryUrl} />
      <Copyable label={a.command} value={command} block />
      <div class="actions">
        <button type="button" class="primary" onClick={onDone}>
          {a.done}
        </button>
      </div>
    </div>
  );
}

function KeyRow({ k, confirming, onRevoke }: { k: AcmeKey; confirming: boolean; onRevoke: (kid: string) => void }): JSX.Element {
  return (
    <tr>
      <td>
        <code>{k.kid}</code>
      </td>
      <td>{productName(k.product)}</td>
      <td>{formatDate(lang, k.createdAt)}</td>
      <td>{k.lastUsedAt !== null ? formatDateTime(lang, k.lastUsedAt) : a.never}</td>
      <td>{k.revokedAt !== null ? a.revokedOn(formatDate(lang, k.revokedAt)) : a.statuses[k.status]}</td>
      <td>
        {k.status === 'active' ? (
          <button type="button" class="danger" aria-label={a.revokeKey(k.kid)} aria-expanded={confirming ? 'true' : 'false'} onClick={() => onRevoke(k.kid)}>
            {a.revoke}
          </button>
        ) : null}
      </td>
    </tr>
  );
}

/** Asks before revoking; the focus goes to the question, then back to the section's heading. */
function ConfirmRevoke({ kid, busy, onYes, onNo }: { kid: string; busy: boolean; onYes: () => void; onNo: () => void }): JSX.Element {
  const question = useRef<HTMLParagraphElement | null>(null);
  useEffect(() => question.current?.focus(), [kid]);
  return (
    <div class="confirm card danger-zone" role="group" aria-labelledby="acme-revoke-question">
      <p id="acme-revoke-question" tabIndex={-1} ref={question}>
        <strong>{a.confirmRevoke(kid)}</strong>
      </p>
      <div class="actions">
        <button type="button" class="danger" onClick={onYes} disabled={busy} aria-busy={busy ? 'true' : undefined}>
          {busy ? t.saving : a.confirmRevokeButton}
        </button>
        <button type="button" onClick={onNo} disabled={busy}>
          {a.keep}
        </button>
      </div>
    </div>
  );
}

export function AcmeKeys({ orgId }: { orgId: string }): JSX.Element {
  const [keys, setKeys] = useState<readonly AcmeKey[] | undefined>(undefined);
  const [created, setCreated] = useState<CreatedKey | undefined>(undefined);
  const [confirming, setConfirming] = useState<string | undefined>(undefined);
  const [revokedKid, setRevokedKid] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const title = useRef<HTMLHeadingElement | null>(null);
  const form = useForm({ acmeProduct: ACME_PRODUCTS[0] }, { signedIn: true });
  const path = `/v1/organisations/${orgId}/acme-keys`;
  const reload = () =>
    api<{ items: AcmeKey[] }>('GET', path).then(
      (r) => setKeys(r.items),
      (err: unknown) => setError(messageOf(err)),
    );
  useEffect(() => {
    void reload();
  }, [orgId]);

  const onCreate = async () => {
    let made: CreatedKey | undefined;
    setRevokedKid(undefined);
    const ok = await form.submit(
      async () => {
        made = await api<CreatedKey>('POST', path, { json: { product: form.values.acmeProduct } });
      },
      { slugs: Object.fromEntries(Object.entries(a.problems).map(([slug, message]) => [slug, { message }])) },
    );
    if (ok && made !== undefined) {
      setCreated(made);
      await reload();
    }
  };
  const onRevoke = async (kid: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await api('DELETE', `${path}/${encodeURIComponent(kid)}`);
      setConfirming(undefined);
      setRevokedKid(kid);
      await reload();
      title.current?.focus();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="org-acme">
      <h2 id="org-acme" tabIndex={-1} ref={title}>
        {a.title}
      </h2>
      <p>{a.intro}</p>
      {revokedKid !== undefined ? <Notice>{a.revoked(revokedKid)}</Notice> : null}
      <Alert text={error} />
      {keys === undefined ? (
        <p aria-live="polite">{error === undefined ? t.loading : ''}</p>
      ) : keys.length === 0 ? (
        <p>{a.none}</p>
      ) : (
        <TableWrap labelledBy="org-acme">
          <table>
            <thead>
              <tr>
                <th scope="col">{a.columns.kid}</th>
                <th scope="col">{a.columns.product}</th>
                <th scope="col">{a.columns.created}</th>
                <th scope="col">{a.columns.lastUsed}</th>
                <th scope="col">{a.columns.status}</th>
                <th scope="col">{a.columns.action}</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <KeyRow key={k.kid} k={k} confirming={confirming === k.kid} onRevoke={setConfirming} />
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {confirming !== undefined ? (
        <ConfirmRevoke
          kid={confirming}
          busy={busy}
          onYes={() => void onRevoke(confirming)}
          onNo={() => {
            setConfirming(undefined);
            title.current?.focus();
          }}
        />
      ) : null}
      <div aria-live="polite">
        {created !== undefined ? (
          <NewKey
            created={created}
            onDone={() => {
              setCreated(undefined);
              title.current?.focus();
            }}
          />
        ) : null}
      </div>
      <h3>{a.create}</h3>
      <ErrorSummary form={form} labels={{ acmeProduct: a.product }} />
      <PageForm onSubmit={onCreate} label={a.create}>
        <Select label={a.product} options={ACME_PRODUCTS.map((p) => [p, productName(p)] as const)} {...form.text('acmeProduct')} />
        <Submit busy={form.busy}>{a.createSubmit}</Submit>
      </PageForm>
    </section>
  );
}
