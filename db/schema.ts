/**
 * The relational side of CertFlow. Temporal holds each order's durable state; these tables hold accounts,
 * documents, certificates, messages sent, and a read model of every order that the workflows keep up to date.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgSequence, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { OrderView } from '../domain/order.js';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const organisations = pgTable('organisations', {
  id: uuid('id').primaryKey(),
  siret: text('siret').notNull().unique(),
  name: text('name').notNull(),
  /**
   * The postal address (SPEC §8). Nullable: organisations made before it was asked for (or by the CLI without it)
   * have none until their admin or CA staff give it.
   */
  street: text('street'),
  postalCode: text('postal_code'),
  /** The town (L=) of a TLS or seal certificate's subject; a person's certificate does not carry it. */
  locality: text('locality'),
  /** Public administrations may only pay by purchase order. */
  publicAdministration: boolean('public_administration').notNull().default(false),
  createdAt: createdAt(),
});

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    role: text('role').notNull(),
    organisationId: uuid('organisation_id').references(() => organisations.id),
    givenName: text('given_name').notNull().default(''),
    surname: text('surname').notNull().default(''),
    phone: text('phone'),
    language: text('language').notNull().default('fr'),
    /** `pending` until the emailed activation link is used; `active`; `disabled` by an admin. Keys work only when active. */
    status: text('status').notNull().default('active'),
    /** scrypt hash of the password (`scrypt$N$r$p$salt$hash`, base64); null for accounts that use API keys only. */
    passwordHash: text('password_hash'),
    /** Consecutive failed logins; at the limit the account is locked until `lockedUntil`. */
    failedLogins: integer('failed_logins').notNull().default(0),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    /**
     * Staff only (ra_operator, dra_operator, auditor, admin): whether this account's API keys work. Off unless an
     * admin allowed it (PATCH /v1/admin/users/{id}, or the CLI's --api-access): a key is one factor, and staff who
     * cause issuance sign in with two (db/second-factor.ts). Customers' keys ignore it.
     */
    staffApiAccess: boolean('staff_api_access').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_email_unique').on(sql`lower(${t.email})`), index('users_organisation_idx').on(t.organisationId)],
);

/**
 * Single-use links sent by mail: account activation and password reset. Only a SHA-256 of the 256-bit token is kept;
 * a link is used once (usedAt set atomically) and expires.
 */
export const accountTokens = pgTable(
  'account_tokens',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    purpose: text('purpose').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('account_tokens_user_idx').on(t.userId, t.purpose)],
);

