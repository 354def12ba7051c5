/**
 * One certificate order, from creation to its end, as the seeds describe it: evidence, review (with as many
 * rejection rounds as it takes), face-to-face and originals by post where the product needs them, payment in
 * parallel, issuance by the CA, the holder's acceptance, the SMS unlock of the token.
 *
 * Every action arrives as an Update whose validator runs the pure model (domain/order-state.ts): a refused action
 * never enters the history. Deadlines are timers on anchors kept in the state, so they survive continue-as-new.
 * The run's state, handlers and clocks are in workflows/order/run.ts; this file is the procedure.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  ParentClosePolicy,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
// Its own import line: test/workflows/replay.test.ts adds `patched` to the list above in its changed copy.
import { patched as patchedOnce } from '@temporalio/workflow';
import type { IssuedCertificate } from '../activities/types.js';
import { act, refusalMessage } from './activities.js';
import { after } from './deadlines.js';
import type { OrderInput, OrderStatus, OrderView } from '../domain/order.js';
import { certificateWorkflow } from './certificate.js';
import { isTerminal } from '../domain/order-state.js';
import { termDays } from '../domain/catalog.js';
import { DAY_MS } from '../domain/time.js';
import { certificateWorkflowId } from './definitions.js';
import { caaRefusal, nextCaaCheckKey } from './order/caa.js';
import { openOrder, type OrderCarryOver, type OrderRun } from './order/run.js';

export type { OrderCarryOver } from './order/run.js';

export async function orderWorkflow(input: OrderInput, carried?: OrderCarryOver): Promise<OrderView> {
  // The seeds' stages, in their order: each is what the order does while there. Review may send the file back to
  // the customer, payment runs beside the stages before issuance, and an order on hold (or waiting for staff after
  // a refusal) stays in its stage.
  const stages: Record<Stage, (o: OrderRun) => Promise<void>> = {
    evidence_and_review: evidenceAndReview,
    face_to_face: faceToFace,
    originals: originalsByPost,
    domains: domainControl,
    payment,
    issuance,
    acceptance,
    unlock,
  };
  const order = openOrder(input, carried, act);
  if (order.isNew) await order.recordAndConfirm();
  order.followReviews();
  while (!isTerminal(order.view)) {
    const reviewMail = order.mailReviewDecision();
    if (reviewMail !== undefined) {
      await reviewMail;
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) await continueAsNewNow(order);
    await order.unlessCancelled(() => stages[stageOf(order.view)](order));
  }
  await close(order);
  return order.view;
}

// ---- the stages ----------------------------------------------------------------------------------------------------

type Stage = 'evidence_and_review' | 'face_to_face' | 'originals' | 'domains' | 'payment' | 'issuance' | 'acceptance' | 'unlock';

const STAGE_OF_STATUS: Readonly<Record<OrderStatus, Stage | null>> = {
  created: 'evidence_and_review',
  awaiting_evidence: 'evidence_and_review',
  under_review: 'evidence_and_review',
  approved: 'evidence_and_review',
  awaiting_face_to_face: 'face_to_face',
  awaiting_originals: 'originals',
  originals_overdue: 'originals',
  awaiting_domain_validation: 'domains',
  awaiting_payment: 'payment',
  issuing: 'issuance',
  awaiting_acceptance: 'acceptance',
  awaiting_unlock: 'unlock',
  // On hold, or waiting for staff: the stage it goes back to.
  on_hold: null,
  needs_attention: null,
  completed: null,
  cancelled: null,
  abandoned: null,
  refused: null,
};

function stageOf(view: OrderView): Stage {
  const status = view.status === 'on_hold' ? view.heldStatus : view.status === 'needs_attention' ? (view.attention?.resumeTo ?? null) : view.status;
  return (status === null ? null : STAGE_OF_STATUS[status]) ?? 'evidence_and_review';
}

/**
 * The customer uploads the file and submits it (Updates); the RA approves it or sends it back with a reason per
 * document, as often as it takes. Its clock: reminders after 7 and 14 days without action, abandoned after 90.
 */
const evidenceAndReview = (o: OrderRun): Promise<void> => o.awaitChangeOrNextDeadline();

/** A DRA operator meets the holder and records it with the signed intervention form (an Update). */
const faceToFace = (o: OrderRun): Promise<void> => o.awaitChangeOrNextDeadline();

/** The originals go by post: reminder on day 5, overdue on day 7 (staff told), abandoned 30 days later. */
const originalsByPost = (o: OrderRun): Promise<void> => o.awaitChangeOrNextDeadline();

/** TLS: the customer proves each name (file or DNS record, checked by the CA) or the RA records a validation. */
const domainControl = (o: OrderRun): Promise<void> => o.awaitChangeOrNextDeadline();

/** Recorded by the RA or the payment provider's webhook (an Update); it may arrive during any stage before. */
const payment = (o: OrderRun): Promise<void> => o.awaitChangeOrNextDeadline();

