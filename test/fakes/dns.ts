/**
 * A real DNS server on UDP 127.0.0.1, authoritative for whatever zone the test sets: A, AAAA and TXT records.
 * A name it holds without the asked type answers NOERROR with no answer (NODATA); a name it does not hold answers
 * NXDOMAIN. It can be told to stop answering, as a dead or filtered server would.
 */
import { Packet, UDPServer } from 'dns2';

type RecordType = 'A' | 'AAAA' | 'TXT';

export interface DnsQuery {
  readonly name: string;
  readonly type: string;
}

export interface FakeDns {
  /** '127.0.0.1:port', as DCV_DNS_SERVERS takes it. */
  readonly server: string;
  readonly port: number;
  /** Replaces the records of that type at `name` (none: removes them). */
  set(name: string, type: RecordType, ...values: string[]): void;
  /** Removes every record of `name`: it answers NXDOMAIN again. */
  remove(name: string): void;
  /** While false, queries are read and never answered. */
  answering: boolean;
  /** Every query received, answered or not. */
  readonly queries: readonly DnsQuery[];
  close(): Promise<void>;
}

const TYPE_CODES: Record<RecordType, number> = { A: Packet.TYPE.A, AAAA: Packet.TYPE.AAAA, TXT: Packet.TYPE.TXT };
const canonical = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** A TXT value goes on the wire as <character-string>s of at most 255 octets (RFC 1035 §3.3.14); values are ASCII. */
function characterStrings(value: string): string[] {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(value.slice(i, i + 255));
  return parts.length > 0 ? parts : [''];
}

export async function startFakeDns(): Promise<FakeDns> {
  const zone = new Map<string, Map<number, string[]>>();
  const queries: DnsQuery[] = [];
  const server = new UDPServer({ type: 'udp4' });
  const fake = {
    answering: true,
    queries,
    server: '',
    port: 0,
    set(name: string, type: RecordType, ...values: string[]): void {
      const key = canonical(name);
      const records = zone.get(key) ?? new Map<number, string[]>();
      if (values.length > 0) records.set(TYPE_CODES[type], values);
      else records.delete(TYPE_CODES[type]);
      zone.set(key, records);
    },
    remove(name: string): void {
      zone.delete(canonical(name));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  server.on('request', (request: Packet, send: (response: Packet) => Promise<Buffer>) => {
    const question = request.questions[0];
    if (question === undefined) return;
    queries.push({ name: question.name, type: Packet.TYPE_NAME[question.type] ?? String(question.type) });
    if (!fake.answering) return;
    const records = zone.get(canonical(question.name));
    if (records === undefined) {
      void send(Packet.createErrorResponseFromRequest(request, Packet.RCODE.NXDOMAIN));
      return;
    }
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    for (const value of records.get(question.type) ?? []) {
      const rdata = question.type === Packet.TYPE.TXT ? { data: characterStrings(value) } : { address: value };
      response.answers.push(Packet.createResourceFromQuestion(question, { class: Packet.CLASS.IN, ttl: 60, ...rdata }));
    }
    void send(response);
  });

  await server.listen(0, '127.0.0.1');
  const { port } = server.address();
  fake.port = port;
  fake.server = `127.0.0.1:${port}`;
  return fake;
}
