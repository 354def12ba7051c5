import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isValidBic, isValidIban } from '../../config/ca-identity.js';
import { CONFIG_VARIABLES, ConfigError, loadConfig, retentionSeconds } from '../../config/index.js';
import { REAL_CA } from './real-ca.js';

describe('configuration', () => {
  it('defaults to the embedded mode', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.TEMPORAL_UI_PORT).toBe(8233);
    expect(c.TEMPORAL_ADDRESS).toBeUndefined();
    expect(c.embeddedDatabase).toBe(true);
    expect(c.DATA_DIR).toMatch(/\/data$/);
    expect(c.publicBaseUrl).toBe('http://127.0.0.1:3000');
  });
  it('reads production settings, treating empty values as unset', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@db/certflow', TEMPORAL_ADDRESS: 'temporal:7233', HOST: '0.0.0.0', PORT: '8080', TEMPORAL_CLI_PATH: ' ' });
    expect(c.embeddedDatabase).toBe(false);
    expect(c.PORT).toBe(8080);
    expect(c.TEMPORAL_CLI_PATH).toBeUndefined();
    expect(c.publicBaseUrl).toBe('http://127.0.0.1:8080');
  });
  it('reads TEMPORAL_RETENTION in days or hours, at least a day', () => {
    expect(loadConfig({}).TEMPORAL_RETENTION).toBe('30d');
    expect(retentionSeconds(loadConfig({}).TEMPORAL_RETENTION)).toBe(30 * 86_400);
    expect(retentionSeconds(loadConfig({ TEMPORAL_RETENTION: ' 720h ' }).TEMPORAL_RETENTION)).toBe(720 * 3_600);
    for (const bad of ['12h', '0d', '30', '30 days', '-1d', '1.5d']) expect(() => loadConfig({ TEMPORAL_RETENTION: bad }), bad).toThrow(/TEMPORAL_RETENTION/);
  });
  it('reads TRUST_PROXY as false, a hop count or a list of proxies, and refuses trusting everyone', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,fd00::/8,loopback' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', 'loopback']);
    for (const bad of ['true', '10.0.0.0/33', 'proxy.example', '10.0.0.1/8/2']) expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
  });
  it('keeps the revocation URLs http and the PDS https, each from its own setting', () => {
    // Embedded: the API's own http base serves /v1/ca/… and /v1/ocsp; no https base, so the documented PDS placeholder.
    expect(loadConfig({})).toMatchObject({ pkiBaseUrl: 'http://127.0.0.1:3000', pdsUrl: 'https://certflow.example/pds' });
    expect(loadConfig({ HOST: '0.0.0.0', PORT: '8080' }).pkiBaseUrl).toBe('http://127.0.0.1:8080');
    // An http PUBLIC_BASE_URL is the revocation base as it is; an https one gives the PDS, never the CRL base.
    expect(loadConfig({ PUBLIC_BASE_URL: 'http://ca.example.fr/' })).toMatchObject({ pkiBaseUrl: 'http://ca.example.fr', pdsUrl: 'https://certflow.example/pds' });
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://www.example.fr' })).toMatchObject({ pkiBaseUrl: 'http://127.0.0.1:3000', pdsUrl: 'https://www.example.fr/pds' });
    const both = loadConfig({ PUBLIC_BASE_URL: 'https://www.example.fr', PKI_HTTP_BASE_URL: ' http://crl.example.fr/pki/ ', PDS_URL: 'https://docs.example.fr/pds/' });
    expect(both).toMatchObject({ publicBaseUrl: 'https://www.example.fr', pkiBaseUrl: 'http://crl.example.fr/pki', pdsUrl: 'https://docs.example.fr/pds' });
    // The config refuses an https CRL base and an http PDS at start, naming the rule.
    expect(() => loadConfig({ PKI_HTTP_BASE_URL: 'https://crl.example.fr' })).toThrow(ConfigError);
    expect(() => loadConfig({ PKI_HTTP_BASE_URL: 'https://crl.example.fr' })).toThrow(/PKI_HTTP_BASE_URL: expected an http:\/\/ URL[\s\S]*must be http:\/\/ \(BR §7\.1\.2\.11\.2/);
    expect(() => loadConfig({ PDS_URL: 'http://www.example.fr/pds' })).toThrow(/PDS_URL: expected an https:\/\/ URL[\s\S]*ETSI EN 319 412-5/);
    for (const bad of ['crl.example.fr', 'http://', 'http://crl.example.fr/?x=1', 'ldap://crl.example.fr']) expect(() => loadConfig({ PKI_HTTP_BASE_URL: bad }), bad).toThrow(/PKI_HTTP_BASE_URL/);
    for (const bad of ['www.example.fr/pds', 'https://www.example.fr/pds#en', 'ftp://www.example.fr']) expect(() => loadConfig({ PDS_URL: bad }), bad).toThrow(/PDS_URL/);
    // Production with an https web base must say where the http revocation base is.
    const prod = { CERTFLOW_ENV: 'production', DATABASE_URL: 'postgres://u@db/certflow', PUBLIC_BASE_URL: 'https://pki.autorite-exemplaire.fr', ...REAL_CA };
    expect(() => loadConfig(prod)).toThrow(/PKI_HTTP_BASE_URL: required when CERTFLOW_ENV=production and PUBLIC_BASE_URL is https/);
    expect(loadConfig({ ...prod, PKI_HTTP_BASE_URL: 'http://crl.autorite-exemplaire.fr' })).toMatchObject({ pkiBaseUrl: 'http://crl.autorite-exemplaire.fr', pdsUrl: 'https://pki.autorite-exemplaire.fr/pds' });
  });
  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/);
  });
  it('carries a fictitious but valid demo CA identity by default, in development and with DATABASE_URL (the test stacks)', () => {
    for (const env of [{}, { DATABASE_URL: 'postgres://u@db/certflow', MASTER_KEY: 'x' }]) {
      const { caIdentity: id } = loadConfig(env);
      expect(id.tradingName).toBe('CertFlow');
      expect(id.legalName).toMatch(/Démo/);
      expect(isValidIban(id.bank.iban)).toBe(true);
      expect(isValidBic(id.bank.bic)).toBe(true);
      expect(JSON.stringify(id)).not.toMatch(/XXXX|\[|Dhimyotis|Certigna/);
    }
  });
  it('reads the identity from CA_* variables into a plain object', () => {
    const c = loadConfig({ ...REAL_CA, CA_BANK_IBAN: 'fr76 3000 6000 0112 3456 7890 189', CA_BANK_BIC: 'bnpafrpp' });
    expect(c.caIdentity).toEqual({
      tradingName: 'Autorité Exemplaire',
      legalName: 'Autorité Exemplaire SA',
      postalAddress: { street: '12, boulevard Haussmann', postalCode: '75009', locality: 'Paris', country: 'France' },
      bank: { accountHolder: 'Autorité Exemplaire SA', bankName: 'BNP Paribas', iban: 'FR7630006000011234567890189', bic: 'BNPAFRPP' },
      support: { email: 'support@autorite-exemplaire.fr', phone: '+33 1 44 00 00 00' },
    });
    expect(JSON.parse(JSON.stringify(c.caIdentity))).toEqual(c.caIdentity);
  });
  it('checks the IBAN (mod 97) and the BIC at start', () => {
    // One digit changed: the checksum no longer holds.
    expect(() => loadConfig({ CA_BANK_IBAN: 'FR76 3000 6000 0112 3456 7890 188' })).toThrow(/CA_BANK_IBAN/);
    expect(() => loadConfig({ CA_BANK_IBAN: 'FR76 XXXX XXXX XXXX XXXX XXXX XXX' })).toThrow(/CA_BANK_IBAN/);
    expect(() => loadConfig({ CA_BANK_BIC: 'BNPAFRP' })).toThrow(/CA_BANK_BIC/);
    expect(() => loadConfig({ CA_BANK_BIC: 'BNPA-FR-PP' })).toThrow(/CA_BANK_BIC/);
    expect(() => loadConfig({ CA_SUPPORT_EMAIL: 'support' })).toThrow(/CA_SUPPORT_EMAIL/);
    expect(isValidIban('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(isValidIban('GB82 WEST 1234 5698 7654 33')).toBe(false);
    expect(isValidBic('DEUTDEFF500')).toBe(true);
  });
  it('in production, refuses the demo identity, a missing CA_* variable and placeholders', () => {
    const prod = {
      CERTFLOW_ENV: 'production',
      DATABASE_URL: 'postgres://u@db/certflow',
      PUBLIC_BASE_URL: 'https://pki.autorite-exemplaire.fr',
      PKI_HTTP_BASE_URL: 'http://crl.autorite-exemplaire.fr',
    };
    const { PUBLIC_BASE_URL: _base, ...noBase } = prod;
    expect(() => loadConfig({ ...noBase, ...REAL_CA })).toThrow(/PUBLIC_BASE_URL: required/);
    expect(loadConfig({ ...prod, ...REAL_CA }).caIdentity.legalName).toBe('Autorité Exemplaire SA');
    expect(() => loadConfig(prod)).toThrow(/CA_LEGAL_NAME[\s\S]*CA_BANK_IBAN[\s\S]*CA_SUPPORT_PHONE/);
    const { CA_BANK_BIC: _bic, ...withoutBic } = REAL_CA;
    expect(() => loadConfig({ ...prod, ...withoutBic })).toThrow(/CA_BANK_BIC: required/);
    expect(() => loadConfig({ ...prod, ...REAL_CA, CA_BANK_IBAN: 'FR76 9999 9000 0100 0123 4567 809' })).toThrow(/CA_BANK_IBAN: is the demo/);
    expect(() => loadConfig({ ...prod, ...REAL_CA, CA_BANK_NAME: '[banque / bank]' })).toThrow(/CA_BANK_NAME: looks like a placeholder/);
    expect(() => loadConfig({ ...prod, ...REAL_CA, CA_BANK_BIC: 'XXXXFRPPXXX' })).toThrow(/CA_BANK_BIC: looks like a placeholder/);
    expect(() => loadConfig({ ...prod, ...REAL_CA, CA_SUPPORT_EMAIL: 'support@certflow.localhost' })).toThrow(/CA_SUPPORT_EMAIL/);
    // CAA: the CA's own issuer domain names, never the demo one or a reserved name.
    const { CAA_IDENTIFIERS: _caa, ...withoutCaa } = REAL_CA;
    expect(() => loadConfig({ ...prod, ...withoutCaa })).toThrow(/CAA_IDENTIFIERS: required/);
    expect(() => loadConfig({ ...prod, ...REAL_CA, CAA_IDENTIFIERS: 'certflow.example' })).toThrow(/CAA_IDENTIFIERS: looks like a placeholder/);
    expect(loadConfig({ ...prod, ...REAL_CA, CAA_IDENTIFIERS: ' PKI.Autorite-Exemplaire.fr, autorite-exemplaire.fr ' }).CAA_IDENTIFIERS).toEqual(['pki.autorite-exemplaire.fr', 'autorite-exemplaire.fr']);
    expect(loadConfig({}).CAA_IDENTIFIERS).toEqual(['certflow.example']);
    expect(() => loadConfig({ CAA_IDENTIFIERS: 'not a name' })).toThrow(/CAA_IDENTIFIERS: expected issuer domain names/);
    // The trading name and the country may well be a real CA's own.
    expect(loadConfig({ ...prod, ...REAL_CA, CA_TRADING_NAME: 'CertFlow' }).caIdentity.tradingName).toBe('CertFlow');
  });
  it('is documented: the README table lists every variable', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of CONFIG_VARIABLES) expect(readme, name).toMatch(new RegExp(`\\|\\s*\`${name}\`\\s*\\|`));
  });
});
