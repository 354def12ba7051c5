/**
 * A certificate's own life, once its order is completed: expiry reminders with a prefilled renewal order, revocation
 * on request (final, or a hold for non-TLS certificates), the token's unblock by a new SMS code, and for TLS the
 * subscription: a new certificate before each expiry until the paid term ends, with the domains re-validated when
 * the BR no longer lets their evidence be reused. A persons certificate lives 825 days at most (S/MIME BR §6.3.2):
 * a longer paid term is served the same way, by new certificates on the same (token) key until it ends. Time is
 * workflow time, so the time-skipping tests cross the BR's dates.
 */
import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CertificateMailTemplate, IssuedCertificate } from '../activities/types.js';
import { act, refusalMessage } from './activities.js';
import { guardedCertificateActivities } from './attention.js';
import {
  isSubscription,
  LIFE_ENDED,
  namesToRevalidate,
  refuseRevocation,
  reissueAt,
  termOutlasts,
  type CertificateLifeView,
  type LifeCertificate,
  type LifeStatus,
} from '../domain/certificate-life.js';
import { CATALOG } from '../domain/catalog.js';
import { durationMs } from '../domain/deadlines.js';
import type { DomainChallenge, DomainItem, OrderInput } from '../domain/order.js';
import type { Actor } from '../domain/order-state.js';
import { isFinalRevocation, type RevocationReason } from '../domain/revocation.js';
import { awaitChangeOrDeadline, pendingDeadlines, type Deadline } from './deadlines.js';
import {
  certificateLifeQuery,
  lifeDomainValidationUpdate,
  ORDER_REFUSAL,
  releaseHoldUpdate,
  revokeUpdate,
  unblockCodeUpdate,
  verifyUnblockUpdate,
  type DomainValidationRequest,
  type RefusalDetails,
} from './definitions.js';
import { CAA_FORBIDS, caaRefusal } from './order/caa.js';
import { noSmsCodes, refuseNewCode, refuseVerification, sendNewCode, verifyCode, type SmsCodeState } from './sms-codes.js';


export interface CertificateLifeInput {
  readonly order: OrderInput;
  readonly termEndsAt: string;
  readonly first: { readonly serial: string; readonly notBefore: string; readonly notAfter: string };
  /** The order's names and their validations (TLS), reused while the BR allows. */
  readonly domains: readonly DomainItem[];
}

interface LifeClock {
  /** Steps already acted on. */
  fired: string[];
  sms: SmsCodeState;
  pinResets: number;
  /** While re-validating: the last automatic check. */
  lastCheckAt: string | null;
  /** CAA checks made before reissues (each has its own key); absent from clocks carried before CAA was checked. */
  caaChecks?: number;
}

export interface CertificateLifeCarryOver {
  readonly view: CertificateLifeView;
  readonly clock: LifeClock;
}

