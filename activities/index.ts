/** Every activity of the worker, built from its dependencies; workflows import only the types. */
import type { Ca } from './ca/index.js';
import type { Database } from '../db/client.js';
import type { Notifier } from './notify/index.js';
import { orderMailMessage } from './order-mail.js';
import { createOrderDbActivities } from './orders-db.js';
import type { OrderActivities } from './types.js';
import { unlockCodeDigest, unlockCodeFor } from './unlock-code.js';

export interface ActivityDeps {
  readonly db: Database;
  readonly notifier: Notifier;
  readonly ca: Ca;
  /** Key of the SMS unlock codes and their digests (from the master key). */
  readonly unlockKey: Buffer;
}

export function createActivities(deps: ActivityDeps): OrderActivities {
  return {
    ...createOrderDbActivities(deps.db),

    async sendOrderMail(req) {
      await deps.notifier.sendEmail({
        idempotencyKey: req.idempotencyKey,
        orderId: req.input.orderId,
        to: req.input.holder.email,
        language: req.input.holder.language,
        message: orderMailMessage(req),
      });
    },

    personaliseToken: (req) => deps.ca.personaliseToken(req),

    issueCertificate: ({ issuanceKey, input, publicKeySpki }) =>
      deps.ca.issueCertificate({
        issuanceKey,
        orderId: input.orderId,
        product: input.product,
        holder: { givenName: input.holder.givenName, surname: input.holder.surname, email: input.holder.email },
        organisation: { name: input.organisation.name, siret: input.organisation.siret },
        publicKeySpki,
        // The paid duration, in days (1095 for three years, as the seeds show).
        validityDays: input.durationYears * 365,
      }),

    revokeCertificate: (req) => deps.ca.revokeCertificate(req),

    async sendUnlockCode({ idempotencyKey, orderId, to, language }) {
      const code = unlockCodeFor(deps.unlockKey, idempotencyKey);
      await deps.notifier.sendSms({ idempotencyKey, orderId, to, language, message: { template: 'unlock_code', data: { code, validMinutes: 10 } } });
      return { digest: unlockCodeDigest(deps.unlockKey, orderId, code) };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
