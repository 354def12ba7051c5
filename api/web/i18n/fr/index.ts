/** The French catalogue: every text a French reader sees on a page, section by section. */
import { auth } from './auth.js';
import { common } from './common.js';
import { newOrder } from './new-order.js';
import { staffConsole } from './console.js';
import { orders } from './orders.js';
import { organisation } from './organisation.js';

export const fr = { ...common, auth, newOrder, orders, organisation, console: staffConsole };
export type Catalogue = typeof fr;
