/**
 * The staff console in English, in a real browser: an RA operator who chose English (the language cookie the
 * "English" link sets) signs in with the second factor and reads why an order needs attention (the CA refused its
 * key) in the English catalogue's words (api/web/i18n/en/), the date it stopped written in English; the page passes
 * axe-core and fits a 360 px phone. The same check as the French one of console.test.ts, through console-support.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LANG_COOKIE } from '../../api/web/routes.js';
import { DESKTOP, openPage } from '../pages/browser.js';
import { orderTheCaRefuses, readWhyItNeedsAttention, startConsoleStack, type ConsoleStack } from './console-support.js';

let setup: ConsoleStack;

beforeAll(async () => {
  setup = await startConsoleStack();
  return () => setup.close();
});

describe('staff console in English', () => {
  it('an RA operator reads why an order needs attention (the CA refused its key), in English', async () => {
    const refused = await orderTheCaRefuses(setup.driver, 'console-race-en.acme-test.fr');

    const open = await openPage(setup.browser, { viewport: DESKTOP, locale: 'en-GB' });
    const { context, page } = open;
    try {
      await context.addCookies([{ name: LANG_COOKIE, value: 'en', url: setup.stack.baseUrl }]);
      await readWhyItNeedsAttention(page, setup, refused, 'en');
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      expect(open.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
