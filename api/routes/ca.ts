/** The CA's public face: its certificates and chains, the CRL of each CA, and the OCSP responder (RFC 6960). */
import type { Response } from 'express';
import { z } from 'zod';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

export interface CaRouteDeps {
  caCertificates(): Promise<readonly { id: string; family: string; parentId: string | null; pem: string }[]>;
  /** PEM of the CA then its parents up to the root. */
  chainPem(caId: string): Promise<string>;
  /** The CA's current CRL (DER), republished when its nextUpdate is near. */
  currentCrl(caId: string): Promise<Uint8Array>;
  /** An OCSP response (DER) for a request (DER); never throws for a malformed request. */
  ocspRespond(request: Uint8Array): Promise<Uint8Array>;
  /** The OCSP answer when the responder itself fails (its database is down…): internalError, unsigned. */
  ocspInternalError(): Uint8Array;
}

/** An OCSP request is a few hundred bytes; anything much larger is not one. */
export const MAX_OCSP_REQUEST_BYTES = 16 * 1024;

const PdsParams = z.object({ lang: z.enum(['en', 'fr']) });

/**
 * The PKI disclosure statement (ETSI EN 319 411-1 §6.9.4, EN 319 412-5 QcPDS): what a relying party needs to know,
 * in short, in the qualified certificates' own words. The full policies are the CA's documents.
 */
const PDS: Record<'en' | 'fr', string> = {
  en: [
    'CertFlow — PKI disclosure statement',
    '',
    'Certificates: TLS server (OV, CA/Browser Forum Baseline Requirements), server client authentication, organisation seal,',
    'and personal certificates (RGS*, RGS**, RGS***, encryption, eIDAS qualified signature on a qualified device).',
    'Identity: checked on documents online (RGS*, encryption), face to face with originals by post (RGS**, RGS***, eIDAS),',
    'organisation and domain control for server certificates.',
    'Status: every certificate names its CRL and OCSP responder; revocation is processed within 24 hours.',
    'Reliance: check the certificate is valid, not revoked, and used for the purposes its key usage allows.',
    'Obligations of the holder: protect the private key and the token PIN; ask for revocation at once if either is compromised.',
    'Contact and revocation requests: through the customer area or the API (POST /v1/certificates/{serial}/revoke).',
    '',
  ].join('\n'),
  fr: [
    'CertFlow — déclaration d’information de l’IGC (PDS)',
    '',
    'Certificats : serveur TLS (OV, exigences de base du CA/Browser Forum), authentification client de serveur, cachet,',
    'et certificats de personne (RGS*, RGS**, RGS***, chiffrement, signature qualifiée eIDAS sur dispositif qualifié).',
    'Identité : vérifiée sur pièces en ligne (RGS*, chiffrement), en face-à-face avec originaux par courrier (RGS**, RGS***, eIDAS),',
    'organisation et contrôle des domaines pour les certificats serveur.',
    'Statut : chaque certificat indique sa LCR et son répondeur OCSP ; une révocation est traitée sous 24 heures.',
    'Confiance : vérifier que le certificat est valide, non révoqué, et utilisé pour les usages de sa clé.',
    'Obligations du porteur : protéger la clé privée et le code PIN du support ; demander la révocation dès leur compromission.',
    'Contact et révocation : depuis l’espace client ou l’API (POST /v1/certificates/{serial}/revoke).',
    '',
  ].join('\n'),
};

const CaParams = z.object({ ca: z.string().regex(/^[a-z]+-(root|issuing)$/) });
const OcspGetParams = z.object({ request: z.string().min(1).max(4096) });

const derOf = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

