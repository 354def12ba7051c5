/**
 * GET /v1/orders/{id} and the answer of every action carry `actions`: what the caller's role may ask for now, from the
 * table of actions and roles (workflows/definitions.ts) and the order's state machine. The pages show their buttons
 * from it.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../db/schema.js';
import type { Role } from '../../domain/roles.js';
import type { OrderWithActions } from '../../workflows/definitions.js';
import { startTestStack, type Account, type TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';

let stack: TestStack;
let drive: Driver;
let holder: Account;
let agent: Account;
let ra: Account;
let dra: Account;
let auditor: Account;

/** A staff account whose API key works (an admin allows staff keys one by one). */
async function staff(role: Role): Promise<Account> {
  const account = await stack.account(role);
  await stack.db.update(users).set({ staffApiAccess: true }).where(eq(users.id, account.user.id));
  return account;
}

beforeAll(async () => {
  stack = await startTestStack();
  [holder, agent, ra, dra, auditor] = await Promise.all([stack.account('customer'), stack.account('agent'), staff('ra_operator'), staff('dra_operator'), staff('auditor')]);
  drive = new Driver(stack, { holder, ra, dra });
});
afterAll(async () => {
  await stack?.close();
});

const actionsOf = async (who: Account, orderId: string): Promise<readonly string[]> => {
  const res = await stack.http<OrderWithActions>('GET', `/v1/orders/${orderId}`, { key: who.key });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.actions;
};

/** Each caller's actions on the order now, in the table's order. */
const byRole = async (orderId: string): Promise<Record<string, readonly string[]>> => ({
  holder: await actionsOf(holder, orderId),
  agent: await actionsOf(agent, orderId),
  ra: await actionsOf(ra, orderId),
  dra: await actionsOf(dra, orderId),
  auditor: await actionsOf(auditor, orderId),
});

describe('the actions an order offers its caller', () => {
  it('follows the order from the file to the certificate, per role, and comes back with every action', async () => {
    const created = await drive.create('ID_RGS_STAR');
    expect(await byRole(created.id)).toEqual({
      holder: ['upload_evidence', 'submit', 'cancel'],
      agent: ['upload_evidence', 'submit', 'cancel'],
      ra: ['record_payment', 'hold', 'cancel'],
      dra: [],
      auditor: [],
    });

    // The answer of an action carries them too: the page offers what comes next without reading the order again.
    const submitted = (await drive.completeAndSubmit(await drive.get(created.id))) as OrderWithActions;
    expect(submitted.status).toBe('under_review');
    expect(submitted.actions).toEqual(['cancel']);
    expect(await byRole(created.id)).toEqual({
      holder: ['cancel'],
      agent: ['cancel'],
      ra: ['review', 'record_payment', 'hold', 'cancel'],
      dra: [],
      auditor: [],
    });

    const held = await drive.post<OrderWithActions>(ra.key, `/v1/orders/${created.id}/hold`, { comment: 'A question for the holder.' });
    expect(held.body.actions).toEqual(['record_payment', 'release', 'cancel']);
    expect(await actionsOf(holder, created.id)).toEqual(['cancel']);
    await drive.post(ra.key, `/v1/orders/${created.id}/release`);

    await drive.approve(created.id);
    await drive.pay(created.id);
    const issued = await drive.until(created.id, (o) => o.status === 'awaiting_acceptance');
    // Only the holder answers for the certificate: the agent of the organisation sees the order but may not.
    expect(await byRole(issued.id)).toEqual({ holder: ['respond_to_certificate'], agent: [], ra: [], dra: [], auditor: [] });
  });

  it('offers the DRA the face-to-face check (its intervention form) until it is recorded, never to the holder', async () => {
    const created = await drive.create('ID_RGS_2STAR');
    expect(await actionsOf(dra, created.id)).toEqual(['upload_evidence', 'record_face_to_face']);
    expect(await actionsOf(holder, created.id)).toEqual(['upload_evidence', 'submit', 'cancel']);
    await drive.completeAndSubmit(created);
    await drive.approve(created.id);
    const recorded = await drive.faceToFace(created.id);
    expect(recorded.status).toBe('awaiting_originals');
    expect(await actionsOf(dra, created.id)).toEqual(['upload_evidence']);
    expect(await actionsOf(ra, created.id)).toEqual(['record_originals', 'record_payment', 'hold', 'cancel']);
  });
});
