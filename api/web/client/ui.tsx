/**
 * The pages' form toolkit: fields with their label, hint and error beside them (aria-describedby, aria-invalid), a
 * summary of what to correct at the top, and one way to turn an API problem into those messages in the reader's
 * language. A failed request never clears what was typed.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { ApiProblem, toSignIn, type FieldIssue } from './api.js';
import { t } from './boot.js';

export type Values = Record<string, string | boolean>;
export type Errors = Partial<Record<string, string>>;

/** How a page reads the API's problems: which form field an API path is, and the words for its rule refusals. */
export interface ProblemMap {
  /** API path (`organisationAddress.postalCode`) → form field (`postalCode`); unlisted paths are their own name. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Problem slug → the field it belongs to (if any) and the sentence to show. */
  readonly slugs?: Readonly<Record<string, { readonly field?: string; readonly message: string }>>;
  /** Message for a field by its name, overriding the generic one of its zod code. */
  readonly fieldMessages?: Readonly<Record<string, string>>;
}

const fieldId = (name: string): string => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

function messageForIssue(issue: FieldIssue, field: string, values: Values, map: ProblemMap): string {
  const own = map.fieldMessages?.[field];
  if (own !== undefined) return own;
  const empty = values[field] === '' || values[field] === undefined;
  switch (issue.code) {
    case 'invalid_type':
      return t.errors.field.required;
    case 'too_small':
      return empty ? t.errors.field.required : t.errors.field.tooShort;
    case 'too_big':
      return t.errors.field.tooLong;
    case 'invalid_format':
      return field.toLowerCase().includes('email') ? t.errors.field.email : t.errors.field.invalid;
    case 'invalid_value':
      return t.errors.field.choose;
    default:
      return t.errors.field.invalid;
  }
}

/** The page-level sentence for a problem that belongs to no field. */
export function generalMessage(p: ApiProblem): string {
  if (p.status === 0) return t.errors.network;
  if (p.slug === 'csrf-token-invalid') return t.errors.csrf;
  if (p.status === 401) return t.errors.sessionExpired;
  if (p.status === 429) return t.errors.rateLimited(typeof p.body.retryAfter === 'number' ? p.body.retryAfter : 60);
  if (p.status === 404) return t.errors.notFound;
  if (p.status === 403) return t.errors.forbidden;
  if (p.status >= 500) return t.errors.unexpected;
  if (p.status === 409) return p.detail === '' ? t.errors.conflict : `${t.errors.conflict} ${p.detail}`;
  return p.detail === '' ? t.errors.unexpected : p.detail;
}

/** Field errors and the general error of a problem, as the page shows them. */
export function readProblem(p: ApiProblem, values: Values, map: ProblemMap = {}): { fields: Errors; general?: string } {
  const bySlug = map.slugs?.[p.slug];
  if (bySlug !== undefined) return bySlug.field === undefined ? { fields: {}, general: bySlug.message } : { fields: { [bySlug.field]: bySlug.message } };
  if (p.status === 400 && p.errors.length > 0) {
    const fields: Errors = {};
    const unplaced: string[] = [];
    for (const issue of p.errors) {
      const field = map.fields?.[issue.path] ?? issue.path;
      if (field in values) fields[field] ??= messageForIssue(issue, field, values, map);
      else unplaced.push(`${issue.path}: ${issue.message}`);
    }
    return unplaced.length === 0 ? { fields } : { fields, general: `${t.errors.field.invalid} (${unplaced.join('; ')})` };
  }
  return { fields: {}, general: generalMessage(p) };
}

export interface Form<V extends Values> {
  readonly values: V;
  readonly errors: Errors;
  readonly general: string | undefined;
  readonly busy: boolean;
  set(name: keyof V & string, value: string | boolean): void;
  /** Props of a text field bound to `name`. */
  text(name: keyof V & string): { name: string; value: string; error: string | undefined; onValue: (v: string) => void };
  check(name: keyof V & string): { name: string; checked: boolean; error: string | undefined; onValue: (v: boolean) => void };
  /** Shows errors found before any request (required fields, two passwords that differ). */
  fail(errors: Errors, general?: string): void;
  /** Runs the request; a problem becomes messages beside the fields. Resolves true when it succeeded. */
  submit(action: () => Promise<void>, map?: ProblemMap): Promise<boolean>;
  readonly summaryRef: { current: HTMLDivElement | null };
}

