/** Both message providers of a test stack: a real SMTP server and a server speaking Twilio's API, with the env for them. */
import { startFakeSmtp, type FakeSmtp } from './smtp.js';
import { startFakeTwilio, type FakeTwilio } from './twilio.js';

export interface Providers {
  readonly smtp: FakeSmtp;
  readonly twilio: FakeTwilio;
  /** SMTP_URL and TWILIO_* pointing at them. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export async function startProviders(): Promise<Providers> {
  const [smtp, twilio] = await Promise.all([startFakeSmtp(), startFakeTwilio()]);
  return {
    smtp,
    twilio,
    env: {
      SMTP_URL: smtp.url,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: '+33700000000',
      TWILIO_API_URL: twilio.url,
    },
    close: async () => {
      await Promise.all([smtp.close(), twilio.close()]);
    },
  };
}
