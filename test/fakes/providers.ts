/** Both message providers of a test stack: a real SMTP server and a server speaking Twilio's API, with the env for them. */
import { startTestStack, type TestStack, type TestStackOptions } from '../support.js';
import { startFakeSmtp, type FakeSmtp, type FakeSmtpOptions } from './smtp.js';
import { startFakeTwilio, type FakeTwilio } from './twilio.js';

export interface Providers {
  readonly smtp: FakeSmtp;
  readonly twilio: FakeTwilio;
  /** SMTP_URL and TWILIO_* pointing at them. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

export interface ProvidersOptions {
  /** How the SMTP server is started (AUTH required, for one). */
  readonly smtp?: FakeSmtpOptions;
}

export async function startProviders(opts: ProvidersOptions = {}): Promise<Providers> {
  const [smtp, twilio] = await Promise.all([startFakeSmtp(opts.smtp), startFakeTwilio()]);
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

export interface ProvidersStack {
  readonly stack: TestStack;
  readonly providers: Providers;
  readonly smtp: FakeSmtp;
  readonly twilio: FakeTwilio;
  /** Closes the stack, then the providers. */
  readonly close: () => Promise<void>;
}

/** A test stack (test/support.ts) sending its mails and SMS to both providers; `opts.env` is added to theirs. */
export async function startProvidersStack(opts: TestStackOptions & ProvidersOptions = {}): Promise<ProvidersStack> {
  const { smtp: smtpOptions, ...stackOptions } = opts;
  const providers = await startProviders({ smtp: smtpOptions });
  let stack: TestStack;
  try {
    stack = await startTestStack({ ...stackOptions, env: { ...providers.env, ...stackOptions.env } });
  } catch (err) {
    await providers.close();
    throw err;
  }
  return {
    stack,
    providers,
    smtp: providers.smtp,
    twilio: providers.twilio,
    close: async () => {
      await stack.close();
      await providers.close();
    },
  };
}
