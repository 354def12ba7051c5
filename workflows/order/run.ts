/**
 * One run of an order workflow: its state and clocks, how an action is checked and recorded, its mails, the
 * deadlines of each stage and the Update handlers. workflows/order.ts runs the stages on it.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, condition, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
// Its own import line, as in workflows/order.ts.
import { patched as patchedOnce } from '@temporalio/workflow';
import type { IssuedCertificate, OrderMailTemplate } from '../../activities/types.js';
import type { act } from '../activities.js';
import { guardedActivities, StepAbandoned } from '../attention.js';
import { after, awaitChangeOrDeadline, pendingDeadlines, type Deadline } from '../deadlines.js';
import { orderDeadlines, type Clock } from './clocks.js';
import { newOrderView, type CaaCheck, type OrderInput, type OrderView } from '../../domain/order.js';
import { refuseNewCode, refuseVerification, sendNewCode, verifyCode } from '../sms-codes.js';
import { caaForbids, decide, type Actor, type OrderEvent } from '../../domain/order-state.js';
import { askedCaa, CAA_FORBIDS, caaRefusal, nextCaaCheckKey } from './caa.js';
import {
  domainValidationUpdate,
  ORDER_EVENT_ACTIONS,
  ORDER_REFUSAL,
  registeredUpdate,
  SEARCH_ATTRIBUTES,
  stateQuery,
  unlockCodeUpdate,
  verifyUnlockUpdate,
  type DomainValidationRequest,
  type RefusalDetails,
} from '../definitions.js';

/** What continue-as-new carries over besides the input: the state, the deadline anchors, the unlock bookkeeping. */
export interface OrderCarryOver {
  readonly view: OrderView;
  readonly clock: Clock;
}


/** The activities of a run: `steps` are the procedure's calls (a refusal waits as needs_attention), `quick` the others. */
type Activities = typeof act;

export type OrderRun = ReturnType<typeof openOrder>;

/**
 * Opens the run: state from the input or carried over, the attention guard behind its patch. `plain` are the
 * activities orders started before that patch call.
 */
