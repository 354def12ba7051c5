/**
 * What the customer area's order page reads besides the order itself (SPEC §9): who the CA is (where a transfer or a
 * cheque goes), the order form to sign as a PDF of its own (the same document the confirmation mail attaches), and
 * the content of the issued certificate the holder is asked to accept.
 */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { orderFormFileName, buildOrderForm } from '../../lib/documents/order-form.js';
import { formatIban, postalAddressLines, type CaIdentity } from '../../config/ca-identity.js';
import { getOrganisation, getUser, holderOf, orderOrganisationOf, userLanguage } from '../../db/accounts.js';
import { latestCertificateOfOrder } from '../../db/certificates.js';
import type { Database } from '../../db/client.js';
import { pageLinks } from '../../domain/pages.js';
import { ROLES } from '../../domain/roles.js';
import { visibleOrder } from '../order-updates.js';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

export interface CustomerAreaDeps {
  readonly db: Database;
  readonly caIdentity: CaIdentity;
  /** Where the order form's footer link leads (the order's page). */
  readonly publicBaseUrl: string;
}

const IdParams = z.object({ id: z.uuid() });
const LangQuery = z.object({ lang: z.enum(['fr', 'en']).optional() });

const CaIdentitySchema = z
  .object({
    tradingName: z.string(),
    legalName: z.string(),
    postalAddress: z.object({ street: z.string(), postalCode: z.string(), locality: z.string(), country: z.string() }),
    postalAddressLines: z.array(z.string()),
    bank: z.object({ accountHolder: z.string(), bankName: z.string(), iban: z.string(), bic: z.string() }),
    support: z.object({ email: z.string(), phone: z.string() }),
  })
  .meta({ id: 'CaIdentity' });

const CertificateContentSchema = z
  .object({
    serial: z.string(),
    subject: z.string(),
    issuer: z.string(),
    names: z.array(z.object({ type: z.enum(['dns', 'email', 'other']), value: z.string() })),
    notBefore: z.iso.datetime(),
    notAfter: z.iso.datetime(),
    fingerprintSha256: z.string(),
  })
  .meta({ id: 'CertificateContent' });

/** `DNS:a, email:b` as Node writes a subjectAltName, read back as a list (a name never holds ", " in these profiles). */
function namesOf(subjectAltName: string | undefined): z.infer<typeof CertificateContentSchema>['names'] {
  if (subjectAltName === undefined || subjectAltName.trim() === '') return [];
  return subjectAltName.split(', ').map((entry) => {
    const at = entry.indexOf(':');
    const kind = entry.slice(0, at);
    const value = entry.slice(at + 1).replace(/^"|"$/g, '');
    return { type: kind === 'DNS' ? 'dns' : kind === 'email' ? 'email' : 'other', value };
  });
}

export function customerAreaRoutes(deps: CustomerAreaDeps): AnyRoute[] {
  const { db } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/v1/ca-identity',
      summary: 'Who the CA is: its name, postal address (cheques, originals), bank account (transfers) and support',
      tags: ['catalog'],
      // The same facts as every order form and mail carries: nothing about any customer.
      access: 'public',
      responses: { 200: { description: 'The CA', content: { 'application/json': { schema: CaIdentitySchema } } } },
      handle({ res }) {
        const id = deps.caIdentity;
        res.setHeader('Cache-Control', 'public, max-age=300');
        res.json({
          tradingName: id.tradingName,
          legalName: id.legalName,
          postalAddress: id.postalAddress,
          postalAddressLines: postalAddressLines(id),
          bank: { ...id.bank, iban: formatIban(id.bank.iban) },
          support: id.support,
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orders/{id}/order-form',
      summary: 'The order form to date, sign and upload back (PDF), as the confirmation mail attaches it',
      tags: ['order actions'],
      // It names the holder (e-mail, mobile): like the evidence, not for an organisation admin.
      access: ROLES.filter((r) => r !== 'org_admin'),
      params: IdParams,
      query: LangQuery,
      responses: { 200: { description: 'The PDF', content: { 'application/pdf': { schema: z.string() } } }, 400: problemResponse('Bad language'), 404: problemResponse('No such order, or not yours') },
      async handle({ res, params, query, principal }) {
        const order = await visibleOrder(db, principal, params.id);
        const view = order.view;
        const [holder, organisation] = await Promise.all([getUser(db, view.holderUserId), getOrganisation(db, view.organisationId)]);
        if (holder === undefined || organisation === undefined) throw Problem.notFound('No such order.');
        const lang = query.lang ?? userLanguage(holder);
        const pdf = await buildOrderForm(
          {
            orderId: view.id,
            product: view.product,
            durationYears: view.durationYears,
            os: view.os,
            partnerCode: view.partnerCode,
            holder: holderOf(holder),
            organisation: orderOrganisationOf(organisation),
            payment: { method: view.payment.method, purchaseOrderNumber: view.payment.purchaseOrderNumber },
            priceCents: view.payment.priceCents,
            createdAt: view.createdAt,
          },
          lang,
          { identity: deps.caIdentity, orderUrl: pageLinks.order(deps.publicBaseUrl, view.id) },
        );
        res.setHeader('Content-Disposition', `inline; filename="${orderFormFileName(view.id, lang)}"`);
        res.type('application/pdf').send(Buffer.from(pdf));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/orders/{id}/certificate/content',
      summary: "What the issued certificate says: subject, names, validity, fingerprint (the holder checks it before accepting)",
      tags: ['order actions'],
      access: ROLES,
      params: IdParams,
      responses: {
        200: { description: 'The certificate, read', content: { 'application/json': { schema: CertificateContentSchema } } },
        404: problemResponse('No certificate (yet), or not yours'),
      },
      async handle({ res, params, principal }) {
        const order = await visibleOrder(db, principal, params.id);
        const cert = order.view.certificateSerial === null ? undefined : await latestCertificateOfOrder(db, order.id);
        if (cert?.pem == null) throw Problem.notFound('This order has no certificate yet.');
        const x = new X509Certificate(cert.pem);
        res.json({
          serial: cert.serial,
          subject: x.subject.split('\n').join(', '),
          issuer: x.issuer.split('\n').join(', '),
          names: namesOf(x.subjectAltName),
          notBefore: cert.notBefore.toISOString(),
          notAfter: cert.notAfter.toISOString(),
          fingerprintSha256: x.fingerprint256,
        });
      },
    }),
  ];
}
