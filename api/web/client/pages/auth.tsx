/** The account pages (SPEC §9): sign up, activation, sign in, forgotten username and password, reset. */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiProblem } from '../api.js';
import { lang, t } from '../boot.js';
import type { measure as Measure, Strength } from '../strength.js';
import { SecondFactor, type SecondFactorStep } from './second-factor.js';
import { ErrorSummary, Field, missing, Notice, PageForm, Select, Submit, useForm, type Errors, type Form, type ProblemMap, type Values } from '../ui.js';

const MIN_PASSWORD_LENGTH = 12;
const a = t.auth;
const query = new URLSearchParams(window.location.search);

const PASSWORD_PROBLEMS: ProblemMap['slugs'] = { 'weak-password': { field: 'password', message: a.problems['weak-password'] } };

/** The meter under a new password: zxcvbn-ts's score in words, its warning, read out politely as it changes. */
function PasswordMeter({ password, userInputs }: { password: string; userInputs: readonly string[] }): JSX.Element | null {
  const [engine, setEngine] = useState<{ measure: typeof Measure } | undefined>(undefined);
  useEffect(() => {
    void import('../strength.js').then(setEngine);
  }, []);
  if (engine === undefined || password === '') return null;
  const s: Strength = engine.measure(lang, password, userInputs);
  const level = a.strength.levels[s.score] ?? '';
  return (
    <div class="meter" id="f-password-meter">
      <meter min={0} max={4} low={2} high={3} optimum={4} value={s.score} aria-label={a.strength.label} />
      <p aria-live="polite">
        {a.strength.label} : <strong>{level}</strong>
        {s.warning !== null && s.warning !== '' ? ` — ${s.warning}` : ''}
      </p>
    </div>
  );
}

function NewPassword<V extends Values>({ form, userInputs, label }: { form: Form<V>; userInputs: readonly string[]; label?: string }): JSX.Element {
  const password = form.text('password');
  return (
    <>
      <Field label={label ?? a.fields.password} type="password" autoComplete="new-password" required hint={a.fields.passwordHint(MIN_PASSWORD_LENGTH)} {...password}>
        <PasswordMeter password={password.value} userInputs={userInputs} />
      </Field>
      <Field label={a.fields.passwordConfirm} type="password" autoComplete="new-password" required {...form.text('passwordConfirm')} />
    </>
  );
}

/** Errors the page finds itself: empty required fields, two passwords that differ. */
function passwordErrors(values: Values, required: readonly string[]): Errors {
  const found = missing(values, required);
  if (found.passwordConfirm === undefined && values.password !== values.passwordConfirm) found.passwordConfirm = a.problems.passwordMismatch;
  return found;
}

const hasErrors = (e: Errors): boolean => Object.values(e).some((v) => v !== undefined);

export function Signup(): JSX.Element {
  const form = useForm({
    siret: '',
    organisationName: '',
    street: '',
    postalCode: '',
    locality: '',
    givenName: '',
    surname: '',
    email: '',
    phone: '',
    language: lang,
    password: '',
    passwordConfirm: '',
  });
  const [done, setDone] = useState(false);
  const f = a.fields;
  const labels = {
    siret: f.siret,
    organisationName: f.organisationName,
    street: f.street,
    postalCode: f.postalCode,
    locality: f.locality,
    givenName: f.givenName,
    surname: f.surname,
    email: f.email,
    phone: f.phone,
    language: f.language,
    password: f.password,
    passwordConfirm: f.passwordConfirm,
  };
  if (done) return <Notice>{a.signup.done}</Notice>;
  const v = form.values;
  const onSubmit = async () => {
    const found = passwordErrors(v, Object.keys(labels));
    if (hasErrors(found)) return form.fail(found);
    const ok = await form.submit(
      () =>
        api('POST', '/v1/auth/register', {
          json: {
            siret: v.siret,
            organisationName: v.organisationName,
            organisationAddress: { street: v.street, postalCode: v.postalCode, locality: v.locality },
            givenName: v.givenName,
            surname: v.surname,
            email: v.email,
            phone: v.phone.replace(/[\s.-]/g, ''),
            language: v.language,
            password: v.password,
          },
        }),
      {
        fields: { 'organisationAddress.street': 'street', 'organisationAddress.postalCode': 'postalCode', 'organisationAddress.locality': 'locality' },
        fieldMessages: { postalCode: a.problems.postalCode },
        slugs: {
          'invalid-siret': { field: 'siret', message: a.problems['invalid-siret'] },
          'invalid-phone': { field: 'phone', message: a.problems['invalid-phone'] },
          ...PASSWORD_PROBLEMS,
        },
      },
    );
    if (ok) setDone(true);
  };
  return (
    <>
      <p>{a.signup.intro}</p>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={onSubmit}>
        <fieldset>
          <legend>{a.signup.organisation}</legend>
          <Field label={f.siret} hint={f.siretHint} inputMode="numeric" required {...form.text('siret')} />
          <Field label={f.organisationName} autoComplete="organization" required {...form.text('organisationName')} />
          <Field label={f.street} autoComplete="street-address" required {...form.text('street')} />
          <div class="row">
            <Field label={f.postalCode} hint={f.postalCodeHint} autoComplete="postal-code" inputMode="numeric" required {...form.text('postalCode')} />
            <Field label={f.locality} autoComplete="address-level2" required {...form.text('locality')} />
          </div>
        </fieldset>
        <fieldset>
          <legend>{a.signup.holder}</legend>
          <div class="row">
            <Field label={f.givenName} autoComplete="given-name" required {...form.text('givenName')} />
            <Field label={f.surname} autoComplete="family-name" required {...form.text('surname')} />
          </div>
          <Field label={f.email} hint={f.emailHint} type="email" autoComplete="email" spellcheck={false} required {...form.text('email')} />
          <Field label={f.phone} hint={f.phoneHint} type="tel" autoComplete="tel" required {...form.text('phone')} />
          <Select label={f.language} options={[['fr', a.languages.fr], ['en', a.languages.en]]} required {...form.text('language')} />
        </fieldset>
        <fieldset>
          <legend>{a.signup.account}</legend>
          <NewPassword form={form} userInputs={[v.email, v.givenName, v.surname, v.organisationName]} />
        </fieldset>
        <Submit busy={form.busy}>{a.signup.submit}</Submit>
      </PageForm>
      <p>
        {a.signup.haveAccount} <a href="/login">{t.nav.signIn}</a>
      </p>
    </>
  );
}

