/**
 * Every product's certificate against the standards a root program audits (activities/ca/standards.ts names the
 * rules): issued for real with an EC and an RSA key, read back by openssl and by the library, then the issuing CAs,
 * a CRL and an OCSP response. The second half hands the pre-issuance lint certificates built from broken profiles and
 * sees each refused by the rule it breaks, before any CA key signs.
 */
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ETSI_QCS, readQcStatements } from '../../activities/ca/extensions.js';
import { CA_SIGNATURE_BYTES, CA_SIGNING_ALGORITHM, type LoadedCa } from '../../activities/ca/hierarchy.js';
import { lintTbs, readSubjectKey } from '../../activities/ca/lint.js';
import { ANY_POLICY, CABF_POLICY, ETSI_POLICY, OWN_POLICY, SMIME_POLICY } from '../../activities/ca/policies.js';
import { leafExtensions, notAfterFor, PROFILES, type CertificateProfile, type KeyType } from '../../activities/ca/profiles.js';
import { etsiKeyUsageType, standardsProblems } from '../../activities/ca/standards.js';
import type { IssueRequest, IssuedCertificate } from '../../activities/ca/issue.js';
import { PRODUCT_CODES, type ProductCode } from '../../domain/catalog.js';
import type { CaId } from '../../lib/pki/ca-ids.js';
import { subjectFields, subjectString } from '../../lib/pki/subject.js';
import { x509 } from '../../lib/pki/x509.js';
import { caForFile, ACME, CA_URLS, insertOrder, opensslAsync, PDS_URL, pemBlocks, PKI_BASE_URL } from './support.js';

const run = caForFile();

const { digitalSignature: DS, nonRepudiation: NR, keyEncipherment: KE, dataEncipherment: DE, keyAgreement: KA } = x509.KeyUsageFlags;
const EKU = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2', emailProtection: '1.3.6.1.5.5.7.3.4' } as const;
const EMAIL = 'camille.durand@example.test';

const spkiOf = async (key: webcrypto.CryptoKey): Promise<string> => Buffer.from(await webcrypto.subtle.exportKey('spki', key)).toString('base64');
const keyOf = async (keyType: KeyType): Promise<string> =>
  spkiOf(
    (keyType === 'ec'
      ? await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
      : await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])
    ).publicKey,
  );

const dnsNamesOf = (profile: CertificateProfile): string[] =>
  profile.san === 'dns-wildcard' ? ['*.acme-example.fr', 'acme-example.fr'] : profile.san === 'dns' ? ['www.acme-example.fr', 'api.acme-example.fr'] : [];

async function issue(product: ProductCode, keyType: KeyType): Promise<IssuedCertificate> {
  const orderId = await insertOrder(run.db);
  const profile = PROFILES[product];
  const dnsNames = dnsNamesOf(profile);
  const req: IssueRequest = {
    issuanceKey: `order-${orderId}/issue/1`,
    orderId,
    product,
    holder: { givenName: 'Camille', surname: 'Durand', email: EMAIL },
    organisation: ACME,
    publicKeySpki: await keyOf(keyType),
    ...(dnsNames.length > 0 ? { dnsNames } : {}),
    validityDays: profile.validity.kind === 'br-schedule' ? 90 : 365,
  };
  return run.internals.ca.issueCertificate(req);
}

const issuingOf = async (id: CaId): Promise<LoadedCa> => (await run.internals.hierarchy()).ca(id);

async function openssl(args: string[], files: Record<string, string | Uint8Array> = {}): Promise<string> {
  const run = await opensslAsync(args, files);
  expect(run.status, run.stderr).toBe(0);
  return run.stdout + run.stderr;
}

