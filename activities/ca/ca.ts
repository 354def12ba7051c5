/** The persons CA assembled from its parts; index.ts exposes only the Ca interface. */
import { eq } from 'drizzle-orm';
import type { Secrets } from '../../config/secrets.js';
import type { Database } from '../../db/client.js';
import { certificates } from '../../db/schema.js';
import { CA_FAILURE, refuse } from './errors.js';
import { ensureHierarchy, type Hierarchy } from './hierarchy.js';
import { createIssuer, type IssuedCertificate, type IssueRequest } from './issue.js';
import { createRevoker } from './revoke.js';
import { createMockTokenAdapter } from './token.js';

export interface CaDeps {
  readonly db: Database;
  readonly secrets: Secrets;
  /** The clock of validity periods and reveal times; tests move it. */
  readonly now?: () => Date;
}

export interface Ca {
  /**
   * Creates the `persons-root` (self-signed) and `persons-issuing` CAs when absent; safe when several workers start at
   * once (one hierarchy in the end). Keys ECDSA P-384, stored PKCS#8 sealed with secrets.derive('ca-keys').
   */
  ensureHierarchy(): Promise<void>;
  /** Mock token: an ECDSA P-256 key pair and a random 8-digit PIN, sealed; idempotent on personalisationKey. */
  personaliseToken(req: { personalisationKey: string; orderId: string }): Promise<{ tokenId: string; publicKeySpki: string }>;
  /** Exactly one certificate per issuanceKey whatever the retries, crashes or concurrent calls. */
  issueCertificate(req: IssueRequest): Promise<IssuedCertificate>;
  /** Idempotent; reason is an RFC 5280 reason name (see REVOCATION_REASONS). */
  revokeCertificate(req: { serial: string; reason: string }): Promise<void>;
  /** The PIN of the order's token, decrypted, the first time only; undefined afterwards. */
  revealPinOnce(req: { orderId: string }): Promise<string | undefined>;
  /** PEM of the issuing CA then the root; with a serial, that certificate first (the full chain of an order). */
  chainPem(req?: { serial?: string }): Promise<string>;
}

/** The Ca and the halves of issuance, so a test can leave a reservation unsigned as a dying worker would. */
export function createCaWithInternals(deps: CaDeps) {
  const now = deps.now ?? (() => new Date());
  let loading: Promise<Hierarchy> | undefined;
  // One load per process; a failed one is forgotten so the next activity attempt tries again.
  const hierarchy = (): Promise<Hierarchy> => {
    loading ??= ensureHierarchy({ db: deps.db, secrets: deps.secrets, now }).catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  const issuer = createIssuer({ db: deps.db, now, hierarchy });
  const tokens = createMockTokenAdapter({ db: deps.db, secrets: deps.secrets, now });

  const ca: Ca = {
    async ensureHierarchy() {
      await hierarchy();
    },
    personaliseToken: (req) => tokens.personaliseToken(req),
    issueCertificate: (req) => issuer.issue(req),
    revokeCertificate: createRevoker({ db: deps.db, now }),
    revealPinOnce: (req) => tokens.revealPinOnce(req),
    async chainPem(req) {
      const { root, issuing } = await hierarchy();
      const chain = [issuing.pem, root.pem];
      if (req?.serial !== undefined) {
        const [row] = await deps.db.select({ pem: certificates.pem }).from(certificates).where(eq(certificates.serial, req.serial));
        if (row?.pem == null) throw refuse(CA_FAILURE.certificateNotFound, `no issued certificate ${req.serial}`);
        chain.unshift(row.pem);
      }
      return chain.map((pem) => `${pem.trim()}\n`).join('');
    },
  };
  return { ca, reserveCertificate: async (req: IssueRequest) => (await issuer.reserve(req)).row };
}
