/**
 * CRLs (RFC 5280 §5): a v2 CRL per CA, signed by that CA, listing its revoked and held certificates. An issuing CA's
 * is published by the worker (its key is on the certflow-ca token), at each revocation and on a schedule. A root's
 * list is its ARL, signed by the ceremony only (the roots are offline) with a long nextUpdate: it certifies only its
 * issuing CA, which is never revoked here. Every CRL is stored; the API serves the latest (latestCrl), never signs.
 *
 * Built with asn1-x509 rather than X509CrlGenerator: the generator writes an empty crlEntryExtensions SEQUENCE for an
 * entry without reason code (unspecified), which DER forbids (SIZE (1..MAX)).
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  CertificateList,
  CRLNumber,
  CRLReason,
  Extension,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
} from '@peculiar/asn1-x509';
import { and, desc, eq, gt, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { certificates, crls } from '../../db/schema.js';
import { isRevocationReason, REVOCATION_REASON_CODES } from '../../domain/revocation.js';
import { caIdentity } from './ca-identity.js';
import { caSignatureAlgorithm, serialBytes, signTbs } from './ca-signature.js';
import type { CaId } from '../../lib/pki/ca-ids.js';
import { wholeSeconds, type LoadedCa } from './hierarchy.js';
import { x509 } from '../../lib/pki/x509.js';

/** BR §4.9.7: a subscriber CRL's nextUpdate at most 10 days after thisUpdate; a week leaves margin to republish. */
export const DEFAULT_CRL_VALIDITY_HOURS = 168;
/** BR §4.9.7: a CA certificates' CRL (a root's ARL) at most 12 months; the ceremony renews it well before. */
export const ROOT_CRL_VALIDITY_HOURS = 365 * 24;
/** A CRL this close to its nextUpdate is replaced rather than served, so relying parties never fetch a stale one. */
const REFRESH_MARGIN_MS = 3_600_000;

export interface CrlInfo {
  readonly caId: CaId;
  readonly crlNumber: number;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
}

export interface CrlPublisher {
  /** Signs and stores a new CRL of the CA, numbered one above the last. */
  publish(caId: CaId): Promise<CrlInfo>;
  /** The latest CRL of the CA (DER), a new one published first when there is none or it expires within the hour. */
  current(caId: CaId): Promise<CrlInfo & { der: Buffer }>;
}

export interface CrlPublisherDeps {
  readonly db: Database;
  readonly now: () => Date;
  readonly ca: (id: CaId) => Promise<LoadedCa>;
  readonly validityHours?: number;
}

type CrlRow = typeof crls.$inferSelect;

export function createCrlPublisher(deps: CrlPublisherDeps): CrlPublisher {
  const validityMs = (deps.validityHours ?? DEFAULT_CRL_VALIDITY_HOURS) * 3_600_000;

  async function publishRow(caId: CaId): Promise<CrlRow> {
    const ca = await deps.ca(caId);
    return deps.db.transaction(async (tx) => {
      // One publication of a CA at a time, its number, its list and its row in one step: a CRL numbered above another
      // was read after it, so it never knows less (RFC 5280 §5.2.3), whatever races a revocation's republication.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`certflow-crl:${caId}`}))`);
      const thisUpdate = wholeSeconds(deps.now());
      const nextUpdate = new Date(thisUpdate.getTime() + validityMs);
      const [last] = await tx
        .select({ max: sql<number | null>`max(${crls.crlNumber})` })
        .from(crls)
        .where(eq(crls.caId, caId));
      const crlNumber = (last?.max ?? 0) + 1;
      const entries = await revokedEntries(tx, caId, thisUpdate);
      const der = await signCrl(ca, { crlNumber, thisUpdate, nextUpdate, entries });
      const [row] = await tx.insert(crls).values({ caId, crlNumber, thisUpdate, nextUpdate, der: der.toString('base64') }).returning();
      if (row === undefined) throw new Error(`CRL ${crlNumber} of ${caId} was not stored`);
      return row;
    });
  }

  /**
   * Revoked and held certificates of the CA. An expired one stays until one regularly scheduled CRL has listed it
   * after its expiry (RFC 5280 §3.3), then drops out: the window is one validity period.
   */
  async function revokedEntries(db: Pick<Database, 'select'>, caId: CaId, thisUpdate: Date): Promise<CrlEntry[]> {
    const rows = await db
      .select({ serial: certificates.serial, revokedAt: certificates.revokedAt, reason: certificates.revocationReason })
      .from(certificates)
      .where(
        and(
          eq(certificates.issuingCa, caId),
          // Literal, not bound parameters: the planner then matches the partial index certificates_revoked_idx.
          sql`${certificates.status} in ('revoked', 'held')`,
          gt(certificates.notAfter, new Date(thisUpdate.getTime() - validityMs)),
        ),
      )
      .orderBy(certificates.revokedAt, certificates.serial);
    return rows.map((row) => {
      if (row.revokedAt === null || row.reason === null || !isRevocationReason(row.reason)) {
        throw new Error(`certificate ${row.serial} is revoked without a proper time and reason`);
      }
      return { serial: row.serial, revokedAt: row.revokedAt, reasonCode: REVOCATION_REASON_CODES[row.reason] };
    });
  }

  const info = (row: CrlRow): CrlInfo => ({
    caId: row.caId as CaId,
    crlNumber: row.crlNumber,
    thisUpdate: row.thisUpdate.toISOString(),
    nextUpdate: row.nextUpdate.toISOString(),
  });

  return {
    async publish(caId) {
      return info(await publishRow(caId));
    },

    async current(caId) {
      const [latest] = await deps.db.select().from(crls).where(eq(crls.caId, caId)).orderBy(desc(crls.crlNumber)).limit(1);
      const fresh = latest !== undefined && latest.nextUpdate.getTime() - deps.now().getTime() > REFRESH_MARGIN_MS;
      const row = fresh ? latest : await publishRow(caId);
      return { ...info(row), der: Buffer.from(row.der, 'base64') };
    },
  };
}