/** The agent mandate (mandat de mandataire) of an account: granted by an admin once the signed contract is on file. */
export const agentMandates = pgTable('agent_mandates', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id),
  /** The signed contract, stored content-addressed like evidence (data/documents). */
  contractSha256: text('contract_sha256').notNull(),
  contractMediaType: text('contract_media_type').notNull(),
  grantedByUserId: uuid('granted_by_user_id')
    .notNull()
    .references(() => users.id),
  grantedAt: timestamp('granted_at', { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** Partner codes: each restricts the catalog to some products, or discounts it, or both. */
export const partnerCodes = pgTable('partner_codes', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  /** Null: every product. */
  products: text('products').array(),
  discountPercent: integer('discount_percent').notNull().default(0),
  active: boolean('active').notNull().default(true),
  createdAt: createdAt(),
});

/** Quote numbers: from a sequence, so two quotes never share one, whatever the concurrency. */
export const quoteNumbers = pgSequence('quote_numbers', { startWith: 1 });

/** Numbered quotes (devis): `D-<year>-<000001>`, the number from `quote_numbers`. */
export const quotes = pgTable('quotes', {
  id: uuid('id').primaryKey(),
  number: text('number').notNull().unique(),
  siret: text('siret').notNull(),
  organisationName: text('organisation_name'),
  product: text('product').notNull(),
  durationYears: integer('duration_years').notNull(),
  quantity: integer('quantity').notNull(),
  partnerCode: text('partner_code'),
  unitPriceCents: integer('unit_price_cents').notNull(),
  discountPercent: integer('discount_percent').notNull().default(0),
  totalCents: integer('total_cents').notNull(),
  validUntil: timestamp('valid_until', { withTimezone: true }).notNull(),
  requestedByUserId: uuid('requested_by_user_id').references(() => users.id),
  createdAt: createdAt(),
});

export const apiKeys = pgTable('api_keys', {
  /** The public part of the key, shown in its prefix; lets a lookup find the row without scanning hashes. */
  id: text('id').primaryKey(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id),
  /** SHA-256 of the whole key: keys are 256-bit random, so a fast hash is safe here (passwords get a slow one). */
  secretHash: text('secret_hash').notNull(),
  label: text('label'),
  createdAt: createdAt(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey(),
    workflowId: text('workflow_id').notNull().unique(),
    product: text('product').notNull(),
    status: text('status').notNull(),
    waitingOn: text('waiting_on').notNull(),
    holderUserId: uuid('holder_user_id')
      .notNull()
      .references(() => users.id),
    orderedByUserId: uuid('ordered_by_user_id')
      .notNull()
      .references(() => users.id),
    organisationId: uuid('organisation_id')
      .notNull()
      .references(() => organisations.id),
    view: jsonb('view').$type<OrderView>().notNull(),
    version: integer('version').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('orders_organisation_created_idx').on(t.organisationId, t.createdAt, t.id),
    // GET /v1/orders newest first for staff (and a customer's, filtered): an index scan, not a sort of every order.
    index('orders_created_idx').on(t.createdAt, t.id),
    index('orders_status_idx').on(t.status, t.createdAt),
    index('orders_holder_idx').on(t.holderUserId),
  ],
);

export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    documentType: text('document_type').notNull(),
    /** Content address: the file is stored once under its SHA-256 and never overwritten. */
    sha256: text('sha256').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    mediaType: text('media_type').notNull(),
    originalName: text('original_name'),
    uploadedByUserId: uuid('uploaded_by_user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('documents_order_idx').on(t.orderId)],
);

export const certificateAuthorities = pgTable('certificate_authorities', {
  /** Stable name, e.g. `persons-root`, `persons-issuing`. */
  id: text('id').primaryKey(),
  family: text('family').notNull(),
  parentId: text('parent_id'),
  subject: text('subject').notNull(),
  certificatePem: text('certificate_pem').notNull(),
  /**
   * The CKA_LABEL of its private key on the PKCS#11 token (certflow-root for a root, certflow-ca for an issuing CA):
   * the key never leaves the token, this row holds only the certificate. Null on a CA made before the keys moved to
   * the token (its key was sealed in a column dropped since): such a CA cannot sign (`npm run ceremony`).
   */
  keyLabel: text('key_label'),
  createdAt: createdAt(),
});

/**
 * Each CA's delegated OCSP responder (RFC 6960 §4.2.2.2): a certificate the CA signed for a key of the certflow-ocsp
 * token (id-kp-OCSPSigning, id-pkix-ocsp-nocheck), so the API answers OCSP without any CA key. One current responder
 * per CA, replaced by `npm run ceremony -- renew-ocsp`.
 */
export const ocspResponders = pgTable('ocsp_responders', {
  caId: text('ca_id')
    .primaryKey()
    .references(() => certificateAuthorities.id),
  /** The CKA_LABEL of its private key on the certflow-ocsp token. */
  keyLabel: text('key_label').notNull(),
  certificatePem: text('certificate_pem').notNull(),
  notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
  createdAt: createdAt(),
});

export const certificates = pgTable(
  'certificates',
  {
    /** Serial number, lower-case hex. */
    serial: text('serial').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    /**
     * Workflow id and step. The row is reserved (serial, subject, validity, key) under this unique key before anything
     * is signed, so a retried or concurrent issuance finds the reservation and never signs a second certificate.
     */
    issuanceKey: text('issuance_key').notNull().unique(),
    issuingCa: text('issuing_ca').notNull(),
    profile: text('profile').notNull(),
    subject: text('subject').notNull(),
    /** Base64 DER SubjectPublicKeyInfo of the certified key. */
    publicKeySpki: text('public_key_spki').notNull(),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
    /** Null while only reserved. */
    pem: text('pem'),
    /**
     * reserved → valid → revoked (final); valid ⇄ held (certificateHold, not for TLS; lifting it gives valid again);
     * held → revoked. A held certificate is listed in CRLs and answered revoked by OCSP until the hold is lifted.
     */
    status: text('status').notNull().default('reserved'),
    /** When revoked or put on hold; cleared when a hold is lifted. */
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** The RFC 5280 reason name (domain/revocation.ts); certificateHold while held. */
    revocationReason: text('revocation_reason'),
    createdAt: createdAt(),
  },
  (t) => [
    index('certificates_order_idx').on(t.orderId),
    // Finding the certificates already issued for a key (a key reused across orders, or a compromised one). Hash:
    // equality is the only lookup, and a large RSA key's base64 would not fit a btree entry.
    index('certificates_public_key_spki_idx').using('hash', t.publicKeySpki),
    // What a CRL lists: the revoked and held certificates of one CA, the expired ones left out.
    index('certificates_revoked_idx')
      .on(t.issuingCa, t.notAfter)
      .where(sql`${t.status} in ('revoked', 'held')`),
  ],
);

/** Every CRL (and root ARL) published, kept: the latest of a CA is the one served until its nextUpdate nears. */
export const crls = pgTable(
  'crls',
  {
    caId: text('ca_id').notNull(),
    /** The CRL number extension: strictly increasing per CA (RFC 5280 §5.2.3). */
    crlNumber: integer('crl_number').notNull(),
    thisUpdate: timestamp('this_update', { withTimezone: true }).notNull(),
    nextUpdate: timestamp('next_update', { withTimezone: true }).notNull(),
    /** The signed CRL, base64 DER. */
    der: text('der').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.caId, t.crlNumber] })],
);

