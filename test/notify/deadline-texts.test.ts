/**
 * The mails say the delays the order was given (domain/deadlines.ts, travelling in its input), never a number typed
 * into the words: an order whose originals are due in 10 days reads "10 jours" / "10 days".
 */
import { describe, expect, it } from 'vitest';
import { renderEmail, type Language } from '../../activities/notify/index.js';
import { DEFAULT_DEADLINES } from '../../domain/deadlines.js';
import { MAIL_CONTEXT, checklistOf, sampleOrder } from './support.js';

const ref = { orderId: 'ORD-DEADLINES', product: 'ID_RGS_2STAR' } as const;

describe('the delays in the mails', () => {
  it.each([
    ['fr', 'sous 10 jours'],
    ['en', 'within 10 days'],
  ] as [Language, string][])('order confirmation (%s): the originals delay is the order’s', async (lang, expected) => {
    const order = { ...sampleOrder({ product: 'ID_RGS_2STAR' }), deadlines: { ...DEFAULT_DEADLINES, originalsDue: '10 days' } };
    const mail = await renderEmail({ template: 'order_confirmation', data: { order, checklist: checklistOf(order) } }, lang, MAIL_CONTEXT);
    expect(mail.text).toContain(expected);
    expect(mail.text).not.toMatch(/7 (jours|days)/);
  });

  it.each([
    ['fr', 'sous 12 jours'],
    ['en', 'within 12 days'],
  ] as [Language, string][])('review approved without a due date yet (%s): the delay is the order’s', async (lang, expected) => {
    const data = { ...ref, payment: { method: 'cheque', received: false }, originalsDueOn: null, originalsDue: '12 days' } as const;
    const mail = await renderEmail({ template: 'review_approved', data }, lang, MAIL_CONTEXT);
    expect(mail.text).toContain(expected);
  });

  it('a summary without deadlines reads the defaults', async () => {
    const order = sampleOrder({ product: 'ID_RGS_2STAR' });
    const mail = await renderEmail({ template: 'order_confirmation', data: { order, checklist: checklistOf(order) } }, 'en', MAIL_CONTEXT);
    expect(mail.text).toContain(`within ${DEFAULT_DEADLINES.originalsDue}`);
  });
});
