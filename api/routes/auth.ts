/**
 * Customer accounts (SPEC §8): registration, activation by mailed link, password login to a short-lived access
 * token, forgotten username and password, and `GET /v1/me`. Answers never tell whether an address has an account:
 * register and the forgot-* routes answer 202 with one body whatever happens, login answers one 401 to an unknown
 * address, a wrong password and a locked account alike.
 */
import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Notifier } from '../../activities/notify/index.js';
import { findUserByEmail, getOrganisation, getUser, registerCustomer, type User } from '../../db/accounts.js';
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
import { isE164 } from '../../domain/rules/phone.js';
import { checkSiret } from '../../domain/rules/siret.js';
import { ROLES } from '../../domain/roles.js';
import { issueActivation, issuePasswordReset, sendUsernameReminder, type AccountLinkDeps } from '../account-links.js';
import type { AccessTokens } from '../auth.js';
import type { BrowserSessions } from '../session.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';
import { PostalAddressBody } from './organisations.js';

export interface AuthDeps {
  readonly db: Database;
  readonly notifier: Notifier;
  readonly publicBaseUrl: string;
  readonly tokens: AccessTokens;
  readonly sessions: BrowserSessions;
  /** Login attempts per minute, per address and per client IP (defaults 10 and 60). */
  readonly loginLimits?: { readonly perEmail: number; readonly perIp: number };
}

/**
 * A fixed-window counter in memory: enough for one API process (the lockout, kept in the database, is what holds
 * across processes). Windows that ended are swept when the map grows.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one attempt; returns the seconds to wait when it is over the limit, undefined when allowed. */
  hit(key: string, now = Date.now()): number | undefined {
    if (this.windows.size > 10_000) for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    let w = this.windows.get(key);
    if (w === undefined || w.resetAt <= now) {
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    w.count += 1;
    return w.count > this.limit ? Math.ceil((w.resetAt - now) / 1000) : undefined;
  }
}

const rateLimited = (retryAfter: number): Problem =>
  new Problem(429, 'rate-limited', 'Too many attempts', `Too many attempts; try again in ${retryAfter} seconds.`, { retryAfter });

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

export function authRoutes(deps: AuthDeps): AnyRoute[] {
  const { db } = deps;
  const links: AccountLinkDeps = { db, notifier: deps.notifier, publicBaseUrl: deps.publicBaseUrl };
  const perEmail = new RateLimiter(deps.loginLimits?.perEmail ?? 10, 60_000);
  const perIp = new RateLimiter(deps.loginLimits?.perIp ?? 60, 60_000);
  // The mail-sending routes answer 202 whatever happens; beyond 5 mails an hour to one address they send nothing.
  const mailsPerAddress = new RateLimiter(5, 3_600_000);

  /**
   * Mails go after the answer, so how long a request takes does not tell whether a mail was sent; a failure is
   * logged (the customer asks again).
   */
  const afterAnswer = (req: Request, email: string, send: () => Promise<void>): void => {
    if (mailsPerAddress.hit(email.toLowerCase()) !== undefined) return;
    send().catch((err: unknown) => req.log.error({ err }, 'account mail not sent'));
  };

  /** What registering with a taken address does: the owner is told (or a pending one gets a new link), nobody else is. */
  const whenTaken = (existing: User): (() => Promise<void>) | undefined => {
    if (existing.status === 'pending') return () => issueActivation(links, existing);
    if (existing.status === 'active') return () => sendUsernameReminder(links, existing, 'register_attempt', randomUUID());
    return undefined;
  };

  /** Login's check, for bearer tokens and browser sessions alike: the active user, or the one refusal. */
  const signIn = async (req: Request, body: { email: string; password: string }): Promise<User> => {
    const wait = perEmail.hit(body.email.toLowerCase()) ?? perIp.hit(req.ip ?? 'unknown');
    // The problem's retryAfter becomes the Retry-After header (sendProblem).
    if (wait !== undefined) throw rateLimited(wait);
    const user = await findUserByEmail(db, body.email);
    const now = new Date();
    if (user === undefined || user.passwordHash === null || (user.lockedUntil !== null && user.lockedUntil > now)) {
      // A locked account is not even tried: guessing on cannot find the password during the lock.
      await verifyAgainstDummy(body.password);
      throw invalidCredentials();
    }
    if (!(await verifyPassword(body.password, user.passwordHash))) {
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

  return [
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
      },
      async handle({ req, res, body }) {
        const bad =
          siretProblem(body.siret) ??
          (isE164(body.phone) ? undefined : Problem.unprocessable('invalid-phone', 'The mobile number is in E.164 form, e.g. +33612345678.'));
        if (bad !== undefined) throw bad;
        const weakness = passwordWeakness(body.password, body.email);
        if (weakness !== undefined) throw weakPassword(weakness);
        // Hashed whatever comes next: a taken address takes as long as a new one.
        const passwordHash = await hashPassword(body.password);
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
      async handle({ res, body }) {
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
        const passwordHash = body.password === undefined ? user.passwordHash : await hashPassword(body.password);
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
        403: problemResponse('account-not-activated or account-disabled (only after the right password)'),
        429: problemResponse('rate-limited'),
      },
      async handle({ req, res, body }) {
        const user = await signIn(req, body);
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
        200: json(z.object({ signedIn: z.literal(true), role: z.enum(ROLES) }), 'Signed in; Set-Cookie carries the session'),
        400: problemResponse('Bad input'),
        401: problemResponse('invalid-credentials: unknown address, wrong password or locked account'),
        403: problemResponse('account-not-activated or account-disabled (only after the right password)'),
        429: problemResponse('rate-limited'),
      },
      async handle({ req, res, body }) {
        const user = await signIn(req, body);
        await deps.sessions.start(res, user.id);
        res.json({ signedIn: true, role: user.role });
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
      },
      async handle({ req, res, body }) {
        const bad = siretProblem(body.siret);
        if (bad !== undefined) throw bad;
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
      responses: { 202: json(Accepted, 'Accepted; the same answer whether or not the address has an account'), 400: problemResponse('Bad input') },
      async handle({ req, res, body }) {
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
      },
      async handle({ res, body }) {
        const userId = await peekAccountToken(db, body.token, 'password_reset');
        const user = userId === undefined ? undefined : await getUser(db, userId);
        if (user === undefined) throw linkInvalid();
        const weakness = passwordWeakness(body.password, user.email);
        if (weakness !== undefined) throw weakPassword(weakness);
        const passwordHash = await hashPassword(body.password);
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
        res.json({
          userId: user.id,
          role: principal.role,
          organisationId: user.organisationId,
          email: user.email,
          givenName: user.givenName,
          surname: user.surname,
          language: user.language === 'en' ? 'en' : 'fr',
        });
      },
    }),
  ];
}