export function caRoutes(deps: CaRouteDeps): AnyRoute[] {
  async function known(id: string): Promise<{ id: string; family: string; parentId: string | null; pem: string }> {
    const ca = (await deps.caCertificates()).find((c) => c.id === id);
    if (ca === undefined) throw Problem.notFound(`No CA ${id}.`);
    return ca;
  }

  async function answerOcsp(res: Response, request: Uint8Array): Promise<void> {
    let response: Uint8Array;
    try {
      response = await deps.ocspRespond(request);
    } catch {
      // RFC 6960 §2.3: an OCSP client understands internalError, not a problem+json; nothing is cached.
      res.setHeader('Cache-Control', 'no-store');
      res.type('application/ocsp-response').send(Buffer.from(deps.ocspInternalError()));
      return;
    }
    // Responses are signed for a day; caches may keep them a little while.
    res.setHeader('Cache-Control', 'max-age=300, public, no-transform, must-revalidate');
    res.type('application/ocsp-response').send(Buffer.from(response));
  }

  return [
    defineRoute({
      method: 'get',
      path: '/pds/{lang}',
      summary: 'The PKI disclosure statement named by qualified certificates (QcPDS)',
      tags: ['ca'],
      access: 'public',
      params: PdsParams,
      responses: { 200: { description: 'text/plain' }, 404: problemResponse('No such language') },
      handle({ res, params }) {
        res.type('text/plain; charset=utf-8').send(PDS[params.lang]);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/ca',
      summary: 'The CAs: each family (tls, persons, seals) has a root and an issuing CA',
      tags: ['ca'],
      access: 'public',
      responses: { 200: { description: 'The CAs with their links' } },
      async handle({ res }) {
        const cas = await deps.caCertificates();
        res.json({
          items: cas.map((c) => ({
            id: c.id,
            family: c.family,
            parentId: c.parentId,
            certificate: `/v1/ca/${c.id}/certificate`,
            chain: `/v1/ca/${c.id}/chain`,
            crl: `/v1/ca/${c.id}/crl`,
          })),
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/ca/{ca}/chain',
      summary: 'The CA certificate and its parents up to the root (PEM)',
      tags: ['ca'],
      access: 'public',
      params: CaParams,
      responses: { 200: { description: 'application/pem-certificate-chain' }, 404: problemResponse('No such CA') },
      async handle({ res, params }) {
        await known(params.ca);
        res.type('application/pem-certificate-chain').send(await deps.chainPem(params.ca));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/ca/{ca}/certificate',
      summary: 'The CA certificate (DER), as named by the AIA caIssuers of the certificates it signs',
      tags: ['ca'],
      access: 'public',
      params: CaParams,
      responses: { 200: { description: 'application/pkix-cert' }, 404: problemResponse('No such CA') },
      async handle({ res, params }) {
        const ca = await known(params.ca);
        res.type('application/pkix-cert').send(derOf(ca.pem));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/ca/{ca}/crl',
      summary: "The CA's current CRL (DER), refreshed on every revocation and before its nextUpdate",
      tags: ['ca'],
      access: 'public',
      params: CaParams,
      responses: { 200: { description: 'application/pkix-crl' }, 404: problemResponse('No such CA') },
      async handle({ res, params }) {
        await known(params.ca);
        res.setHeader('Cache-Control', 'max-age=300, public, no-transform, must-revalidate');
        res.type('application/pkix-crl').send(Buffer.from(await deps.currentCrl(params.ca)));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/ocsp',
      summary: 'OCSP responder (RFC 6960): body application/ocsp-request, answer application/ocsp-response',
      tags: ['ca'],
      access: 'public',
      responses: { 200: { description: 'application/ocsp-response' }, 415: problemResponse('Not application/ocsp-request') },
      async handle({ req, res }) {
        if (!req.is('application/ocsp-request') || !Buffer.isBuffer(req.body)) {
          throw new Problem(415, 'unsupported-media-type', 'Unsupported media type', 'Send the request as application/ocsp-request.');
        }
        await answerOcsp(res, req.body);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/ocsp/{request}',
      summary: 'OCSP responder, GET form (RFC 6960 appendix A.1): the request DER, base64, URL-encoded',
      tags: ['ca'],
      access: 'public',
      params: OcspGetParams,
      responses: { 200: { description: 'application/ocsp-response' } },
      async handle({ res, params }) {
        // Clients URL-encode the base64 (again): a '%' that starts no escape is left as it is (then not base64, so malformedRequest).
        let request = params.request;
        try {
          request = decodeURIComponent(request);
        } catch {
          // not encoded twice
        }
        await answerOcsp(res, Buffer.from(request, 'base64'));
      },
    }),
  ];
}
