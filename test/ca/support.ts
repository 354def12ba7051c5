/** What the CA tests share: the secrets, an order row for the foreign keys, openssl on files. */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { loadSecrets, type Secrets } from '../../config/secrets.js';
import { createUser, upsertOrganisation } from '../../db/accounts.js';
import type { Database } from '../../db/client.js';
import { upsertOrderView } from '../../db/orders.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import { newOrderView } from '../../domain/order.js';

/**
 * The run's master key (test/global-setup.ts). The whole run shares one database and so one persons hierarchy: whoever
 * creates it first seals its keys under this key, and a CA under any other key cannot open them.
 */
export const testSecrets = (masterKey: string = inject('masterKey')): Secrets =>
  loadSecrets({ MASTER_KEY: masterKey, DATA_DIR: tmpdir(), embeddedDatabase: false, PAYMENT_WEBHOOK_SECRET: undefined });

export const ACME = { siret: '73282932000074', name: 'ACME' } as const;

/** A minimal order (and its holder and organisation): certificates and tokens reference orders(id). */
export async function insertOrder(db: Database): Promise<string> {
  const org = await upsertOrganisation(db, ACME);
  const user = await createUser(db, { email: `holder-${randomUUID()}@example.test`, role: 'customer', organisationId: org.id, givenName: 'Camille', surname: 'Durand' });
  const orderId = randomUUID();
  const view = newOrderView({
    orderId,
    product: 'ID_RGS_STAR',
    durationYears: 3,
    os: 'windows',
    partnerCode: null,
    holder: { userId: user.id, email: user.email, givenName: user.givenName, surname: user.surname, phone: null, language: 'fr' },
    orderedByUserId: user.id,
    organisation: { id: org.id, siret: org.siret, name: org.name },
    payment: { method: 'card', purchaseOrderNumber: null },
    priceCents: 10500,
    createdAt: new Date().toISOString(),
    deadlines: DEFAULT_DEADLINES,
  });
  await upsertOrderView(db, `order-${orderId}`, view);
  return orderId;
}

export interface OpensslResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the openssl CLI with the given files written to a fresh temporary folder; `{name}` in args is that file. */
export function openssl(args: string[], files: Record<string, string> = {}): OpensslResult {
  const dir = mkdtempSync(join(tmpdir(), 'certflow-ca-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const resolved = args.map((arg) => arg.replace(/^\{(.+)\}$/, (_, name: string) => join(dir, name)));
    const run = spawnSync('openssl', resolved, { encoding: 'utf8' });
    if (run.error) throw run.error;
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Splits a PEM bundle into its certificates. */
export const pemBlocks = (bundle: string): string[] => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
