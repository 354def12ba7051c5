/**
 * The read-only CA view (lib/pki/ca-view.ts): chains and CA certificates read from the stored rows, CRLs from the
 * crls table as the worker and the ceremony stored them, OCSP answers signed by each CA's delegated responder on the
 * certflow-ocsp token (ocsp-responders.ts). No CA key is ever opened here: the API holds this view and nothing more.
 */
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { certificates } from '../../db/schema.js';
import { CA_IDS, isCaId, type CaId } from '../../lib/pki/ca-ids.js';
import type { CaCertificate, CaView } from '../../lib/pki/ca-view.js';
import { latestCrl } from './crl.js';
import { CA_FAILURE, refuse } from './errors.js';
import { NO_HIERARCHY, storedCas, type CaRecord } from './hierarchy.js';
import { createOcspResponder, type OcspSigner } from './ocsp.js';

export interface CaViewDeps {
  readonly db: Database;
  readonly now: () => Date;
  /** Each CA's delegated OCSP responder (ocsp-responders.ts createResponders), asked only to answer OCSP. */
  readonly responder: (ca: CaRecord) => Promise<OcspSigner>;
}

export function createCaView(deps: CaViewDeps): CaView {
  /** The stored CAs, no key read; an incomplete hierarchy is refused. */
  async function stored(): Promise<Map<CaId, CaRecord>> {
    const cas = await storedCas(deps.db);
    if (cas.size < CA_IDS.length) throw new Error(NO_HIERARCHY);
    return cas;
  }
  const ocsp = createOcspResponder({ db: deps.db, now: deps.now, cas: async () => [...(await stored()).values()], responder: deps.responder });
  const certificateOf = (ca: CaRecord): CaCertificate => ({ id: ca.id, family: ca.family, parentId: ca.parentId, pem: ca.pem });

  return {
    async chainPem(req) {
      const cas = await stored();
      const chain: string[] = [];
      let caId: CaId | null;
      if ('serial' in req) {
        const [row] = await deps.db.select({ pem: certificates.pem, issuingCa: certificates.issuingCa }).from(certificates).where(eq(certificates.serial, req.serial));
        if (row?.pem == null) throw refuse(CA_FAILURE.certificateNotFound, `no issued certificate ${req.serial}`);
        if (!isCaId(row.issuingCa)) throw new Error(`certificate ${req.serial} names an unknown issuing CA ${row.issuingCa}`);
        chain.push(row.pem);
        caId = row.issuingCa;
      } else {
        caId = req.caId;
      }
      for (; caId !== null; ) {
        const ca = cas.get(caId);
        if (ca === undefined) throw new Error(`no CA ${caId} in the hierarchy`);
        chain.push(ca.pem);
        caId = ca.parentId;
      }
      return chain.map((pem) => `${pem.trim()}\n`).join('');
    },
    async caCertificates() {
      const cas = await stored();
      // Roots first, then the issuing CAs, each group in CA_IDS order.
      const ordered = [...CA_IDS.filter((id) => cas.get(id)?.parentId === null), ...CA_IDS.filter((id) => cas.get(id)?.parentId !== null)];
      return ordered.flatMap((id) => {
        const ca = cas.get(id);
        return ca === undefined ? [] : [certificateOf(ca)];
      });
    },
    async currentCrl(caId) {
      const crl = await latestCrl(deps.db, caId);
      if (crl === undefined) throw new Error(`no CRL of ${caId} is stored yet: ${NO_HIERARCHY}`);
      return crl.der;
    },
    ocspRespond: (request) => ocsp.respond(request),
  };
}
