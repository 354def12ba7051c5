/**
 * The API's read-only CA view (activities/ca/view.ts, built by createApiServices): chains and CA certificates come
 * from the stored rows without a key, the hierarchy is never created by it, and OCSP still answers signed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { BasicOCSPResponse, CertID, OCSPRequest, OCSPResponse, OCSPResponseStatus, Request, TBSRequest } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
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
import { PUBLIC_BASE_URL, testSecrets } from './support.js';

let handle: DatabaseHandle;
let ca: Ca;

beforeAll(async () => {
  handle = openPostgres(inject('databaseUrl'), 2);
  ca = createCa({ db: handle.db, secrets: testSecrets(), publicBaseUrl: PUBLIC_BASE_URL });
  await ca.ensureHierarchy();
});
afterAll(async () => {
  await handle?.close();
});

/** An OCSP request for the issuing CA's certificate as its root issued it (SHA-1 CertID, as openssl sends). */
function ocspRequestFor(subject: x509.X509Certificate, issuer: x509.X509Certificate): Uint8Array {
  const sha1 = (data: ArrayBuffer) => new OctetString(createHash('sha1').update(Buffer.from(data)).digest());
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: null }),
    issuerNameHash: sha1(issuer.subjectName.toArrayBuffer()),
    issuerKeyHash: sha1(AsnConvert.parse(issuer.publicKey.rawData, SubjectPublicKeyInfo).subjectPublicKey),
    serialNumber: Uint8Array.from(Buffer.from(subject.serialNumber, 'hex')).buffer,
  });
  return new Uint8Array(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })));
}

describe('the read-only CA view', () => {
  it('reads the chains and CA certificates without asking for a key', async () => {
    const view = createCaView({
      db: handle.db,
      now: () => new Date(),
      signers: () => Promise.reject(new Error('a chain must not need a signing key')),
    });
    expect(await view.caCertificates()).toEqual(await ca.caCertificates());
    for (const caId of CA_IDS) expect(await view.chainPem({ caId })).toBe(await ca.chainPem({ caId }));
  });

  it('answers OCSP signed, through the API services', async () => {
    const config = loadConfig({ DATA_DIR: tmpdir(), DATABASE_URL: inject('databaseUrl'), MASTER_KEY: inject('masterKey') });
    const services = createApiServices(config, handle.db);
    try {
      const [issuing, root] = (await services.ca.chainPem({ caId: 'tls-issuing' })).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      const issuer = new x509.X509Certificate(root!);
      const response = AsnConvert.parse(await services.ca.ocspRespond(ocspRequestFor(new x509.X509Certificate(issuing!), issuer)), OCSPResponse);
      expect(response.responseStatus).toBe(OCSPResponseStatus.successful);
      const basic = AsnConvert.parse(response.responseBytes!.response.buffer, BasicOCSPResponse);
      expect(basic.tbsResponseData.responses[0]?.certStatus.good).toBeNull();
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
      const config = loadConfig({ DATA_DIR: tmpdir(), DATABASE_URL: url, MASTER_KEY: inject('masterKey') });
      const services = createApiServices(config, own.db);
      await expect(services.ca.caCertificates()).rejects.toThrow(/not created yet/);
      await expect(services.ca.currentCrl('tls-issuing')).rejects.toThrow(/not created yet/);
      expect(await own.db.select().from(certificateAuthorities)).toEqual([]);
      await services.close();
    } finally {
      await own.close();
      await dropDatabase(adminUrl.toString(), name);
    }
  });
});
