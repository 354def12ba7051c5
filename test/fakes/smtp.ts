/**
 * A real SMTP server on a free loopback port (smtp-server, no auth, no TLS) that parses every message it accepts
 * with mailparser. Point SMTP_URL at `url`, then assert on what a mail client would show.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { Recorder } from './recorder.js';

export interface ReceivedMail {
  /** SMTP envelope: who the relay was asked to deliver to, which is what Bcc and staff routing are about. */
  readonly envelope: { readonly from: string | null; readonly to: readonly string[] };
  readonly raw: Buffer;
  readonly parsed: ParsedMail;
  readonly receivedAt: Date;
}

export interface FakeSmtp {
  /** smtp://127.0.0.1:<port> */
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

export async function startFakeSmtp(): Promise<FakeSmtp> {
  const recorder = new Recorder<ReceivedMail>();
  let failures: { count: number; code: number } = { count: 0, code: 451 };
  let outage: number | null = null;
  let refusedCount = 0;

  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Connections still open at close() are cut after this, so a test's teardown never waits long.
    closeTimeout: 500,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err: Error) => callback(err));
      stream.on('end', () => {
        if (outage !== null) {
          refusedCount++;
          callback(Object.assign(new Error('fake SMTP server in an outage'), { responseCode: outage }));
          return;
        }
        if (failures.count > 0) {
          refusedCount++;
          failures = { ...failures, count: failures.count - 1 };
          callback(Object.assign(new Error('fake SMTP server told to refuse this message'), { responseCode: failures.code }));
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
    url: `smtp://127.0.0.1:${port}`,
    messages: recorder.items,
    waitFor: (match, timeoutMs) => recorder.waitFor(match, timeoutMs),
    failNext(count, code = 451) {
      failures = { count, code };
    },
    startOutage(code = 451) {
      outage = code;
    },
    endOutage() {
      outage = null;
    },
    get refusedCount() {
      return refusedCount;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