/** The rules, written out per product (not read from the profiles): what each certificate must say. */
interface Rule {
  readonly ku: Readonly<Record<KeyType, number>>;
  readonly eku: readonly string[];
  readonly policies: readonly string[];
  readonly subject: string;
  /** openssl purposes the leaf must verify for, under its root. */
  readonly purposes: Readonly<Record<KeyType, readonly string[]>>;
}
const PERSON = 'C=FR, O=ACME, 2.5.4.97=NTRFR-732829320, SN=DURAND, G=Camille, CN=Camille DURAND';
const TLS_SUBJECT = 'C=FR, L=Paris, O=ACME, CN=www.acme-example.fr';
const signingPerson = (product: ProductCode, etsi: string, eku: readonly string[]): Rule => ({
  ku: { ec: DS | NR, rsa: DS | NR },
  eku,
  policies: [SMIME_POLICY.sponsoredMultipurpose, OWN_POLICY[product], etsi],
  subject: PERSON,
  purposes: { ec: ['smimesign'], rsa: ['smimesign'] },
});
const tlsRule = (product: ProductCode, subject = TLS_SUBJECT): Rule => ({
  ku: { ec: DS, rsa: DS },
  eku: [EKU.serverAuth],
  policies: [CABF_POLICY.organizationValidated, OWN_POLICY[product], ETSI_POLICY.ovcp],
  subject,
  purposes: { ec: ['sslserver'], rsa: ['sslserver'] },
});
const RULES: Readonly<Record<ProductCode, Rule>> = {
  SSL: tlsRule('SSL'),
  SSL_RGS_STAR: tlsRule('SSL_RGS_STAR'),
  SSL_WILDCARD: tlsRule('SSL_WILDCARD', 'C=FR, L=Paris, O=ACME, CN=*.acme-example.fr'),
  SERVER_CLIENT: {
    ku: { ec: DS, rsa: DS },
    eku: [EKU.clientAuth],
    policies: [OWN_POLICY.SERVER_CLIENT, ETSI_POLICY.ncp],
    subject: 'C=FR, O=ACME, 2.5.4.97=NTRFR-732829320, CN=www.acme-example.fr',
    purposes: { ec: ['sslclient'], rsa: ['sslclient'] },
  },
  SERVER_SEAL: {
    ku: { ec: DS | NR, rsa: DS | NR },
    eku: [],
    policies: [OWN_POLICY.SERVER_SEAL, ETSI_POLICY.ncp],
    subject: 'C=FR, O=ACME, OU=0002 73282932000074, 2.5.4.97=NTRFR-732829320, CN=ACME',
    purposes: { ec: [], rsa: [] },
  },
  ID_RGS_STAR: signingPerson('ID_RGS_STAR', ETSI_POLICY.lcp, [EKU.emailProtection, EKU.clientAuth]),
  ID_RGS_2STAR: signingPerson('ID_RGS_2STAR', ETSI_POLICY.ncpPlus, [EKU.emailProtection, EKU.clientAuth]),
  ID_RGS_3STAR: signingPerson('ID_RGS_3STAR', ETSI_POLICY.ncpPlus, [EKU.emailProtection, EKU.clientAuth]),
  ENCRYPTION: {
    ku: { ec: KA, rsa: KE },
    eku: [EKU.emailProtection],
    policies: [SMIME_POLICY.sponsoredMultipurpose, OWN_POLICY.ENCRYPTION, ETSI_POLICY.lcp],
    subject: PERSON,
    // openssl's smimeencrypt wants keyEncipherment: an RSA key; an ECDH key is for key agreement.
    purposes: { ec: [], rsa: ['smimeencrypt'] },
  },
  EIDAS_QUALIFIED: signingPerson('EIDAS_QUALIFIED', ETSI_POLICY.qcpNQscd, [EKU.emailProtection]),
};

