/**
 * The side-effect services of a process, built once from the configuration: secrets, the notifier, the CA, the
 * document store. The worker's activities and the API share them.
 */
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { loadSecrets, type Secrets } from '../config/secrets.js';
import { createBlobStore, type BlobStore } from '../db/blob-store.js';
import type { Database } from '../db/client.js';
import type { CaView } from '../lib/pki/ca-view.js';
import { createCa, type Ca } from './ca/index.js';
import { loadHierarchy, type Hierarchy } from './ca/hierarchy.js';
import { createMockTokenAdapter } from './ca/token.js';
import { createCaView } from './ca/view.js';
import { dcvSettings, type DcvSettings } from './dcv/index.js';
import { createNotifier, type Notifier } from './notify/index.js';

export interface Services {
  readonly secrets: Secrets;
  readonly notifier: Notifier;
  readonly ca: Ca;
  readonly blobs: BlobStore;
  readonly unlockKey: Buffer;
  /** Where domain control is checked from. */
  readonly dcv: DcvSettings;
  close(): Promise<void>;
}

export const documentsDir = (dataDir: string): string => join(dataDir, 'documents');

export async function createServices(config: Config, db: Database): Promise<Services> {
  const secrets = loadSecrets(config);
  const notifier = createNotifier({ db, config });
  const ca = createCa({ db, secrets, publicBaseUrl: config.publicBaseUrl });
  // The CA hierarchy exists before the first issuance (created at first start, then found).
  await ca.ensureHierarchy();
  return {
    secrets,
    notifier,
    ca,
    blobs: createBlobStore(documentsDir(config.DATA_DIR)),
    unlockKey: secrets.derive('unlock-codes'),
    dcv: dcvSettings(config),
    close: () => notifier.close(),
  };
}

/** What the API process holds: the CA through its read-only view (and the token's one-time PIN reveal), no issuer. */
export interface ApiServices extends Omit<Services, 'ca' | 'dcv'> {
  readonly ca: CaView & Pick<Ca, 'revealPinOnce'>;
}

/**
 * The API's services. The CA hierarchy is never created here (the worker makes it) and its keys are unsealed only
 * when an OCSP answer or an overdue CRL must be signed (ca/view.ts), never to read a chain.
 */
export function createApiServices(config: Config, db: Database): ApiServices {
  const secrets = loadSecrets(config);
  const notifier = createNotifier({ db, config });
  let loading: Promise<Hierarchy> | undefined;
  // Loaded once; a failed load (the worker has not made the hierarchy yet) is tried again at the next request.
  const signers = (): Promise<Hierarchy> => {
    loading ??= loadHierarchy({ db, secrets }).catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  const now = (): Date => new Date();
  const tokens = createMockTokenAdapter({ db, secrets, now });
  return {
    secrets,
    notifier,
    ca: { ...createCaView({ db, now, signers }), revealPinOnce: (req) => tokens.revealPinOnce(req) },
    blobs: createBlobStore(documentsDir(config.DATA_DIR)),
    unlockKey: secrets.derive('unlock-codes'),
    close: () => notifier.close(),
  };
}
