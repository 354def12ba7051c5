/**
 * What the API may know of the CA: its certificates and chains, the current CRLs, OCSP answers. No issuance, no
 * revocation, no token, no CA key: those are the worker's (activities/ca/). The view is built by activities/ca/view.ts;
 * its OCSP answers are signed by delegated responder keys (certflow-ocsp token), never by a CA.
 */
import type { CaFamily, CaId } from './ca-ids.js';

export interface CaCertificate {
  readonly id: CaId;
  readonly family: CaFamily;
  readonly parentId: CaId | null;
  readonly pem: string;
}

export interface CaView {
  /**
   * PEM chain up to the root: with a serial, that certificate then its issuing CA and root (the full chain of an order);
   * with a caId, that CA and its ancestors.
   */
  chainPem(req: { serial: string } | { caId: CaId }): Promise<string>;
  /** Every CA of the hierarchy, roots first. */
  caCertificates(): Promise<CaCertificate[]>;
  /** The CA's latest stored CRL, DER (crl.ts latestCrl): the worker and the ceremony sign them, the view never does. */
  currentCrl(caId: CaId): Promise<Uint8Array>;
  /** A DER OCSPResponse for a DER OCSPRequest (ocsp.ts), signed by the CA's delegated responder; never throws on what the client sent. */
  ocspRespond(request: Uint8Array): Promise<Uint8Array>;
}
