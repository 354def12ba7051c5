/**
 * A certificate's life after its order completes: what its workflow shows, and the pure rules of reissues (TLS
 * subscriptions), domain-evidence reuse and revocation requests.
 */
import { CATALOG, type ProductCode } from './catalog.js';
import { DAY_MS } from './time.js';
import type { Deadline, DomainItem } from './order.js';
import { revocationReasonsFor, type RevocationReason } from './revocation.js';
import { dcvReusableAt } from './rules/validity.js';

export type LifeStatus = 'active' | 'held' | 'awaiting_revalidation' | 'revoked' | 'expired';

export interface LifeCertificate {
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly status: 'valid' | 'held' | 'revoked';
  readonly revokedAt: string | null;
  readonly reason: string | null;
}

export interface CertificateLifeView {
  readonly orderId: string;
  readonly product: ProductCode;
  readonly holderUserId: string;
  readonly organisationId: string;
  readonly status: LifeStatus;
  /** TLS: the certificate is reissued before each expiry until the paid term ends. */
  readonly subscription: boolean;
  readonly termEndsAt: string;
  /** The serial in use: the latest issued. */
  readonly current: string;
  readonly certificates: readonly LifeCertificate[];
  /** TLS: each name's last validation, reused while the BR allows. */
  readonly domains: readonly DomainItem[];
  readonly deadlines: readonly Deadline[];
  /** A token the CA personalised can be unblocked with a new SMS code. */
  readonly unblockable: boolean;
  /** Why the last reissue was refused by the CA, for staff to see; null once one succeeds. */
  readonly problem: string | null;
  readonly version: number;
  readonly updatedAt: string;
}

export const LIFE_ENDED: ReadonlySet<LifeStatus> = new Set<LifeStatus>(['revoked', 'expired']);

/** Whether the term leaves room for another certificate after this one (more than a day). */
export const termOutlasts = (certificate: Pick<LifeCertificate, 'notAfter'>, termEndsAt: string): boolean =>
  Date.parse(termEndsAt) - Date.parse(certificate.notAfter) > DAY_MS;

/** When a subscription's next certificate is due: `leadMs` before expiry, never earlier than two thirds of its life. */
export function reissueAt(certificate: Pick<LifeCertificate, 'notBefore' | 'notAfter'>, leadMs: number): number {
  const start = Date.parse(certificate.notBefore);
  const end = Date.parse(certificate.notAfter);
  return end - Math.min(leadMs, Math.floor((end - start) / 3));
}

/** The names whose validation can no longer be reused at `at` (BR §4.2.1 reuse periods, dated). */
export const namesToRevalidate = (domains: readonly DomainItem[], at: number): string[] =>
  domains.filter((d) => d.validatedAt === null || !dcvReusableAt(d.validatedAt, at)).map((d) => d.name);

/** Why this revocation cannot be asked, or undefined. */
export function refuseRevocation(
  view: CertificateLifeView,
  req: { serial: string; reason: RevocationReason },
  now: number,
): { kind: 'state' | 'rule'; code: string; message: string } | undefined {
  const certificate = view.certificates.find((c) => c.serial === req.serial);
  if (certificate === undefined) return { kind: 'rule', code: 'not-this-certificate', message: `${req.serial} is not a certificate of this order.` };
  if (certificate.status === 'revoked') return { kind: 'state', code: 'already-revoked', message: `${req.serial} is already revoked.` };
  if (!revocationReasonsFor(view.product).includes(req.reason)) {
    return {
      kind: 'rule',
      code: 'reason-not-allowed',
      message: `${req.reason} is not a revocation reason for ${view.product}; allowed: ${revocationReasonsFor(view.product).join(', ')}.`,
    };
  }
  if (certificate.status === 'held' && req.reason === 'certificateHold') return { kind: 'state', code: 'already-held', message: `${req.serial} is already on hold.` };
  if (Date.parse(certificate.notAfter) <= now) return { kind: 'state', code: 'expired', message: `${req.serial} has expired.` };
  return undefined;
}

export const isSubscription = (product: ProductCode): boolean => CATALOG[product].browserTrusted;
