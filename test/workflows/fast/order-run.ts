/**
 * One order on the fast stack, driven through the workflow's Updates as the API's routes send them: the actors
 * (holder, RA and DRA operators), each action, the state query, and the refusals a validator answers.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, type WorkflowHandle } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { DocumentType, PaymentMethod } from '../../../domain/catalog.js';
import type { OrderInput, OrderView } from '../../../domain/order.js';
import type { Actor } from '../../../domain/order-state.js';
import {
  acceptanceUpdate,
  cancelUpdate,
  certificateLifeQuery,
  certificateWorkflowId,
  domainValidationUpdate,
  faceToFaceUpdate,
  holdUpdate,
  ORDER_REFUSAL,
  orderWorkflowId,
  originalsUpdate,
  paymentUpdate,
  registeredUpdate,
  releaseUpdate,
  reviewUpdate,
  stateQuery,
  submitUpdate,
  unlockCodeUpdate,
  uploadEvidenceUpdate,
  verifyUnlockUpdate,
  type RefusalDetails,
} from '../../../workflows/definitions.js';
import type { orderWorkflow } from '../../../workflows/order.js';
import { fastOrderInput, type FastStack } from '../stub-activities.js';
import { pollUntil } from '../../poll-until.js';

export const DAY_MS = 86_400_000;

export class OrderRun {
  readonly holder: Actor;
  readonly ra: Actor = { userId: randomUUID(), role: 'ra_operator' };
  readonly dra: Actor = { userId: randomUUID(), role: 'dra_operator' };

  private constructor(
    readonly stack: FastStack,
    readonly input: OrderInput,
    readonly handle: WorkflowHandle<typeof orderWorkflow>,
  ) {
    this.holder = { userId: input.holder.userId, role: 'customer' };
  }

  /** The issued certificate's own workflow, once it answers its query: the handle and what it answers. */
  async certificateLife() {
    const life = this.stack.env.client.workflow.getHandle(certificateWorkflowId(this.id));
    const view = await eventually(async () => {
      try {
        return await life.query(certificateLifeQuery);
      } catch {
        return undefined;
      }
    }, 'the certificate workflow');
    return { life, view };
  }

  /** Starts an order (created now, on the server's clock) and waits until it is recorded, as the API does. */
  static async start(stack: FastStack, overrides: Partial<OrderInput> = {}): Promise<OrderRun> {
    const input = fastOrderInput(await stack.env.currentTimeMs(), overrides);
    const handle = await stack.env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: orderWorkflowId(input.orderId),
      args: [input],
    });
    const run = new OrderRun(stack, input, handle);
    await handle.executeUpdate(registeredUpdate);
    // The confirmation follows the registration: waited for here, so a test's mails start from a known list.
    await eventually(() => (run.templates().includes('order_confirmation') ? true : undefined), 'the confirmation mail');
    return run;
  }

  get id(): string {
    return this.input.orderId;
  }

  state(): Promise<OrderView> {
    return this.handle.query(stateQuery);
  }

  /** The templates of the order's mails so far. */
  templates(): string[] {
    return this.stack.stubs.templates(this.id);
  }

  upload(documentType: DocumentType, actor: Actor = this.holder): Promise<OrderView> {
    return this.handle.executeUpdate(uploadEvidenceUpdate, { args: [{ actor, documentType, documentId: randomUUID() }] });
  }

  /** Uploads every missing or rejected document of the checklist and submits the file. */
  /** An order started, its file completed and submitted, then approved by the RA; `approved` is the approval's answer. */
  static async startApproved(stack: FastStack, overrides: Partial<OrderInput> = {}): Promise<{ run: OrderRun; approved: OrderView }> {
    const run = await OrderRun.start(stack, overrides);
    await run.completeAndSubmit();
    return { run, approved: await run.approve() };
  }

  async completeAndSubmit(): Promise<OrderView> {
    for (const item of (await this.state()).checklist.filter((c) => c.status === 'missing' || c.status === 'rejected')) await this.upload(item.documentType);
    return this.submit();
  }

  submit(actor: Actor = this.holder): Promise<OrderView> {
    return this.handle.executeUpdate(submitUpdate, { args: [{ actor }] });
  }

  approve(actor: Actor = this.ra): Promise<OrderView> {
    return this.handle.executeUpdate(reviewUpdate, { args: [{ actor, decision: 'approve' }] });
  }

  reject(reasons: { documentType: DocumentType; reason: string }[], actor: Actor = this.ra): Promise<OrderView> {
    return this.handle.executeUpdate(reviewUpdate, { args: [{ actor, decision: 'reject', reasons }] });
  }

  faceToFace(actor: Actor = this.dra): Promise<OrderView> {
    return this.handle.executeUpdate(faceToFaceUpdate, { args: [{ actor, interventionFormDocumentId: randomUUID(), meetingDate: '2026-11-20' }] });
  }

  originals(actor: Actor = this.ra): Promise<OrderView> {
    return this.handle.executeUpdate(originalsUpdate, { args: [{ actor }] });
  }

  pay(reference = `VIR-${this.id.slice(0, 6)}`, method?: PaymentMethod, actor: Actor = this.ra): Promise<OrderView> {
    return this.handle.executeUpdate(paymentUpdate, { args: [{ actor, status: 'received', reference, ...(method !== undefined ? { method } : {}) }] });
  }

  payFailed(reference: string, actor: Actor = this.ra): Promise<OrderView> {
    return this.handle.executeUpdate(paymentUpdate, { args: [{ actor, status: 'failed', reference }] });
  }

  hold(comment: string, actor: Actor = this.ra): Promise<OrderView> {
    return this.handle.executeUpdate(holdUpdate, { args: [{ actor, comment }] });
  }

  release(actor: Actor = this.ra): Promise<OrderView> {
    return this.handle.executeUpdate(releaseUpdate, { args: [{ actor }] });
  }

  cancel(reason: string, actor: Actor = this.holder): Promise<OrderView> {
    return this.handle.executeUpdate(cancelUpdate, { args: [{ actor, reason }] });
  }

  respond(decision: 'accept' | 'refuse', actor: Actor = this.holder): Promise<OrderView> {
    return this.handle.executeUpdate(acceptanceUpdate, { args: [{ actor, decision }] });
  }

  requestCode(actor: Actor = this.holder): Promise<{ expiresAt: string; codesLeftToday: number }> {
    return this.handle.executeUpdate(unlockCodeUpdate, { args: [{ actor }] });
  }

  verifyCode(digest: string, actor: Actor = this.holder): Promise<{ verified: boolean; attemptsLeft: number }> {
    return this.handle.executeUpdate(verifyUnlockUpdate, { args: [{ actor, digest }] });
  }

  startDomainValidation(method: 'http' | 'dns', domains?: string[], actor: Actor = this.holder): Promise<OrderView> {
    return this.handle.executeUpdate(domainValidationUpdate, { args: [{ actor, action: 'start', method, ...(domains !== undefined ? { domains } : {}) }] });
  }

  checkDomains(actor: Actor = this.holder): Promise<OrderView> {
    return this.handle.executeUpdate(domainValidationUpdate, { args: [{ actor, action: 'check' }] });
  }

  recordDomain(domain: string, evidence: string, actor: Actor = this.ra): Promise<OrderView> {
    return this.handle.executeUpdate(domainValidationUpdate, { args: [{ actor, action: 'record', domain, evidence }] });
  }

  /** Through every gate the product has, paid by transfer, to the certificate waiting for the holder's answer. */
  async toAcceptance(): Promise<OrderView> {
    await this.completeAndSubmit();
    let view = await this.approve();
    if (view.faceToFace.required) view = await this.faceToFace();
    if (view.originals.required) view = await this.originals();
    await this.pay();
    return this.until((o) => o.status === 'awaiting_acceptance');
  }

  /** Polls the state query until `done` holds (issuance happens on the workflow's own time, after the Update). */
  async until(done: (o: OrderView) => boolean, timeoutMs = 10_000): Promise<OrderView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await this.state();
      if (done(view)) return view;
      if (Date.now() > deadline) throw new Error(`order ${this.id} still ${view.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** The refusal a validator answered (kind, code, the order's status), or a failure if the action was accepted. */
export async function refusalOf(action: Promise<unknown>): Promise<RefusalDetails['refusal'] & { status: string; waitingOn: string }> {
  try {
    await action;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === ORDER_REFUSAL) {
      const details = err.cause.details?.[0] as RefusalDetails;
      return { ...details.refusal, status: details.status, waitingOn: details.waitingOn };
    }
    throw err;
  }
  throw new Error('the action was accepted; a refusal was expected');
}

/** Milliseconds between two instants given as ISO strings or numbers. */
export const between = (from: string | number, to: string | number): number =>
  (typeof to === 'number' ? to : Date.parse(to)) - (typeof from === 'number' ? from : Date.parse(from));

/** Polls until `probe` answers something other than undefined (the worker acts on a fired timer a moment later). */
export const eventually = <T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> => pollUntil(probe, what, timeoutMs, 20);