export function useForm<V extends Values>(initial: V, opts: { signedIn?: boolean } = {}): Form<V> {
  const [values, setValues] = useState<V>(initial);
  const [errors, setErrors] = useState<Errors>({});
  const [general, setGeneral] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const summaryRef = useRef<HTMLDivElement | null>(null);
  const focusSummary = () => setTimeout(() => summaryRef.current?.focus(), 0);
  const set = (name: string, value: string | boolean) => {
    setValues((v) => ({ ...v, [name]: value }));
    setErrors((e) => (e[name] === undefined ? e : { ...e, [name]: undefined }));
  };
  return {
    values,
    errors,
    general,
    busy,
    set,
    text: (name) => ({ name, value: String(values[name] ?? ''), error: errors[name], onValue: (v: string) => set(name, v) }),
    check: (name) => ({ name, checked: values[name] === true, error: errors[name], onValue: (v: boolean) => set(name, v) }),
    fail(found, message) {
      setErrors(found);
      setGeneral(message);
      focusSummary();
    },
    async submit(action, map) {
      setBusy(true);
      setGeneral(undefined);
      setErrors({});
      try {
        await action();
        return true;
      } catch (err) {
        if (!(err instanceof ApiProblem)) throw err;
        if (err.status === 401 && opts.signedIn === true) {
          toSignIn();
          return false;
        }
        const read = readProblem(err, values, map);
        setErrors(read.fields);
        setGeneral(read.general);
        focusSummary();
        return false;
      } finally {
        setBusy(false);
      }
    },
    summaryRef,
  };
}

/** Names of required fields left empty, with the message each shows. */
export function missing(values: Values, required: readonly string[]): Errors {
  const found: Errors = {};
  for (const name of required) if (values[name] === '' || values[name] === false) found[name] = t.errors.field.required;
  return found;
}

