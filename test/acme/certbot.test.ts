/**
 * certbot (pinned in scripts/certbot-requirements.txt, installed into .tools/certbot-venv by the set-up below when
 * missing) against a running stack with external account binding, as a customer runs it: http-01 in standalone
 * mode on the port the domain-validation check calls, dns-01 through manual hooks that put the TXT record into the
 * test DNS server; then `certbot renew --force-renewal` (each lineage a new ACME order, so a new CertFlow order) and
 * `certbot revoke`. Each certificate verifies against certbot's chain.pem and names what was asked; each order is an
 * SSL order in GET /v1/orders, completed, with its certificate on its timeline.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer } from '../../api/server.js';
import type { OrderView } from '../../domain/order.js';
import { resolveCertbot } from '../../scripts/install-certbot.js';
import { freePort } from '../../scripts/scratch.js';
import { opensslAsync } from '../ca/support.js';
import { startFakeDns, type FakeDns } from '../fakes/dns.js';
import { startTestStack, type Account, type TestStack } from '../support.js';
import { eabFor, validatedOrganisation, type ValidatedOrganisation } from './support.js';

const HTTP_NAMES = ['certbot-http.fr', 'www.certbot-http.fr'];
const DNS_NAME = 'www.certbot-dns.fr';

let certbotPath: string;
let stack: TestStack;
let dns: FakeDns;
let hookServer: Server;
let hookCommand: string;
let http01Port: number;
let ra: Account;
let org: ValidatedOrganisation;
let eab: { kid: string; hmacKey: string };
let workDir: string;
/** Every TXT write the hook made, in order: [set|remove, name, value]. */
const hookCalls: [string, string, string][] = [];

beforeAll(async () => {
  // Before the stack: pip runs synchronously, and nothing of this process is serving yet.
  certbotPath = resolveCertbot().path;
  dns = await startFakeDns();
  http01Port = await freePort();
  // The dns-01 hooks' way into the test DNS server: PUT (add) or DELETE (remove) /<name> with the TXT value as body.
  const txt = new Map<string, Set<string>>();
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const name = decodeURIComponent((req.url ?? '/').slice(1));
      const values = txt.get(name) ?? new Set<string>();
      if (req.method === 'PUT') values.add(body);
      else values.delete(body);
      txt.set(name, values);
      hookCalls.push([req.method === 'PUT' ? 'set' : 'remove', name, body]);
      if (values.size === 0) dns.remove(name);
      else dns.set(name, 'TXT', ...values);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, '127.0.0.1', resolve));
  workDir = mkdtempSync(join(tmpdir(), 'certflow-certbot-'));
  const hookScript = join(workDir, 'dns-hook.mjs');
  // What a customer's hook does with their DNS provider's API: certbot hands it CERTBOT_DOMAIN and CERTBOT_VALIDATION.
  writeFileSync(
    hookScript,
    [
      `const method = process.argv[2] === 'auth' ? 'PUT' : 'DELETE';`,
      `const url = 'http://127.0.0.1:${(hookServer.address() as { port: number }).port}/' + encodeURIComponent('_acme-challenge.' + process.env.CERTBOT_DOMAIN);`,
      `const res = await fetch(url, { method, body: process.env.CERTBOT_VALIDATION });`,
      `if (!res.ok) { console.error('hook: ' + res.status); process.exit(1); }`,
    ].join('\n'),
  );
  hookCommand = `${process.execPath} ${hookScript}`;
  stack = await startTestStack({ env: { DCV_DNS_SERVERS: dns.server, DCV_HTTP_PORT: String(http01Port), DCV_TIMEOUT_MS: '5000' } });
  ra = await stack.account('ra_operator');
  org = await validatedOrganisation(stack, ra, 'Certbot Customer');
  eab = await eabFor(stack, org.organisationId, 'SSL');
  for (const name of [...HTTP_NAMES, DNS_NAME]) dns.set(name, 'A', '127.0.0.1');
}, 240_000);