export async function certificateWorkflow(input: CertificateLifeInput, carried?: CertificateLifeCarryOver): Promise<CertificateLifeView> {
  const wf = workflowInfo().workflowId;
  const { order } = input;
  const d = order.deadlines;
  const nowIso = (): string => new Date().toISOString();
  const iso = (ms: number): string => new Date(ms).toISOString();
  const first: LifeCertificate = { ...input.first, status: 'valid', revokedAt: null, reason: null };
  let view: CertificateLifeView = carried?.view ?? {
    orderId: order.orderId,
    product: order.product,
    holderUserId: order.holder.userId,
    organisationId: order.organisation.id,
    status: 'active',
    subscription: isSubscription(order.product),
    termEndsAt: input.termEndsAt,
    current: first.serial,
    certificates: [first],
    domains: input.domains,
    deadlines: [],
    unblockable: CATALOG[order.product].smsUnlock && order.certificateRequest === null,
    problem: null,
    version: 1,
    updatedAt: nowIso(),
  };
  const clock: LifeClock = carried?.clock ?? { fired: [], sms: noSmsCodes(), pinResets: 0, lastCheckAt: null };
  // Behind a patch (issue 14 item 7): a step failing past activityAlertAfter alerts staff once and keeps retrying;
  // certificates whose workflow started before it retry for ever unannounced, as they ran.
  const guard = patched('activity-attention') ? guardedCertificateActivities({ workflowId: wf, order, serial: () => view.current }) : undefined;
  const calls = guard?.quick ?? act;
  // Behind a patch: persons certificates reissued on their key while the paid term runs (their certificates no longer
  // last the whole term). Workflows started before it issued one certificate for the term and keep to it.
  const personsReissue = CATALOG[order.product].kind === 'person' && patched('persons-reissue');
  const reissues = view.subscription || personsReissue;

  const current = (): LifeCertificate => view.certificates.find((c) => c.serial === view.current) as LifeCertificate;

  function change(next: Partial<CertificateLifeView>): void {
    view = { ...view, ...next, version: view.version + 1, updatedAt: nowIso() };
    view = { ...view, deadlines: pendingSteps().map((s) => ({ kind: s.kind, at: iso(s.at) })) };
  }

  const setCertificate = (serial: string, patch: Partial<LifeCertificate>): LifeCertificate[] =>
    view.certificates.map((c) => (c.serial === serial ? { ...c, ...patch } : c));

  function refuseWith(kind: 'state' | 'rule' | 'forbidden', code: string, message: string): never {
    const details: RefusalDetails = { refusal: { kind, code, message }, status: view.status as never, waitingOn: 'nobody' };
    throw ApplicationFailure.nonRetryable(message, ORDER_REFUSAL, details);
  }

  const mail = (step: string, template: CertificateMailTemplate, serial: string, extra: Record<string, string | number>, challenges?: DomainChallenge[]): Promise<void> =>
    calls.sendCertificateMail({ idempotencyKey: `${wf}:${step}`, template, input: order, serial, extra, ...(challenges ? { challenges } : {}) });

  // ---- steps on the clock ----------------------------------------------------------------------------------------

  /** Whether another certificate will follow the current one. */
  const renews = (): boolean => reissues && termOutlasts(current(), view.termEndsAt);

  function pendingSteps(): Deadline[] {
    if (LIFE_ENDED.has(view.status)) return [];
    const cert = current();
    const steps: Deadline[] = [];
    const expiry = Date.parse(cert.notAfter);
    if (view.status === 'active' && renews()) {
      steps.push({ id: `reissue:${cert.serial}`, kind: 'reissue', at: reissueAt(cert, durationMs(d.renewalLead)), fire: beginReissue });
    }
    if (view.status === 'awaiting_revalidation') {
      const last = Date.parse(clock.lastCheckAt ?? nowIso());
      steps.push({ id: `revalidation-check:${clock.lastCheckAt ?? ''}`, kind: 'revalidation_check', at: last + durationMs(d.revalidationCheckEvery), fire: checkRevalidation });
      steps.push({ id: 'term-end', kind: 'term_end', at: Date.parse(view.termEndsAt), fire: () => end('expired') });
    }
    if (!renews() || view.status === 'awaiting_revalidation') {
      d.expiryReminders.forEach((before, i) => {
        const at = expiry - durationMs(before);
        if (at > Date.parse(cert.notBefore)) {
          steps.push({
            id: `expiry-reminder:${cert.serial}:${i}`,
            kind: 'expiry_reminder',
            at,
            fire: () =>
              mail(`expiry-reminder:${cert.serial}:${i}`, 'expiry_reminder', cert.serial, { notAfter: cert.notAfter, days: Math.round(durationMs(before) / 86_400_000), ...renewalOrder() }),
          });
        }
      });
      if (view.status !== 'awaiting_revalidation') steps.push({ id: `expiry:${cert.serial}`, kind: 'expiry', at: expiry, fire: () => end('expired') });
    }
    return pendingDeadlines(steps, clock.fired);
  }

  /** The order a renewal starts from, prefilled: the same product, duration and payment method. */
  const renewalOrder = (): Record<string, string> => ({
    renewalOrder: JSON.stringify({ product: order.product, durationYears: order.durationYears, os: order.os, payment: { method: order.payment.method }, termsAccepted: false }),
  });

  function end(status: LifeStatus): Promise<void> {
    change({ status });
    return Promise.resolve();
  }

  /** Reissue now if every name's evidence may be reused; otherwise ask the customer to prove the stale ones again. */
  async function beginReissue(): Promise<void> {
    const stale = namesToRevalidate(view.domains, Date.now());
    if (stale.length === 0) {
      await issueNext();
      return;
    }
    const method = (name: string): 'http' | 'dns' => (name.startsWith('*.') || view.domains.find((x) => x.name === name)?.method !== 'http' ? 'dns' : 'http');
    const byMethod = { http: stale.filter((n) => method(n) === 'http'), dns: stale.filter((n) => method(n) === 'dns') };
    const challenges = [
      ...(byMethod.http.length > 0 ? await calls.createDomainChallenges({ domains: byMethod.http, method: 'http' }) : []),
      ...(byMethod.dns.length > 0 ? await calls.createDomainChallenges({ domains: byMethod.dns, method: 'dns' }) : []),
    ];
    clock.lastCheckAt = nowIso();
    change({
      status: 'awaiting_revalidation',
      domains: view.domains.map((item) => {
        const challenge = challenges.find((c) => c.domain === item.name);
        return challenge === undefined ? item : { ...item, status: 'pending', challenge, lastCheck: null };
      }),
    });
    await mail(`revalidation:${view.current}`, 'domain_revalidation', view.current, { notAfter: current().notAfter }, challenges);
  }

  async function checkRevalidation(): Promise<void> {
    clock.lastCheckAt = nowIso();
    const pending = view.domains.filter((item) => item.status === 'pending' && item.challenge !== null);
    const results = await calls.checkDomainChallenges({ challenges: pending.map((item) => item.challenge).filter((c) => c !== null) });
    change({
      domains: view.domains.map((item) => {
        const found = results.find((r) => r.domain === item.name);
        if (found === undefined) return item;
        const r = found.result;
        return r.validated
          ? { ...item, status: 'validated', method: r.method, validatedAt: r.checkedAt, evidence: r.evidence, challenge: null, lastCheck: null }
          : { ...item, lastCheck: { at: r.checkedAt, reason: r.reason } };
      }),
    });
    if (view.domains.every((item) => item.status === 'validated')) await issueNext();
  }

  async function issueNext(): Promise<void> {
    const spki = order.certificateRequest?.publicKeySpki ?? (personsReissue ? await certifiedKey() : undefined);
    if (spki === undefined) return; // only TLS subscriptions and persons certificates reissue
    const n = view.certificates.length;
    if (!(await caaPermits(n))) return;
    let next: IssuedCertificate;
    try {
      next = await calls.issueCertificate({ issuanceKey: `${wf}:certificate:${n}`, input: order, publicKeySpki: spki, validUntil: view.termEndsAt });
    } catch (err) {
      // The CA refused (a rule no retry can fix): the subscription keeps its current certificate and says why.
      const problem = refusalMessage(err);
      if (problem === undefined) throw err;
      change({ problem });
      return;
    }
    const issued: LifeCertificate = { serial: next.serial, notBefore: next.notBefore, notAfter: next.notAfter, status: 'valid', revokedAt: null, reason: null };
    clock.lastCheckAt = null;
    change({ status: 'active', current: issued.serial, certificates: [...view.certificates, issued], problem: null });
    await mail(`renewed:${n}`, 'certificate_renewed', issued.serial, { notBefore: issued.notBefore, notAfter: issued.notAfter, subject: next.subject });
  }

  /** The key the current certificate certifies: for a persons certificate, the one made on the holder's token. */
  async function certifiedKey(): Promise<string> {
    const { publicKeySpki } = await calls.certificateInfo({ serial: view.current });
    if (publicKeySpki === undefined) throw new Error(`certificate ${view.current}: its public key is unknown, no reissue on it`);
    return publicKeySpki;
  }

  /**
   * CAA right before each reissue (BR §3.2.2.8), behind a patch for certificates whose reissues ran before it. A
   * refusal keeps the current certificate: the subscription waits (awaiting_revalidation, its periodic check and
   * the customer's `check` try again), says why in `problem`, and the customer is told once per reissue.
   */
  async function caaPermits(n: number): Promise<boolean> {
    const names = order.certificateRequest?.dnsNames ?? [];
    if (names.length === 0 || !patched('caa-check')) return true;
    clock.caaChecks = (clock.caaChecks ?? 0) + 1;
    const check = await calls.checkCaa({ checkKey: `${wf}:caa:${n}:${clock.caaChecks}`, orderId: order.orderId, names: [...names] });
    if (check.permitted) return true;
    clock.lastCheckAt = nowIso();
    change({ status: 'awaiting_revalidation', problem: `${CAA_FORBIDS}: ${caaRefusal(check)}` });
    await mail(`caa-forbids:${n}`, 'caa_forbids_issuance', view.current, { refusal: caaRefusal(check), identifiers: check.identifiers.join(', ') });
    return false;
  }

  // ---- requests --------------------------------------------------------------------------------------------------

  const live = (): void => {
    if (LIFE_ENDED.has(view.status)) refuseWith('state', 'certificate-ended', `The certificate is ${view.status}.`);
  };

  setHandler(certificateLifeQuery, () => view);

  setHandler(
    revokeUpdate,
    async ({ serial, reason }) => {
      const outcome = await calls.revokeCertificate({ serial, reason });
      const certificates = setCertificate(serial, { status: outcome.status === 'held' ? 'held' : 'revoked', revokedAt: outcome.revokedAt, reason: outcome.reason });
      const isCurrent = serial === view.current;
      change({ certificates, status: isCurrent ? (isFinalRevocation(reason) ? 'revoked' : 'held') : view.status });
      // Keyed by the version: a certificate held, released and held again gets a mail each time.
      if (outcome.status === 'held') await mail(`held:${serial}:${view.version}`, 'certificate_held', serial, { heldAt: outcome.revokedAt ?? nowIso() });
      else await mail(`revoked:${serial}`, 'certificate_revoked', serial, { reason, revokedAt: outcome.revokedAt ?? nowIso() });
      return view;
    },
    {
      validator: ({ serial, reason }: { actor: Actor; serial: string; reason: RevocationReason }) => {
        live();
        const refused = refuseRevocation(view, { serial, reason }, Date.now());
        if (refused !== undefined) refuseWith(refused.kind, refused.code, refused.message);
      },
    },
  );

  setHandler(
    releaseHoldUpdate,
    async ({ serial }) => {
      await calls.releaseHold({ serial });
      change({ certificates: setCertificate(serial, { status: 'valid', revokedAt: null, reason: null }), status: serial === view.current ? 'active' : view.status });
      await mail(`hold-released:${serial}:${view.version}`, 'hold_released', serial, {});
      return view;
    },
    {
      validator: ({ actor, serial }: { actor: Actor; serial: string }) => {
        live();
        if (actor.role !== 'ra_operator') refuseWith('forbidden', 'operator-only', 'Only an RA operator lifts a hold.');
        if (view.certificates.find((c) => c.serial === serial)?.status !== 'held') refuseWith('state', 'not-held', `${serial} is not on hold.`);
      },
    },
  );

  const unblockRefusal = (actor: Actor): void => {
    live();
    if (!view.unblockable) refuseWith('state', 'no-token', 'This certificate is not on a token of ours: there is nothing to unblock.');
    if (view.status !== 'active') refuseWith('state', 'not-active', `The certificate is ${view.status}.`);
    if (actor.userId !== view.holderUserId) refuseWith('forbidden', 'holder-only', 'Only the holder unblocks the token.');
  };

  setHandler(
    unblockCodeUpdate,
    () =>
      sendNewCode(clock.sms, `${wf}:unblock-code`, d.unlockCodeValidity, (idempotencyKey) =>
        calls.sendUnlockCode({ idempotencyKey, orderId: order.orderId, to: order.holder.phone ?? '', language: order.holder.language }),
      ),
    {
      validator: ({ actor }: { actor: Actor }) => {
        unblockRefusal(actor);
        const refused = refuseNewCode(clock.sms);
        if (refused !== undefined) refuseWith('rule', refused.code, refused.message);
      },
    },
  );

  setHandler(
    verifyUnblockUpdate,
    async ({ digest }) => {
      const result = verifyCode(clock.sms, digest);
      if (result.verified) {
        clock.pinResets += 1;
        await calls.resetTokenPin({ orderId: order.orderId, resetKey: `${wf}:pin-reset:${clock.pinResets}` });
        change({});
      }
      return result;
    },
    {
      validator: ({ actor }: { actor: Actor; digest: string }) => {
        unblockRefusal(actor);
        const refused = refuseVerification(clock.sms);
        if (refused !== undefined) refuseWith('state', refused.code, refused.message);
      },
    },
  );

  setHandler(
    lifeDomainValidationUpdate,
    async (req: DomainValidationRequest) => {
      if (req.action === 'check') {
        await checkRevalidation();
      } else if (req.action === 'record') {
        change({
          domains: view.domains.map((item) =>
            item.name === req.domain ? { ...item, status: 'validated', method: 'operator', validatedAt: nowIso(), evidence: req.evidence, challenge: null, lastCheck: null } : item,
          ),
        });
        if (view.domains.every((item) => item.status === 'validated')) await issueNext();
      } else {
        const names = req.domains ?? view.domains.filter((x) => x.status === 'pending').map((x) => x.name);
        const challenges = await calls.createDomainChallenges({ domains: names, method: req.method });
        change({ domains: view.domains.map((item) => ({ ...item, challenge: challenges.find((c) => c.domain === item.name) ?? item.challenge })) });
      }
      return view;
    },
    {
      validator: (req: DomainValidationRequest) => {
        live();
        if (view.status !== 'awaiting_revalidation') refuseWith('state', 'no-revalidation', 'No name needs to be validated again now.');
        const pending = view.domains.filter((x) => x.status === 'pending');
        if (req.action === 'record') {
          if (req.actor.role !== 'ra_operator') refuseWith('forbidden', 'operator-only', 'Only an RA operator records a validation by hand.');
          if (!pending.some((x) => x.name === req.domain)) refuseWith('rule', 'domain-not-pending', `${req.domain} does not wait on a validation.`);
        }
        if (req.action === 'start') {
          for (const name of req.domains ?? pending.map((x) => x.name)) {
            if (!pending.some((x) => x.name === name)) refuseWith('rule', 'domain-not-pending', `${name} does not wait on a validation.`);
            if (req.method === 'http' && name.startsWith('*.')) refuseWith('rule', 'wildcard-needs-dns', `${name} is a wildcard: validate it with a DNS TXT record.`);
          }
        }
      },
    },
  );

  // ---- the procedure ---------------------------------------------------------------------------------------------

  const deadlines = { version: () => view.version, pending: pendingSteps, fired: clock.fired, unchanged: () => Promise.resolve(change({})) };
  change({});
  while (!LIFE_ENDED.has(view.status)) {
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      // A staff alert still being sent would be abandoned with this run.
      await guard?.alertsSent();
      await continueAsNew<typeof certificateWorkflow>(input, { view, clock });
    }
    await awaitChangeOrDeadline(deadlines);
  }
  await condition(allHandlersFinished);
  await guard?.alertsSent();
  return view;
}
