/**
 * The staff second step of /login in a real browser, as a person with an authenticator app does it: the first time,
 * the key is read from the enrolment page and kept (the app's part), the code computed from it with otpauth, the
 * recovery codes read; afterwards the current code is typed. A code is accepted once, so each sign-in of one account
 * types the code of a step not used yet (the next step is accepted too: one step of drift).
 */
import type { Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { catalogue, type Lang } from '../../api/web/i18n/index.js';

const PERIOD_MS = 30_000;

export class Authenticator {
  private readonly secrets = new Map<string, string>();
  private readonly lastStep = new Map<string, number>();
  /** The recovery codes each account was shown at enrolment. */
  readonly recoveryCodes = new Map<string, readonly string[]>();

  secretOf(email: string): string {
    const secret = this.secrets.get(email);
    if (secret === undefined) throw new Error(`${email} has not enrolled in this test`);
    return secret;
  }

  /** A code of a step after the last one used for `email` (waiting for the clock when two steps are used up). */
  async code(email: string): Promise<string> {
    const totp = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(this.secretOf(email)) });
    let now = Math.floor(Date.now() / PERIOD_MS);
    const step = Math.max(now, (this.lastStep.get(email) ?? -1) + 1);
    while (step > now + 1) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      now = Math.floor(Date.now() / PERIOD_MS);
    }
    this.lastStep.set(email, step);
    return totp.generate({ timestamp: step * PERIOD_MS });
  }

  /** An enrolment done outside the browser (over HTTP): its key, and the step its first code used. */
  remember(email: string, secret: string, step: number): void {
    this.secrets.set(email, secret);
    this.lastStep.set(email, step);
  }

  /** The enrolment page's key (shown in groups of four), kept for later sign-ins. */
  async readKey(page: Page, email: string): Promise<string> {
    const shown = (await page.locator('code.totp-secret').textContent()) ?? '';
    const secret = shown.replace(/\s/g, '');
    this.secrets.set(email, secret);
    this.lastStep.delete(email);
    return secret;
  }

  /**
   * After the right password of a staff account (pages in `lang`, French by default, the labels read from its
   * catalogue): enrols the first time (key, code, recovery codes, continue), otherwise types the current code.
   * Resolves once the code was accepted.
   */
  async pass(page: Page, email: string, lang: Lang = 'fr'): Promise<void> {
    const t = catalogue(lang);
    const sf = t.auth.secondFactor;
    const codeLabel = `${t.auth.fields.code} (${t.required})`;
    const heading = page.locator('#second-factor-title');
    await heading.waitFor();
    if ((await heading.getAttribute('data-second-factor')) === 'enrol') {
      await page.locator('code.totp-secret').waitFor();
      await this.readKey(page, email);
      await page.getByLabel(codeLabel).fill(await this.code(email));
      await page.getByRole('button', { name: sf.confirm }).click();
      await page.getByRole('heading', { name: sf.recoveryTitle }).waitFor();
      this.recoveryCodes.set(email, await page.locator('ul.recovery-codes li').allTextContents());
      await page.getByRole('link', { name: sf.continue }).click();
      return;
    }
    await page.getByLabel(codeLabel).fill(await this.code(email));
    await page.getByRole('button', { name: sf.verify }).click();
  }
}