afterAll(async () => {
  await stack?.close();
  if (hookServer !== undefined) await closeServer(hookServer);
  await dns?.close();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

interface Run {
  readonly status: number | null;
  readonly output: string;
}

/**
 * certbot, without blocking: the ACME server answers from this very process. Its folders are the test's own; one
 * still running after `timeoutMs` is killed. A failed run's output ends with the tail of certbot's debug log.
 */
function certbot(args: string[], timeoutMs = 90_000): Promise<Run> {
  const logs = join(workDir, 'logs');
  const dirs = ['--config-dir', join(workDir, 'config'), '--work-dir', join(workDir, 'work'), '--logs-dir', logs];
  return new Promise((resolve, reject) => {
    const child = spawn(certbotPath, [...args, ...dirs, '--non-interactive'], {
      env: { ...process.env, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status !== 0) output += `\n--- ${join(logs, 'letsencrypt.log')} ---\n${existsSync(join(logs, 'letsencrypt.log')) ? readFileSync(join(logs, 'letsencrypt.log'), 'utf8').slice(-6000) : '(none)'}`;
      resolve({ status, output });
    });
  });
}

const accountArgs = (): string[] => [
  '--server', `${stack.baseUrl}/acme/directory`,
  '--eab-kid', eab.kid,
  '--eab-hmac-key', eab.hmacKey,
  '--agree-tos', '-m', 'ops@certbot-http.fr', '--no-eff-email',
];

const live = (lineage: string, file: string): string => readFileSync(join(workDir, 'config', 'live', lineage, file), 'utf8');

/** The lineage's cert.pem, checked against its chain.pem (by openssl and by node); its serial as CertFlow stores it. */
async function verifiedLeaf(lineage: string, names: string[]): Promise<{ serial: string; leaf: X509Certificate }> {
  const certPem = live(lineage, 'cert.pem');
  const chainPem = live(lineage, 'chain.pem');
  const leaf = new X509Certificate(certPem);
  const issuer = new X509Certificate(chainPem);
  expect(leaf.checkIssued(issuer)).toBe(true);
  expect(leaf.verify(issuer.publicKey)).toBe(true);
  const verify = await opensslAsync(['verify', '-partial_chain', '-purpose', 'sslserver', '-CAfile', '{chain.pem}', '{cert.pem}'], { 'chain.pem': chainPem, 'cert.pem': certPem });
  expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  expect(leaf.subjectAltName?.split(', ').sort()).toEqual(names.map((n) => `DNS:${n}`).sort());
  expect(live(lineage, 'fullchain.pem')).toBe(certPem + chainPem);
  return { serial: leaf.serialNumber.toLowerCase(), leaf };
}

/** The CertFlow order of the certificate: SSL, completed, listed for staff, its certificate on its timeline. */
async function certflowOrderOf(serial: string, names: string[]): Promise<OrderView> {
  const cert = await stack.http<{ orderId: string; status: string }>('GET', `/v1/certificates/${serial}`, { key: ra.key });
  expect(cert.status, JSON.stringify(cert.body)).toBe(200);
  const { orderId } = cert.body;
  const list = await stack.http<{ items: OrderView[] }>('GET', `/v1/orders?organisationId=${org.organisationId}&limit=100`, { key: ra.key });
  expect(list.status, JSON.stringify(list.body)).toBe(200);
  const order = list.body.items.find((o) => o.id === orderId);
  expect(order, `order ${orderId} in GET /v1/orders`).toBeDefined();
  expect(order).toMatchObject({ product: 'SSL', status: 'completed', organisationId: org.organisationId });
  expect(order?.domains.items.map((d) => d.name).sort()).toEqual([...names].sort());
  const timeline = await stack.http<{ items: { kind: string; text: string; detail?: { serial?: string } }[] }>('GET', `/v1/orders/${orderId}/timeline`, { key: ra.key });
  expect(timeline.status).toBe(200);
  expect(timeline.body.items[0]?.kind).toBe('created');
  expect(timeline.body.items.filter((e) => e.kind === 'certificate' && e.detail?.serial === serial).map((e) => e.text)).toEqual([expect.stringMatching(/ issued by /)]);
  return order as OrderView;
}

// One certbot after another: they share the account and the lineages, and each step reads what the one before left.
describe.sequential('certbot against the ACME server', () => {
  const issued: Record<string, { serial: string; orderId: string }> = {};

  it('http-01, standalone on the domain-validation port: registers with the EAB key and gets the certificate', async () => {
    const run = await certbot([
      'certonly', ...accountArgs(),
      '--standalone', '--preferred-challenges', 'http', '--http-01-port', String(http01Port),
      '--cert-name', 'http', ...HTTP_NAMES.flatMap((n) => ['-d', n]),
    ]);
    expect(run.status, run.output).toBe(0);
    const { serial } = await verifiedLeaf('http', HTTP_NAMES);
    const order = await certflowOrderOf(serial, HTTP_NAMES);
    expect(order.domains.items.map((d) => d.method)).toEqual(['http', 'http']);
    issued.http = { serial, orderId: order.id };
  }, 120_000);

  it('dns-01, manual with hooks writing and removing the TXT record in the DNS server', async () => {
    const run = await certbot([
      'certonly', ...accountArgs(),
      '--manual', '--preferred-challenges', 'dns',
      '--manual-auth-hook', `${hookCommand} auth`, '--manual-cleanup-hook', `${hookCommand} cleanup`,
      '--cert-name', 'dns', '-d', DNS_NAME,
    ]);
    expect(run.status, run.output).toBe(0);
    const challenge = `_acme-challenge.${DNS_NAME}`;
    const [set, removed] = hookCalls;
    expect([set?.[0], set?.[1], removed?.[0], removed?.[1]]).toEqual(['set', challenge, 'remove', challenge]);
    expect(removed?.[2]).toBe(set?.[2]);
    const { serial } = await verifiedLeaf('dns', [DNS_NAME]);
    const order = await certflowOrderOf(serial, [DNS_NAME]);
    expect(order.domains.items.map((d) => d.method)).toEqual(['dns']);
    issued.dns = { serial, orderId: order.id };
  }, 120_000);

  it('renew --force-renewal: each lineage a new certificate from a new CertFlow order, the authorizations reused', async () => {
    const hooksBefore = hookCalls.length;
    const run = await certbot(['renew', '--force-renewal', '--no-random-sleep-on-renew'], 150_000);
    expect(run.status, run.output).toBe(0);
    expect(run.output).toMatch(/Congratulations, all renewals succeeded/);
    // Proved within the reuse period: the server asked for no challenge, so no hook ran.
    expect(hookCalls.length).toBe(hooksBefore);
    for (const [lineage, names] of [['http', HTTP_NAMES], ['dns', [DNS_NAME]]] as const) {
      const { serial } = await verifiedLeaf(lineage, [...names]);
      const before = issued[lineage] as { serial: string; orderId: string };
      expect(serial).not.toBe(before.serial);
      const order = await certflowOrderOf(serial, [...names]);
      expect(order.id).not.toBe(before.orderId);
      // A renewal is a new order: the certificate it replaces stays valid until it expires or is revoked.
      expect((await stack.http<{ status: string }>('GET', `/v1/certificates/${before.serial}`, { key: ra.key })).body.status).toBe('valid');
      issued[lineage] = { serial, orderId: order.id };
    }
  }, 180_000);

  it('revoke --reason superseded: the certificate is revoked in CertFlow, with that reason', async () => {
    const { serial, orderId } = issued.http as { serial: string; orderId: string };
    const run = await certbot(['revoke', '--server', `${stack.baseUrl}/acme/directory`, '--cert-path', join(workDir, 'config', 'live', 'http', 'cert.pem'), '--reason', 'superseded', '--no-delete-after-revoke']);
    expect(run.status, run.output).toBe(0);
    const cert = await stack.http<{ status: string; revocationReason: string | null; orderId: string }>('GET', `/v1/certificates/${serial}`, { key: ra.key });
    expect(cert.body).toMatchObject({ status: 'revoked', revocationReason: 'superseded', orderId });
    const timeline = await stack.http<{ items: { kind: string; text: string }[] }>('GET', `/v1/orders/${orderId}/timeline`, { key: ra.key });
    expect(timeline.body.items.map((e) => e.text)).toContain(`certificate ${serial} revoked (superseded)`);
    // The other lineage's certificate is untouched.
    const other = await stack.http<{ status: string }>('GET', `/v1/certificates/${(issued.dns as { serial: string }).serial}`, { key: ra.key });
    expect(other.body.status).toBe('valid');
  }, 60_000);
});
