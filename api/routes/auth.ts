/**
 * Customer accounts (SPEC §8): registration, activation by mailed link, password login to a short-lived access
 * token, forgotten username and password, and `GET /v1/me`. Answers never tell whether an address has an account:
 * register and the forgot-* routes answer 202 with one body whatever happens, login answers one 401 to an unknown
 * address, a wrong password and a locked account alike.
 *
 * Staff (ra_operator, dra_operator, auditor, admin) sign in with a second factor (issue 16 item 6): after the right
 * password, POST /v1/auth/session answers `secondFactor: enrol | verify` and sets only the second-factor cookie; the
 * session comes from /v1/auth/second-factor/enrolment/confirm (first sign-in: QR code, first code, recovery codes shown
 * once) or /v1/auth/second-factor/verify (a TOTP code or a recovery code). POST /v1/auth/login gives staff no token.
 */
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Notifier } from '../../activities/notify/index.js';
import { findUserByEmail, getOrganisation, getUser, registerCustomer, userLanguage, type User } from '../../db/accounts.js';
import { consumeAccountToken, peekAccountToken } from '../../db/account-tokens.js';
import type { Database } from '../../db/client.js';
import {
  hashPassword,
  passwordWeakness,
  recordFailedLogin,
  recordSuccessfulLogin,
  verifyAgainstDummy,
  verifyPassword,
} from '../../db/passwords.js';
import { users } from '../../db/schema.js';
import { confirmEnrolment, getSecondFactor, startEnrolment, takeTimeStep, useRecoveryCode } from '../../db/second-factor.js';
import { isE164 } from '../../domain/rules/phone.js';
import { checkSiret } from '../../domain/rules/siret.js';
import { ROLES, STAFF_ROLES, isRole } from '../../domain/roles.js';
import { issueActivation, issuePasswordReset, sendUsernameReminder, type AccountLinkDeps } from '../account-links.js';
import type { AccessTokens } from '../auth.js';
import { callerOf } from '../caller.js';
import type { BrowserSessions } from '../session.js';
import { Problem } from '../problem.js';
import { passwordWork, type RateLimits } from '../rate-limits.js';
import { checkTotp, newEnrolment, newRecoveryCodes, recoveryCodeHash, totpCodeOf, type SecondFactorKeys } from '../second-factor.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';
import { PostalAddressBody } from './organisations.js';

export interface AuthDeps {
  readonly db: Database;
  readonly notifier: Notifier;
  readonly publicBaseUrl: string;
  readonly tokens: AccessTokens;
  readonly sessions: BrowserSessions;
  /** Shared by every API process (api/rate-limits.ts): login, register, forgot-*, reset, account mails; the password work gate. */
  readonly limits: RateLimits;
  /** Seal the staff TOTP secrets and hash their recovery codes (api/second-factor.ts). */
  readonly secondFactorKeys: SecondFactorKeys;
}

/** One answer for an unknown address, a wrong password and a locked account: none of them tells the others apart. */
const invalidCredentials = (): Problem =>
  new Problem(
    401,
    'invalid-credentials',
    'Invalid credentials',
    'The email or the password is wrong, or there were too many failed attempts: wait 15 minutes or reset your password.',
  );

/** Unknown, used, expired or superseded: the same answer, so a link tells nothing about the others. */
const linkInvalid = (): Problem =>
  new Problem(410, 'link-invalid', 'This link no longer works', 'The link is unknown, was already used or has expired; ask for a new one.');

const weakPassword = (reason: string): Problem => Problem.unprocessable('weak-password', reason);

const siretProblem = (siret: string): Problem | undefined => {
  const check = checkSiret(siret);
  return check.ok ? undefined : Problem.unprocessable('invalid-siret', `The SIRET is not valid: ${check.reason}.`);
};

// Bounded so a huge body cannot make scrypt or the database work for nothing.
const Email = z.email().max(254);
const Password = z.string().min(1).max(256);
const Token = z.string().min(1).max(200);
const Siret = z.string().transform((s) => s.replace(/\s/g, ''));
const Name = z.string().trim().min(1).max(200);

const RegisterBody = z.object({
  siret: Siret,
  organisationName: Name,
  // Required: a TLS certificate names the organisation's locality, so without it no server product can be ordered.
  organisationAddress: PostalAddressBody,
  givenName: Name,
  surname: Name,
  email: Email,
  phone: z.string().max(32),
  language: z.enum(['fr', 'en']),
  password: Password,
});