const httpOnly = (urls: readonly string[]): void => {
  expect(urls.length).toBeGreaterThan(0);
  for (const url of urls) expect(url, url).toMatch(/^http:\/\/[^/]+\//);
};

describe('every product, EC and RSA, as issued', () => {
  for (const product of PRODUCT_CODES) {
    for (const keyType of ['ec', 'rsa'] as const) {
      it(`${product} with ${keyType === 'ec' ? 'a P-256' : 'an RSA 2048'} key follows ${PROFILES[product].standard}`, async () => {
        const rule = RULES[product];
        const profile = PROFILES[product];
        const issued = await issue(product, keyType);
        const cert = new x509.X509Certificate(issued.pem);
        const issuing = await issuingOf(profile.issuingCa);

        expect(cert.subject).toBe(rule.subject);
        expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(rule.ku[keyType]);
        expect(cert.getExtension(x509.KeyUsagesExtension)?.critical).toBe(true);
        expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String) ?? []).toEqual(rule.eku);
        expect(cert.getExtension(x509.CertificatePolicyExtension)?.policies).toEqual(rule.policies);
        // One ETSI EN 319 412-2 table 1 type for every leaf; A, B or F for those that sign content.
        const type = etsiKeyUsageType(rule.ku[keyType]);
        expect(type).toBeDefined();
        if (profile.contentCommitment) expect(['A', 'B', 'F']).toContain(type);

        // The revocation pointers: http, under PKI_HTTP_BASE_URL, never the https web base.
        const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
        const crlUrls = cdp?.distributionPoints.flatMap((p) => p.distributionPoint?.fullName?.map((n) => n.uniformResourceIdentifier ?? '') ?? []) ?? [];
        expect(crlUrls).toEqual([`${PKI_BASE_URL}/v1/ca/${profile.issuingCa}/crl`]);
        const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
        expect(aia?.ocsp.map((n) => n.value)).toEqual([`${PKI_BASE_URL}/v1/ocsp`]);
        expect(aia?.caIssuers.map((n) => n.value)).toEqual([`${PKI_BASE_URL}/v1/ca/${profile.issuingCa}/certificate`]);
        httpOnly([...crlUrls, ...(aia?.ocsp ?? []).map((n) => n.value), ...(aia?.caIssuers ?? []).map((n) => n.value)]);

        // QCStatements for the qualified product only: compliance, QSCD, esign, an https English PDS.
        const qc = cert.extensions.find((e) => e.type === '1.3.6.1.5.5.7.1.3');
        if (product === 'EIDAS_QUALIFIED') {
          const content = readQcStatements(qc ?? new x509.Extension('1.3.6.1.5.5.7.1.3', false, new ArrayBuffer(0)));
          expect(content.statementIds).toEqual(expect.arrayContaining([ETSI_QCS.compliance, ETSI_QCS.sscd, ETSI_QCS.type, ETSI_QCS.pds]));
          expect(content.qcTypes).toEqual([ETSI_QCS.typeEsign]);
          expect(content.pdsLocations).toEqual([{ url: `${PDS_URL}/en`, language: 'en' }]);
          expect(content.pdsLocations[0]?.url).toMatch(/^https:\/\//);
        } else {
          expect(qc).toBeUndefined();
        }

        // S/MIME certificates: the one reserved policy of their generation and validation, a mailbox SAN only.
        const san = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
        if (profile.kind === 'person') {
          expect(san).toEqual([{ type: 'email', value: EMAIL }]);
          expect(cert.getExtension(x509.CertificatePolicyExtension)?.policies.filter((p) => p.startsWith('2.23.140.1.5.'))).toEqual(['2.23.140.1.5.3.2']);
          expect(rule.eku).not.toContain(EKU.serverAuth);
        }
        // The whole standards pass finds nothing, and neither does the lint that ran before the signature.
        expect(standardsProblems(cert, { profile, keyType, issuer: issuing.certificate })).toEqual([]);

        // openssl agrees: the chain, the purposes (which also check the issuing CA's EKU), the S/MIME ones included.
        const chain = pemBlocks(await run.internals.ca.chainPem({ serial: issued.serial }));
        const files = { 'leaf.pem': issued.pem, 'issuing.pem': chain[1] ?? '', 'root.pem': chain[2] ?? '' };
        const at = String(Date.parse(issued.notBefore) / 1000);
        for (const purpose of ['any', ...rule.purposes[keyType]]) {
          const out = await openssl(['verify', '-attime', at, '-purpose', purpose, '-CAfile', '{root.pem}', '-untrusted', '{issuing.pem}', '{leaf.pem}'], files);
          expect(out, purpose).toMatch(/leaf\.pem: OK/);
        }
      });
    }
  }
});

