/**
 * The CA admin's routes (SPEC §1): agent mandates, granted once the signed contract is on file, and partner codes;
 * for staff accounts (issue 16 item 6), whether their API keys work and the reset of their second factor. Every
 * staff change is recorded in the audit chain with the admin who made it. Renewal advices: staff asking for the early
 * renewal of a set of certificates (an incident), which ACME Renewal Information answers.
 */
import { z } from 'zod';
import { getUser } from '../../db/accounts.js';
import type { BlobStore } from '../../db/blob-store.js';
import type { Database } from '../../db/client.js';
import { getMandate, grantMandate, revokeMandate, type MandateRow } from '../../db/mandates.js';
import { createRenewalAdvice } from '../../db/renewal-advice.js';
import { createPartnerCode, listPartnerCodes, setPartnerCodeActive, type PartnerCodeRow } from '../../db/partner-codes.js';
import { getSecondFactor, resetSecondFactor, setStaffApiAccess } from '../../db/second-factor.js';
import { ACME_PRODUCTS } from '../../domain/acme.js';
import { PRODUCT_CODES } from '../../domain/catalog.js';
import { isRole, STAFF_ROLES } from '../../domain/roles.js';
import { readSingleUpload } from '../multipart.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { sendStoredFile } from '../stored-file.js';
import { problemResponse } from '../schemas.js';
import { MAX_EVIDENCE_BYTES } from './order-actions.js';

export interface AdminDeps {
  readonly db: Database;
  readonly blobs: BlobStore;
}

/** The signed contract is checked like evidence: PDF, PNG or JPEG by content, at most 10 MiB. */
const CONTRACT_TYPES = ['application/pdf', 'image/png', 'image/jpeg'] as const;

const UserParams = z.object({ id: z.uuid() });
const CodeParams = z.object({ code: z.string().regex(/^[A-Za-z0-9_-]{2,64}$/) });
const ActiveBody = z.object({ active: z.boolean() }).strict();

const MandateSchema = z
  .object({
    userId: z.uuid(),
    role: z.string(),
    mandate: z.object({
      contractSha256: z.string(),
      contractMediaType: z.string(),
      grantedByUserId: z.uuid(),
      grantedAt: z.iso.datetime(),
      revokedAt: z.iso.datetime().nullable(),
    }),
  })
  .meta({ id: 'AgentMandate' });

const mandateView = (m: MandateRow, role: string): z.infer<typeof MandateSchema> => ({
  userId: m.userId,
  role,
  mandate: {
    contractSha256: m.contractSha256,
    contractMediaType: m.contractMediaType,
    grantedByUserId: m.grantedByUserId,
    grantedAt: m.grantedAt.toISOString(),
    revokedAt: m.revokedAt?.toISOString() ?? null,
  },
});

const PartnerCodeBody = z
  .object({
    // Upper-cased when stored; letters, digits, '-' and '_' only, so that it reads the same in a URL and on paper.
    code: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{2,64}$/, '2 to 64 letters, digits, - or _'),
    name: z.string().trim().min(1).max(200),
    products: z
      .array(z.enum(PRODUCT_CODES))
      .min(1)
      .refine((p) => new Set(p).size === p.length, 'each product once')
      .optional()
      .meta({ description: 'The products the code opens; absent: the whole catalog' }),
    discountPercent: z.number().int().min(0).max(100),
  })
  .strict()
  .meta({ id: 'NewPartnerCode' });

const PartnerCodeSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    products: z.array(z.string()).nullable(),
    discountPercent: z.number().int(),
    active: z.boolean(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'PartnerCode' });

const StaffUserBody = z
  .object({ staffApiAccess: z.boolean().meta({ description: "Whether the staff account's API keys work (off unless an admin allows it)" }) })
  .strict()
  .meta({ id: 'StaffUserChange' });

const StaffUserSchema = z
  .object({
    userId: z.uuid(),
    role: z.string(),
    staffApiAccess: z.boolean(),
    secondFactor: z.enum(['none', 'pending', 'enrolled']).meta({ description: 'none: enrols at next sign-in; pending: enrolment shown, not confirmed' }),
  })
  .meta({ id: 'StaffUser' });