const Accepted = z.object({ status: z.literal('accepted'), message: z.string() });
const accepted = (message: string) => ({ status: 'accepted' as const, message });
const REGISTER_ACCEPTED = accepted('If this address can be used, a mail is on its way to it: follow its link to activate the account.');
const USERNAME_ACCEPTED = accepted('If an account matches this SIRET and address, its username has been mailed to it.');
const PASSWORD_ACCEPTED = accepted('If an account uses this address, a link to choose a new password has been mailed to it (valid for one hour).');

const MeSchema = z.object({
  userId: z.uuid(),
  role: z.enum(ROLES),
  organisationId: z.uuid().nullable(),
  email: z.string(),
  givenName: z.string(),
  surname: z.string(),
  language: z.enum(['fr', 'en']),
});

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

const SessionAnswer = z.object({
  signedIn: z.boolean(),
  role: z.enum(ROLES),
  secondFactor: z.enum(['enrol', 'verify']).optional().meta({ description: 'Staff: the session waits for the second factor (enrol the first time)' }),
});

/** Codes as typed: a 6-digit TOTP code or a recovery code (XXXX-XXXX-XXXX), spaces and dashes allowed. */
const CodeBody = z.object({ code: z.string().trim().min(1).max(32) });

/** The answers of a route that takes a staff member's code (confirm, verify): `conflict` names its 409. */
const codeRouteResponses = (ok: z.ZodType, okDescription: string, conflict: string) => ({
  200: json(ok, okDescription),
  400: problemResponse('Bad input'),
  401: problemResponse('second-factor-invalid (wrong, expired or reused code) or second-factor-session-expired'),
  403: problemResponse('csrf-token-invalid'),
  409: problemResponse(conflict),
  429: problemResponse('rate-limited'),
});

/** No second-factor cookie, or expired: the password again. */
const secondFactorExpired = (): Problem =>
  new Problem(401, 'second-factor-session-expired', 'Sign in again', 'No password was given in the last 10 minutes on this browser: sign in again with your password.');

/** A wrong, reused or malformed code: one answer for all. */
const secondFactorInvalid = (): Problem =>
  new Problem(401, 'second-factor-invalid', 'Wrong code', 'The code is wrong, expired or already used: type the current code of your app, or an unused recovery code.');