/** The list of what to correct, each a link to its field; focused after a failed submit (RGAA 11.10, 11.11). */
export function ErrorSummary({ form, labels }: { form: Form<Values>; labels: Readonly<Record<string, string>> }): JSX.Element | null {
  const entries = Object.entries(form.errors).filter((e): e is [string, string] => e[1] !== undefined);
  const visible = entries.length > 0 || form.general !== undefined;
  return (
    <div class="summary" role="alert" tabIndex={-1} ref={form.summaryRef} hidden={!visible}>
      {visible ? (
        <>
          <h2>{t.errors.title}</h2>
          {form.general !== undefined ? <p>{form.general}</p> : null}
          {entries.length > 0 ? (
            <ul>
              {entries.map(([name, message]) => (
                <li key={name}>
                  <a href={`#${fieldId(name)}`}>
                    {labels[name] ?? name} : {message}
                  </a>
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

interface FieldProps {
  readonly label: string;
  readonly name: string;
  readonly value: string;
  readonly error: string | undefined;
  readonly onValue: (v: string) => void;
  readonly hint?: string;
  readonly type?: string;
  readonly required?: boolean;
  readonly autoComplete?: string;
  readonly inputMode?: 'text' | 'numeric' | 'tel' | 'email';
  readonly multiline?: boolean;
  readonly rows?: number;
  readonly spellcheck?: boolean;
  readonly children?: ComponentChildren;
}

function describedBy(name: string, hint: boolean, error: boolean, extra?: string): string | undefined {
  const ids = [hint ? `${fieldId(name)}-hint` : '', error ? `${fieldId(name)}-error` : '', extra ?? ''].filter((s) => s !== '');
  return ids.length === 0 ? undefined : ids.join(' ');
}

/** A field's error under it, named by the field's aria-describedby (`describedBy`). */
function FieldError({ name, error }: { name: string; error: string | undefined }): JSX.Element | null {
  return error === undefined ? null : (
    <p class="field-error" id={`${fieldId(name)}-error`}>
      {error}
    </p>
  );
}

function FieldFrame(props: { name: string; label: string; required?: boolean; hint?: string; error?: string; children: ComponentChildren }): JSX.Element {
  return (
    <div class={props.error === undefined ? 'field' : 'field invalid'}>
      <label for={fieldId(props.name)}>
        {props.label}
        {props.required === true ? <span class="req"> ({t.required})</span> : null}
      </label>
      {props.hint !== undefined ? (
        <p class="hint" id={`${fieldId(props.name)}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.children}
      <FieldError name={props.name} error={props.error} />
    </div>
  );
}

export function Field(props: FieldProps): JSX.Element {
  const common = {
    id: fieldId(props.name),
    name: props.name,
    value: props.value,
    required: props.required,
    'aria-invalid': props.error !== undefined ? ('true' as const) : undefined,
    'aria-describedby': describedBy(props.name, props.hint !== undefined, props.error !== undefined),
    autoComplete: props.autoComplete,
    spellcheck: props.spellcheck,
  };
  return (
    <FieldFrame {...props}>
      {props.multiline === true ? (
        <textarea {...common} rows={props.rows ?? 8} onInput={(e) => props.onValue(e.currentTarget.value)} />
      ) : (
        <input {...common} type={props.type ?? 'text'} inputMode={props.inputMode} onInput={(e) => props.onValue(e.currentTarget.value)} />
      )}
      {props.children}
    </FieldFrame>
  );
}

export function Select(props: Omit<FieldProps, 'type' | 'multiline'> & { options: readonly (readonly [string, string])[] }): JSX.Element {
  return (
    <FieldFrame {...props}>
      <select
        id={fieldId(props.name)}
        name={props.name}
        value={props.value}
        required={props.required}
        aria-invalid={props.error !== undefined ? 'true' : undefined}
        aria-describedby={describedBy(props.name, props.hint !== undefined, props.error !== undefined)}
        onChange={(e) => props.onValue(e.currentTarget.value)}
      >
        {props.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}

export function Checkbox(props: { label: ComponentChildren; name: string; checked: boolean; error: string | undefined; onValue: (v: boolean) => void; required?: boolean }): JSX.Element {
  return (
    <div class={props.error === undefined ? 'field check' : 'field check invalid'}>
      <input
        type="checkbox"
        id={fieldId(props.name)}
        name={props.name}
        checked={props.checked}
        required={props.required}
        aria-invalid={props.error !== undefined ? 'true' : undefined}
        aria-describedby={props.error !== undefined ? `${fieldId(props.name)}-error` : undefined}
        onChange={(e) => props.onValue(e.currentTarget.checked)}
      />
      <label for={fieldId(props.name)}>{props.label}</label>
      <FieldError name={props.name} error={props.error} />
    </div>
  );
}

export function Submit({ busy, children }: { busy: boolean; children: ComponentChildren }): JSX.Element {
  return (
    <button type="submit" class="primary" disabled={busy} aria-busy={busy ? 'true' : undefined}>
      {busy ? t.saving : children}
    </button>
  );
}

/** A problem the page could not act on, said at once (role=alert); nothing while there is none. */
export function Alert({ text }: { text: string | undefined }): JSX.Element | null {
  return text === undefined ? null : (
    <p class="problem" role="alert">
      {text}
    </p>
  );
}

/** A message the page says once something happened (role=status: read out without moving the focus). */
export function Notice({ children }: { children: ComponentChildren }): JSX.Element {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

/** A <form> that never reloads the page: the submit handler decides. */
export function PageForm({ onSubmit, children, label }: { onSubmit: () => void | Promise<void>; children: ComponentChildren; label?: string }): JSX.Element {
  return (
    <form
      noValidate
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit();
      }}
    >
      {children}
    </form>
  );
}

/**
 * A table that may scroll sideways on a phone: keyboard users reach it (tabIndex 0) and it is named by its section's
 * heading, as axe-core's scrollable-region-focusable rule and WCAG 2.1.1 ask.
 */
export function TableWrap({ labelledBy, children }: { labelledBy: string; children: ComponentChildren }): JSX.Element {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-labelledby={labelledBy}>
      {children}
    </div>
  );
}
