/** The CA assembled from its parts; index.ts exposes only the Ca interface. */
import type { Secrets } from '../../config/secrets.js';
import type { Database } from '../../db/client.js';
import { isCaId } from '../../lib/pki/ca-ids.js';
import type { CaView } from '../../lib/pki/ca-view.js';
import { lazyToken, TOKEN_LABELS, type Pkcs11Settings } from '../../lib/pkcs11/session.js';
import { FAMILIES } from './families.js';
import { loadHierarchy, type Hierarchy } from './hierarchy.js';
import { createResponders } from './ocsp-responders.js';
import { createIssuer, type IssuedCertificate, type IssueRequest } from './issue.js';
import { createCrlPublisher, type CrlInfo } from './crl.js';
import { createRevoker, type HoldRelease, type Revocation } from './revoke.js';
import { createPkcs11TokenAdapter } from './token.js';
import { createCaView } from './view.js';

export interface CaDeps {
  readonly db: Database;
  readonly secrets: Secrets;
  /** The clock of validity periods and reveal times; tests move it. */
  readonly now?: () => Date;
  /** PKI_HTTP_BASE_URL without a trailing slash, http://: the CRL, OCSP and caIssuers URLs written into certificates. */
  readonly pkiBaseUrl: string;
  /** PDS_URL without a trailing slash, https://: the PKI disclosure statement qualified certificates name (QcPDS). */
  readonly pdsUrl: string;
  /** The PKCS#11 module and PINs: certflow-ca's signs; certflow-ocsp's, when given, lets this Ca answer OCSP too. */
  readonly pkcs11: Pkcs11Settings;
}

/** The whole CA, keys included: the worker's. The API holds its read-only part, CaView (view.ts). */
export interface Ca extends CaView {
  /**
   * Loads the three issuing CAs, their keys on the certflow-ca token (ECDSA P-384, never extractable); refuses when
   * the ceremony has not made them (`npm run ceremony -- init`). A worker never creates a CA.
   */
  ensureHierarchy(): Promise<void>;
  /** The holder's PKCS#11 token (token.ts): its ECDSA P-256 key pair made on it, its 8-digit PIN sealed; idempotent on personalisationKey. */
  personaliseToken(req: { personalisationKey: string; orderId: string }): Promise<{ tokenId: string; publicKeySpki: string }>;
  /** Exactly one certificate per issuanceKey whatever the retries, crashes or concurrent calls. */
  issueCertificate(req: IssueRequest): Promise<IssuedCertificate>;
  /**
   * Idempotent; reason is an RFC 5280 reason name (see REVOCATION_REASONS), certificateHold holds (revoke.ts). The
   * issuing CA's CRL is republished before it returns, a retry included.
   */
  revokeCertificate(req: { serial: string; reason: string }): Promise<Revocation>;
  /** Lifts a certificateHold (revoke.ts) and republishes the issuing CA's CRL. */
  releaseHold(req: { serial: string }): Promise<HoldRelease & { readonly revokedAt: null; readonly reason: null }>;
  /** The PIN of the order's token, decrypted, the first time only; undefined afterwards. */
  revealPinOnce(req: { orderId: string }): Promise<string | undefined>;
  /** A new PIN for a blocked token, idempotent on resetKey (token.ts). */
  resetPin(req: { orderId: string; resetKey: string }): Promise<void>;
  /** Publishes a new CRL of every CA. */
  publishAllCrls(): Promise<CrlInfo[]>;
}

const ISSUING_CA_IDS = Object.values(FAMILIES).map((family) => family.issuing.id);

/** The Ca and the halves of issuance, so a test can leave a reservation unsigned as a dying worker would. */
export function createCaWithInternals(deps: CaDeps) {
  const now = deps.now ?? (() => new Date());
  const caToken = lazyToken(deps.pkcs11, TOKEN_LABELS.ca, deps.pkcs11.caPin, 'this process');
  let loading: Promise<Hierarchy> | undefined;
  // One load per process; a failed one is forgotten so the next activity attempt tries again.
  const hierarchy = (): Promise<Hierarchy> => {
    loading ??= loadHierarchy({ db: deps.db, caToken }).catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  const issuer = createIssuer({ db: deps.db, now, hierarchy, pkiBaseUrl: deps.pkiBaseUrl, pdsUrl: deps.pdsUrl });
  const tokens = createPkcs11TokenAdapter({ db: deps.db, secrets: deps.secrets, now, pkcs11: deps.pkcs11 });
  const revoker = createRevoker({ db: deps.db, now });
  const crls = createCrlPublisher({ db: deps.db, now, ca: async (id) => (await hierarchy()).ca(id) });
  const view = createCaView({ db: deps.db, now, responder: createResponders({ db: deps.db, now, ocspToken: lazyToken(deps.pkcs11, TOKEN_LABELS.ocsp, deps.pkcs11.ocspPin, 'this process') }) });
  /** A status change shows in the CRL of the CA that issued the certificate at once, not at the next scheduled one. */
  const republish = async (issuingCa: string): Promise<void> => {
    if (!isCaId(issuingCa)) throw new Error(`a certificate names an unknown issuing CA ${issuingCa}`);
    await crls.publish(issuingCa);
  };

  const ca: Ca = {
    async ensureHierarchy() {
      await hierarchy();
    },
    personaliseToken: (req) => tokens.personaliseToken(req),
    issueCertificate: (req) => issuer.issue(req),
    async revokeCertificate(req) {
      const revocation = await revoker.revoke(req);
      await republish(revocation.issuingCa);
      return revocation;
    },
    async releaseHold(req) {
      const release = await revoker.releaseHold(req);
      await republish(release.issuingCa);
      return { ...release, revokedAt: null, reason: null };
    },
    revealPinOnce: (req) => tokens.revealPinOnce(req),
    resetPin: (req) => tokens.resetPin(req),
    // The issuing CAs' only: the roots' are the ceremony's (roots offline).
    publishAllCrls: () => Promise.all(ISSUING_CA_IDS.map((caId) => crls.publish(caId))),
    currentCrl: (caId) => view.currentCrl(caId),
    ocspRespond: (request) => view.ocspRespond(request),
    chainPem: async (req) => {
      // The chain is read from the stored rows: the hierarchy is made first, as before, so a fresh CA has rows.
      await hierarchy();
      return view.chainPem(req);
    },
    caCertificates: async () => {
      await hierarchy();
      return view.caCertificates();
    },
  };
  return { ca, hierarchy, reserveCertificate: async (req: IssueRequest) => (await issuer.reserve(req)).row };
}
