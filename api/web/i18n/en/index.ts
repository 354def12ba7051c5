/** The English catalogue, shaped exactly as the French one (the type checker says which text is missing). */
import type { Catalogue } from '../fr/index.js';
import { auth } from './auth.js';
import { common } from './common.js';
import { staffConsole } from './console.js';
import { orders } from './orders.js';

export const en: Catalogue = { ...common, auth, orders, console: staffConsole };
