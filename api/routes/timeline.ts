/**
 * An order's timeline for staff and auditors: who did what and when (every attempt, accepted or refused, from
 * order_events), which message went out (sent_messages) and which certificate was issued or revoked. The decoded
 * Temporal history (deadlines fired, every workflow step) is the auditors' other view, /history.
 */
import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { listOrderEvents } from '../../db/order-events.js';
import { certificates, sentMessages } from '../../db/schema.js';
import { STAFF_ROLES } from '../../domain/roles.js';
import { visibleOrder } from '../order-updates.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

export interface TimelineEntry {
  readonly at: string;
  readonly kind: 'created' | 'action' | 'refused' | 'message' | 'certificate';
  readonly text: string;
  readonly actor?: { readonly userId: string | null; readonly role: string };
  readonly detail?: Record<string, unknown>;
}

const words = (name: string): string => name.replace(/_/g, ' ');

export async function orderTimeline(db: Database, order: { id: string; createdAt: string }): Promise<TimelineEntry[]> {
  const entries: TimelineEntry[] = [{ at: order.createdAt, kind: 'created', text: 'order created' }];
  for (const e of await listOrderEvents(db, order.id)) {
    const refused = e.outcome === 'refused';
    const code = typeof e.detail.code === 'string' ? ` (${e.detail.code})` : '';
    entries.push({
      at: e.createdAt.toISOString(),
      kind: refused ? 'refused' : 'action',
      text: `${words(e.actorRole)}: ${words(e.action)}${refused ? ` refused${code}` : ''}`,
      actor: { userId: e.actorUserId, role: e.actorRole },
      detail: e.detail,
    });
  }
  const messages = await db
    .select()
    .from(sentMessages)
    .where(and(eq(sentMessages.orderId, order.id), eq(sentMessages.status, 'sent')))
    .orderBy(asc(sentMessages.sentAt));
  for (const m of messages) {
    entries.push({ at: (m.sentAt ?? m.createdAt).toISOString(), kind: 'message', text: `${m.channel} sent: ${words(m.template)}`, detail: { template: m.template, channel: m.channel } });
  }
  const issued = await db.select().from(certificates).where(eq(certificates.orderId, order.id));
  for (const c of issued.filter((row) => row.pem !== null)) {
    entries.push({ at: c.createdAt.toISOString(), kind: 'certificate', text: `certificate ${c.serial} issued by ${c.issuingCa}`, detail: { serial: c.serial } });
    if (c.revokedAt !== null) {
      entries.push({ at: c.revokedAt.toISOString(), kind: 'certificate', text: `certificate ${c.serial} ${c.status === 'held' ? 'put on hold' : `revoked (${c.revocationReason ?? 'unspecified'})`}`, detail: { serial: c.serial } });
    }
  }
  return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

export function timelineRoutes(deps: { readonly db: Database }): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orders/{id}/timeline',
      summary: 'The order as a human timeline: who did what and when, refused attempts, messages sent, certificates',
      tags: ['audit'],
      access: [...STAFF_ROLES],
      params: z.object({ id: z.uuid() }),
      responses: { 200: { description: '{ items: TimelineEntry[] }, oldest first' }, 404: problemResponse('No such order') },
      async handle({ res, params, principal }) {
        const order = await visibleOrder(deps.db, principal, params.id);
        res.json({ items: await orderTimeline(deps.db, { id: order.id, createdAt: order.view.createdAt }) });
      },
    }),
  ];
}
