/** Shared pieces of the notification tests: a sample order, a notifier configuration, the ledger row of a key. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll } from 'vitest';
import { createNotifier, type EmailMessage, type EmailRequest, type Language, type MailContext, type Notifier, type NotifierConfig, type OrderSummary } from '../../activities/notify/index.js';
import { loadConfig } from '../../config/index.js';
import type { Database } from '../../db/client.js';
import { sentMessages } from '../../db/schema.js';
import { checklistFor, priceOf } from '../../domain/catalog.js';
import type { ChecklistItem, DomainChallenge } from '../../domain/order.js';
import { startedForFile } from '../stack-for-file.js';

export function sampleOrder(overrides: Partial<OrderSummary> = {}): OrderSummary {
  const product = overrides.product ?? 'ID_RGS_2STAR';
  const durationYears = overrides.durationYears ?? 3;
  return {
    orderId: randomUUID(),
    product,
    durationYears,
    os: 'windows',
    partnerCode: null,
    holder: { userId: randomUUID(), email: 'camille.durand@example.test', givenName: 'Camille', surname: 'Durand', phone: '+33612345678', language: 'fr' },
    organisation: { id: randomUUID(), siret: '73282932000074', name: 'ACME Études & Conseil', locality: 'Lyon' },
    payment: { method: 'transfer', purchaseOrderNumber: null },
    priceCents: priceOf(product, durationYears),
    createdAt: '2026-03-02T09:30:00.000Z',
    ...overrides,
  };
}

export const checklistOf = (order: OrderSummary): ChecklistItem[] =>
  checklistFor(order.product, { orderedForSomeoneElse: false, paymentMethod: order.payment.method }).map((documentType) => ({ documentType, status: 'missing' }));

/** The demo CA of the embedded defaults, its pages where the test stacks put PUBLIC_BASE_URL's host. */
export const MAIL_CONTEXT: MailContext = { identity: loadConfig({}).caIdentity, publicBaseUrl: 'https://certflow.example' };

const dataDirs: string[] = [];

/** No provider: everything goes to a fresh outbox folder (removed by `removeDataDirs`). */
export function notifierConfig(overrides: Partial<NotifierConfig> = {}): NotifierConfig {
  const dataDir = mkdtempSync(join(tmpdir(), 'certflow-notify-'));
  dataDirs.push(dataDir);
  return {
    SMTP_URL: undefined,
    MAIL_FROM: 'CertFlow <no-reply@certflow.test>',
    STAFF_EMAIL: 'ra-team@certflow.test',
    TWILIO_ACCOUNT_SID: undefined,
    TWILIO_AUTH_TOKEN: undefined,
    TWILIO_FROM: undefined,
    TWILIO_API_URL: undefined,
    DATA_DIR: dataDir,
    caIdentity: MAIL_CONTEXT.identity,
    publicBaseUrl: MAIL_CONTEXT.publicBaseUrl,
    ...overrides,
  };
}

export function removeDataDirs(): void {
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The file's notifier on `database`, configured by `notifierConfig(overrides())` (read at start, after the servers it
 * names started): made before the file's tests, closed after them, the outbox folders removed after it.
 */
export function notifierForFile(database: { readonly db: Database }, overrides: () => Partial<NotifierConfig> = () => ({})): Notifier {
  afterAll(() => removeDataDirs());
  return startedForFile(() => Promise.resolve(createNotifier({ db: database.db, config: notifierConfig(overrides()) })), 'the notifier');
}

export async function ledgerRow(db: Database, idempotencyKey: string) {
  const [row] = await db.select().from(sentMessages).where(eq(sentMessages.idempotencyKey, idempotencyKey));
  return row;
}

export const newKey = (step: string): string => `order-${randomUUID()}/${step}`;

/** The order confirmation of `order` to its holder, under `key`. */
/** A mail to Camille Durand under `key`, its order (if any) not in the read model. */
export const mailToCamille = (key: string, language: Language, message: EmailMessage): EmailRequest => ({
  idempotencyKey: key,
  orderId: null,
  to: 'camille.durand@example.test',
  language,
  message,
});

export const confirmationRequest = (order: OrderSummary, key: string): EmailRequest =>
  mailToCamille(key, 'fr', { template: 'order_confirmation', data: { order, checklist: checklistOf(order) } });

/** A domain's challenges as the CA draws them (activities/dcv): a file on the web site, a TXT record. */
export const httpChallenge: DomainChallenge = {
  domain: 'www.acme.example',
  authorizationDomain: 'www.acme.example',
  method: 'http',
  token: 'q8Zr-Tm3_vX0aLk2YbN7cW1eP5sD9fGhJ4uI6oKwQe',
  createdAt: '2026-04-30T08:00:00Z',
  expiresAt: '2026-05-30T08:00:00Z',
  http: {
    url: 'http://www.acme.example/.well-known/pki-validation/certflow-0f1e2d3c4b5a69788796a5b4c3d2e1f0.txt',
    path: '/.well-known/pki-validation/certflow-0f1e2d3c4b5a69788796a5b4c3d2e1f0.txt',
    content: 'q8Zr-Tm3_vX0aLk2YbN7cW1eP5sD9fGhJ4uI6oKwQe',
  },
};
export const dnsChallenge = (domain: string): DomainChallenge => ({
  domain,
  authorizationDomain: 'acme.example',
  method: 'dns',
  token: 'Hx4_Lp9-Qa2Wz7Ns5Kd1Vb8Rm3Tc6Yf0Ug2Ej5Oi7P',
  createdAt: '2026-04-30T08:00:00Z',
  expiresAt: '2026-05-30T08:00:00Z',
  dns: { recordName: '_certflow-challenge.acme.example', recordType: 'TXT', value: 'Hx4_Lp9-Qa2Wz7Ns5Kd1Vb8Rm3Tc6Yf0Ug2Ej5Oi7P' },
});