/** How far ahead an advice may ask for renewal: the BR revocation timelines (§4.9.1.1) are days, not months. */
const MAX_ADVICE_DAYS = 30;

const RenewalAdviceBody = z
  .object({
    serials: z
      .array(z.string().regex(/^[0-9A-Fa-f]{1,64}$/, 'a serial number in hex'))
      .min(1)
      .max(10_000)
      .optional()
      .meta({ description: 'Serial numbers in hex' }),
    product: z.enum(ACME_PRODUCTS).optional().meta({ description: 'Every certificate of this TLS product' }),
    issuedBefore: z.iso.datetime({ offset: true }).optional().meta({ description: 'Certificates whose notBefore is earlier' }),
    renewBy: z.iso.datetime({ offset: true }).meta({ description: `When the certificates should be renewed by: ahead, within ${MAX_ADVICE_DAYS} days` }),
    explanationUrl: z
      .url()
      .refine((u) => u.startsWith('https://'), 'an https URL')
      .optional()
      .meta({ description: "The incident's page, given to ACME clients as RFC 9773 explanationURL" }),
    reason: z.string().trim().min(1).max(2000),
  })
  .strict()
  .meta({ id: 'NewRenewalAdvice', description: 'At least one of serials, product, issuedBefore; each one given narrows the set' });

const RenewalAdviceSchema = z
  .object({
    id: z.uuid(),
    renewBy: z.iso.datetime(),
    createdAt: z.iso.datetime(),
    matchedCertificates: z.number().int().meta({ description: 'Certificates in force it matches now (issued before the advice)' }),
  })
  .meta({ id: 'RenewalAdvice' });

const unmet = (path: string, message: string): Problem => Problem.unprocessable('renewal-advice-invalid', `${path}: ${message}`, { errors: [{ path, message }] });

const partnerCodeView = (r: PartnerCodeRow): z.infer<typeof PartnerCodeSchema> => ({
  code: r.code,
  name: r.name,
  products: r.products,
  discountPercent: r.discountPercent,
  active: r.active,
  createdAt: r.createdAt.toISOString(),
});