describe('the issuing CAs', () => {
  it('make the persons and seals CAs S/MIME subordinates (emailProtection, never serverAuth) and the TLS CA a TLS one', async () => {
    for (const id of ['persons-issuing', 'seals-issuing', 'tls-issuing'] as const) {
      const ca = (await issuingOf(id)).certificate;
      const eku = ca.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String);
      const policies = ca.getExtension(x509.CertificatePolicyExtension)?.policies ?? [];
      if (id === 'tls-issuing') {
        // BR §7.1.2.10.6, §7.1.2.10.5: serverAuth, no S/MIME; the reserved OV policy first.
        expect(eku).toEqual([EKU.serverAuth]);
        expect(policies[0]).toBe(CABF_POLICY.organizationValidated);
      } else {
        // S/MIME BR §7.1.2.2 g: emailProtection present; serverAuth, codeSigning, timeStamping, anyEKU absent.
        expect(eku).toContain(EKU.emailProtection);
        expect(eku).not.toContain(EKU.serverAuth);
        expect(eku?.some((p) => ['1.3.6.1.5.5.7.3.3', '1.3.6.1.5.5.7.3.8', '2.5.29.37.0'].includes(p))).toBe(false);
      }
      // S/MIME BR §7.1.6.3: the persons CA names the reserved S/MIME policy of its leaves (and the others they assert).
      if (id === 'persons-issuing') {
        expect(policies).toContain(SMIME_POLICY.sponsoredMultipurpose);
        for (const product of PRODUCT_CODES.filter((p) => PROFILES[p].issuingCa === id)) for (const p of PROFILES[product].policies) expect(policies).toContain(p);
      }
      if (id === 'seals-issuing') expect(policies).toEqual([ANY_POLICY]);
      // Their own revocation pointers are http too (the run shares one hierarchy: any http base).
      const cdp = ca.getExtension(x509.CRLDistributionPointsExtension);
      httpOnly(cdp?.distributionPoints.flatMap((p) => p.distributionPoint?.fullName?.map((n) => n.uniformResourceIdentifier ?? '') ?? []) ?? []);
      httpOnly(ca.getExtension(x509.AuthorityInfoAccessExtension)?.caIssuers.map((n) => n.value) ?? []);
      expect(ca.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, critical: true });
    }
  });
});

describe('a CRL and an OCSP response', () => {
  it('list a revoked S/MIME certificate in the issuing CA CRL and answer revoked over OCSP, both verifying', async () => {
    const issued = await issue('ID_RGS_STAR', 'ec');
    await run.internals.ca.revokeCertificate({ serial: issued.serial, reason: 'keyCompromise' });
    const chain = pemBlocks(await run.internals.ca.chainPem({ serial: issued.serial }));
    const [leaf, issuingPem, rootPem] = chain;
    const files = { 'leaf.pem': leaf ?? '', 'issuing.pem': issuingPem ?? '', 'chain.pem': `${issuingPem ?? ''}${rootPem ?? ''}` };

    const crl = await run.internals.ca.currentCrl('persons-issuing');
    const crlText = await openssl(['crl', '-inform', 'DER', '-in', '{crl.der}', '-CAfile', '{chain.pem}', '-noout', '-text'], { ...files, 'crl.der': crl });
    expect(crlText).toContain('verify OK');
    expect(crlText).toContain('Signature Algorithm: ecdsa-with-SHA384');
    expect(crlText).toMatch(/Issuer: C ?= ?FR, O ?= ?CertFlow, CN ?= ?CertFlow Persons Issuing CA 1/);
    expect(crlText).toContain('X509v3 CRL Number');
    expect(crlText).toContain(`Serial Number: ${issued.serial.toUpperCase()}`);
    // S/MIME BR §7.2.2: a reason code, never unspecified, never critical.
    expect(crlText).toMatch(/X509v3 CRL Reason Code:\s*\n\s*Key Compromise/);

    const der = await requestDer(files);
    const response = await run.internals.ca.ocspRespond(der);
    const out = await openssl(['ocsp', '-respin', '{resp.der}', '-issuer', '{issuing.pem}', '-cert', '{leaf.pem}', '-CAfile', '{chain.pem}', '-resp_text'], { ...files, 'resp.der': response });
    expect(out).toContain('Response verify OK');
    expect(out).toMatch(/leaf\.pem: revoked/);
    expect(out).toContain('Reason: keyCompromise');
    expect(out).toMatch(/Signature Algorithm: ecdsa-with-SHA(256|384)/);
  });
});

