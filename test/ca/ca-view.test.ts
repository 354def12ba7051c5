/**
 * The API's read-only CA view (activities/ca/view.ts, built by createApiServices): chains and CA certificates come
 * from the stored rows without a key, the hierarchy is never created by it (nor by a worker), and OCSP answers are
 * signed by the CAs' delegated responders.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { BasicOCSPResponse, OCSPResponse, OCSPResponseStatus } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createCa, type Ca } from '../../activities/ca/index.js';
import { createCaView } from '../../activities/ca/view.js';
import { createApiServices } from '../../activities/services.js';
import { loadConfig } from '../../config/index.js';
import { openPostgres, type DatabaseHandle } from '../../db/client.js';
import { certificateAuthorities } from '../../db/schema.js';
import { CA_IDS } from '../../lib/pki/ca-ids.js';
import { x509 } from '../../lib/pki/x509.js';
import { createMigratedDatabase, dropDatabase } from '../../scripts/scratch.js';
import { ocspRequestFor } from './ocsp-request.js';
import { CA_URLS, testPkcs11Env, testSecrets } from './support.js';

let handle: DatabaseHandle;
let ca: Ca;

beforeAll(async () => {
  handle = openPostgres(inject('databaseUrl'), 2);
  ca = createCa({ db: handle.db, secrets: testSecrets(), ...CA_URLS });
  await ca.ensureHierarchy();
});
afterAll(async () => {
  await handle?.close();
});

describe('the read-only CA view', () => {
  it('reads the chains and CA certificates without asking for a key', async () => {
    const view = createCaView({
      db: handle.db,
      now: () => new Date(),
      responder: () => Promise.reject(new Error('a chain must not need a signing key')),
    });
    expect(await view.caCertificates()).toEqual(await ca.caCertificates());
    for (const caId of CA_IDS) expect(await view.chainPem({ caId })).toBe(await ca.chainPem({ caId }));
  });

  it('answers OCSP signed by the delegated responder, through the API services', async () => {
    const config = loadConfig({ DATA_DIR: tmpdir(), DATABASE_URL: inject('databaseUrl'), MASTER_KEY: inject('masterKey'), ...testPkcs11Env() });
    const services = createApiServices(config, handle.db);
    try {
      const [issuing, root] = (await services.ca.chainPem({ caId: 'tls-issuing' })).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      const issuer = new x509.X509Certificate(root!);
      const response = AsnConvert.parse(await services.ca.ocspRespond(ocspRequestFor(new x509.X509Certificate(issuing!), issuer)), OCSPResponse);
      expect(response.responseStatus).toBe(OCSPResponseStatus.successful);
      const basic = AsnConvert.parse(response.responseBytes!.response.buffer, BasicOCSPResponse);
      expect(basic.tbsResponseData.responses[0]?.certStatus.good).toBeNull();
      // Signed by the root's responder, whose certificate (issued by the root for OCSP signing) is in the response.
      const [signer] = basic.certs ?? [];
      const responder = new x509.X509Certificate(AsnConvert.serialize(signer!));
      expect(responder.issuer).toBe(issuer.subject);
      expect(responder.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.ocspSigning]);
      expect(await responder.verify({ publicKey: issuer.publicKey, signatureOnly: true })).toBe(true);
    } finally {
      await services.close();
    }
  });

  it('never creates a hierarchy: on an empty database it refuses and leaves the table empty', async () => {
    const adminUrl = new URL(inject('databaseUrl'));
    adminUrl.pathname = '/postgres';
    const name = `certflow_view_${randomBytes(6).toString('hex')}`;
    const url = await createMigratedDatabase(adminUrl.toString(), name);
    const own = openPostgres(url, 2);
    try {
      const config = loadConfig({ DATA_DIR: tmpdir(), DATABASE_URL: url, MASTER_KEY: inject('masterKey'), ...testPkcs11Env() });
      const services = createApiServices(config, own.db);
      await expect(services.ca.caCertificates()).rejects.toThrow(/not created yet/);
      await expect(services.ca.currentCrl('tls-issuing')).rejects.toThrow(/not created yet/);
      // Nor does the worker: it refuses and names the ceremony.
      await expect(createCa({ db: own.db, secrets: testSecrets(), ...CA_URLS }).ensureHierarchy()).rejects.toThrow(/npm run ceremony -- init/);
      expect(await own.db.select().from(certificateAuthorities)).toEqual([]);
      await services.close();
    } finally {
      await own.close();
      await dropDatabase(adminUrl.toString(), name);
    }
  });
});
