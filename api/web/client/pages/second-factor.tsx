/**
 * The second step of a staff sign-in (issue 16 item 6), on /login after the right password: the first time, the
 * enrolment (a QR code of the otpauth:// URI drawn by the server, the key in text for typing by hand, the first code,
 * then the recovery codes shown once); afterwards, the code of the authenticator app or a recovery code.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiProblem } from '../api.js';
import { t } from '../boot.js';
import { ErrorSummary, Field, generalMessage, missing, Notice, PageForm, Submit, useForm, type ProblemMap } from '../ui.js';

const s = t.auth.secondFactor;

export type SecondFactorStep = 'enrol' | 'verify';

interface Enrolment {
  readonly secret: string;
  readonly otpauthUri: string;
  readonly qrCode: string;
}

const CODE_PROBLEMS: ProblemMap = {
  slugs: {
    'second-factor-invalid': { field: 'code', message: t.auth.problems['second-factor-invalid'] },
    'second-factor-session-expired': { message: t.auth.problems['second-factor-session-expired'] },
  },
};

/** The key in groups of four, as authenticator apps show it. */
const grouped = (secret: string): string => secret.replace(/(.{4})/g, '$1 ').trim();

/** The step's heading takes the focus when it appears: a screen reader hears where the sign-in went. */
function Heading({ text, step }: { text: string; step: SecondFactorStep | 'recovery' }): JSX.Element {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), [step]);
  return (
    <h2 id="second-factor-title" tabIndex={-1} ref={ref} data-second-factor={step}>
      {text}
    </h2>
  );
}

function CodeForm({ path, submitText, onDone }: { path: string; submitText: string; onDone: (answer: Record<string, unknown>) => void }): JSX.Element {
  const form = useForm({ code: '' });
  const onSubmit = async () => {
    const found = missing(form.values, ['code']);
    if (found.code !== undefined) return form.fail(found);
    let answer: Record<string, unknown> = {};
    const ok = await form.submit(async () => {
      answer = await api<Record<string, unknown>>('POST', path, { json: { code: form.values.code } });
    }, CODE_PROBLEMS);
    if (ok) onDone(answer);
  };
  return (
    <>
      <ErrorSummary form={form} labels={{ code: t.auth.fields.code }} />
      <PageForm onSubmit={onSubmit} label={s.formLabel}>
        <Field label={t.auth.fields.code} hint={path.endsWith('/verify') ? t.auth.fields.codeOrRecoveryHint : t.auth.fields.codeHint} autoComplete="one-time-code" spellcheck={false} required {...form.text('code')} />
        <Submit busy={form.busy}>{submitText}</Submit>
      </PageForm>
    </>
  );
}

/** On to where the sign-in was going, once the page has said what it had to. */
function ContinueLink({ next }: { next: string }): JSX.Element {
  return (
    <p>
      <a href={next}>{s.continue}</a>
    </p>
  );
}

function RecoveryCodes({ codes, next }: { codes: readonly string[]; next: string }): JSX.Element {
  return (
    <section aria-labelledby="second-factor-title">
      <Heading text={s.recoveryTitle} step="recovery" />
      <p>{s.recoveryIntro}</p>
      <ul class="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <ContinueLink next={next} />
    </section>
  );
}

function Enrol({ next, onEnrolled }: { next: string; onEnrolled: () => void }): JSX.Element {
  const [enrolment, setEnrolment] = useState<Enrolment | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [codes, setCodes] = useState<readonly string[] | undefined>(undefined);
  useEffect(() => {
    api<Enrolment>('POST', '/v1/auth/second-factor/enrolment', { json: {} }).then(setEnrolment, (err: unknown) => {
      if (err instanceof ApiProblem && err.slug === 'second-factor-enrolled') onEnrolled();
      else if (err instanceof ApiProblem && err.slug === 'second-factor-session-expired') setProblem(t.auth.problems['second-factor-session-expired']);
      else setProblem(err instanceof ApiProblem ? generalMessage(err) : t.errors.unexpected);
    });
  }, []);
  if (codes !== undefined) return <RecoveryCodes codes={codes} next={next} />;
  return (
    <section aria-labelledby="second-factor-title">
      <Heading text={s.enrolTitle} step="enrol" />
      <p>{s.enrolIntro}</p>
      {problem !== undefined ? (
        <p class="problem" role="alert">
          {problem} <a href="/login">{s.restart}</a>
        </p>
      ) : enrolment === undefined ? (
        <p>{t.loading}</p>
      ) : (
        <>
          <ol class="steps">
            <li>
              <p>{s.scan}</p>
              <img src={enrolment.qrCode} alt={s.qrAlt} width={200} height={200} />
            </li>
            <li>
              <p>{s.manual}</p>
              <p>
                <code class="totp-secret">{grouped(enrolment.secret)}</code>
              </p>
            </li>
            <li>
              <p>{s.enterCode}</p>
            </li>
          </ol>
          <CodeForm
            path="/v1/auth/second-factor/enrolment/confirm"
            submitText={s.confirm}
            onDone={(answer) => setCodes(Array.isArray(answer.recoveryCodes) ? (answer.recoveryCodes as string[]) : [])}
          />
        </>
      )}
    </section>
  );
}

function Verify({ next }: { next: string }): JSX.Element {
  const [left, setLeft] = useState<number | undefined>(undefined);
  if (left !== undefined) {
    return (
      <section aria-labelledby="second-factor-title">
        <Heading text={s.verifyTitle} step="verify" />
        <Notice>{s.recoveryLeft(left)}</Notice>
        <ContinueLink next={next} />
      </section>
    );
  }
  return (
    <section aria-labelledby="second-factor-title">
      <Heading text={s.verifyTitle} step="verify" />
      <p>{s.verifyIntro}</p>
      <CodeForm
        path="/v1/auth/second-factor/verify"
        submitText={s.verify}
        onDone={(answer) => {
          // A recovery code used: say how many are left before going on.
          if (typeof answer.recoveryCodesLeft === 'number') setLeft(answer.recoveryCodesLeft);
          else window.location.assign(next);
        }}
      />
      <p>
        <a href="/login">{s.restart}</a>
      </p>
    </section>
  );
}

/** The step the password answer asked for; `next`: where the sign-in goes once the code is right. */
export function SecondFactor({ step, next }: { step: SecondFactorStep; next: string }): JSX.Element {
  const [current, setCurrent] = useState<SecondFactorStep>(step);
  return current === 'enrol' ? <Enrol next={next} onEnrolled={() => setCurrent('verify')} /> : <Verify next={next} />;
}
