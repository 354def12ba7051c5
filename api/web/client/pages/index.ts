/** Each page's view, loaded on its own (one chunk a page set), by the page id the server wrote in the boot data. */
import type { ComponentType } from 'preact';
import type { PageId } from '../../../../domain/pages.js';

export const VIEWS: Partial<Record<PageId, () => Promise<ComponentType>>> = {
  signup: () => import('./auth.js').then((m) => m.Signup),
  activate: () => import('./auth.js').then((m) => m.Activate),
  login: () => import('./auth.js').then((m) => m.Login),
  forgotUsername: () => import('./auth.js').then((m) => m.ForgotUsername),
  forgotPassword: () => import('./auth.js').then((m) => m.ForgotPassword),
  resetPassword: () => import('./auth.js').then((m) => m.ResetPassword),
  newOrder: () => import('./new-order.js').then((m) => m.NewOrder),
  console: () => import('./console/index.js').then((m) => m.Console),
  orders: () => import('./orders.js').then((m) => m.Orders),
  order: () => import('./order.js').then((m) => m.Order),
  organisation: () => import('./organisation.js').then((m) => m.Organisation),
};
