/** Turns what happened to an order (the workflow's words) into the notifier's message for that template. */
import type { EmailMessage, AbandonReason } from './notify/index.js';
import { paymentSettled } from '../domain/order-state.js';
import type { OrderMailRequest } from './types.js';

const text = (v: string | number | undefined, name: string): string => {
  if (v === undefined) throw new Error(`mail data ${name} is missing`);
  return String(v);
};

export function orderMailMessage(req: OrderMailRequest): EmailMessage {
  const { input, view } = req;
  const extra = req.extra ?? {};
  const ref = { orderId: input.orderId, product: input.product };
  // Only the certificate's templates have one.
  const serial = (): string => view.certificateSerial ?? text(extra.serial, 'serial');
  switch (req.template) {
    case 'order_confirmation':
      return { template: 'order_confirmation', data: { order: input, checklist: view.checklist } };
    case 'evidence_rejected':
      return { template: 'evidence_rejected', data: { ...ref, checklist: view.checklist } };
    case 'evidence_reminder':
      return {
        template: 'evidence_reminder',
        data: {
          ...ref,
          inactiveDays: Number(extra.days ?? 0),
          missing: view.checklist.filter((c) => c.status === 'missing' || c.status === 'rejected').map((c) => c.documentType),
          abandonOn: text(extra.abandonOn, 'abandonOn'),
        },
      };
    case 'review_approved':
      return {
        template: 'review_approved',
        data: {
          ...ref,
          payment: { method: view.payment.method, received: paymentSettled(view) },
          originalsDueOn: extra.originalsDueOn === undefined ? null : String(extra.originalsDueOn),
          originalsDue: input.deadlines.originalsDue,
        },
      };
    case 'originals_reminder':
      return { template: 'originals_reminder', data: { ...ref, dueOn: text(extra.dueOn, 'dueOn') } };
    case 'originals_overdue_staff':
      return {
        template: 'originals_overdue_staff',
        data: {
          ...ref,
          holderName: `${input.holder.givenName} ${input.holder.surname}`.trim(),
          holderEmail: input.holder.email,
          organisationName: input.organisation.name,
          siret: input.organisation.siret,
          dueOn: text(extra.dueOn, 'dueOn'),
          abandonOn: text(extra.abandonOn, 'abandonOn'),
        },
      };
    case 'activity_failing_staff':
      return {
        template: 'activity_failing_staff',
        data: {
          ...ref,
          kind: extra.kind === 'refused' ? 'refused' : 'stuck',
          step: text(extra.step, 'step'),
          message: text(extra.message, 'message'),
          since: text(extra.since, 'since'),
        },
      };
    case 'order_abandoned':
      return { template: 'order_abandoned', data: { ...ref, reason: (view.closedReason ?? 'no_activity') as AbandonReason } };
    case 'order_cancelled':
      return {
        template: 'order_cancelled',
        data: { ...ref, cancelledBy: extra.cancelledBy === 'staff' ? 'staff' : 'customer', comment: view.closedReason },
      };
    case 'certificate_issued':
      return {
        template: 'certificate_issued',
        data: {
          ...ref,
          serial: serial(),
          subject: text(extra.subject, 'subject'),
          notBefore: text(extra.notBefore, 'notBefore'),
          notAfter: text(extra.notAfter, 'notAfter'),
          answerBy: text(extra.answerBy, 'answerBy'),
        },
      };
    case 'acceptance_reminder':
      return { template: 'acceptance_reminder', data: { ...ref, serial: serial(), revokeOn: text(extra.revokeOn, 'revokeOn') } };
    case 'certificate_revoked':
      return {
        template: 'certificate_revoked',
        data: { ...ref, serial: serial(), reason: text(extra.reason, 'reason'), revokedAt: text(extra.revokedAt, 'revokedAt') },
      };
    case 'caa_forbids_issuance':
      return { template: 'caa_forbids_issuance', data: { ...ref, serial: null, refusal: text(extra.refusal, 'refusal'), identifiers: text(extra.identifiers, 'identifiers') } };
    case 'order_completed':
      return { template: 'order_completed', data: { ...ref, serial: serial() } };
  }
}
