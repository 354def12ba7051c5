/**
 * The relational side of CertFlow. Temporal holds each order's durable state; these tables hold accounts,
 * documents, certificates, messages sent, and a read model of every order that the workflows keep up to date.
 */
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { OrderView } from '../domain/order.js';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const organisations = pgTable('organisations', {
  id: uuid('id').primaryKey(),
  siret: text('siret').notNull().unique(),
  name: text('name').notNull(),
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
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('users_email_unique').on(sql`lower(${t.email})`), index('users_organisation_idx').on(t.organisationId)],
);

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

export const certificates = pgTable(
  'certificates',
  {
    /** Serial number, lower-case hex. */
    serial: text('serial').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    /** Workflow id and step: a retried issuance finds the certificate it already made instead of signing again. */
    issuanceKey: text('issuance_key').notNull().unique(),
    issuingCa: text('issuing_ca').notNull(),
    subject: text('subject').notNull(),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
    pem: text('pem').notNull(),
    status: text('status').notNull().default('valid'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revocationReason: text('revocation_reason'),
    createdAt: createdAt(),
  },
  (t) => [index('certificates_order_idx').on(t.orderId)],
);

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
    providerId: text('provider_id'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('sent_messages_order_idx').on(t.orderId)],
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
