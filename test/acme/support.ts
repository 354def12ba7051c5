/** An organisation the RA validated, as ACME needs one: an SSL order of it filed and approved over the API. */
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, expect } from 'vitest';
import { createEabKey } from '../../db/acme.js';
import { x509 } from '../../lib/pki/x509.js';
import type { AcmeProduct } from '../../domain/acme.js';
import type { OrderView } from '../../domain/order.js';
import { openssl } from '../ca/support.js';
import { startSite, type FakeSite } from '../dcv/web-server.js';
import { startFakeDns, type FakeDns } from '../fakes/dns.js';
import { startedForFile, testStackForFile } from '../stack-for-file.js';
import { freshSiret, sslOrder, type Account, type TestStack } from '../support.js';
import { Driver } from '../workflows/drive.js';
import type { Directory } from './client.js';

/** A CSR for the names, made by openssl on a new P-256 key (or the one given, PKCS#8 PEM). */
export function newCsr(names: string[], keyPem: string = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()): string {
  const san = ['-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`];
  const run = openssl(['req', '-new', '-key', '{key.pem}', '-subj', `/CN=${names[0]}`, ...san], { 'key.pem': keyPem });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

export interface ValidatedOrganisation {
  readonly admin: Account;
  readonly organisationId: string;
  readonly siret: string;
  readonly driver: Driver;
}

/** A new organisation whose first SSL order the RA approved (its identity file validated). */
export async function validatedOrganisation(stack: TestStack, ra: Account, name = 'ACME Test'): Promise<ValidatedOrganisation> {
  const siret = freshSiret();
  const admin = await stack.account('customer', { siret, orgName: name, locality: 'Paris' });
  const driver = new Driver(stack, { holder: admin, ra, dra: ra });
  const created = await driver.post<OrderView>(admin.key, '/v1/orders', sslOrder(newCsr(['www.acme-validated.fr'])));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  await driver.approve((await driver.completeAndSubmit(created.body as unknown as OrderView)).id);
  return { admin, organisationId: admin.user.organisationId as string, siret, driver };
}

export const eabFor = (stack: TestStack, organisationId: string, product: AcmeProduct = 'SSL') =>
  createEabKey(stack.db, stack.services.secrets.derive('acme-eab'), { organisationId, product, actor: { userId: null, role: 'test' } });

/**
 * A file's ACME stack: the test DNS server and web site the worker's domain checks ask, the stack, an RA operator and
 * an organisation it validated. Each is read in the tests, once started.
 */
export function acmeStackForFile(orgName: string): { dns: FakeDns; site: FakeSite; stack: TestStack; readonly ra: Account; readonly org: ValidatedOrganisation } {
  const dns = startedForFile(startFakeDns, 'the test DNS server');
  const site = startedForFile(() => startSite(), 'the test web site');
  const stack = testStackForFile(() => ({ env: { DCV_DNS_SERVERS: dns.server, DCV_HTTP_PORT: String(site.port), DCV_TIMEOUT_MS: '3000' } }));
  let ra: Account | undefined;
  let org: ValidatedOrganisation | undefined;
  beforeAll(async () => {
    ra = await stack.account('ra_operator');
    org = await validatedOrganisation(stack, ra, orgName);
  }, 120_000);
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is read before the file's set-up ran`);
    return value;
  };
  return {
    dns,
    site,
    stack,
    get ra() {
      return started(ra, 'the RA operator');
    },
    get org() {
      return started(org, 'the validated organisation');
    },
  };
}

/** RFC 9773 §4.1: base64url(AKI keyIdentifier) "." base64url(serial DER content), of a certificate's base64url DER. */
export function certId(der: string): string {
  const cert = new x509.X509Certificate(Buffer.from(der, 'base64url'));
  const keyId = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId as string;
  return `${Buffer.from(keyId, 'hex').toString('base64url')}.${Buffer.from(cert.serialNumber, 'hex').toString('base64url')}`;
}

export interface RenewalWindow {
  readonly status: number;
  readonly start: number;
  readonly end: number;
  readonly retryAfter: string | null;
  readonly explanationURL?: string;
}

/** The certificate's renewal information (RFC 9773 §4.2), its window as epoch milliseconds. */
export async function renewalWindow(directory: Directory, der: string): Promise<RenewalWindow> {
  const res = await fetch(`${directory.renewalInfo as string}/${certId(der)}`);
  const body = (await res.json()) as { suggestedWindow: { start: string; end: string }; explanationURL?: string };
  return {
    status: res.status,
    start: Date.parse(body.suggestedWindow?.start),
    end: Date.parse(body.suggestedWindow?.end),
    retryAfter: res.headers.get('retry-after'),
    ...(body.explanationURL === undefined ? {} : { explanationURL: body.explanationURL }),
  };
}