/** The (mock) hardware token personalised for a holder: its key pair and unlock PIN, both encrypted at rest. */
export const tokens = pgTable('tokens', {
  id: uuid('id').primaryKey(),
  orderId: uuid('order_id')
    .notNull()
    .references(() => orders.id),
  /** Workflow id and step: one token per order however often personalisation is retried. */
  personalisationKey: text('personalisation_key').notNull().unique(),
  /** The PKCS#11 token's label (activities/ca/token.ts tokenLabel); null only on rows of the former software mock. */
  tokenLabel: text('token_label').unique(),
  /** When a process last set out to initialise the token (real clock): a worker older than that may not see it. */
  tokenInitAt: timestamp('token_init_at', { withTimezone: true }),
  /** The holder's public key (SPKI, base64) read from the token; null while the row is pending, before the key exists. */
  publicKeySpki: text('public_key_spki'),
  /** Former software mock only: the key now never leaves the token, and nothing writes this column any more. */
  encryptedPrivateKey: text('encrypted_private_key'),
  encryptedPin: text('encrypted_pin').notNull(),
  /** The token's security officer PIN (the RA's unblock code), sealed; null only on the former mock's rows. */
  encryptedSoPin: text('encrypted_so_pin'),
  /** Set once, atomically, when the PIN is shown: it is shown only once (a PIN reset clears it for the new PIN). */
  pinRevealedAt: timestamp('pin_revealed_at', { withTimezone: true }),
  /** The key of the last PIN reset (token unblock): a retry under the same key does not draw another PIN. */
  pinResetKey: text('pin_reset_key'),
  createdAt: createdAt(),
});

