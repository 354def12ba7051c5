/**
 * The contract between the API, the worker and the workflows: ids, task queue defaults, search attributes,
 * updates and queries. Pure: importable by the workflow bundle and by the client side alike.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { OrderView } from '../domain/order.js';

export const orderWorkflowId = (orderId: string): string => `order-${orderId}`;

export const SEARCH_ATTRIBUTES = {
  status: defineSearchAttributeKey('CertFlowStatus', SearchAttributeType.KEYWORD),
  product: defineSearchAttributeKey('CertFlowProduct', SearchAttributeType.KEYWORD),
  organisation: defineSearchAttributeKey('CertFlowOrganisation', SearchAttributeType.KEYWORD),
  waitingOn: defineSearchAttributeKey('CertFlowWaitingOn', SearchAttributeType.KEYWORD),
} as const;

/** Every search attribute the project registers on its Temporal namespace (dev server, compose, tests). */
export const SEARCH_ATTRIBUTE_KEYS = Object.values(SEARCH_ATTRIBUTES);

/** Answers once the order is recorded in the read model, with its view; the API waits on it after a start. */
export const registeredUpdate = defineUpdate<OrderView>('registered');
/** The whole state of the order, at any moment. */
export const stateQuery = defineQuery<OrderView>('state');