/** An OCSP request for the leaf, DER, as openssl writes it (to a file: openssl's own output is the request). */
async function requestDer(files: Record<string, string>): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'certflow-ocsp-req-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const run = await opensslAsync(['ocsp', '-issuer', join(dir, 'issuing.pem'), '-cert', join(dir, 'leaf.pem'), '-no_nonce', '-reqout', join(dir, 'req.der')]);
    expect(run.status, run.stderr).toBe(0);
    return readFileSync(join(dir, 'req.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the pre-issuance lint against broken profiles', () => {
  /**
   * The to-be-signed certificate of a profile, exactly as issue.ts builds it (placeholder signature, nothing signed),
   * and what lintTbs says of it. The profile-matching checks agree with a broken profile; the standards pass must not.
   */
  async function lintOf(
    profile: CertificateProfile,
    keyType: KeyType,
    opts: { subject?: string; issuing?: CaId; pkiBaseUrl?: string; pdsUrl?: string; days?: number } = {},
  ): Promise<string[]> {
    const key = readSubjectKey(await keyOf(keyType));
    if ('problem' in key) throw new Error(key.problem);
    const issuing = await issuingOf(opts.issuing ?? profile.issuingCa);
    const dnsNames = dnsNamesOf(profile);
    const subject = opts.subject ?? subjectString(subjectFields(profile.kind, { holder: { givenName: 'Camille', surname: 'Durand' }, organisation: ACME, dnsNames }));
    const urls = { pkiBaseUrl: opts.pkiBaseUrl ?? CA_URLS.pkiBaseUrl, pdsUrl: opts.pdsUrl ?? CA_URLS.pdsUrl };
    const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
    const notAfter = notAfterFor(profile, notBefore, opts.days ?? 90);
    const serial = '1a2b3c4d5e6f708192a3b4c5d6e7f809';
    const tbs = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: new x509.Name(subject),
      issuer: issuing.certificate.subjectName,
      notBefore,
      notAfter,
      publicKey: key.publicKey,
      signingAlgorithm: CA_SIGNING_ALGORITHM,
      extensions: await leafExtensions(profile, { keyType, publicKey: key.publicKey, email: EMAIL, dnsNames, issuing, ...urls }),
      signature: new Uint8Array(CA_SIGNATURE_BYTES),
    });
    return lintTbs(tbs, { profile, keyType, serial, subject, spki: key.der, email: EMAIL, dnsNames, notBefore, notAfter, issuing, ...urls });
  }
  const refusedFor = async (problems: Promise<string[]>, rule: RegExp): Promise<void> => {
    const list = await problems;
    expect(list.some((p) => rule.test(p)), `${String(rule)} in ${JSON.stringify(list)}`).toBe(true);
  };
  const withKu = (profile: CertificateProfile, ku: Partial<Record<KeyType, number>>): CertificateProfile => ({ ...profile, keyUsage: { ...profile.keyUsage, ...ku } });

  it('passes every product profile as it is, for both key types', async () => {
    for (const product of PRODUCT_CODES) for (const keyType of ['ec', 'rsa'] as const) expect(await lintOf(PROFILES[product], keyType), `${product} ${keyType}`).toEqual([]);
  });

  it('refuses dataEncipherment on an RSA encryption certificate: the S/MIME BR allows it, ETSI EN 319 412-2 table 1 does not', async () => {
    const problems = await lintOf(withKu(PROFILES.ENCRYPTION, { rsa: KE | DE }), 'rsa');
    expect(problems.some((p) => p.includes('S/MIME BR §7.1.2.3 e'))).toBe(false);
    await refusedFor(Promise.resolve(problems), /none of the types A–F of ETSI EN 319 412-2 table 1/);
  });

  it('refuses an S/MIME profile without its reserved policy, or with another generation\'s', async () => {
    const { policies } = PROFILES.ID_RGS_STAR;
    await refusedFor(lintOf({ ...PROFILES.ID_RGS_STAR, policies: policies.slice(1) }, 'ec'), /exactly one reserved S\/MIME BR policy \(S\/MIME BR §7\.1\.2\.3 a/);
    await refusedFor(lintOf({ ...PROFILES.ID_RGS_STAR, policies: ['2.23.140.1.5.3.3', ...policies.slice(1)] }, 'ec'), /asserts 2\.23\.140\.1\.5\.3\.2, not 2\.23\.140\.1\.5\.3\.3/);
    await refusedFor(lintOf({ ...PROFILES.ID_RGS_STAR, policies: ['2.23.140.1.5.3.1', ...policies.slice(1)] }, 'ec'), /legacy S\/MIME certificates may no longer be issued/);
  });

  it('refuses clientAuth in a strict S/MIME certificate, and serverAuth in any', async () => {
    const strict = { ...PROFILES.ID_RGS_STAR, smime: { validation: 'sponsored', generation: 'strict' } as const, policies: [SMIME_POLICY.sponsoredStrict, OWN_POLICY.ID_RGS_STAR, ETSI_POLICY.lcp] };
    await refusedFor(lintOf(strict, 'ec'), /a strict S\/MIME certificate carries emailProtection and nothing else/);
    await refusedFor(lintOf({ ...PROFILES.ENCRYPTION, extendedKeyUsage: [EKU.emailProtection, EKU.serverAuth] }, 'rsa'), /1\.3\.6\.1\.5\.5\.7\.3\.1 is forbidden in an S\/MIME certificate/);
  });

  it('refuses an S/MIME certificate of 826 days (S/MIME BR §6.3.2: 825 at most), even under a profile that would allow it', async () => {
    const longLived = { ...PROFILES.ID_RGS_STAR, validity: { kind: 'fixed', maxDays: 3 * 365 + 1 } } as const;
    // notAfter 825 × 86,400 s after notBefore: 826 days as the BR count them, the last second being a day begun.
    await refusedFor(lintOf(longLived, 'ec', { days: 825 }), /validity of 826 days exceeds the 825 days of a multipurpose S\/MIME certificate \(S\/MIME BR §6\.3\.2\)/);
    await refusedFor(lintOf(PROFILES.ENCRYPTION, 'rsa', { days: 825 }), /validity of 826 days exceeds the 825 days .*S\/MIME BR §6\.3\.2/);
    // The persons profiles' own ceiling, one day under: nothing to say.
    expect(PROFILES.ID_RGS_STAR.validity).toEqual({ kind: 'fixed', maxDays: 824 });
    expect(await lintOf(PROFILES.EIDAS_QUALIFIED, 'ec', { days: 824 })).toEqual([]);
  });

  it('refuses an S/MIME certificate whose profile forgets it is one', async () => {
    const { smime: _smime, ...notSmime } = PROFILES.ENCRYPTION;
    await refusedFor(lintOf(notSmime, 'ec'), /its profile must name an S\/MIME generation/);
  });

  it('refuses S/MIME key usages outside the BR table, and a signing-only qualified key without nonRepudiation types', async () => {
    await refusedFor(lintOf(withKu(PROFILES.ID_RGS_STAR, { ec: NR }), 'ec'), /S\/MIME BR §7\.1\.2\.3 e/);
    await refusedFor(lintOf(withKu(PROFILES.ENCRYPTION, { ec: KA | KE }), 'ec'), /keyUsage keyEncipherment not allowed in a multipurpose S\/MIME certificate with an EC key/);
    await refusedFor(lintOf(withKu(PROFILES.EIDAS_QUALIFIED, { ec: DS }), 'ec'), /type C: a certificate that signs content is of type A, B or F \(EN 319 412-2 NAT-4\.3\.2\)/);
  });

  it('refuses an OU the S/MIME BR reserves to verified Affiliates, in a persons subject', async () => {
    const subject = 'C=FR, O=ACME, OU=0002 73282932000074, 2.5.4.97=NTRFR-732829320, SN=DURAND, G=Camille, CN=Camille DURAND';
    await refusedFor(lintOf(PROFILES.ID_RGS_2STAR, 'ec', { subject }), /organizationalUnitName in an S\/MIME subject/);
  });

  it('refuses an S/MIME certificate under a CA without emailProtection', async () => {
    await refusedFor(lintOf(PROFILES.ID_RGS_STAR, 'ec', { issuing: 'tls-issuing' }), /issuing CA of an S\/MIME certificate carries the emailProtection EKU/);
  });

  it('refuses https revocation URLs and an http PDS', async () => {
    await refusedFor(lintOf(PROFILES.SSL, 'ec', { pkiBaseUrl: 'https://pki.certflow.example.test' }), /CRL distribution point https:\/\/.* is not http:\/\/ \(BR §7\.1\.2\.11\.2/);
    await refusedFor(lintOf(PROFILES.ID_RGS_STAR, 'ec', { pkiBaseUrl: 'https://pki.certflow.example.test' }), /AIA OCSP https:\/\/.* is not an http:\/\/ URI/);
    await refusedFor(lintOf(PROFILES.EIDAS_QUALIFIED, 'ec', { pdsUrl: 'http://certflow.example.test/pds' }), /the PDS location http:\/\/.* is not https:\/\/ \(EN 319 412-5 §4\.3\.4\)/);
  });

  it('refuses TLS profiles off the BR: key usages, the reserved policy and its place, e-mail protection', async () => {
    await refusedFor(lintOf(withKu(PROFILES.SSL, { ec: DS | KE }), 'ec'), /keyEncipherment not permitted for an EC TLS certificate \(BR §7\.1\.2\.7\.11\)/);
    await refusedFor(lintOf(withKu(PROFILES.SSL, { rsa: DS | NR }), 'rsa'), /nonRepudiation not permitted for an RSA TLS certificate/);
    const [ov, ...rest] = PROFILES.SSL.policies;
    await refusedFor(lintOf({ ...PROFILES.SSL, policies: [...rest, ov ?? ''] }, 'ec'), /the reserved CA\/B Forum policy comes first/);
    await refusedFor(lintOf({ ...PROFILES.SSL, policies: rest }, 'ec'), /exactly one reserved CA\/B Forum policy/);
    await refusedFor(lintOf({ ...PROFILES.SSL, extendedKeyUsage: [EKU.serverAuth, EKU.emailProtection] }, 'ec'), /1\.3\.6\.1\.5\.5\.7\.3\.4 is forbidden in a TLS certificate/);
  });

  it('refuses a seal (ETSI EN 319 412-3) whose key does not commit to content, or a subject without its identifier', async () => {
    await refusedFor(lintOf(withKu(PROFILES.SERVER_SEAL, { ec: DS | KA }), 'ec'), /type D: a certificate that signs content is of type A, B or F \(EN 319 412-3 LEG-4\.3\.1\)/);
    await refusedFor(lintOf(PROFILES.SERVER_SEAL, 'ec', { subject: 'C=FR, O=ACME, OU=0002 73282932000074, CN=ACME' }), /a legal person subject names exactly one organizationIdentifier \(EN 319 412-3 LEG-4\.2\.1-2/);
  });
});