export function openOrder(input: OrderInput, carried: OrderCarryOver | undefined, plain: Activities) {
  const wf = workflowInfo().workflowId;
  const nowIso = (): string => new Date().toISOString();
  let view: OrderView = carried?.view ?? newOrderView(input);
  const clock: Clock = carried?.clock ?? {
    lastCustomerActionAt: input.createdAt,
    originalsStartAt: null,
    acceptanceStartAt: null,
    fired: [],
    sms: { codesSentAt: [], activeCode: null },
    termEndsAt: null,
    cancelledBy: null,
  };
  let registered = carried !== undefined;
  const d = input.deadlines;
  // Behind a patch (issue 14 item 7): orders started before it keep retrying for ever and fail on a refusal, as they
  // ran. `steps` are the procedure's calls (a refusal waits as needs_attention), `quick` the others.
  const guard = patchedOnce('activity-attention')
    ? guardedActivities({ workflowId: wf, input, view: () => view, happen: (event) => happen(event) })
    : undefined;
  const steps = guard?.steps ?? plain;
  const quick = guard?.quick ?? plain;
  /** Runs a step of the procedure; one that staff cancelled the order from ends quietly (the order is closed). */
  const unlessCancelled = async (step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (err) {
      if (!(err instanceof StepAbandoned)) throw err;
    }
  };

  // ---- actions: validated by the pure model, recorded before the caller hears back --------------------------------

  /** Throws the refusal the API turns into 409/422/403, with the state and what the order waits on. */
  function refuseWith(kind: 'state' | 'rule' | 'forbidden', code: string, message: string): never {
    const details: RefusalDetails = { refusal: { kind, code, message }, status: view.status, waitingOn: view.waitingOn };
    throw ApplicationFailure.nonRetryable(message, ORDER_REFUSAL, details);
  }

  const decideOrRefuse = (event: OrderEvent, actor: Actor): OrderView => {
    const decision = decide(view, event, actor, nowIso());
    if (!decision.ok) refuseWith(decision.refusal.kind, decision.refusal.code, decision.refusal.message);
    return decision.state;
  };

  /** Runs in validators: a refused attempt never enters the history. */
  const check = (event: OrderEvent, actor: Actor): void => {
    decideOrRefuse(event, actor);
  };

  /** Applies an accepted event and records the new view before the caller hears back. */
  const apply = async (event: OrderEvent, actor: Actor): Promise<OrderView> => {
    // Decided again: the state may have moved between validation and handling (another update won).
    const next = decideOrRefuse(event, actor);
    const before = view;
    view = next;
    if (actor.role === 'customer' || actor.role === 'agent') clock.lastCustomerActionAt = nowIso();
    if (before.status === 'on_hold' && view.status !== 'on_hold') clock.lastCustomerActionAt = nowIso();
    if (before.status === 'needs_attention' && view.status !== 'needs_attention') clock.lastCustomerActionAt = nowIso();
    if (event.type === 'cancelled') clock.cancelledBy = actor.role === 'customer' || actor.role === 'agent' ? 'customer' : 'staff';
    if (view.originals.required && clock.originalsStartAt === null && before.status === 'under_review' && event.type === 'approved') {
      clock.originalsStartAt = nowIso();
    }
    await record();
    return view;
  };

  // ---- recording and messages -----------------------------------------------------------------------------------

  let indexed = { status: '', waitingOn: '' };

  /** Writes the view (with the deadlines now pending) to the read model; search attributes only when they change. */
  async function record(): Promise<void> {
    view = { ...view, deadlines: pendingSteps().map((step) => ({ kind: step.kind, at: iso(step.at) })) };
    if (indexed.status !== view.status || indexed.waitingOn !== view.waitingOn) {
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.status, value: view.status },
        { key: SEARCH_ATTRIBUTES.waitingOn, value: view.waitingOn },
      ]);
      indexed = { status: view.status, waitingOn: view.waitingOn };
    }
    await quick.recordOrderView(wf, view);
  }

  /** Applies an event the workflow itself decides (a deadline, an issuance); recorded like any other. */
  async function happen(event: OrderEvent): Promise<void> {
    await apply(event, { userId: null, role: 'system' });
  }

  const mail = (step: string, template: OrderMailTemplate, extra?: Record<string, string | number>): Promise<void> =>
    steps.sendOrderMail({ idempotencyKey: `${wf}:${step}`, template, input, view, ...(extra ? { extra } : {}) });

  const at = after;
  const iso = (ms: number): string => new Date(ms).toISOString();

  // ---- the deadlines of each stage (workflows/order/clocks.ts) ---------------------------------------------------

  const pendingSteps = (): Deadline[] => pendingDeadlines(orderDeadlines(view, clock, d, { mail, happen }), clock.fired);

  /** Waits for the next change to the order or the next deadline, and acts on that deadline. */
  const awaitChangeOrNextDeadline = (): Promise<void> =>
    awaitChangeOrDeadline({
      version: () => view.version,
      pending: pendingSteps,
      fired: clock.fired,
      unchanged: async () => {
        // A reminder changes no state; record that it is no longer pending.
        view = { ...view, version: view.version + 1, updatedAt: nowIso() };
        await record();
      },
    });

  // ---- queries and updates -------------------------------------------------------------------------------------

  /**
   * Registered once every helper above exists: Updates buffered for a new run (after continue-as-new) are delivered
   * as soon as their handler is set, and a handler must find the whole workflow initialised.
   */
  function declareEventAction<A extends { actor: Actor }>(update: UpdateDefinition<OrderView, [A]>, event: (args: A) => OrderEvent): void {
    setHandler(update, (a: A) => apply(event(a), a.actor), { validator: (a: A) => check(event(a), a.actor) });
  }

  function registerHandlers(): void {
    setHandler(stateQuery, () => view);
    setHandler(registeredUpdate, async () => {
      await condition(() => registered);
      return view;
    });

    // Each action that is one event: validated by the pure model (a refused attempt changes nothing), then applied.
    for (const action of Object.values(ORDER_EVENT_ACTIONS)) action.declare(declareEventAction);

    setHandler(
      unlockCodeUpdate,
      async ({ actor }) => {
        const sent = await sendNewCode(clock.sms, `${wf}:unlock-code`, d.unlockCodeValidity, (idempotencyKey) =>
          quick.sendUnlockCode({ idempotencyKey, orderId: input.orderId, to: input.holder.phone ?? '', language: input.holder.language }),
        );
        if (actor.role === 'customer' || actor.role === 'agent') clock.lastCustomerActionAt = nowIso();
        return sent;
      },
      {
        validator: ({ actor }: { actor: Actor }) => {
          check({ type: 'unlock_code_requested' }, actor);
          if (actor.userId !== view.holderUserId) refuseWith('forbidden', 'holder-only', 'Only the holder unlocks the token.');
          const refused = refuseNewCode(clock.sms);
          if (refused !== undefined) refuseWith('rule', refused.code, refused.message);
        },
      },
    );

    setHandler(
      verifyUnlockUpdate,
      async ({ actor, digest }) => {
        const result = verifyCode(clock.sms, digest);
        if (result.verified) await apply({ type: 'unlocked' }, actor);
        return result;
      },
      {
        validator: ({ actor }: { actor: Actor; digest: string }) => {
          check({ type: 'unlocked' }, actor);
          if (actor.userId !== view.holderUserId) refuseWith('forbidden', 'holder-only', 'Only the holder unlocks the token.');
          const refused = refuseVerification(clock.sms);
          if (refused !== undefined) refuseWith('state', refused.code, refused.message);
        },
      },
    );

    setHandler(domainValidationUpdate, (req) => validateDomains(req), { validator: (req: DomainValidationRequest) => checkDomainRequest(req) });
  }

  // ---- domain control (TLS) --------------------------------------------------------------------------------------

  const pendingWithChallenge = () => view.domains.items.filter((item) => item.status === 'pending' && item.challenge !== null);
  const system: Actor = { userId: null, role: 'system' };

  function checkDomainRequest(req: DomainValidationRequest): void {
    if (req.action === 'start') {
      check({ type: 'domain_validation_requested', method: req.method, domains: req.domains ?? pendingNames() }, req.actor);
    } else if (req.action === 'record') {
      check({ type: 'domain_validated', domain: req.domain, method: 'operator', at: nowIso(), evidence: req.evidence }, req.actor);
    } else {
      const waiting = pendingWithChallenge()[0];
      // Every name proved and CAA refused: the check looks at CAA again.
      if (waiting === undefined && caaForbids(view)) return check({ type: 'caa_recheck_requested' }, req.actor);
      if (waiting === undefined) refuseWith('state', 'no-challenge', 'No name waits on a challenge: start a validation first.');
      check({ type: 'domain_check_failed', domain: waiting.name, at: nowIso(), reason: '' }, system);
    }
  }

  const pendingNames = (): string[] => view.domains.items.filter((item) => item.status === 'pending').map((item) => item.name);

  async function validateDomains(req: DomainValidationRequest): Promise<OrderView> {
    if (req.action === 'start') {
      const challenges = await quick.createDomainChallenges({ domains: req.domains ?? pendingNames(), method: req.method });
      return apply({ type: 'domain_challenges_issued', challenges }, req.actor);
    }
    if (req.action === 'record') {
      return apply({ type: 'domain_validated', domain: req.domain, method: 'operator', at: nowIso(), evidence: req.evidence }, req.actor);
    }
    if (req.actor.role === 'customer' || req.actor.role === 'agent') clock.lastCustomerActionAt = nowIso();
    if (pendingWithChallenge().length === 0 && caaForbids(view)) return checkCaaAgain();
    const results = await quick.checkDomainChallenges({ challenges: pendingWithChallenge().map((item) => item.challenge).filter((c) => c !== null) });
    for (const { domain, result } of results) {
      // The CA's own check decides, whoever asked for it.
      if (result.validated) await apply({ type: 'domain_validated', domain, method: result.method, at: result.checkedAt, evidence: result.evidence }, system);
      else await apply({ type: 'domain_check_failed', domain, at: result.checkedAt, reason: result.reason }, system);
    }
    return view;
  }


  /** CAA again, at the customer's request: the order goes on once it permits; while it forbids, the caller hears why (422). */
  async function checkCaaAgain(): Promise<OrderView> {
    let result: CaaCheck;
    try {
      result = await askedCaa.checkCaa({ checkKey: nextCaaCheckKey(wf, view), orderId: input.orderId, names: [...(input.certificateRequest?.dnsNames ?? [])] });
    } catch (err) {
      refuseWith('state', 'caa-lookup-failed', `CAA could not be looked up now (${err instanceof Error && err.cause instanceof Error ? err.cause.message : 'DNS error'}); try again later.`);
    }
    await apply({ type: 'caa_checked', check: result }, system);
    if (!result.permitted) refuseWith('rule', CAA_FORBIDS, caaRefusal(result));
    return view;
  }

  // ---- opening, and the messages of a staff decision ----------------------------------------------------------------

  // Read before the first awaits: a review decided while the confirmation mail is still being sent (SMTP down, a
  // worker restarting) must still get its mail.
  const roundsAtStart = view.reviewRounds;
  let lastRounds = roundsAtStart;

  // Declared once every helper above exists: Updates buffered for a new run (after continue-as-new) are delivered as
  // soon as their handler is set, and a handler must find the whole workflow initialised.
  registerHandlers();

  /** A new order (not a continue-as-new): recorded in the read model, then confirmed to the customer. */
  async function recordAndConfirm(): Promise<void> {
    await record();
    registered = true;
    // An ACME order asks for no document: the confirmation's list of them would be wrong (the client has its answer).
    if (input.acme === undefined) await unlessCancelled(() => mail('confirmation', 'order_confirmation'));
  }

  /** From here on, a staff review is followed by its message. */
  function followReviews(): void {
    // Behind a patch: a history recorded before the fix, where that mail was skipped, replays as it ran.
    lastRounds = patchedOnce('review-mail-after-slow-confirmation') ? roundsAtStart : view.reviewRounds;
  }

  /**
   * The message that follows a staff review, once per decision (before a continue-as-new, which would forget it):
   * the mail being sent, or undefined when no decision waits for one. Not async: the caller awaits the mail itself.
   */
  function mailReviewDecision(): Promise<void> | undefined {
    if (view.reviewRounds === lastRounds) return undefined;
    lastRounds = view.reviewRounds;
    if (view.status === 'awaiting_evidence') return unlessCancelled(() => mail(`rejected:${view.reviewRounds}`, 'evidence_rejected'));
    return unlessCancelled(() =>
      mail('approved', 'review_approved', clock.originalsStartAt === null ? {} : { originalsDueOn: iso(at(clock.originalsStartAt, d.originalsDue)) }),
    );
  }

  return {
    input,
    wf,
    clock,
    deadlines: d,
    steps,
    guard,
    get view(): OrderView {
      return view;
    },
    /** The certificate this run issued, if any: its dates start the certificate's own workflow. */
    issued: undefined as IssuedCertificate | undefined,
    isNew: !registered,
    recordAndConfirm,
    followReviews,
    mailReviewDecision,
    unlessCancelled,
    happen,
    mail,
    awaitChangeOrNextDeadline,
    /** What continue-as-new carries over. */
    carryOver: (): OrderCarryOver => ({ view, clock }),
  };
}
