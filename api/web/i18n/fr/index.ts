/** The French catalogue: every text a French reader sees on a page, section by section. */
import { auth } from './auth.js';
import { common } from './common.js';

export const fr = { ...common, auth };
export type Catalogue = typeof fr;