export const sentMessages = pgTable(
  'sent_messages',
  {
    id: uuid('id').primaryKey(),
    /** Workflow id and step: one message per event, whatever the retries. */
    idempotencyKey: text('idempotency_key').notNull().unique(),
    channel: text('channel').notNull(),
    recipient: text('recipient').notNull(),
    template: text('template').notNull(),
    language: text('language').notNull(),
    orderId: uuid('order_id').references(() => orders.id),
    /** pending until the provider (or the outbox) took it, then sent. */
    status: text('status').notNull().default('pending'),
    subject: text('subject'),
    providerId: text('provider_id'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('sent_messages_order_idx').on(t.orderId)],
);

/** Every attempt on an order, accepted or refused, with who made it: the audit trail's raw material. */
export const orderEvents = pgTable(
  'order_events',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id').notNull(),
    actorUserId: uuid('actor_user_id'),
    actorRole: text('actor_role').notNull(),
    action: text('action').notNull(),
    outcome: text('outcome').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('order_events_order_idx').on(t.orderId, t.createdAt)],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    key: text('key').notNull(),
    /** SHA-256 of the canonical request: the same key with another body is refused. */
    requestHash: text('request_hash').notNull(),
    resourceId: uuid('resource_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] })],
);

/**
 * The tamper-evident audit log (db/audit-log.ts): one row per decision, refused attempt, document, message and
 * certificate event, each carrying the SHA-256 of the previous row. `seq` is assigned under a lock as the previous
 * row's seq + 1, not from a sequence, so a missing number always means a deleted row (a sequence leaves gaps on rollback).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull(),
    kind: text('kind').notNull(),
    orderId: uuid('order_id'),
    actorUserId: uuid('actor_user_id'),
    actorRole: text('actor_role'),
    action: text('action').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_log_order_idx').on(t.orderId, t.seq)],
);

/**
 * Rate-limit counters shared by every API process (api/rate-limits.ts, rate-limiter-flexible's Drizzle store): one
 * row per limit and hashed client or account key, its points in the current window and when that window ends.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    points: integer('points').notNull().default(0),
    expire: timestamp('expire', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('rate_limits_expire_idx').on(t.expire)],
);

/**
 * Closed Temporal runs kept past the namespace's retention (db/history-archive.ts): each run's full event history
 * as `temporal workflow show --output json` writes it, payloads still encoded (encrypted) as Temporal holds them,
 * gzipped; `sha256` is of the uncompressed JSON and is written into the audit log with the row. One row per run.
 */
export const historyArchive = pgTable(
  'history_archive',
  {
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    workflowType: text('workflow_type').notNull(),
    status: text('status').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }),
    closedAt: timestamp('closed_at', { withTimezone: true, precision: 3 }).notNull(),
    eventCount: integer('event_count').notNull(),
    /** gzip of the history's JSON, base64 (one text column reads the same through postgres.js and PGlite). */
    historyGzip: text('history_gzip').notNull(),
    sha256: text('sha256').notNull(),
    auditSeq: bigint('audit_seq', { mode: 'number' }).notNull(),
    archivedAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.runId] }), index('history_archive_closed_idx').on(t.closedAt)],
);

/**
 * A staff account's second factor (TOTP, RFC 6238; db/second-factor.ts). The secret is sealed under
 * `derive('second-factor')` with the user id bound in. `enrolledAt` null: an enrolment shown but not yet confirmed
 * with a code (the secret is replaced each time enrolment starts again). `lastTimeStep`: the 30-second step of the last
 * code accepted, so the same code (or an earlier one) is never accepted twice.
 */
export const staffSecondFactors = pgTable('staff_second_factors', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id),
  sealedSecret: text('sealed_secret').notNull(),
  enrolledAt: timestamp('enrolled_at', { withTimezone: true }),
  lastTimeStep: bigint('last_time_step', { mode: 'number' }),
  createdAt: createdAt(),
});

/** Single-use recovery codes of a staff account's second factor: only an HMAC of each is kept; `usedAt` set once. */
export const staffRecoveryCodes = pgTable(
  'staff_recovery_codes',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    codeHash: text('code_hash').notNull().unique(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('staff_recovery_codes_user_idx').on(t.userId)],
);

/**
 * ACME (RFC 8555, api/acme/): the nonces every API process hands out and takes back once. A nonce is 128 random bits;
 * `consumeNonce` deletes its row, so a replay finds nothing whichever process it reaches.
 */
export const acmeNonces = pgTable(
  'acme_nonces',
  {
    nonce: text('nonce').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('acme_nonces_expires_idx').on(t.expiresAt)],
);

/**
 * ACME external account binding keys (RFC 8555 §7.3.4): each bound to one organisation the RA validated and one TLS
 * product. Checking the MAC needs the key itself, so it is sealed under `derive('acme-eab')` with the kid bound in
 * (config/secrets.ts), never stored in clear; it is shown once, when made.
 */
