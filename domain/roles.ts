/** The roles of SPEC §1 and how far each one sees. */
export const ROLES = ['customer', 'agent', 'org_admin', 'ra_operator', 'dra_operator', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** CA staff and auditors see every organisation; the others only their own. */
export const STAFF_ROLES: ReadonlySet<Role> = new Set<Role>(['ra_operator', 'dra_operator', 'auditor', 'admin']);

/** Roles that belong to a customer organisation and must have one. */
export const ORGANISATION_ROLES: ReadonlySet<Role> = new Set<Role>(['customer', 'agent', 'org_admin']);

export interface Principal {
  readonly userId: string;
  readonly role: Role;
  readonly organisationId: string | null;
}

export interface OrderOwnership {
  readonly holderUserId: string;
  readonly orderedByUserId: string;
  readonly organisationId: string;
}

/**
 * Whether a caller may see an order at all. Callers who may not get a 404, never a 403, so that ids cannot be probed.
 */
export function canSeeOrder(p: Principal, order: OrderOwnership): boolean {
  if (STAFF_ROLES.has(p.role)) return true;
  if (p.role === 'agent' || p.role === 'org_admin') return p.organisationId === order.organisationId;
  return p.userId === order.holderUserId || p.userId === order.orderedByUserId;
}