/**
 * Only a path of this site: `next` never sends anyone to another origin. A fragment the browser kept through the
 * redirect to this page (the console's `#/orders/<id>`) goes along when `next` has none of its own.
 */
function nextPath(): string {
  const next = query.get('next') ?? '';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next.includes('#') ? next : next + window.location.hash;
}

export function Login(): JSX.Element {
  const form = useForm({ email: '', password: '' });
  // Staff: the right password asks for the second factor (enrolment the first time) before any session.
  const [step, setStep] = useState<SecondFactorStep | undefined>(undefined);
  const labels = { email: a.fields.email, password: a.fields.password };
  const onSubmit = async () => {
    const found = missing(form.values, ['email', 'password']);
    if (hasErrors(found)) return form.fail(found);
    let asked: SecondFactorStep | undefined;
    const ok = await form.submit(
      async () => {
        asked = (await api<{ secondFactor?: SecondFactorStep }>('POST', '/v1/auth/session', { json: form.values })).secondFactor;
      },
      {
        slugs: {
          'invalid-credentials': { message: a.problems['invalid-credentials'] },
          'account-not-activated': { message: a.problems['account-not-activated'] },
          'account-disabled': { message: a.problems['account-disabled'] },
        },
      },
    );
    if (ok && asked !== undefined) setStep(asked);
    else if (ok) window.location.assign(nextPath());
  };
  if (step !== undefined) return <SecondFactor step={step} next={nextPath()} />;
  return (
    <>
      {query.get('signedOut') === '1' ? <Notice>{a.login.signedOut}</Notice> : null}
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={onSubmit}>
        <Field label={a.fields.email} type="email" autoComplete="username" spellcheck={false} required {...form.text('email')} />
        <Field label={a.fields.password} type="password" autoComplete="current-password" required {...form.text('password')} />
        <Submit busy={form.busy}>{a.login.submit}</Submit>
      </PageForm>
      <ul class="links">
        <li>
          <a href="/forgot-username">{a.login.forgotUsername}</a>
        </li>
        <li>
          <a href="/forgot-password">{a.login.forgotPassword}</a>
        </li>
        <li>
          {a.login.noAccount} <a href="/signup">{t.nav.signUp}</a>
        </li>
      </ul>
    </>
  );
}

