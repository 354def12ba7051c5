/**
 * A real DNS server on UDP 127.0.0.1, authoritative for whatever zone the test sets: A, AAAA, TXT and CAA records,
 * and CNAME aliases it follows inside its zone as a resolver would (the answer holds the CNAME, then the target's
 * records of the asked type). A name it holds without the asked type answers NOERROR with no answer (NODATA); a name
 * it does not hold answers NXDOMAIN. It can be told to stop answering, as a dead or filtered server would, or to
 * answer SERVFAIL for some names.
 */
import { Packet, UDPServer } from 'dns2';

type RecordType = 'A' | 'AAAA' | 'TXT' | 'CAA' | 'CNAME';

export interface DnsQuery {
  readonly name: string;
  readonly type: string;
}

export interface FakeDns {
  /** '127.0.0.1:port', as DCV_DNS_SERVERS takes it. */
  readonly server: string;
  readonly port: number;
  /**
   * Replaces the records of that type at `name` (none: removes them). A CAA value is its presentation form,
   * `<flags> <tag> "<value>"` (`0 issue "ca.example; account=1"`); a CNAME value is the target name.
   */
  set(name: string, type: RecordType, ...values: string[]): void;
  /** Removes every record of `name`: it answers NXDOMAIN again. */
  remove(name: string): void;
  /** While false, queries are read and never answered. */
  answering: boolean;
  /** Names answered SERVFAIL, whatever the type, as a broken authoritative server would. */
  readonly servfail: Set<string>;
  /** Every query received, answered or not. */
  readonly queries: readonly DnsQuery[];
  close(): Promise<void>;
}

const TYPE_CODES: Record<RecordType, number> = {
  A: Packet.TYPE.A,
  AAAA: Packet.TYPE.AAAA,
  TXT: Packet.TYPE.TXT,
  CAA: Packet.TYPE.CAA,
  CNAME: Packet.TYPE.CNAME,
};
const canonical = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** A TXT value goes on the wire as <character-string>s of at most 255 octets (RFC 1035 §3.3.14); values are ASCII. */
function characterStrings(value: string): string[] {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(value.slice(i, i + 255));
  return parts.length > 0 ? parts : [''];
}

/** `0 issue "ca.example"` as the fields dns2 writes: the flags octet, the tag, the value without its quotes. */
function caaFields(value: string): { flags: number; tag: string; value: string } {
  const m = /^(\d{1,3})\s+([A-Za-z0-9]+)\s+"(.*)"$/.exec(value);
  if (m === null) throw new Error(`CAA value ${JSON.stringify(value)} is not <flags> <tag> "<value>"`);
  return { flags: Number(m[1]), tag: m[2] as string, value: m[3] as string };
}

function rdataOf(type: number, value: string): Record<string, unknown> {
  if (type === Packet.TYPE.TXT) return { data: characterStrings(value) };
  if (type === Packet.TYPE.CAA) return caaFields(value);
  if (type === Packet.TYPE.CNAME) return { domain: value };
  return { address: value };
}

export async function startFakeDns(): Promise<FakeDns> {
  const zone = new Map<string, Map<number, string[]>>();
  const queries: DnsQuery[] = [];
  const server = new UDPServer({ type: 'udp4' });
  const fake = {
    answering: true,
    servfail: new Set<string>(),
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
    if (fake.servfail.has(canonical(question.name))) {
      void send(Packet.createErrorResponseFromRequest(request, Packet.RCODE.SERVFAIL));
      return;
    }
    if (!zone.has(canonical(question.name))) {
      void send(Packet.createErrorResponseFromRequest(request, Packet.RCODE.NXDOMAIN));
      return;
    }
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    // Follows CNAMEs inside the zone (a few hops), as a recursive resolver would for the client.
    let owner = question.name;
    for (let hop = 0; hop < 8; hop++) {
      const records = zone.get(canonical(owner));
      if (records === undefined) break;
      const alias = question.type === Packet.TYPE.CNAME ? undefined : records.get(Packet.TYPE.CNAME)?.[0];
      const type = alias === undefined ? question.type : Packet.TYPE.CNAME;
      for (const value of records.get(type) ?? []) {
        response.answers.push(Packet.createResourceFromQuestion({ ...question, name: owner, type }, { class: Packet.CLASS.IN, ttl: 60, ...rdataOf(type, value) }));
      }
      if (alias === undefined) break;
      owner = alias;
    }
    void send(response);
  });

  await server.listen(0, '127.0.0.1');
  const { port } = server.address();
  fake.port = port;
  fake.server = `127.0.0.1:${port}`;
  return fake;
}
