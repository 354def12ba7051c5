/**
 * Sending an action to an order's workflow: the caller must see the order (else 404), the Update's validator
 * answers at once, a refusal becomes 409/422/403 with the state and what the order waits on, and every attempt,
 * accepted or refused, is recorded for the audit trail.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import type { Database } from '../db/client.js';
import { recordOrderEvent } from '../db/order-events.js';
import { getOrderRow, type OrderRow } from '../db/orders.js';
import type { Actor } from '../domain/order-state.js';
import { canSeeOrder, type Principal } from '../domain/roles.js';
import type { OrderView } from '../domain/order.js';
import { HOLDER_ONLY_ACTIONS, openActions, ORDER_REFUSAL, orderWorkflowId, type OrderAction, type OrderWithActions, type RefusalDetails } from '../workflows/definitions.js';
import { Problem } from './problem.js';

export interface UpdateDeps {
  readonly db: Database;
  readonly temporal: Client;
}

const STATUS_OF_REFUSAL = { state: 409, rule: 422, forbidden: 403 } as const;

/** Which workflow takes the Update: the order's by default; a certificate's own, with what to say once it has ended. */
export interface UpdateTarget {
  readonly workflowId?: string;
  readonly ended?: () => Promise<{ code: string; state: string; detail: string }>;
  /**
   * True while another workflow is about to start this one (an order that has just completed starts its
   * certificate's workflow in its close path): the Update waits for it instead of being refused.
   */
  readonly startsSoon?: () => Promise<boolean>;
}

/**
 * `startsSoon` of an Update to a certificate's workflow: completed in the read model, the order's workflow may still be
 * in its close path (the completion mail, then the certificate's workflow), so an action sent meanwhile waits for it.
 */
export const orderStillClosing = (temporal: Client, orderId: string) => (): Promise<boolean> =>
  temporal.workflow
    .getHandle(orderWorkflowId(orderId))
    .describe()
    .then((d) => d.status.name === 'RUNNING')
    .catch(() => false);

/** How long an Update waits for a workflow another one is starting: a close path is a few activities long. */
const HANDOVER_WAIT_MS = 20_000;

async function afterHandover<T>(target: UpdateTarget, send: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + HANDOVER_WAIT_MS;
  for (;;) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || target.startsSoon === undefined || Date.now() > deadline) throw err;
      // Its starter has closed: the workflow exists now (one last try finds it) or never will (that try says so).
      if (!(await target.startsSoon())) return send();
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}


/** The order if the caller may see it; 404 otherwise, whether it does not exist or belongs to someone else. */
export async function visibleOrder(db: Database, principal: Principal, orderId: string): Promise<OrderRow> {
  const row = await getOrderRow(db, orderId);
  if (row === undefined || !canSeeOrder(principal, row)) throw Problem.notFound('No such order.');
  return row;
}

/** The holder, the customer who ordered, or an agent of the organisation: who acts on the file (else 403). */
export function requireOwner(p: Principal, order: OrderRow): void {
  const mine = p.userId === order.holderUserId || p.userId === order.orderedByUserId;
  const orgAgent = p.role === 'agent' && p.organisationId === order.organisationId;
  if (!mine && !orgAgent) throw Problem.forbidden('Only the holder, the customer who ordered or an agent of the organisation may do this.');
}

/** The holder of the certificate (else 403): the holder's own actions (HOLDER_ONLY_ACTIONS). */
export function requireHolder(p: Principal, order: OrderRow): void {
  if (p.userId !== order.holderUserId) throw Problem.forbidden('Only the holder of the certificate may do this.', 'holder-only');
}

/** Who among an action's roles may ask for it on this order, beyond seeing it (the roles are the route's access). */
export function requireActionCaller(p: Principal, order: OrderRow, action: OrderAction): void {
  if (HOLDER_ONLY_ACTIONS.has(action)) requireHolder(p, order);
}

/** The order as its caller reads it: the view and the actions the caller may ask for now. */
export const withActions = (p: Principal, view: OrderView): OrderWithActions => ({ ...view, actions: openActions(view, p) });

export const actorOf = (p: Principal): Actor => ({ userId: p.userId, role: p.role });

function refusalOf(err: unknown): RefusalDetails | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== ORDER_REFUSAL) return undefined;
  return cause.details?.[0] as RefusalDetails | undefined;
}

/**
 * Runs an Update on the order's workflow for `actor`. `action` names it in the audit trail; `detail` is what the
 * trail keeps of the request (never a secret).
 */
export async function updateOrder<Ret, Arg>(
  deps: UpdateDeps,
  actor: Actor,
  order: OrderRow,
  action: string,
  def: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  detail: Record<string, unknown> = {},
  target: UpdateTarget = {},
): Promise<Ret> {
  const workflowId = target.workflowId ?? orderWorkflowId(order.id);
  const handle = deps.temporal.workflow.getHandle(workflowId);
  const audit = (outcome: 'accepted' | 'refused', extra: Record<string, unknown> = {}) =>
    recordOrderEvent(deps.db, { orderId: order.id, actorUserId: actor.userId, actorRole: actor.role, action, outcome, detail: { ...detail, ...extra } });
  try {
    const result = await afterHandover(target, () => handle.executeUpdate(def, { args: [arg] }));
    await audit('accepted');
    return result;
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal !== undefined) {
      await audit('refused', { code: refusal.refusal.code });
      throw new Problem(STATUS_OF_REFUSAL[refusal.refusal.kind], refusal.refusal.code, 'The action was refused', refusal.refusal.message, {
        state: refusal.status,
        waitingOn: refusal.waitingOn,
      });
    }
    // The order exists (its row was read): a workflow that cannot be found has ended, so nothing more can happen.
    if (err instanceof WorkflowNotFoundError) {
      if (target.ended !== undefined) {
        const ended = await target.ended();
        await audit('refused', { code: ended.code });
        throw Problem.conflict(ended.code, ended.detail, { state: ended.state, waitingOn: 'nobody' });
      }
      const now = (await getOrderRow(deps.db, order.id)) ?? order;
      await audit('refused', { code: 'order-closed' });
      throw Problem.conflict('order-closed', `The order is ${now.status}: it takes no more action.`, { state: now.status, waitingOn: now.waitingOn });
    }
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      // The workflow has ended (or refused for a reason of its own): the action is not possible any more.
      throw Problem.conflict('order-closed', err.cause.message, { state: order.status, waitingOn: order.waitingOn });
    }
    throw err;
  }
}
