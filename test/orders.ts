/** Rows an order needs (organisation, holder, the order's read model) for tests that work below the API. */
import { randomUUID } from 'node:crypto';
import { createUser, upsertOrganisation, type Organisation, type User } from '../db/accounts.js';
import type { Database } from '../db/client.js';
import { upsertOrderView } from '../db/orders.js';
import { DEFAULT_DEADLINES } from '../domain/deadlines.js';
import { newOrderView, type OrderInput } from '../domain/order.js';

/** A customer of ACME with a mobile number. */
export async function seedCustomer(db: Database, prefix = 'holder'): Promise<{ org: Organisation; user: User }> {
  const org = await upsertOrganisation(db, { siret: '73282932000074', name: 'ACME' });
  const user = await createUser(db, {
    email: `${prefix}-${randomUUID()}@example.test`,
    role: 'customer',
    organisationId: org.id,
    givenName: 'Camille',
    surname: 'Durand',
    phone: '+33612345678',
  });
  return { org, user };
}

/** What the API would start an order of `user` with. */
export function orderInput(user: User, org: Organisation, overrides: Partial<OrderInput> = {}): OrderInput {
  return {
    orderId: randomUUID(),
    product: 'ID_RGS_STAR',
    durationYears: 3,
    os: 'windows',
    partnerCode: null,
    holder: { userId: user.id, email: user.email, givenName: user.givenName, surname: user.surname, phone: user.phone, language: 'fr' },
    orderedByUserId: user.id,
    organisation: { id: org.id, siret: org.siret, name: org.name, locality: 'Paris' },
    certificateRequest: null,
    domainOwner: null,
    payment: { method: 'card', purchaseOrderNumber: null },
    priceCents: 10500,
    createdAt: new Date().toISOString(),
    deadlines: DEFAULT_DEADLINES,
    ...overrides,
  };
}

/** A customer and an order of theirs in the read model, so that rows referring to orders have their keys. */
export async function seedOrder(db: Database, prefix = 'holder'): Promise<{ orderId: string; user: User; org: Organisation }> {
  const { org, user } = await seedCustomer(db, prefix);
  const input = orderInput(user, org);
  await upsertOrderView(db, `order-${input.orderId}`, newOrderView(input));
  return { orderId: input.orderId, user, org };
}
