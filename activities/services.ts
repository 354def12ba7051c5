/**
 * The side-effect services of a process, built once from the configuration: secrets, the notifier, the CA, the
 * document store. The worker's activities and the API share them.
 */
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { tokenPins } from '../config/pkcs11.js';
import { loadSecrets, type Secrets } from '../config/secrets.js';
import { createBlobStore, type BlobStore } from '../db/blob-store.js';
import type { Database } from '../db/client.js';
import type { CaView } from '../lib/pki/ca-view.js';
import { createCa, type Ca } from './ca/index.js';
import { useSoftHsmConfig } from '../lib/pkcs11/module.js';
import { lazyToken, TOKEN_LABELS, type Pkcs11Settings } from '../lib/pkcs11/session.js';
import { createResponders } from './ca/ocsp-responders.js';
import { createTokenPinReveal } from './ca/token.js';
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
  /** The CA's issuer domain names in CAA records (CAA_IDENTIFIERS), checked before each TLS issuance. */
  readonly caaIdentifiers: readonly string[];
  close(): Promise<void>;
}

export const documentsDir = (dataDir: string): string => join(dataDir, 'documents');

/**
 * The process's PKCS#11 settings: the module, SoftHSM2's configuration (set for the whole process here, before any
 * module loads) and the PINs of its tokens, defaults filled in (config/pkcs11.ts tokenPins).
 */
export function pkcs11Settings(config: Config, secrets: Secrets): Pkcs11Settings {
  useSoftHsmConfig(config.pkcs11.softHsmConf);
  return { modulePath: config.pkcs11.modulePath, softHsmConf: config.pkcs11.softHsmConf, ...tokenPins(config, secrets) };
}

export async function createServices(config: Config, db: Database): Promise<Services> {
  const secrets = loadSecrets(config);
  const notifier = createNotifier({ db, config });
  const ca = createCa({ db, secrets, pkiBaseUrl: config.pkiBaseUrl, pdsUrl: config.pdsUrl, pkcs11: pkcs11Settings(config, secrets) });
  // The issuing CAs and their keys on the token are there before the first issuance (the ceremony made them).
  await ca.ensureHierarchy();
  return {
    secrets,
    notifier,
    ca,
    blobs: createBlobStore(documentsDir(config.DATA_DIR)),
    unlockKey: secrets.derive('unlock-codes'),
    dcv: dcvSettings(config),
    caaIdentifiers: config.CAA_IDENTIFIERS,
    close: () => notifier.close(),
  };
}

/** What the API process holds: the CA through its read-only view (and the token's one-time PIN reveal), no issuer. */
export interface ApiServices extends Omit<Services, 'ca' | 'dcv' | 'caaIdentifiers'> {
  readonly ca: CaView & Pick<Ca, 'revealPinOnce'>;
}

/**
 * The API's services. No CA key, ever: chains and CRLs are read from the stored rows, OCSP answers are signed by the
 * CAs' delegated responders, whose keys are on the certflow-ocsp token, the only token the API opens (ca/view.ts).
 */
export function createApiServices(config: Config, db: Database): ApiServices {
  const secrets = loadSecrets(config);
  const notifier = createNotifier({ db, config });
  const now = (): Date => new Date();
  const pkcs11 = pkcs11Settings(config, secrets);
  const responder = createResponders({ db, now, ocspToken: lazyToken(pkcs11, TOKEN_LABELS.ocsp, pkcs11.ocspPin, 'the API') });
  const tokens = createTokenPinReveal({ db, secrets, now });
  return {
    secrets,
    notifier,
    ca: { ...createCaView({ db, now, responder }), revealPinOnce: (req) => tokens.revealPinOnce(req) },
    blobs: createBlobStore(documentsDir(config.DATA_DIR)),
    unlockKey: secrets.derive('unlock-codes'),
    close: () => notifier.close(),
  };
}