/**
 * The latest stored CRL of a CA, DER, whatever its nextUpdate: the API serves it and never signs one. The worker's
 * CRL publisher renews issuing CAs' CRLs daily, a week before they lapse; an overdue one means the worker is down,
 * and a relying party seeing the stale nextUpdate knows it (RFC 5280 §5.1.2.5) rather than getting nothing.
 */
export async function latestCrl(db: Database, caId: CaId): Promise<(CrlInfo & { der: Buffer }) | undefined> {
  const [row] = await db.select().from(crls).where(eq(crls.caId, caId)).orderBy(desc(crls.crlNumber)).limit(1);
  if (row === undefined) return undefined;
  return { caId: row.caId as CaId, crlNumber: row.crlNumber, thisUpdate: row.thisUpdate.toISOString(), nextUpdate: row.nextUpdate.toISOString(), der: Buffer.from(row.der, 'base64') };
}

interface CrlEntry {
  readonly serial: string;
  readonly revokedAt: Date;
  readonly reasonCode: number;
}

async function signCrl(ca: LoadedCa, crl: { crlNumber: number; thisUpdate: Date; nextUpdate: Date; entries: readonly CrlEntry[] }): Promise<Buffer> {
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: caSignatureAlgorithm(),
    issuer: caIdentity(ca).subject,
    thisUpdate: new Time(crl.thisUpdate),
    nextUpdate: new Time(crl.nextUpdate),
    crlExtensions: [
      AsnConvert.parse(new x509.AuthorityKeyIdentifierExtension(ca.keyId, false).rawData, Extension),
      new Extension({ extnID: id_ce_cRLNumber, critical: false, extnValue: new OctetString(AsnConvert.serialize(new CRLNumber(crl.crlNumber))) }),
    ],
  });
  if (crl.entries.length > 0) {
    tbs.revokedCertificates = crl.entries.map(
      (entry) =>
        new RevokedCertificate({
          userCertificate: serialBytes(entry.serial),
          revocationDate: new Time(wholeSeconds(entry.revokedAt)),
          // BR §7.2.2: no reasonCode for unspecified.
          crlEntryExtensions:
            entry.reasonCode === REVOCATION_REASON_CODES.unspecified
              ? undefined
              : [new Extension({ extnID: id_ce_cRLReasons, critical: false, extnValue: new OctetString(AsnConvert.serialize(new CRLReason(entry.reasonCode))) })],
        }),
    );
  }
  const signature = await signTbs(ca, AsnConvert.serialize(tbs));
  const der = Buffer.from(AsnConvert.serialize(new CertificateList({ tbsCertList: tbs, signatureAlgorithm: caSignatureAlgorithm(), signature })));
  // Never store a CRL that does not verify under the CA's own certificate.
  if (!(await new x509.X509Crl(der).verify({ publicKey: ca.certificate }))) throw new Error(`CRL of ${ca.id} does not verify`);
  return der;
}
