/**
 * The `ca` benchmark scenario runs in-process on a tiny count against the run's database: every case measured, the
 * ratios computed, the sample verified and the report written. Shape only, no timing thresholds: speed targets live
 * in the benchmark (npm run bench -- ca), not in tests.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PATHS, runCaBench, type CaBenchReport } from '../../scripts/bench/ca.js';

const reportDir = mkdtempSync(join(tmpdir(), 'certflow-bench-ca-test-'));
afterAll(() => rmSync(reportDir, { recursive: true, force: true }));

/** Generous time bound: the count ends each case, never the clock. */
const tiny = { count: 3, seconds: 60, warmup: 0, keys: 1, sample: 2, log: () => {} } as const;

const expectMeasured = (report: CaBenchReport): void => {
  for (const c of report.cases) {
    expect(c.count, c.name).toBeGreaterThan(0);
    expect(c.count, c.name).toBeLessThanOrEqual(tiny.count);
    expect(Number.isFinite(c.seconds) && c.seconds > 0, c.name).toBe(true);
    expect(Number.isFinite(c.perSecond) && c.perSecond > 0, c.name).toBe(true);
    expect(Number.isFinite(c.meanMs) && c.meanMs > 0, c.name).toBe(true);
    if (c.path === 'openssl-ca-batch') {
      // One certificate of a batch cannot be timed alone.
      expect(c.p50Ms).toBeNull();
    } else {
      expect(c.p50Ms, c.name).toBeGreaterThan(0);
      expect(c.p95Ms ?? 0, c.name).toBeGreaterThanOrEqual(c.p50Ms ?? Infinity);
    }
  }
  for (const r of report.ratios) expect(Number.isFinite(r.caOverOpenssl) && r.caOverOpenssl > 0, `${r.profile}/${r.keyType} ÷ ${r.versus}`).toBe(true);
  expect(report.verification.failures).toEqual([]);
  expect(report.verification.checked).toBeGreaterThan(0);
  expect(report.verification.verified).toBe(report.verification.checked);
  expect(report.verification.equivalence.filter((e) => !e.equivalent)).toEqual([]);
  expect(report.verification.ok).toBe(true);
};

/** The run's tokens, where the global set-up's ceremony made the run database's CA keys. */
const RUN_TOKENS = { modulePath: inject('pkcs11ModulePath'), softHsmConf: inject('softHsmConf') };

describe('bench: ca scenario', () => {
  it('measures the CA path and the three openssl paths for both profiles and key types, and writes its report', async () => {
    const { report, reportPath } = await runCaBench({ ...tiny, databaseUrl: inject('databaseUrl'), masterKey: inject('masterKey'), pkcs11: RUN_TOKENS, reportDir });

    expect(report.scenario).toBe('ca');
    expect(report.unit).toBe('cert');
    expect(report.database.driver).toBe('postgres');
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.machine.openssl).toMatch(/^OpenSSL \d/);
    // The issuing CA's key never leaves its token: openssl signs with a generated stand-in, and the report says so.
    expect(report.opensslCaKey.source).toBe('generated');
    expect(Object.keys(report.paths)).toEqual([...PATHS]);

    const cells = report.cases.map((c) => `${c.profile}/${c.keyType}/${c.path}`);
    expect(new Set(cells).size).toBe(cells.length);
    expect(cells.sort()).toEqual(['person', 'tls'].flatMap((p) => ['p256', 'rsa2048'].flatMap((k) => [...PATHS].sort().map((path) => `${p}/${k}/${path}`))));
    expect(new Set(report.cases.map((c) => c.name)).size).toBe(report.cases.length);
    expect(report.ratios).toHaveLength(2 * 2 * (PATHS.length - 1));
    expect(report.verification.equivalence).toHaveLength(2 * 2 * (PATHS.length - 1));
    expectMeasured(report);

    expect(reportPath).not.toBeNull();
    expect(readdirSync(reportDir)).toContain(`ca-${report.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`);
    expect(JSON.parse(readFileSync(reportPath ?? '', 'utf8'))).toEqual(report);
  }, 180_000);

  it('says so when openssl signs with a generated CA instead of the issuing CA key, and still verifies', async () => {
    const { report, reportPath } = await runCaBench({
      ...tiny,
      paths: ['ca-activity', 'openssl-spawn'],
      opensslCa: 'generated',
      databaseUrl: inject('databaseUrl'),
      masterKey: inject('masterKey'),
      pkcs11: RUN_TOKENS,
      reportDir: null,
    });
    expect(reportPath).toBeNull();
    expect(report.opensslCaKey.source).toBe('generated');
    expect(report.opensslCaKey.note).toMatch(/GENERATED P-384 CA/);
    expect(report.cases.map((c) => c.path).sort()).toEqual(['ca-activity', 'ca-activity', 'ca-activity', 'ca-activity', 'openssl-spawn', 'openssl-spawn', 'openssl-spawn', 'openssl-spawn']);
    expectMeasured(report);
  }, 180_000);
});