export function authRoutes(deps: AuthDeps): AnyRoute[] {
  const { db } = deps;
  const links: AccountLinkDeps = { db, notifier: deps.notifier, publicBaseUrl: deps.publicBaseUrl };
  const { limits } = deps;
  const ipOf = (req: Request): string => req.ip ?? 'unknown';
  // scrypt (32 MiB each) runs a few at a time per process: a burst of registrations or logins waits, or gets a 503.
  const hashBounded = (req: Request, password: string): Promise<string> => passwordWork(limits.passwordWork, req.res, () => hashPassword(password));

  /**
   * Mails go after the answer, so how long a request takes does not tell whether a mail was sent; a failure is
   * logged (the customer asks again).
   */
  const afterAnswer = (req: Request, email: string, send: () => Promise<void>): void => {
    // The mail-sending routes answer 202 whatever happens; beyond the account-mail limit they send nothing.
    limits
      .allow('account-mail', { account: email })
      .then((allowed) => (allowed ? send() : undefined))
      .catch((err: unknown) => req.log.error({ err }, 'account mail not sent'));
  };

  /** What registering with a taken address does: the owner is told (or a pending one gets a new link), nobody else is. */
  const whenTaken = (existing: User): (() => Promise<void>) | undefined => {
    if (existing.status === 'pending') return () => issueActivation(links, existing);
    if (existing.status === 'active') return () => sendUsernameReminder(links, existing, 'register_attempt', randomUUID());
    return undefined;
  };

  /** Login's check, for bearer tokens and browser sessions alike: the active user, or the one refusal. */
  const signIn = async (req: Request, body: { email: string; password: string }): Promise<User> => {
    // A 429 whose retryAfter becomes the Retry-After header (sendProblem).
    await limits.take('login', { account: body.email, ip: ipOf(req) });
    const user = await findUserByEmail(db, body.email);
    const now = new Date();
    if (user === undefined || user.passwordHash === null || (user.lockedUntil !== null && user.lockedUntil > now)) {
      // A locked account is not even tried: guessing on cannot find the password during the lock.
      await passwordWork(limits.passwordWork, req.res, () => verifyAgainstDummy(body.password));
      throw invalidCredentials();
    }
    const hash = user.passwordHash;
    if (!(await passwordWork(limits.passwordWork, req.res, () => verifyPassword(body.password, hash)))) {
      await recordFailedLogin(db, user.id, now);
      throw invalidCredentials();
    }
    if (user.status === 'pending') {
      throw Problem.forbidden('The account is not activated yet: follow the link of the activation mail (or register again for a new one).', 'account-not-activated');
    }
    if (user.status !== 'active') throw Problem.forbidden('The account is disabled: contact your organisation or the CA.', 'account-disabled');
    await recordSuccessfulLogin(db, user.id);
    return user;
  };

  /**
   * The staff member whose password was right on this browser in the last 10 minutes (the second-factor cookie), still
   * active and staff; the page's CSRF token is required, as for any change a cookie authenticates.
   */
  const waitingStaff = async (req: Request): Promise<User> => {
    deps.sessions.requireCsrf(req);
    const userId = await deps.sessions.secondFactorUser(req);
    const user = userId === undefined ? undefined : await getUser(db, userId);
    if (user === undefined || user.status !== 'active' || !isRole(user.role) || !STAFF_ROLES.has(user.role)) throw secondFactorExpired();
    return user;
  };
  /** Code attempts are counted per account and address; a refused code keeps its count. */
  const countCode = (req: Request, user: User) => limits.take('second-factor', { account: user.id, ip: ipOf(req) });
  const keys = deps.secondFactorKeys;

  const secondFactorRoutes: AnyRoute[] = [
    defineRoute({
      method: 'post',
      path: '/v1/auth/second-factor/enrolment',
      summary: 'Staff, first sign-in: a new TOTP secret, its otpauth:// URI and QR code (confirm it with a code)',
      tags: ['accounts'],
      access: 'public',
      body: z.object({}).strict(),
      responses: {
        200: json(
          z.object({ secret: z.string(), otpauthUri: z.string(), qrCode: z.string().meta({ description: 'data:image/svg+xml;base64,… of the URI' }) }),
          'The secret to add to an authenticator app (scan the QR code or type the secret); shown until confirmed',
        ),
        400: problemResponse('Bad input (the body is {})'),
        401: problemResponse('second-factor-session-expired: no staff password given on this browser in the last 10 minutes'),
        403: problemResponse('csrf-token-invalid'),
        409: problemResponse('second-factor-enrolled: the account is enrolled (an admin can reset it)'),
      },
      async handle({ req, res }) {
        const user = await waitingStaff(req);
        const enrolment = await newEnrolment(keys, user.id, user.email);
        if (!(await startEnrolment(db, user.id, enrolment.sealedSecret))) {
          throw Problem.conflict('second-factor-enrolled', 'This account already has a second factor: type its code, or ask an admin to reset it.');
        }
        res.json({ secret: enrolment.secret, otpauthUri: enrolment.otpauthUri, qrCode: enrolment.qrCode });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/auth/second-factor/enrolment/confirm',
      summary: 'Staff, first sign-in: the first code of the new secret; enrolled, signed in, and the recovery codes (shown once)',
      tags: ['accounts'],
      access: 'public',
      body: CodeBody,
      responses: codeRouteResponses(
        SessionAnswer.extend({ recoveryCodes: z.array(z.string()) }),
        'Enrolled and signed in; each recovery code works once',
        'second-factor-enrolled, or no enrolment started (second-factor-not-started)',
      ),
      async handle({ req, res, body }) {
        const user = await waitingStaff(req);
        const factor = await getSecondFactor(db, user.id);
        if (factor?.enrolledAt != null) throw Problem.conflict('second-factor-enrolled', 'This account already has a second factor: type its code.');
        if (factor === undefined) throw Problem.conflict('second-factor-not-started', 'Start the enrolment first: the page shows the QR code to scan.');
        await countCode(req, user);
        const code = totpCodeOf(body.code);
        const step = code === undefined ? undefined : checkTotp(keys, user.id, factor.sealedSecret, code);
        if (step === undefined) throw secondFactorInvalid();
        const recoveryCodes = newRecoveryCodes();
        const hashes = recoveryCodes.map((c) => recoveryCodeHash(keys, user.id, c));
        // Confirmed against the secret the code was checked with: one enrolment shown again meanwhile is not confirmed.
        if (!(await confirmEnrolment(db, user.id, factor.sealedSecret, step, hashes))) throw secondFactorInvalid();
        await deps.sessions.start(res, user.id, { secondFactor: true });
        res.json({ signedIn: true, role: user.role as (typeof ROLES)[number], recoveryCodes });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/auth/second-factor/verify',
      summary: 'Staff: the code of the authenticator app (or a recovery code, once each) after the password; signed in',
      tags: ['accounts'],
      access: 'public',
      body: CodeBody,
      responses: codeRouteResponses(
        SessionAnswer.extend({ recoveryCodesLeft: z.number().int().optional().meta({ description: 'When a recovery code was used: how many are left' }) }),
        'Signed in; Set-Cookie carries the session',
        'second-factor-not-enrolled: enrol first',
      ),
      async handle({ req, res, body }) {
        const user = await waitingStaff(req);
        const factor = await getSecondFactor(db, user.id);
        if (factor?.enrolledAt == null) throw Problem.conflict('second-factor-not-enrolled', 'This account has no second factor yet: enrol first.');
        await countCode(req, user);
        const code = totpCodeOf(body.code);
        let recoveryCodesLeft: number | undefined;
        if (code !== undefined) {
          const step = checkTotp(keys, user.id, factor.sealedSecret, code);
          // A code is taken once: the same one (or an older one) again within its window is refused.
          if (step === undefined || !(await takeTimeStep(db, user.id, step))) throw secondFactorInvalid();
        } else {
          recoveryCodesLeft = await useRecoveryCode(db, user.id, recoveryCodeHash(keys, user.id, body.code));
          if (recoveryCodesLeft === undefined) throw secondFactorInvalid();
        }
        await deps.sessions.start(res, user.id, { secondFactor: true });
        res.json({ signedIn: true, role: user.role as (typeof ROLES)[number], ...(recoveryCodesLeft !== undefined ? { recoveryCodesLeft } : {}) });
      },
    }),
  ];

  return [
    ...secondFactorRoutes,
    defineRoute({
      method: 'post',
      path: '/v1/auth/register',
      summary: 'Register a customer account (activated by the mailed link)',
      tags: ['accounts'],
      access: 'public',
      body: RegisterBody,
      responses: {
        202: json(Accepted, 'Accepted; the same answer whether or not the address already has an account'),
        400: problemResponse('Bad input'),
        422: problemResponse('invalid-siret, invalid-phone or weak-password'),
        429: problemResponse('rate-limited'),
        503: problemResponse('busy: too many password hashes at once (Retry-After)'),
      },
      async handle({ req, res, body }) {
        const bad =
          siretProblem(body.siret) ??
          (isE164(body.phone) ? undefined : Problem.unprocessable('invalid-phone', 'The mobile number is in E.164 form, e.g. +33612345678.'));
        if (bad !== undefined) throw bad;
        const weakness = passwordWeakness(body.password, body.email);
        if (weakness !== undefined) throw weakPassword(weakness);
        // Counted once the request is good enough to cost a hash.
        await limits.take('register', { account: body.email, ip: ipOf(req) });
        // Hashed whatever comes next: a taken address takes as long as a new one.
        const passwordHash = await hashBounded(req, body.password);
        const known = await findUserByEmail(db, body.email);
        let send: (() => Promise<void>) | undefined;
        if (known === undefined) {
          const user = await registerCustomer(db, { ...body, passwordHash });
          if (user !== undefined) send = () => issueActivation(links, user);
          else {
            // Taken by a registration running at the same moment.
            const raced = await findUserByEmail(db, body.email);
            send = raced === undefined ? undefined : whenTaken(raced);
          }
        } else {
          send = whenTaken(known);
        }
        res.status(202).json(REGISTER_ACCEPTED);
        if (send !== undefined) afterAnswer(req, body.email, send);
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/auth/activate',
      summary: 'Activate an account with the token of its activation link (and choose its password if it has none)',
      tags: ['accounts'],
      access: 'public',
      // An account an organisation admin created has no password yet: its holder chooses it here.
      body: z.object({ token: Token, password: Password.optional() }),
      responses: {
        200: json(z.object({ activated: z.literal(true) }), 'The account is active: log in'),
        400: problemResponse('Bad input'),
        410: problemResponse('link-invalid: unknown, used or expired link'),
        422: problemResponse('password-required (the account has none yet) or weak-password; the link stays usable'),
      },
      async handle({ req, res, body }) {
        const userId = await peekAccountToken(db, body.token, 'activation');
        const user = userId === undefined ? undefined : await getUser(db, userId);
        if (user === undefined || user.status !== 'pending') throw linkInvalid();
        if (body.password === undefined && user.passwordHash === null) {
          throw Problem.unprocessable('password-required', 'This account has no password yet: send the one you choose with the token.');
        }
        if (body.password !== undefined) {
          const weakness = passwordWeakness(body.password, user.email);
          if (weakness !== undefined) throw weakPassword(weakness);
        }
        const passwordHash = body.password === undefined ? user.passwordHash : await hashBounded(req, body.password);
        const activated = await db
          .transaction(async (tx) => {
            // Used here, with the change it allows: of two uses at once, one wins.
            if ((await consumeAccountToken(tx, body.token, 'activation')) !== user.id) throw linkInvalid();
            // Only a pending account becomes active: one disabled meanwhile stays so, and its link unused (rolled back).
            const rows = await tx
              .update(users)
              .set({ status: 'active', passwordHash, failedLogins: 0, lockedUntil: null })
              .where(and(eq(users.id, user.id), eq(users.status, 'pending')))
              .returning({ id: users.id });
            if (rows.length === 0) throw linkInvalid();
            return true;
          })
          .catch((err: unknown) => {
            if (err instanceof Problem) return false;
            throw err;
          });
        if (!activated) throw linkInvalid();
        res.json({ activated: true });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/auth/login',
      summary: 'Log in with email and password: a 15-minute access token',
      tags: ['accounts'],
      access: 'public',
      body: z.object({ email: Email, password: Password }),
      responses: {
        200: json(z.object({ accessToken: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.number().int() }), 'An access token for `Authorization: Bearer`'),
        400: problemResponse('Bad input'),
        401: problemResponse('invalid-credentials: unknown address, wrong password or locked account'),
        403: problemResponse('account-not-activated, account-disabled, or second-factor-required for a staff account (only after the right password)'),
        429: problemResponse('rate-limited'),
      },
      async handle({ req, res, body }) {
        const user = await signIn(req, body);
        if (isRole(user.role) && STAFF_ROLES.has(user.role)) {
          throw Problem.forbidden(
            'Staff accounts sign in with a second factor: in the browser (POST /v1/auth/session, then /v1/auth/second-factor/...), or call the API with a key an admin allowed.',
            'second-factor-required',
          );
        }
        res.json(await deps.tokens.issue(user.id));
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/auth/session',
      summary: 'Sign in a browser: the same check as login, the session in an HttpOnly cookie (pages send X-CSRF-Token with every change)',
      tags: ['accounts'],
      access: 'public',
      body: z.object({ email: Email, password: Password }),
      responses: {
        200: json(SessionAnswer, 'Signed in (Set-Cookie carries the session); staff: signedIn false and secondFactor, the cookie is the second factor\'s'),
        400: problemResponse('Bad input'),
        401: problemResponse('invalid-credentials: unknown address, wrong password or locked account'),
        403: problemResponse('account-not-activated or account-disabled (only after the right password)'),
        429: problemResponse('rate-limited'),
      },
      async handle({ req, res, body }) {
        const user = await signIn(req, body);
        const role = isRole(user.role) ? user.role : 'customer';
        if (STAFF_ROLES.has(role)) {
          // Nothing opens yet: only the second-factor routes read this cookie.
          await deps.sessions.startSecondFactor(res, user.id);
          const factor = await getSecondFactor(db, user.id);
          res.json({ signedIn: false, role, secondFactor: factor?.enrolledAt == null ? 'enrol' : 'verify' });
          return;
        }
        await deps.sessions.start(res, user.id);
        res.json({ signedIn: true, role });
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/auth/session/end',
      summary: "Sign a browser out: the session cookie is cleared",
      tags: ['accounts'],
      access: 'public',
      responses: { 204: { description: 'Signed out' } },
      handle({ res }) {
        deps.sessions.end(res);
        res.status(204).end();
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/auth/forgot-username',
      summary: 'Mail the username (the address) of the account matching a SIRET and an address',
      tags: ['accounts'],
      access: 'public',
      body: z.object({ siret: Siret, email: Email }),
      responses: {
        202: json(Accepted, 'Accepted; the same answer whether or not an account matches'),
        400: problemResponse('Bad input'),
        422: problemResponse('invalid-siret'),
        429: problemResponse('rate-limited'),
      },
      async handle({ req, res, body }) {
        const bad = siretProblem(body.siret);
        if (bad !== undefined) throw bad;
        await limits.take('forgot-username', { account: body.email, ip: ipOf(req) });
        const user = await findUserByEmail(db, body.email);
        const org = user?.organisationId == null ? undefined : await getOrganisation(db, user.organisationId);
        res.status(202).json(USERNAME_ACCEPTED);
        if (user !== undefined && org?.siret === body.siret && user.status !== 'disabled') {
          afterAnswer(req, user.email, () => sendUsernameReminder(links, user, 'forgot_username', randomUUID()));
        }
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/auth/forgot-password',
      summary: 'Mail a single-use link (1 hour) to choose a new password',
      tags: ['accounts'],
      access: 'public',
      body: z.object({ email: Email }),
      responses: {
        202: json(Accepted, 'Accepted; the same answer whether or not the address has an account'),
        400: problemResponse('Bad input'),
        429: problemResponse('rate-limited'),
      },
      async handle({ req, res, body }) {
        await limits.take('forgot-password', { account: body.email, ip: ipOf(req) });
        const user = await findUserByEmail(db, body.email);
        res.status(202).json(PASSWORD_ACCEPTED);
        if (user === undefined) return;
        // A pending account cannot log in anyway: it gets its activation link again, which is what it lacks.
        if (user.status === 'active') afterAnswer(req, user.email, () => issuePasswordReset(links, user));
        else if (user.status === 'pending') afterAnswer(req, user.email, () => issueActivation(links, user));
      },
    }),

    defineRoute({
      method: 'post',
      path: '/v1/auth/reset-password',
      summary: 'Choose a new password with the token of a reset link',
      tags: ['accounts'],
      access: 'public',
      body: z.object({ token: Token, password: Password }),
      responses: {
        200: json(z.object({ passwordReset: z.literal(true) }), 'The new password is set; the account is unlocked'),
        400: problemResponse('Bad input'),
        410: problemResponse('link-invalid: unknown, used or expired link'),
        422: problemResponse('weak-password (the link stays usable)'),
        429: problemResponse('rate-limited'),
      },
      async handle({ req, res, body }) {
        await limits.take('reset-password', { ip: ipOf(req) });
        const userId = await peekAccountToken(db, body.token, 'password_reset');
        const user = userId === undefined ? undefined : await getUser(db, userId);
        if (user === undefined) throw linkInvalid();
        const weakness = passwordWeakness(body.password, user.email);
        if (weakness !== undefined) throw weakPassword(weakness);
        await limits.take('reset-password', { account: user.id });
        const passwordHash = await hashBounded(req, body.password);
        const done = await db.transaction(async (tx) => {
          // Used here, in the transaction that sets the password: of two uses at once, one wins.
          if ((await consumeAccountToken(tx, body.token, 'password_reset')) !== user.id) return false;
          await tx.update(users).set({ passwordHash, failedLogins: 0, lockedUntil: null }).where(eq(users.id, user.id));
          return true;
        });
        if (!done) throw linkInvalid();
        res.json({ passwordReset: true });
      },
    }),

    defineRoute({
      method: 'get',
      path: '/v1/me',
      summary: 'The caller: who the key or token belongs to',
      tags: ['accounts'],
      access: ROLES,
      responses: { 200: json(MeSchema, 'The caller'), 401: problemResponse('No or bad key or token') },
      async handle({ res, principal }) {
        const user = await getUser(db, principal.userId);
        if (user === undefined) throw Problem.unauthorized('The account no longer exists.');
        res.json({ ...callerOf(user, principal), language: userLanguage(user) });
      },
    }),
  ];
}
