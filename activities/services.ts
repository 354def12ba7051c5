/**
 * The side-effect services of a process, built once from the configuration: secrets, the notifier, the CA, the
 * document store. The worker's activities and the API share them.
 */
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { loadSecrets, type Secrets } from '../config/secrets.js';
import { createBlobStore, type BlobStore } from '../db/blob-store.js';
import type { Database } from '../db/client.js';
import { createCa, type Ca } from './ca/index.js';
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