/** The CA issues: the token personalised (or the customer's key taken from the CSR), signed once, the holder told. */
function issuance(o: OrderRun): Promise<void> {
  const { input, wf, clock, steps, deadlines: d } = o;
  const issue = async (): Promise<void> => {
    // CAA right before signing (BR §3.2.2.8); a refusal sends the order back to its domains, waiting on the customer.
    if (!(await caaPermits(o))) return;
    // The paid term runs from the first issuance (domain/catalog.ts termDays).
    clock.termEndsAt ??= new Date(Date.now() + termDays(input.durationYears) * DAY_MS).toISOString();
    const publicKeySpki =
      input.certificateRequest?.publicKeySpki ?? (await steps.personaliseToken({ personalisationKey: `${wf}:token`, orderId: input.orderId })).publicKeySpki;
    let certificate: IssuedCertificate;
    try {
      certificate = await steps.issueCertificate({ issuanceKey: `${wf}:certificate`, input, publicKeySpki, validUntil: clock.termEndsAt });
    } catch (err) {
      // A refusal no retry can fix goes to the RA, on hold with the CA's reason; anything else is the workflow's bug.
      const reason = refusalMessage(err);
      if (reason === undefined) throw err;
      await o.happen({ type: 'issuance_refused', reason });
      return;
    }
    o.issued = certificate;
    clock.acceptanceStartAt = new Date().toISOString();
    await o.happen({ type: 'certificate_issued', serial: certificate.serial });
    // Over ACME the client's finalize was the acceptance: the certificate is the client's to download now.
    // Its term is the certificate's life: the client renews by ordering again, so the subscription reissues nothing.
    if (input.acme !== undefined) {
      clock.termEndsAt = certificate.notAfter;
      return o.happen({ type: 'accepted' });
    }
    await o.mail('certificate-issued', 'certificate_issued', {
      subject: certificate.subject,
      notBefore: certificate.notBefore,
      notAfter: certificate.notAfter,
      answerBy: new Date(after(clock.acceptanceStartAt, d.acceptanceTimeout)).toISOString(),
    });
  };
  // On hold or waiting for staff, it waits like any stage.
  return o.view.status === 'issuing' ? issue() : o.awaitChangeOrNextDeadline();
}

/**
 * CAA of every name of a TLS order, checked and recorded (the order's view and audit trail). Behind a patch: orders
 * whose issuance ran before it replay without the check.
 */
async function caaPermits(o: OrderRun): Promise<boolean> {
  const names = o.input.certificateRequest?.dnsNames ?? [];
  if (!o.view.domains.required || names.length === 0 || !patchedOnce('caa-check')) return true;
  const check = await o.steps.checkCaa({ checkKey: nextCaaCheckKey(o.wf, o.view), orderId: o.input.orderId, names: [...names] });
  await o.happen({ type: 'caa_checked', check });
  if (!check.permitted) {
    await o.mail(`caa-forbids:${o.view.caa?.checks ?? 0}`, 'caa_forbids_issuance', { refusal: caaRefusal(check), identifiers: check.identifiers.join(', ') });
  }
  return check.permitted;
}

/** The holder checks the certificate and accepts or refuses it: weekly reminders; revoked after 30 days of silence. */
const acceptance = (o: OrderRun): Promise<void> => o.awaitChangeOrNextDeadline();

/** The holder asks for an SMS code and types it (Updates): the token's PIN is shown once. */
const unlock = (o: OrderRun): Promise<void> => o.awaitChangeOrNextDeadline();

/** Keeps the history bounded; an Update still being handled finishes first, on this run. */
async function continueAsNewNow(o: OrderRun): Promise<void> {
  await condition(allHandlersFinished);
  // A staff alert still being sent would be abandoned with this run.
  await o.guard?.alertsSent();
  await continueAsNew<typeof orderWorkflow>(o.input, o.carryOver());
}

// ---- the end ---------------------------------------------------------------------------------------------------------

/** Side effects of the end: a refused or abandoned certificate is revoked; the holder is told; a certificate lives on. */
async function close(o: OrderRun): Promise<void> {
  await condition(allHandlersFinished);
  const { view, steps, clock } = o; // closed: no Update changes it any more
  if (view.certificateSerial !== null && (view.status === 'refused' || view.status === 'abandoned')) {
    const reason = view.status === 'refused' ? 'superseded' : 'cessationOfOperation';
    await steps.revokeCertificate({ serial: view.certificateSerial, reason });
    await o.mail('certificate-revoked', 'certificate_revoked', { reason, revokedAt: new Date().toISOString() });
  }
  if (view.status === 'cancelled') await o.mail('cancelled', 'order_cancelled', { cancelledBy: clock.cancelledBy ?? 'customer' });
  if (view.status === 'abandoned') await o.mail('abandoned', 'order_abandoned');
  if (view.status === 'completed') {
    await o.mail('completed', 'order_completed');
    await startCertificateLife(o);
  }
  await o.guard?.alertsSent();
}

/** The certificate lives on in its own workflow: expiry reminders, revocation, unblock, TLS reissues. */
async function startCertificateLife(o: OrderRun): Promise<void> {
  const { view, input, clock } = o;
  const serial = view.certificateSerial;
  if (serial === null) return;
  const first = o.issued?.serial === serial ? o.issued : await o.steps.certificateInfo({ serial });
  await startChild(certificateWorkflow, {
    workflowId: certificateWorkflowId(input.orderId),
    args: [{ order: input, termEndsAt: clock.termEndsAt ?? first.notAfter, first: { serial, notBefore: first.notBefore, notAfter: first.notAfter }, domains: view.domains.items }],
    // The order is over; the certificate's life is not.
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}