export function adminRoutes(deps: AdminDeps): AnyRoute[] {
  const { db } = deps;
  /** A staff account, or the problem: 404 no such user, 422 not staff (a customer's keys need no allowance and it has no second factor). */
  const staffUser = async (id: string) => {
    const user = await getUser(db, id);
    if (user === undefined) throw Problem.notFound('No such user.');
    if (!isRole(user.role) || !STAFF_ROLES.has(user.role)) {
      throw Problem.unprocessable('not-staff', 'Only staff accounts (ra_operator, dra_operator, auditor, admin) have a second factor and an API-key allowance.');
    }
    return user;
  };
  const staffView = async (userId: string) => {
    const user = await getUser(db, userId);
    const factor = await getSecondFactor(db, userId);
    return {
      userId,
      role: user?.role ?? '',
      staffApiAccess: user?.staffApiAccess ?? false,
      secondFactor: factor === undefined ? ('none' as const) : factor.enrolledAt === null ? ('pending' as const) : ('enrolled' as const),
    };
  };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/admin/users/{id}',
      summary: "A staff account's API-key allowance and second-factor state",
      tags: ['admin'],
      access: ['admin', 'auditor'],
      params: UserParams,
      responses: {
        200: { description: 'The account', content: { 'application/json': { schema: StaffUserSchema } } },
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such user'),
        422: problemResponse('not-staff'),
      },
      async handle({ res, params }) {
        const user = await staffUser(params.id);
        res.json(await staffView(user.id));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/v1/admin/users/{id}',
      summary: "Allow or stop a staff account's API keys (staff sign in with a second factor; a key is one factor): audited",
      tags: ['admin'],
      access: ['admin'],
      params: UserParams,
      body: StaffUserBody,
      responses: {
        200: { description: 'The account', content: { 'application/json': { schema: StaffUserSchema } } },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such user'),
        422: problemResponse('not-staff'),
      },
      async handle({ res, params, body, principal }) {
        const user = await staffUser(params.id);
        if ((await setStaffApiAccess(db, user.id, body.staffApiAccess, principal)) === undefined) throw Problem.notFound('No such user.');
        res.json(await staffView(user.id));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/users/{id}/second-factor/reset',
      summary: "Reset a staff account's second factor (lost phone): it enrols again at its next sign-in; audited",
      tags: ['admin'],
      access: ['admin'],
      params: UserParams,
      responses: {
        200: { description: 'The account, with no second factor', content: { 'application/json': { schema: StaffUserSchema } } },
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such user'),
        409: problemResponse('no-second-factor: nothing to reset'),
        422: problemResponse('not-staff'),
      },
      async handle({ res, params, principal }) {
        const user = await staffUser(params.id);
        if (!(await resetSecondFactor(db, user.id, principal))) throw Problem.conflict('no-second-factor', 'This account has no second factor to reset.');
        res.json(await staffView(user.id));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/users/{id}/agent-mandate',
      summary: 'Grant the agent mandate to a customer of an organisation (multipart: file, the signed contract; PDF, PNG or JPEG)',
      tags: ['admin'],
      access: ['admin'],
      params: UserParams,
      responses: {
        201: { description: 'The account is now an agent', content: { 'application/json': { schema: MandateSchema } } },
        400: problemResponse('No file, or bad fields'),
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such user'),
        409: problemResponse('The account already holds a mandate'),
        413: problemResponse('File larger than 10 MiB'),
        415: problemResponse('Not a PDF, PNG or JPEG'),
        422: problemResponse('Only a customer of an organisation can be given a mandate'),
      },
      async handle({ req, res, params, principal }) {
        // The body is read first, so that every answer reaches a client still sending its file; the account is
        // checked before anything is stored, so a refusal stores nothing.
        const upload = await readSingleUpload(req, { maxBytes: MAX_EVIDENCE_BYTES, allowedTypes: CONTRACT_TYPES, textFields: [] });
        const user = await getUser(db, params.id);
        if (user === undefined) throw Problem.notFound('No such user.');
        if (user.role === 'agent') throw Problem.conflict('mandate-already-granted', 'This account is already an agent.');
        if (user.role !== 'customer' || user.organisationId === null) {
          throw Problem.unprocessable('mandate-requires-customer', 'Only a customer of an organisation can be given the agent mandate.');
        }
        // Stored first, content-addressed: a blob that ends up unreferenced (a lost race below) is harmless.
        await deps.blobs.put(upload.file.buffer);
        const mandate = await grantMandate(db, {
          userId: user.id,
          contractSha256: upload.file.sha256,
          contractMediaType: upload.file.mediaType,
          grantedByUserId: principal.userId,
        });
        // The role changed between the check and the grant (another admin): nothing was written.
        if (mandate === undefined) throw Problem.conflict('mandate-already-granted', 'This account is no longer a customer without a mandate.');
        res.status(201).json(mandateView(mandate, 'agent'));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/users/{id}/agent-mandate/revoke',
      summary: 'Revoke the agent mandate: the account becomes a customer again',
      tags: ['admin'],
      access: ['admin'],
      params: UserParams,
      responses: {
        200: { description: 'The mandate, revoked', content: { 'application/json': { schema: MandateSchema } } },
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such user'),
        409: problemResponse('The account holds no mandate in force'),
      },
      async handle({ res, params }) {
        const user = await getUser(db, params.id);
        if (user === undefined) throw Problem.notFound('No such user.');
        const revoked = await revokeMandate(db, user.id);
        if (revoked === undefined) throw Problem.conflict('no-mandate', 'This account holds no agent mandate in force.');
        res.json(mandateView(revoked, 'customer'));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/admin/users/{id}/agent-mandate',
      summary: "An account's agent mandate (in force or revoked)",
      tags: ['admin'],
      access: ['admin', 'auditor'],
      params: UserParams,
      responses: {
        200: { description: 'The mandate', content: { 'application/json': { schema: MandateSchema } } },
        404: problemResponse('No such user, or never given a mandate'),
      },
      async handle({ res, params }) {
        const user = await getUser(db, params.id);
        const mandate = user === undefined ? undefined : await getMandate(db, user.id);
        if (user === undefined || mandate === undefined) throw Problem.notFound('No mandate for this account.');
        res.json(mandateView(mandate, user.role));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/admin/users/{id}/agent-mandate/contract',
      summary: 'The signed mandate contract on file, as uploaded',
      tags: ['admin'],
      access: ['admin', 'auditor'],
      params: UserParams,
      responses: { 200: { description: 'The file (PDF, PNG or JPEG)' }, 404: problemResponse('No mandate for this account') },
      async handle({ res, params }) {
        const mandate = await getMandate(db, params.id);
        if (mandate === undefined) throw Problem.notFound('No mandate for this account.');
        await sendStoredFile(res, deps.blobs, { sha256: mandate.contractSha256, mediaType: mandate.contractMediaType, fileName: `agent-mandate-${mandate.userId}` });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/renewal-advice',
      summary: 'Ask for the early renewal of a set of certificates (an incident): ACME renewal information moves their window; audited',
      tags: ['admin'],
      access: ['admin', 'ra_operator'],
      body: RenewalAdviceBody,
      responses: {
        201: { description: 'The advice, and how many certificates it matches', content: { 'application/json': { schema: RenewalAdviceSchema } } },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        422: problemResponse('renewal-advice-invalid: no selector, or renewBy not ahead within 30 days'),
      },
      async handle({ res, body, principal }) {
        if (body.serials === undefined && body.product === undefined && body.issuedBefore === undefined) {
          throw unmet('serials', 'give at least one of serials, product, issuedBefore');
        }
        const renewBy = new Date(body.renewBy);
        const now = Date.now();
        if (renewBy.getTime() <= now || renewBy.getTime() > now + MAX_ADVICE_DAYS * 86_400_000) throw unmet('renewBy', `ahead, within ${MAX_ADVICE_DAYS} days`);
        const { advice, matched } = await createRenewalAdvice(
          db,
          {
            renewBy,
            reason: body.reason,
            ...(body.serials === undefined ? {} : { serials: [...new Set(body.serials.map((s) => s.toLowerCase().replace(/^(00)+(?=.)/, '')))] }),
            ...(body.product === undefined ? {} : { product: body.product }),
            ...(body.issuedBefore === undefined ? {} : { issuedBefore: new Date(body.issuedBefore) }),
            ...(body.explanationUrl === undefined ? {} : { explanationUrl: body.explanationUrl }),
          },
          principal,
        );
        res.status(201).json({ id: advice.id, renewBy: advice.renewBy.toISOString(), createdAt: advice.createdAt.toISOString(), matchedCertificates: matched });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/partner-codes',
      summary: 'Create a partner code: the products it opens and its discount',
      tags: ['admin'],
      access: ['admin'],
      body: PartnerCodeBody,
      responses: {
        201: { description: 'The code', content: { 'application/json': { schema: PartnerCodeSchema } } },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        409: problemResponse('The code exists'),
      },
      async handle({ res, body }) {
        const row = await createPartnerCode(db, { code: body.code, name: body.name, products: body.products ?? null, discountPercent: body.discountPercent });
        if (row === undefined) throw Problem.conflict('partner-code-exists', `The partner code ${body.code.toUpperCase()} already exists.`);
        res.status(201).json(partnerCodeView(row));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/partner-codes/{code}/active',
      summary: 'End a partner code ({"active": false}) or restore it; orders and quotes already made keep it',
      tags: ['admin'],
      access: ['admin'],
      params: CodeParams,
      body: ActiveBody,
      responses: {
        200: { description: 'The code', content: { 'application/json': { schema: PartnerCodeSchema } } },
        400: problemResponse('Bad input'),
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
        404: problemResponse('No such code'),
      },
      async handle({ res, params, body }) {
        const row = await setPartnerCodeActive(db, params.code, body.active);
        if (row === undefined) throw Problem.notFound('No such partner code.');
        res.json(partnerCodeView(row));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/admin/partner-codes',
      summary: 'Every partner code',
      tags: ['admin'],
      access: ['admin', 'auditor'],
      responses: {
        200: { description: 'The codes', content: { 'application/json': { schema: z.object({ items: z.array(PartnerCodeSchema) }) } } },
        401: problemResponse('No or bad credentials'),
        403: problemResponse('Role not allowed'),
      },
      async handle({ res }) {
        res.json({ items: (await listPartnerCodes(db)).map(partnerCodeView) });
      },
    }),
  ];
}
