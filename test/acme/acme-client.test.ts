/**
 * The npm ACME client (acme-client) against a running stack, unchanged: an http-01 issuance and a dns-01 wildcard
 * issuance with `auto()`, key rollover, a bad nonce retried by the client, and revocation. Challenges are served by the
 * test web site and the test DNS server the worker's domain-validation checks ask.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as acme from 'acme-client';
import { describe, expect, it } from 'vitest';
import { getCertificate } from '../../db/certificates.js';
import { acmeStackForFile, eabFor } from './support.js';

const file = acmeStackForFile('ACME Client Org');
const { dns, site, stack } = file;

async function newClient(product: 'SSL' | 'SSL_WILDCARD' = 'SSL'): Promise<acme.Client> {
  const client = new acme.Client({
    directoryUrl: `${stack.baseUrl}/acme/directory`,
    accountKey: await acme.crypto.createPrivateEcdsaKey(),
    externalAccountBinding: await eabFor(stack, file.org.organisationId, product),
    backoffAttempts: 30,
    backoffMin: 200,
    backoffMax: 1000,
  });
  await client.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:ops@example.test'] });
  return client;
}

/** Publishes what acme-client hands over: the file for http-01, the TXT value (already digested) for dns-01. */
const publish = (authz: acme.Authorization, challenge: { type: string; token?: string }, keyAuthorization: string): Promise<void> => {
  if (challenge.type === 'http-01') {
    dns.set(authz.identifier.value, 'A', '127.0.0.1');
    site.files.set(`/.well-known/acme-challenge/${challenge.token as string}`, keyAuthorization);
  } else {
    dns.set(`_acme-challenge.${authz.identifier.value}`, 'TXT', keyAuthorization);
  }
  return Promise.resolve();
};

const leafOf = (chain: string): X509Certificate => new X509Certificate(chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0] as string);

describe('acme-client', () => {
  it('http-01 with auto(): a certificate for the name, then revoked', async () => {
    const client = await newClient();
    const [key, csr] = await acme.crypto.createCsr({ commonName: 'www.acme-lib.fr', altNames: ['www.acme-lib.fr'] });
    const chain = await client.auto({ csr, challengePriority: ['http-01'], skipChallengeVerification: true, termsOfServiceAgreed: true, challengeCreateFn: publish, challengeRemoveFn: async () => {} });
    const leaf = leafOf(chain);
    expect(leaf.subjectAltName).toBe('DNS:www.acme-lib.fr');
    expect(leaf.checkPrivateKey(createPrivateKey(key))).toBe(true);
    await client.revokeCertificate(chain, { reason: 4 });
    expect((await getCertificate(stack.db, leaf.serialNumber.toLowerCase().replace(/^0+(?=.)/, '')))?.status).toBe('revoked');
  });

  it('dns-01 for a wildcard on SSL_WILDCARD', async () => {
    const client = await newClient('SSL_WILDCARD');
    const [, csr] = await acme.crypto.createCsr({ commonName: '*.acme-lib-dns.fr', altNames: ['*.acme-lib-dns.fr'] });
    const chain = await client.auto({ csr, challengePriority: ['dns-01'], skipChallengeVerification: true, termsOfServiceAgreed: true, challengeCreateFn: publish, challengeRemoveFn: async () => {} });
    expect(leafOf(chain).subjectAltName).toBe('DNS:*.acme-lib-dns.fr');
  });

  it('rolls the account key over, and retries a bad nonce on its own', async () => {
    const client = await newClient();
    const url = client.getAccountUrl();
    await client.updateAccountKey(await acme.crypto.createPrivateEcdsaKey());
    // The same account, now signed by the new key.
    expect((await client.updateAccount({ contact: ['mailto:pki@example.test'] })).contact).toEqual(['mailto:pki@example.test']);
    expect(client.getAccountUrl()).toBe(url);

    // One request goes out with a nonce the server never issued: badNonce, and the client tries again with the fresh one.
    const http = (client as unknown as { http: { getNonce(): Promise<string>; request(url: string, method: string, opts?: unknown): Promise<{ status: number; data: { type?: string } }> } }).http;
    const getNonce = http.getNonce.bind(http);
    const request = http.request.bind(http);
    let bogus = true;
    const seen: (string | undefined)[] = [];
    http.getNonce = () => (bogus ? ((bogus = false), Promise.resolve('AAAAAAAAAAAAAAAAAAAAAA')) : getNonce());
    http.request = async (u, m, o) => {
      const res = await request(u, m, o);
      if (m === 'post') seen.push(res.data?.type ?? String(res.status));
      return res;
    };
    expect((await client.updateAccount({ contact: ['mailto:ops@example.test'] })).contact).toEqual(['mailto:ops@example.test']);
    expect(seen).toEqual(['urn:ietf:params:acme:error:badNonce', '200']);
  });
});
