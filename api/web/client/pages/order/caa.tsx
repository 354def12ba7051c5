/**
 * CAA on the order page (RFC 8659, BR §3.2.2.8): when the last check right before issuance forbade it, each refused
 * name says why in the reader's language, where its CAA records were found, what they are and the exact record to
 * add naming this CA; "Check again" sends the domain-validation check, which looks at CAA again.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { CaaCheck, CaaNameCheck } from '../../../../../domain/order.js';
import type { OrderWithActions } from '../../../../../workflows/definitions.js';
import { formatDateTime } from '../../../i18n/index.js';
import { api } from '../../api.js';
import { lang } from '../../boot.js';
import { Alert } from '../../ui.js';
import { messageOf, o } from './shared.js';

/** Tags the CA understands (activities/dcv/caa.ts): only an unknown one flagged critical forbids by itself. */
const KNOWN_TAGS: ReadonlySet<string> = new Set(['issue', 'issuewild', 'iodef', 'issuemail', 'contactemail', 'contactphone']);
const ISSUER_CRITICAL = 128;

interface Parsed {
  readonly flags: number;
  readonly tag: string;
  readonly value: string;
}

/** A record in presentation form, `0 issue "ca.example"`, back into its parts; undefined when it is not one. */
function parse(record: string): Parsed | undefined {
  const m = /^(\d+) (\S+) (".*")$/.exec(record);
  if (m === null) return undefined;
  try {
    return { flags: Number(m[1]), tag: (m[2] ?? '').toLowerCase(), value: String(JSON.parse(m[3] ?? '""')) };
  } catch {
    return undefined;
  }
}

const issuerOf = (value: string): string => (value.split(';')[0] ?? '').trim().toLowerCase();

/** Why a name is refused, and the records to add: the same reading of the RRset as the CA's check. */
export function caaAdvice(n: CaaNameCheck, identifiers: readonly string[]): { reason: string; add: string[]; critical: string | undefined } {
  const c = o.caa;
  const domain = n.relevantDomain ?? n.name;
  const records = n.records.map(parse).filter((r): r is Parsed => r !== undefined);
  const critical = records.find((r) => (r.flags & ISSUER_CRITICAL) !== 0 && !KNOWN_TAGS.has(r.tag))?.tag;
  const wildcard = n.name.startsWith('*.') && records.some((r) => r.tag === 'issuewild');
  const tag = wildcard ? 'issuewild' : 'issue';
  const issuers = [...new Set(records.filter((r) => r.tag === tag).map((r) => issuerOf(r.value)).filter((i) => i !== ''))];
  const reason =
    critical !== undefined
      ? c.reasons.critical(domain, critical)
      : issuers.length === 0
        ? c.reasons.nobody(domain)
        : (wildcard ? c.reasons.othersWildcard : c.reasons.others)(domain, issuers.join(', '));
  return { reason, add: identifiers.map((id) => `0 ${tag} "${id}"`), critical };
}

function RefusedName({ n, identifiers }: { n: CaaNameCheck; identifiers: readonly string[] }): JSX.Element {
  const c = o.caa;
  const { reason, add, critical } = caaAdvice(n, identifiers);
  const domain = n.relevantDomain ?? n.name;
  return (
    <li class="card caa-name">
      <h4>
        <code>{n.name}</code>
      </h4>
      <p class="warning">{reason}</p>
      <dl class="facts">
        <dt>{c.foundAt}</dt>
        <dd>
          <code>{domain}</code>
        </dd>
        <dt>{c.records}</dt>
        <dd>
          <ul class="caa-records">
            {n.records.map((r) => (
              <li key={r}>
                <code>{r}</code>
              </li>
            ))}
          </ul>
        </dd>
        <dt>{c.toAdd}</dt>
        <dd>
          <p>{c.toAddHint(domain)}</p>
          <ul class="caa-records">
            {add.map((r) => (
              <li key={r}>
                <code class="txt-value caa-add">{r}</code>
              </li>
            ))}
          </ul>
        </dd>
      </dl>
      {critical !== undefined ? <p>{c.removeCritical(critical)}</p> : null}
    </li>
  );
}

/** The refusal of the last CAA check and its "Check again"; nothing when CAA permits or was never checked. */
export function CaaRefusal({ order, onView }: { order: OrderWithActions; onView: (v: OrderWithActions) => void }): JSX.Element | null {
  const c = o.caa;
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const last: CaaCheck | undefined = order.caa?.last;
  if (last === undefined || (last.permitted && done === undefined)) return null;

  const again = async () => {
    setChecking(true);
    setError(undefined);
    setDone(undefined);
    try {
      const view = await api<OrderWithActions>('POST', `/v1/orders/${order.id}/domain-validation`, { json: { action: 'check' } });
      setDone(c.permitted);
      onView(view);
    } catch (err) {
      setError(messageOf(err, c.problems));
    } finally {
      setChecking(false);
    }
  };

  return (
    <div class="caa" role="group" aria-labelledby="caa-title">
      <h3 id="caa-title">{c.title}</h3>
      {last.permitted ? null : (
        <>
          <p>{c.intro}</p>
          <ul class="domains">
            {last.names
              .filter((n) => !n.permitted)
              .map((n) => (
                <RefusedName key={n.name} n={n} identifiers={last.identifiers} />
              ))}
          </ul>
          <p class="hint">{c.checkedAt(formatDateTime(lang, last.checkedAt))}</p>
          {order.actions.includes('domain_validation') ? (
            <div class="actions">
              <button type="button" class="primary" onClick={() => void again()} disabled={checking} aria-busy={checking ? 'true' : undefined}>
                {checking ? c.checking : c.check}
              </button>
            </div>
          ) : null}
        </>
      )}
      <p role="status" class={done === undefined ? 'visually-hidden' : 'notice'}>
        {done ?? ''}
      </p>
      <Alert text={error} />
    </div>
  );
}
