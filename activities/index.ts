/** Every activity of the worker, built from its dependencies; workflows import only the types. */
import { ApplicationFailure } from '@temporalio/common';
import { DAY_MS } from '../domain/time.js';
import type { Ca } from './ca/index.js';
import { isPersonProduct, maxValidityDays, PROFILES } from './ca/profiles.js';
import type { Database } from '../db/client.js';
import { getCertificate, keyInUse } from '../db/certificates.js';
import { CATALOG } from '../domain/catalog.js';
import { tlsValidityDaysAt } from '../domain/rules/validity.js';
import { createArchiveActivities, type ArchiveActivities } from './archive.js';
import { createAuditAnchorActivities, type AuditAnchorActivities } from './audit-anchor.js';
import { certificateMailMessage } from './certificate-mail.js';
import { DEFAULT_CAA_IDENTIFIERS } from '../config/index.js';
import { createCaaActivities } from './dcv/caa.js';
import { createDcvActivities, type DcvSettings } from './dcv/index.js';
import { countedActivities } from './metrics.js';
import type { Notifier } from './notify/index.js';
import { orderMailMessage } from './order-mail.js';
import { createOrderDbActivities } from './orders-db.js';
import type { OrderActivities } from './types.js';
import { unlockCodeDigest, unlockCodeFor } from '../lib/unlock-code.js';

export interface ActivityDeps {
  readonly db: Database;
  readonly notifier: Notifier;
  readonly ca: Ca;
  /** Key of the SMS unlock codes and their digests (from the master key). */
  readonly unlockKey: Buffer;
  /** Where domain control is checked from (resolvers, HTTP port, timeout). */
  readonly dcv: DcvSettings;
  /** The CA's issuer domain names in CAA records (CAA_IDENTIFIERS); the demo one when not given. */
  readonly caaIdentifiers?: readonly string[];
  /** The clock validity periods are counted on; tests that skip time pass the test server's. */
  readonly now?: () => Date;
}

export function createActivities(deps: ActivityDeps): OrderActivities & AuditAnchorActivities & ArchiveActivities {
  const now = deps.now ?? (() => new Date());
  // Counted at this one point: every activity's failures, and the messages the sending ones hand over.
  return countedActivities({
    ...createOrderDbActivities(deps.db),
    ...createDcvActivities(deps.dcv, now),
    // CAA asks the domain-validation resolvers, within the same time budget as a domain check.
    ...createCaaActivities(deps.db, { dnsServers: deps.dcv.dnsServers, timeoutMs: deps.dcv.timeoutMs, identifiers: deps.caaIdentifiers ?? DEFAULT_CAA_IDENTIFIERS }, now),
    ...createAuditAnchorActivities(deps.db, now),
    ...createArchiveActivities(deps.db),

    async sendOrderMail(req) {
      await deps.notifier.sendEmail({
        idempotencyKey: req.idempotencyKey,
        orderId: req.input.orderId,
        to: req.input.holder.email,
        language: req.input.holder.language,
        message: orderMailMessage(req),
      });
    },

    async sendCertificateMail(req) {
      await deps.notifier.sendEmail({
        idempotencyKey: req.idempotencyKey,
        orderId: req.input.orderId,
        to: req.input.holder.email,
        language: req.input.holder.language,
        message: certificateMailMessage(req),
      });
    },

    personaliseToken: (req) => deps.ca.personaliseToken(req),

    async issueCertificate({ issuanceKey, input, publicKeySpki, validUntil }) {
      // Checked at creation too; two orders may have raced there with the same key. The first issued wins.
      const used = await keyInUse(deps.db, publicKeySpki, { exceptOrderId: input.orderId });
      if (used !== undefined) {
        throw ApplicationFailure.nonRetryable(
          used.reason === 'compromised' ? 'the key was reported compromised' : `the key is already certified for order ${used.orderId}`,
          'KeyInUse',
        );
      }
      const at = now();
      // The paid duration (1095 days for three years, as the seeds show); a TLS certificate as long as the BR allow
      // today and the term still runs; a persons (S/MIME) certificate as long as its profile allows (S/MIME BR §6.3.2)
      // and the term still runs, reissued on the same key until it ends (workflows/certificate.ts).
      const termLeftDays = (slackMs: number): number => Math.floor((Date.parse(validUntil) - at.getTime() + slackMs) / DAY_MS);
      const validityDays = CATALOG[input.product].browserTrusted
        ? Math.min(tlsValidityDaysAt(at), termLeftDays(0))
        : isPersonProduct(input.product)
          ? // The term was set by the workflow a moment before this runs: an hour's slack keeps a full first term.
            Math.min(input.durationYears * 365, maxValidityDays(PROFILES[input.product], at), termLeftDays(60 * 60_000))
          : input.durationYears * 365;
      if (validityDays < 1) throw ApplicationFailure.nonRetryable(`the term ends ${validUntil}: no certificate to issue`, 'TermEnded');
      return deps.ca.issueCertificate({
        issuanceKey,
        orderId: input.orderId,
        product: input.product,
        holder: { givenName: input.holder.givenName, surname: input.holder.surname, email: input.holder.email },
        organisation: { name: input.organisation.name, siret: input.organisation.siret, locality: input.organisation.locality },
        publicKeySpki,
        ...(input.certificateRequest !== null && input.certificateRequest.dnsNames.length > 0 ? { dnsNames: input.certificateRequest.dnsNames } : {}),
        validityDays,
      });
    },

    async certificateInfo({ serial }) {
      const row = await getCertificate(deps.db, serial);
      if (row?.pem == null) throw ApplicationFailure.nonRetryable(`no issued certificate ${serial}`, 'CertificateNotFound');
      return { serial, notBefore: row.notBefore.toISOString(), notAfter: row.notAfter.toISOString(), publicKeySpki: row.publicKeySpki };
    },

    revokeCertificate: (req) => deps.ca.revokeCertificate(req),
    releaseHold: (req) => deps.ca.releaseHold(req),
    resetTokenPin: (req) => deps.ca.resetPin(req),
    publishCrls: () => deps.ca.publishAllCrls(),

    async sendUnlockCode({ idempotencyKey, orderId, to, language }) {
      const code = unlockCodeFor(deps.unlockKey, idempotencyKey);
      await deps.notifier.sendSms({ idempotencyKey, orderId, to, language, message: { template: 'unlock_code', data: { code, validMinutes: 10 } } });
      return { digest: unlockCodeDigest(deps.unlockKey, orderId, code) };
    },
  });
}

export type Activities = ReturnType<typeof createActivities>;