export const acmeEabKeys = pgTable(
  'acme_eab_keys',
  {
    kid: text('kid').primaryKey(),
    organisationId: uuid('organisation_id')
      .notNull()
      .references(() => organisations.id),
    product: text('product').notNull(),
    sealedHmacKey: text('sealed_hmac_key').notNull(),
    createdByUserId: uuid('created_by_user_id').references(() => users.id),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('acme_eab_keys_organisation_idx').on(t.organisationId)],
);

/** ACME accounts: a public key (its RFC 7638 thumbprint unique), the EAB key it was bound with, and so its organisation. */
export const acmeAccounts = pgTable(
  'acme_accounts',
  {
    id: uuid('id').primaryKey(),
    jwkThumbprint: text('jwk_thumbprint').notNull().unique(),
    jwk: jsonb('jwk').$type<Record<string, unknown>>().notNull(),
    /** valid, deactivated (by its holder) or revoked (by staff, or when its EAB key is revoked). */
    status: text('status').notNull().default('valid'),
    contact: jsonb('contact').$type<string[]>().notNull().default([]),
    eabKid: text('eab_kid')
      .notNull()
      .references(() => acmeEabKeys.kid),
    organisationId: uuid('organisation_id')
      .notNull()
      .references(() => organisations.id),
    product: text('product').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('acme_accounts_eab_idx').on(t.eabKid)],
);

/** An ACME challenge as kept with its authorization: its token, and what the CA's check saw. */
export interface AcmeChallengeState {
  readonly type: 'http-01' | 'dns-01';
  readonly token: string;
  readonly status: 'pending' | 'processing' | 'valid' | 'invalid';
  readonly validatedAt?: string;
  readonly evidence?: string;
  readonly error?: { readonly type: string; readonly detail: string };
}

/**
 * ACME orders (RFC 8555 §7.1.3): the identifiers asked for, their authorizations, and once finalized the CertFlow
 * order (orders.id) that issues the certificate.
 */
export const acmeOrders = pgTable(
  'acme_orders',
  {
    id: uuid('id').primaryKey(),
    accountId: uuid('account_id')
      .notNull()
      .references(() => acmeAccounts.id),
    /** pending, ready, processing, valid, invalid (RFC 8555 §7.1.6). */
    status: text('status').notNull(),
    identifiers: jsonb('identifiers').$type<{ type: 'dns'; value: string }[]>().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    certflowOrderId: uuid('certflow_order_id'),
    error: jsonb('error').$type<{ type: string; detail: string }>(),
    createdAt: createdAt(),
  },
  (t) => [index('acme_orders_account_idx').on(t.accountId, t.createdAt)],
);

/** One identifier's authorization in an ACME order, with its challenges. */
export const acmeAuthorizations = pgTable(
  'acme_authorizations',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => acmeOrders.id),
    /** The name without its wildcard label. */
    identifier: text('identifier').notNull(),
    wildcard: boolean('wildcard').notNull(),
    /** pending, valid, invalid, deactivated (RFC 8555 §7.1.6). */
    status: text('status').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    challenges: jsonb('challenges').$type<AcmeChallengeState[]>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('acme_authorizations_order_idx').on(t.orderId)],
);

/**
 * A staff decision that a set of certificates be renewed early (an incident: a mis-issuance to reissue within the
 * BR §4.9.1.1 timelines). Each selector given narrows the set; a certificate issued after the advice is never in it
 * (it is the reissue). ACME Renewal Information answers it until renew_by (api/acme/renewal-info.ts).
 */
export const renewalAdvices = pgTable(
  'renewal_advices',
  {
    id: uuid('id').primaryKey(),
    /** Lower-case hex serial numbers; null: any. */
    serials: text('serials').array(),
    /** A TLS product code; null: any. */
    product: text('product'),
    /** Certificates whose notBefore is earlier; null: any. */
    issuedBefore: timestamp('issued_before', { withTimezone: true }),
    renewBy: timestamp('renew_by', { withTimezone: true }).notNull(),
    /** RFC 9773 §4.2 explanationURL: the incident's page, for the subscribers. */
    explanationUrl: text('explanation_url'),
    reason: text('reason').notNull(),
    createdByUserId: uuid('created_by_user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index('renewal_advices_renew_by_idx').on(t.renewBy)],
);
