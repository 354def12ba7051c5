/**
 * Organisations (SPEC §1, §8): an organisation admin creates the accounts of future holders, who activate them from the
 * emailed link; the admin, CA staff and auditors list the organisation's people. The organisation's profile (name,
 * postal address) is read by its members and staff, and corrected by its admin or CA staff.
 */
import { z } from 'zod';
import type { Notifier } from '../../activities/notify/index.js';
import { findUserByEmail, getOrganisation, updateOrganisation, userLanguage, type Organisation, type User } from '../../db/accounts.js';
import type { BlobStore } from '../../db/blob-store.js';
import type { Database } from '../../db/client.js';
import { createPendingMember, listMembers } from '../../db/members.js';
import { isE164 } from '../../domain/rules/phone.js';
import { checkPostalCode } from '../../domain/rules/postal-code.js';
import { ORGANISATION_ROLES, STAFF_ROLES, type Principal } from '../../domain/roles.js';
import { issueActivation } from '../account-links.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';
import { adminRoutes } from './admin.js';
import { quoteRoutes } from './quotes.js';

export interface PeopleDeps {
  readonly db: Database;
  readonly services: { readonly blobs: BlobStore; readonly notifier: Notifier };
  readonly publicBaseUrl: string;
}

/** Organisations, the admin's routes (mandates, partner codes) and quotes: mounted together by the app. */
export function peopleRoutes(deps: PeopleDeps): AnyRoute[] {
  return [...organisationRoutes(deps), ...adminRoutes({ db: deps.db, blobs: deps.services.blobs }), ...quoteRoutes({ db: deps.db, caIdentity: deps.services.notifier.caIdentity })];
}

const OrgParams = z.object({ id: z.uuid() });

/**
 * A French postal address, as given at registration and in corrections. Bounded: the locality is the L= of TLS
 * certificates (RFC 5280 ub-locality-name is 128).
 */
export const PostalAddressBody = z
  .object({
    street: z.string().trim().min(1).max(200),
    postalCode: z
      .string()
      .trim()
      .superRefine((value, ctx) => {
        const check = checkPostalCode(value);
        if (!check.ok) ctx.addIssue({ code: 'custom', message: check.reason });
      }),
    locality: z.string().trim().min(1).max(128),
  })
  .strict()
  .meta({ id: 'PostalAddress' });

const OrganisationChange = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    address: PostalAddressBody.optional(),
  })
  .strict()
  .refine((c) => c.name !== undefined || c.address !== undefined, { message: 'give name, address or both' })
  .meta({ id: 'OrganisationChange' });

export const OrganisationSchema = z
  .object({
    id: z.uuid(),
    siret: z.string(),
    name: z.string(),
    /** Parts are null for an organisation made before the address was asked for. */
    address: z.object({ street: z.string().nullable(), postalCode: z.string().nullable(), locality: z.string().nullable() }),
    publicAdministration: z.boolean(),
  })
  .meta({ id: 'Organisation' });

export const organisationView = (o: Organisation): z.infer<typeof OrganisationSchema> => ({
  id: o.id,
  siret: o.siret,
  name: o.name,
  address: { street: o.street, postalCode: o.postalCode, locality: o.locality },
  publicAdministration: o.publicAdministration,
});

const NewMemberBody = z
  .object({
    email: z.email().max(254),
    givenName: z.string().trim().min(1).max(100),
    surname: z.string().trim().min(1).max(100),
    phone: z.string().refine(isE164, 'a mobile number in E.164 form, e.g. +33612345678').optional(),
    language: z.enum(['fr', 'en']),
  })
  .strict()
  .meta({ id: 'NewOrganisationMember' });

export const MemberSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    givenName: z.string(),
    surname: z.string(),
    phone: z.string().nullable(),
    language: z.enum(['fr', 'en']),
    role: z.string(),
    status: z.enum(['pending', 'active', 'disabled']),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'OrganisationMember' });

export const memberView = (u: User): z.infer<typeof MemberSchema> => ({
  id: u.id,
  email: u.email,
  givenName: u.givenName,
  surname: u.surname,
  phone: u.phone,
  language: userLanguage(u),
  role: u.role,
  status: u.status as 'pending' | 'active' | 'disabled',
  createdAt: u.createdAt.toISOString(),
});

/**
 * The organisation, when the caller may see its people: its own admin or certification agent (who orders for them,
 * SPEC §1), or CA staff. Any other caller gets a 404.
 */