export function Activate(): JSX.Element {
  const token = query.get('token') ?? '';
  const form = useForm({ password: '', passwordConfirm: '' });
  const [needsPassword, setNeedsPassword] = useState(false);
  const [done, setDone] = useState(false);
  if (token === '') return <p class="problem">{a.activate.missingToken}</p>;
  if (done)
    return (
      <Notice>
        {a.activate.done} <a href="/login">{t.nav.signIn}</a>
      </Notice>
    );
  const labels = { password: a.fields.password, passwordConfirm: a.fields.passwordConfirm };
  const onSubmit = async () => {
    if (needsPassword) {
      const found = passwordErrors(form.values, ['password', 'passwordConfirm']);
      if (hasErrors(found)) return form.fail(found);
    }
    const json = needsPassword ? { token, password: form.values.password } : { token };
    const ok = await form.submit(
      async () => {
        try {
          await api('POST', '/v1/auth/activate', { json });
        } catch (err) {
          // An account an organisation admin created has no password yet: its holder chooses it here.
          if (err instanceof ApiProblem && err.slug === 'password-required') setNeedsPassword(true);
          throw err;
        }
      },
      { slugs: { 'link-invalid': { message: a.problems['link-invalid'] }, 'password-required': { message: a.problems['password-required'] }, ...PASSWORD_PROBLEMS } },
    );
    if (ok) setDone(true);
  };
  return (
    <>
      <p>{needsPassword ? a.activate.choosePassword : a.activate.intro}</p>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={onSubmit}>
        {needsPassword ? <NewPassword form={form} userInputs={[]} /> : null}
        <Submit busy={form.busy}>{a.activate.submit}</Submit>
      </PageForm>
    </>
  );
}

export function ResetPassword(): JSX.Element {
  const token = query.get('token') ?? '';
  const form = useForm({ password: '', passwordConfirm: '' });
  const [done, setDone] = useState(false);
  if (token === '')
    return (
      <p class="problem">
        {a.reset.missingToken} <a href="/forgot-password">{a.newLink}</a>
      </p>
    );
  if (done)
    return (
      <Notice>
        {a.reset.done} <a href="/login">{t.nav.signIn}</a>
      </Notice>
    );
  const labels = { password: a.fields.newPassword, passwordConfirm: a.fields.passwordConfirm };
  const onSubmit = async () => {
    const found = passwordErrors(form.values, ['password', 'passwordConfirm']);
    if (hasErrors(found)) return form.fail(found);
    const ok = await form.submit(() => api('POST', '/v1/auth/reset-password', { json: { token, password: form.values.password } }), {
      slugs: { 'link-invalid': { message: a.problems['link-invalid'] }, ...PASSWORD_PROBLEMS },
    });
    if (ok) setDone(true);
  };
  return (
    <>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={onSubmit}>
        <NewPassword form={form} userInputs={[]} label={a.fields.newPassword} />
        <Submit busy={form.busy}>{a.reset.submit}</Submit>
      </PageForm>
      <p>
        <a href="/forgot-password">{a.newLink}</a>
      </p>
    </>
  );
}

export function ForgotUsername(): JSX.Element {
  const form = useForm({ siret: '', email: '' });
  const [done, setDone] = useState(false);
  if (done) return <Notice>{a.forgotUsername.done}</Notice>;
  const labels = { siret: a.fields.siret, email: a.fields.email };
  const onSubmit = async () => {
    const found = missing(form.values, ['siret', 'email']);
    if (hasErrors(found)) return form.fail(found);
    const ok = await form.submit(() => api('POST', '/v1/auth/forgot-username', { json: form.values }), {
      slugs: { 'invalid-siret': { field: 'siret', message: a.problems['invalid-siret'] } },
    });
    if (ok) setDone(true);
  };
  return (
    <>
      <p>{a.forgotUsername.intro}</p>
      <ErrorSummary form={form} labels={labels} />
      <PageForm onSubmit={onSubmit}>
        <Field label={a.fields.siret} hint={a.fields.siretHint} inputMode="numeric" required {...form.text('siret')} />
        <Field label={a.fields.email} type="email" autoComplete="email" spellcheck={false} required {...form.text('email')} />
        <Submit busy={form.busy}>{a.forgotUsername.submit}</Submit>
      </PageForm>
    </>
  );
}

export function ForgotPassword(): JSX.Element {
  const form = useForm({ email: '' });
  const [done, setDone] = useState(false);
  if (done) return <Notice>{a.forgotPassword.done}</Notice>;
  const onSubmit = async () => {
    const found = missing(form.values, ['email']);
    if (hasErrors(found)) return form.fail(found);
    const ok = await form.submit(() => api('POST', '/v1/auth/forgot-password', { json: form.values }));
    if (ok) setDone(true);
  };
  return (
    <>
      <p>{a.forgotPassword.intro}</p>
      <ErrorSummary form={form} labels={{ email: a.fields.email }} />
      <PageForm onSubmit={onSubmit}>
        <Field label={a.fields.email} type="email" autoComplete="email" spellcheck={false} required {...form.text('email')} />
        <Submit busy={form.busy}>{a.forgotPassword.submit}</Submit>
      </PageForm>
    </>
  );
}
