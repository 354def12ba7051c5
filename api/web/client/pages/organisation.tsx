/** My organisation (SPEC §9): the profile and address, the people, inviting a future holder, the agent mandate, ACME keys. */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiProblem } from '../api.js';
import { boot, lang, t } from '../boot.js';
import { AcmeKeys } from './organisation/acme-keys.js';
import { ErrorSummary, Field, generalMessage, missing, Notice, PageForm, Select, Submit, TableWrap, useForm, type ProblemMap } from '../ui.js';

const o = t.organisation;

interface OrganisationView {
  readonly id: string;
  readonly siret: string;
  readonly name: string;
  readonly address: { readonly street: string | null; readonly postalCode: string | null; readonly locality: string | null };
  readonly publicAdministration: boolean;
}

interface Member {
  readonly id: string;
  readonly email: string;
  readonly givenName: string;
  readonly surname: string;
  readonly role: string;
  readonly status: string;
}

const isAdmin = boot.user?.role === 'org_admin';
const hasErrors = (e: Record<string, string | undefined>): boolean => Object.values(e).some((v) => v !== undefined);
const fullName = (m: { givenName: string; surname: string }): string => `${m.givenName} ${m.surname}`.trim();

function Profile({ org, onSaved }: { org: OrganisationView; onSaved: (o: OrganisationView) => void }): JSX.Element {
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const form = useForm(
    { name: org.name, street: org.address.street ?? '', postalCode: org.address.postalCode ?? '', locality: org.address.locality ?? '' },
    { signedIn: true },
  );
  const labels = { name: o.name, street: t.auth.fields.street, postalCode: t.auth.fields.postalCode, locality: t.auth.fields.locality };
  const map: ProblemMap = {
    fields: { 'address.street': 'street', 'address.postalCode': 'postalCode', 'address.locality': 'locality' },
    fieldMessages: { postalCode: o.problems.postalCode },
  };
  const onSubmit = async () => {
    const found = missing(form.values, ['name', 'street', 'postalCode', 'locality']);
    if (hasErrors(found)) return form.fail(found);
    const v = form.values;
    let updated: OrganisationView | undefined;
    const ok = await form.submit(async () => {
      updated = await api<OrganisationView>('PATCH', `/v1/organisations/${org.id}`, {
        json: { name: v.name, address: { street: v.street, postalCode: v.postalCode, locality: v.locality } },
      });
    }, map);
    if (ok && updated !== undefined) {
      onSaved(updated);
      setEditing(false);
      setSaved(true);
    }
  };
  const a = org.address;
  return (
    <section aria-labelledby="org-profile">
      <h2 id="org-profile">{o.profile}</h2>
      {saved ? <Notice>{o.saved}</Notice> : null}
      {editing ? (
        <>
          <ErrorSummary form={form} labels={labels} />
          <PageForm onSubmit={onSubmit}>
            <Field label={o.name} autoComplete="organization" required {...form.text('name')} />
            <Field label={t.auth.fields.street} autoComplete="street-address" required {...form.text('street')} />
            <div class="row">
              <Field label={t.auth.fields.postalCode} hint={t.auth.fields.postalCodeHint} autoComplete="postal-code" inputMode="numeric" required {...form.text('postalCode')} />
              <Field label={t.auth.fields.locality} autoComplete="address-level2" required {...form.text('locality')} />
            </div>
            <div class="actions">
              <Submit busy={form.busy}>{o.save}</Submit>
              <button type="button" onClick={() => setEditing(false)}>
                {o.cancel}
              </button>
            </div>
          </PageForm>
        </>
      ) : (
        <>
          <dl class="facts">
            <dt>{o.name}</dt>
            <dd>{org.name}</dd>
            <dt>{o.siret}</dt>
            <dd>{org.siret}</dd>
            <dt>{o.address}</dt>
            <dd>{a.street !== null && a.locality !== null ? `${a.street}, ${a.postalCode ?? ''} ${a.locality}` : o.noAddress}</dd>
            {org.publicAdministration ? (
              <>
                <dt>{o.publicAdministration}</dt>
                <dd>{t.yes}</dd>
              </>
            ) : null}
          </dl>
          {isAdmin ? (
            <button
              type="button"
              onClick={() => {
                setSaved(false);
                setEditing(true);
              }}
            >
              {o.edit}
            </button>
          ) : (
            <p class="hint">{o.readOnly}</p>
          )}
        </>
      )}
    </section>
  );
}

