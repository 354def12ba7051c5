/** The English catalogue, shaped exactly as the French one (the type checker says which text is missing). */
import type { Catalogue } from '../fr/index.js';
import { auth } from './auth.js';
import { common } from './common.js';
import { newOrder } from './new-order.js';
import { staffConsole } from './console.js';
import { orders } from './orders.js';
import { organisation } from './organisation.js';

export const en: Catalogue = { ...common, auth, newOrder, orders, organisation, console: staffConsole };
