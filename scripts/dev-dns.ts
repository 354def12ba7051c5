/**
 * A DNS server for trying domain validation on one machine: `node --import tsx scripts/dev-dns.ts --port 5353
 * --records dns-records.txt` answers on UDP 127.0.0.1:<port> from a file of lines `<name> TXT|A <value>` (`#` starts
 * a comment), read again at every query, so a record appended to the file is published at once. A name the file does
 * not hold answers NXDOMAIN. Start the stack with `DCV_DNS_SERVERS=127.0.0.1:<port>` and its checks ask this server.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Packet, UDPServer } from 'dns2';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5353' }, records: { type: 'string', default: 'dns-records.txt' } } });
const port = Number(values.port);
const recordsFile = values.records;

const canonical = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** The file as records by name and type; a file not written yet holds none. */
function readRecords(): Map<string, { type: number; value: string }[]> {
  let text = '';
  try {
    text = readFileSync(recordsFile, 'utf8');
  } catch {
    // no record published yet
  }
  const records = new Map<string, { type: number; value: string }[]>();
  for (const line of text.split('\n')) {
    const [name, type, ...rest] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (name === undefined || name === '' || (type !== 'TXT' && type !== 'A') || rest.length === 0) continue;
    const list = records.get(canonical(name)) ?? [];
    list.push({ type: type === 'TXT' ? Packet.TYPE.TXT : Packet.TYPE.A, value: rest.join(' ') });
    records.set(canonical(name), list);
  }
  return records;
}

const server = new UDPServer({ type: 'udp4' });
server.on('request', (request: Packet, send: (response: Packet) => Promise<Buffer>) => {
  const question = request.questions[0];
  if (question === undefined) return;
  const held = readRecords().get(canonical(question.name));
  if (held === undefined) {
    void send(Packet.createErrorResponseFromRequest(request, Packet.RCODE.NXDOMAIN));
    return;
  }
  const response = Packet.createResponseFromRequest(request);
  response.header.aa = 1;
  for (const record of held.filter((r) => r.type === question.type)) {
    // A TXT value travels as character-strings of at most 255 octets (RFC 1035 §3.3.14).
    const rdata = record.type === Packet.TYPE.TXT ? { data: record.value.match(/.{1,255}/g) ?? [''] } : { address: record.value };
    response.answers.push(Packet.createResourceFromQuestion(question, { class: Packet.CLASS.IN, ttl: 1, ...rdata }));
  }
  void send(response);
});
await server.listen(port, '127.0.0.1');
console.log(`dev DNS on 127.0.0.1:${port}, records from ${recordsFile}`);
process.on('SIGINT', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
