/**
 * A real SMTP server on a free loopback port (smtp-server, no TLS, AUTH only when asked for) that parses every message
 * it accepts with mailparser. Point SMTP_URL at `url`, then assert on what a mail client would show.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { Recorder, Refusals } from './recorder.js';

export interface ReceivedMail {
  /** SMTP envelope: who the relay was asked to deliver to, which is what Bcc and staff routing are about. */
  readonly envelope: { readonly from: string | null; readonly to: readonly string[] };
  readonly raw: Buffer;
  readonly parsed: ParsedMail;
  readonly receivedAt: Date;
}

export interface FakeSmtp {
  /** smtp://127.0.0.1:<port>, with the user and password when AUTH is required */
  readonly url: string;
  readonly messages: readonly ReceivedMail[];
  waitFor(match?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Refuses the next `count` messages after DATA with this reply code (4xx temporary, 5xx permanent). */
  failNext(count: number, code?: number): void;
  /**
   * An outage: every message is refused after DATA with this reply code (451: temporary) until `endOutage()`.
   * Off by default; `failNext` still counts down once the outage ends.
   */
  startOutage(code?: number): void;
  endOutage(): void;
  /** Messages refused so far (by `failNext` or an outage). */
  readonly refusedCount: number;
  close(): Promise<void>;
}

const addressOf = (a: SMTPServerAddress | false): string | null => (a === false ? null : a.address);

export interface FakeSmtpOptions {
  /** A relay that requires AUTH (PLAIN or LOGIN, allowed without TLS on the loopback) with these; `url` carries them. */
  readonly auth?: { readonly user: string; readonly password: string };
}

export async function startFakeSmtp(opts: FakeSmtpOptions = {}): Promise<FakeSmtp> {
  const { auth } = opts;
  const recorder = new Recorder<ReceivedMail>();
  const refusals = new Refusals<number>(451);

  const server = new SMTPServer({
    secure: false,
    authOptional: auth === undefined,
    allowInsecureAuth: auth !== undefined,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(given, _session, callback) {
      if (auth !== undefined && given.username === auth.user && given.password === auth.password) callback(null, { user: auth.user });
      else callback(new Error('Invalid username or password'));
    },
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Connections still open at close() are cut after this, so a test's teardown never waits long.
    closeTimeout: 500,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err: Error) => callback(err));
      stream.on('end', () => {
        const refusal = refusals.next();
        if (refusal !== undefined) {
          callback(Object.assign(new Error('fake SMTP server told to refuse this message (failNext or an outage)'), { responseCode: refusal }));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            recorder.push({
              envelope: { from: addressOf(session.envelope.mailFrom), to: session.envelope.rcptTo.map((r) => r.address) },
              raw,
              parsed,
              receivedAt: new Date(),
            });
            callback();
          })
          .catch((err: Error) => callback(err));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    url: auth === undefined ? `smtp://127.0.0.1:${port}` : `smtp://${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.password)}@127.0.0.1:${port}`,
    messages: recorder.items,
    waitFor: (match, timeoutMs) => recorder.waitFor(match, timeoutMs),
    failNext: (count, code) => refusals.failNext(count, code),
    startOutage: (code) => refusals.startOutage(code),
    endOutage: () => refusals.endOutage(),
    get refusedCount() {
      return refusals.count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
