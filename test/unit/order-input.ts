/** The input of an order for the pure tests (no database, no workflow): what newOrderView starts from. */
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import type { OrderInput } from '../../domain/order.js';

/** The holder's user id: the holder also ordered. */
export const HOLDER = 'holder-id';

/** An RGS*** order of Hélène Roux (ACME, Paris), three years, paid by card, created at `createdAt`; `over` replaces any field. */
export const unitOrderInput = (createdAt: string, over: Partial<OrderInput> = {}): OrderInput => ({
  orderId: '01a2014a-7938-7031-a035-f304dea359c7',
  product: 'ID_RGS_3STAR',
  durationYears: 3,
  os: 'windows',
  partnerCode: null,
  holder: { userId: HOLDER, email: 'h@example.test', givenName: 'Hélène', surname: 'Roux', phone: '+33612345678', language: 'fr' },
  orderedByUserId: HOLDER,
  organisation: { id: 'org', siret: '73282932000074', name: 'ACME', locality: 'Paris' },
  certificateRequest: null,
  domainOwner: null,
  payment: { method: 'card', purchaseOrderNumber: null },
  priceCents: 30000,
  createdAt,
  deadlines: DEFAULT_DEADLINES,
  ...over,
});
