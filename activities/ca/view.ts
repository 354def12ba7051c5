/**
 * The read-only CA view (lib/pki/ca-view.ts): chains and CA certificates read from the stored rows, never from a
 * key; CRLs from the crls table. Two answers are signed, and only they reach a key: an OCSP response (each CA signs
 * its own, ocsp.ts: there is no delegated responder key yet) and a CRL published because none stored has an hour
 * left (crl.ts). The keys come from `signers`, asked only then: the API loads the stored hierarchy without ever
 * creating a CA (hierarchy.ts loadHierarchy); the worker's full CA (ca.ts) passes its own.
 */
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { certificateAuthorities, certificates } from '../../db/schema.js';
import { CA_FAMILIES, CA_IDS, isCaId, type CaFamily, type CaId } from '../../lib/pki/ca-ids.js';
import type { CaCertificate, CaView } from '../../lib/pki/ca-view.js';
import { x509 } from '../../lib/pki/x509.js';
import { createCrlPublisher } from './crl.js';
import { CA_FAILURE, refuse } from './errors.js';
import type { Hierarchy } from './hierarchy.js';
import { createOcspResponder } from './ocsp.js';

export interface CaViewDeps {
  readonly db: Database;
  readonly now: () => Date;
  /** The hierarchy with its signing keys: called for an OCSP answer or a CRL to publish, never for a chain. */
  readonly signers: () => Promise<Hierarchy>;
}

export function createCaView(deps: CaViewDeps): CaView {
  const crls = createCrlPublisher({ db: deps.db, now: deps.now, ca: async (id) => (await deps.signers()).ca(id) });
  const ocsp = createOcspResponder({ db: deps.db, now: deps.now, cas: async () => [...(await deps.signers()).cas.values()] });

  /** The stored CA certificates by id, no key read. */
  async function stored(): Promise<Map<CaId, CaCertificate>> {
    const rows = await deps.db
      .select({ id: certificateAuthorities.id, family: certificateAuthorities.family, parentId: certificateAuthorities.parentId, pem: certificateAuthorities.certificatePem })
      .from(certificateAuthorities);
    const cas = new Map<CaId, CaCertificate>();
    for (const row of rows) {
      if (!isCaId(row.id) || !(CA_FAMILIES as readonly string[]).includes(row.family) || (row.parentId !== null && !isCaId(row.parentId))) {
        throw new Error(`certificate_authorities holds an unknown CA ${row.id} (${row.family} under ${row.parentId ?? 'nothing'})`);
      }
      // The PEM as the x509 library writes it, whatever line breaks the row was stored with.
      const pem = new x509.X509Certificate(row.pem).toString('pem');
      cas.set(row.id, { id: row.id, family: row.family as CaFamily, parentId: row.parentId, pem });
    }
    if (cas.size < CA_IDS.length) throw new Error('the CA hierarchy is not created yet (the worker creates it at its first start)');
    return cas;
  }

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
      return ordered.map((id) => cas.get(id)).filter((ca): ca is CaCertificate => ca !== undefined);
    },
    currentCrl: async (caId) => (await crls.current(caId)).der,
    ocspRespond: (request) => ocsp.respond(request),
  };
}
