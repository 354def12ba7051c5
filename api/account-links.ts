/**
 * The mails of the account flows, each with its single-use link: activation (7 days) and password reset (1 hour),
 * and the username reminder. A link's token is in the mail only; the database keeps its SHA-256 (db/account-tokens.ts).
 */
import type { Notifier } from '../activities/notify/index.js';
import type { EmailMessage } from '../activities/notify/templates.js';
import { getOrganisation, userLanguage, type User } from '../db/accounts.js';
import { ACTIVATION_TTL_MS, type AccountTokenPurpose, PASSWORD_RESET_TTL_MS, issueAccountToken } from '../db/account-tokens.js';
import type { Database } from '../db/client.js';
import { pageLinks } from '../domain/pages.js';

export interface AccountLinkDeps {
  readonly db: Database;
  readonly notifier: Notifier;
  /** Where the customer's browser reaches CertFlow; links are the pages of domain/pages.ts (`pageLinks`). */
  readonly publicBaseUrl: string;
}


/** A new single-use link for `purpose` to the account, mailed to it by the template `message` makes of the link. */
async function mailAccountLink(
  deps: AccountLinkDeps,
  user: User,
  purpose: AccountTokenPurpose,
  ttlMs: number,
  page: (base: string, token: string) => string,
  message: (url: string, expiresAt: string) => EmailMessage,
): Promise<void> {
  const issued = await issueAccountToken(deps.db, user.id, purpose, ttlMs);
  await deps.notifier.sendEmail({
    // One mail per link: the token's id is new each time.
    idempotencyKey: `account-token:${issued.id}`,
    orderId: null,
    to: user.email,
    language: userLanguage(user),
    message: message(page(deps.publicBaseUrl, issued.token), issued.expiresAt.toISOString()),
  });
}

/** A new activation link for a pending account, mailed to it; earlier links of the account stop working. */
export async function issueActivation(deps: AccountLinkDeps, user: User): Promise<void> {
  await mailAccountLink(deps, user, 'activation', ACTIVATION_TTL_MS, pageLinks.activate, (activationUrl, expiresAt) => ({
    template: 'account_activation',
    data: { givenName: user.givenName, activationUrl, expiresAt },
  }));
}

/** A password reset link (1 hour), mailed to the account; earlier reset links stop working. */
export async function issuePasswordReset(deps: AccountLinkDeps, user: User): Promise<void> {
  await mailAccountLink(deps, user, 'password_reset', PASSWORD_RESET_TTL_MS, pageLinks.resetPassword, (resetUrl, expiresAt) => ({
    template: 'password_reset',
    data: { givenName: user.givenName, resetUrl, expiresAt },
  }));
}

/** The username (the address itself) and the organisation, to the address; `eventId` makes the mail's key unique. */
export async function sendUsernameReminder(
  deps: AccountLinkDeps,
  user: User,
  reason: 'forgot_username' | 'register_attempt',
  eventId: string,
): Promise<void> {
  const org = user.organisationId === null ? undefined : await getOrganisation(deps.db, user.organisationId);
  await deps.notifier.sendEmail({
    idempotencyKey: `account-username:${user.id}:${eventId}`,
    orderId: null,
    to: user.email,
    language: userLanguage(user),
    message: {
      template: 'username_reminder',
      data: { givenName: user.givenName, email: user.email, organisationName: org?.name ?? null, siret: org?.siret ?? null, reason },
    },
  });
}