function Members({ members }: { members: readonly Member[] }): JSX.Element {
  const agents = members.filter((m) => m.role === 'agent' && m.status === 'active');
  return (
    <>
      <section aria-labelledby="org-members">
        <h2 id="org-members">{o.members}</h2>
        <TableWrap labelledBy="org-members">
          <table>
            <thead>
              <tr>
                <th scope="col">{o.columns.name}</th>
                <th scope="col">{o.columns.email}</th>
                <th scope="col">{o.columns.role}</th>
                <th scope="col">{o.columns.status}</th>
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.id}>
                  <td>{fullName(m)}</td>
                  <td>{m.email}</td>
                  <td>{o.roles[m.role] ?? m.role}</td>
                  <td>{o.statuses[m.status] ?? m.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      </section>
      <section aria-labelledby="org-mandate">
        <h2 id="org-mandate">{o.mandate}</h2>
        <p>{o.mandateIntro}</p>
        <p>{agents.length > 0 ? o.mandateInForce(agents.map(fullName).join(', ')) : o.mandateNone}</p>
      </section>
    </>
  );
}

function Invite({ orgId, onInvited }: { orgId: string; onInvited: (m: Member) => void }): JSX.Element {
  const blank = { givenName: '', surname: '', email: '', phone: '', language: lang as string };
  const form = useForm(blank, { signedIn: true });
  const [sent, setSent] = useState<string | undefined>(undefined);
  const f = o.inviteFields;
  const labels = { givenName: f.givenName, surname: f.surname, email: f.email, phone: f.phone, language: f.language };
  const onSubmit = async () => {
    const found = missing(form.values, ['givenName', 'surname', 'email']);
    if (hasErrors(found)) return form.fail(found);
    const v = form.values;
    let member: Member | undefined;
    const phone = v.phone.replace(/[\s.-]/g, '');
    const ok = await form.submit(
      async () => {
        member = await api<Member>('POST', `/v1/organisations/${orgId}/users`, {
          json: { givenName: v.givenName, surname: v.surname, email: v.email, language: v.language, ...(phone === '' ? {} : { phone }) },
        });
      },
      { slugs: { 'email-in-use': { field: 'email', message: o.problems['email-in-use'] } }, fieldMessages: { phone: o.problems.phone } },
    );
    if (ok && member !== undefined) {
      onInvited(member);
      setSent(member.email);
      for (const k of ['givenName', 'surname', 'email', 'phone'] as const) form.set(k, '');
    }
  };
  return (
    <section aria-labelledby="org-invite">
      <h2 id="org-invite">{o.invite}</h2>
      <p>{o.inviteIntro}</p>
      {sent !== undefined ? <Notice>{o.invited(sent)}</Notice> : null}
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={onSubmit}>
        <div class="row">
          <Field label={f.givenName} required {...form.text('givenName')} />
          <Field label={f.surname} required {...form.text('surname')} />
        </div>
        <Field label={f.email} type="email" spellcheck={false} required {...form.text('email')} />
        <Field label={f.phone} hint={f.phoneHint} type="tel" {...form.text('phone')} />
        <Select label={f.language} options={[['fr', t.auth.languages.fr], ['en', t.auth.languages.en]]} {...form.text('language')} />
        <Submit busy={form.busy}>{o.inviteSubmit}</Submit>
      </PageForm>
    </section>
  );
}

export function Organisation(): JSX.Element {
  const orgId = boot.user?.organisationId ?? null;
  const [org, setOrg] = useState<OrganisationView | undefined>(undefined);
  const [members, setMembers] = useState<readonly Member[] | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (orgId === null) return;
    api<OrganisationView>('GET', `/v1/organisations/${orgId}`).then(setOrg, (err: unknown) => {
      if (err instanceof ApiProblem) setProblem(generalMessage(err));
    });
    if (isAdmin) {
      api<{ items: Member[] }>('GET', `/v1/organisations/${orgId}/users`).then(
        (r) => setMembers(r.items),
        (err: unknown) => {
          if (err instanceof ApiProblem) setProblem(generalMessage(err));
        },
      );
    }
  }, [orgId]);
  if (orgId === null) return <p class="problem">{t.errors.notFound}</p>;
  if (problem !== undefined) return <p class="problem">{problem}</p>;
  if (org === undefined) return <p aria-live="polite">{t.loading}</p>;
  return (
    <>
      <Profile org={org} onSaved={setOrg} />
      {isAdmin ? (
        <>
          {members !== undefined ? <Members members={members} /> : <p aria-live="polite">{t.loading}</p>}
          <Invite orgId={org.id} onInvited={(m) => setMembers((list) => [...(list ?? []), m])} />
          <AcmeKeys orgId={org.id} />
        </>
      ) : (
        <p class="hint">{o.membersOnlyAdmin}</p>
      )}
    </>
  );
}