export async function visibleOrganisation(db: Database, p: Principal, organisationId: string): Promise<void> {
  const mine = (p.role === 'org_admin' || p.role === 'agent') && p.organisationId === organisationId;
  if (!mine && !STAFF_ROLES.has(p.role)) throw Problem.notFound('No such organisation.');
  if ((await getOrganisation(db, organisationId)) === undefined) throw Problem.notFound('No such organisation.');
}

/** Its members (any role of the organisation) and CA staff see it; anyone else gets a 404. */
async function readableOrganisation(db: Database, p: Principal, organisationId: string): Promise<Organisation> {
  const member = ORGANISATION_ROLES.has(p.role) && p.organisationId === organisationId;
  if (!member && !STAFF_ROLES.has(p.role)) throw Problem.notFound('No such organisation.');
  const org = await getOrganisation(db, organisationId);
  if (org === undefined) throw Problem.notFound('No such organisation.');
  return org;
}

function organisationRoutes(deps: PeopleDeps): AnyRoute[] {
  const { db } = deps;
  const organisationJson = { 'application/json': { schema: OrganisationSchema } };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/organisations/{id}',
      summary: "The organisation's profile (name, SIRET, postal address): its members and CA staff",
      tags: ['organisations'],
      access: ['customer', 'agent', 'org_admin', 'ra_operator', 'dra_operator', 'auditor', 'admin'],
      params: OrgParams,
      responses: {
        200: { description: 'The organisation', content: organisationJson },
        401: problemResponse('No or bad credentials'),
        404: problemResponse('No such organisation, or not yours'),
      },
      async handle({ res, params, principal }) {
        res.json(organisationView(await readableOrganisation(db, principal, params.id)));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/organisations/{id}',
      summary: "Correct the organisation's name and/or postal address: its admin, or CA staff (recorded in the audit chain)",
      tags: ['organisations'],
      // The RA operator corrects what it finds wrong while reviewing a file (e.g. the Kbis shows another address).
      access: ['org_admin', 'ra_operator', 'admin'],
      params: OrgParams,
      body: OrganisationChange,
      responses: {
        200: { description: 'The organisation as it now is', content: organisationJson },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such organisation, or not yours'),
      },
      async handle({ res, params, body, principal }) {
        await visibleOrganisation(db, principal, params.id);
        const change = { ...(body.name !== undefined ? { name: body.name } : {}), ...(body.address !== undefined ? { address: body.address } : {}) };
        const updated = await updateOrganisation(db, params.id, change, principal);
        if (updated === undefined) throw Problem.notFound('No such organisation.');
        res.json(organisationView(updated));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/organisations/{id}/users',
      summary: "Create the account of a future holder (pending until activated from the emailed link); the organisation's admin or its certification agent",
      tags: ['organisations'],
      // The agent orders for people of its organisation (SPEC §1): the one it orders for may not have an account yet.
      access: ['org_admin', 'agent'],
      params: OrgParams,
      body: NewMemberBody,
      responses: {
        201: { description: 'The account, pending activation', content: { 'application/json': { schema: MemberSchema } } },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such organisation, or not yours'),
        409: problemResponse('The email address already has an account'),
      },
      async handle({ res, params, body, principal }) {
        // Only its own admin or agent: staff do not create customer accounts, and another tenant's id is not disclosed.
        if (principal.organisationId !== params.id) throw Problem.notFound('No such organisation.');
        await visibleOrganisation(db, principal, params.id);
        const email = body.email.trim();
        const taken = (): Problem => Problem.conflict('email-in-use', 'This email address already has an account.');
        if ((await findUserByEmail(db, email)) !== undefined) throw taken();
        const user = await createPendingMember(db, {
          organisationId: params.id,
          email,
          givenName: body.givenName,
          surname: body.surname,
          phone: body.phone ?? null,
          language: body.language,
        });
        if (user === undefined) throw taken();
        await issueActivation({ db, notifier: deps.services.notifier, publicBaseUrl: deps.publicBaseUrl }, user);
        res.status(201).json(memberView(user));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/organisations/{id}/users',
      summary: "The organisation's people: its admin and its certification agents (who order for them), CA staff and auditors",
      tags: ['organisations'],
      access: ['org_admin', 'agent', 'ra_operator', 'dra_operator', 'auditor', 'admin'],
      params: OrgParams,
      responses: {
        200: { description: 'The accounts, oldest first', content: { 'application/json': { schema: z.object({ items: z.array(MemberSchema) }) } } },
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such organisation, or not yours'),
      },
      async handle({ res, params, principal }) {
        await visibleOrganisation(db, principal, params.id);
        res.json({ items: (await listMembers(db, params.id)).map(memberView) });
      },
    }),
  ];
}
