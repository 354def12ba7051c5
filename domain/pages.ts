/**
 * The customer area's and the staff console's pages (SPEC §9): their paths, in one place. The web router serves
 * them, and every link a mail carries is built here, so that no mail can point at a page that does not exist.
 */
export const PAGES = {
  home: '/',
  signup: '/signup',
  activate: '/activate',
  login: '/login',
  forgotUsername: '/forgot-username',
  forgotPassword: '/forgot-password',
  resetPassword: '/reset-password',
  orders: '/orders',
  newOrder: '/orders/new',
  order: '/orders/:id',
  organisation: '/organisation',
  console: '/console/',
} as const;

export type PageId = keyof typeof PAGES;

/** Pages a visitor may open without an account: the rest send to the sign-in page first. */
export const PUBLIC_PAGES: readonly PageId[] = ['home', 'signup', 'activate', 'login', 'forgotUsername', 'forgotPassword', 'resetPassword'];

const join = (base: string, path: string): string => `${base.replace(/\/+$/, '')}${path}`;

/** Absolute links, as mails carry them (`base`: PUBLIC_BASE_URL). */
export const pageLinks = {
  activate: (base: string, token: string) => join(base, `${PAGES.activate}?token=${encodeURIComponent(token)}`),
  resetPassword: (base: string, token: string) => join(base, `${PAGES.resetPassword}?token=${encodeURIComponent(token)}`),
  login: (base: string) => join(base, PAGES.login),
  orders: (base: string) => join(base, PAGES.orders),
  order: (base: string, orderId: string) => join(base, PAGES.order.replace(':id', encodeURIComponent(orderId))),
  /** The new-order page prefilled from an earlier order (the renewal of its certificate). */
  renew: (base: string, orderId: string) => join(base, `${PAGES.newOrder}?renew=${encodeURIComponent(orderId)}`),
  organisation: (base: string) => join(base, PAGES.organisation),
} as const;
