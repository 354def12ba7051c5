/** The page's boot data (the JSON island the server wrote) and its catalogue, read once. */
import type { Boot } from '../boot.js';
import { catalogue, type Catalogue } from '../i18n/index.js';

const island = document.getElementById('boot');
export const boot: Boot = JSON.parse(island?.textContent ?? '{}') as Boot;
export const t: Catalogue = catalogue(boot.lang);
export const lang = boot.lang;
