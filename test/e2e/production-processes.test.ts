/**
 * The production entry points: the worker alone and the API alone, as separate processes against TEMPORAL_ADDRESS
 * and DATABASE_URL (the run's dev server and Postgres database), with the admin CLI on the same database.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../../domain/order.js';
import { rgsStarOrder, SIRETS } from '../support.js';
import { adminCli, apiReady, ROOT, runScript, separateProcessesEnv, type ScriptProcess } from './process-group.js';

const procs: ScriptProcess[] = [];
const run = runScript;
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
});

describe('API and worker as separate processes', () => {
  it('need TEMPORAL_ADDRESS and DATABASE_URL, and say so', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    delete env.TEMPORAL_ADDRESS;
    const api = spawnSync('npm', ['run', '--silent', 'start:api'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(api.status).toBe(2);
    expect(api.stdout + api.stderr).toMatch(/needs TEMPORAL_ADDRESS and DATABASE_URL/);
  });

  it('serve an order end to end, with a key from the admin CLI on the same database', async () => {
    const env = await separateProcessesEnv('prod');
    const worker = run('start:worker', env);
    const api = run('start:api', env);
    procs.push(worker, api);

    const email = `prod-${randomUUID().slice(0, 8)}@example.test`;
    const bad = await adminCli(env, 'users', 'create', '--role', 'customer', '--email', email, '--org-siret', '73282932000075', '--org-name', 'ACME', '--given-name', 'Camille', '--surname', 'Durand');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/Luhn/);
    const orphan = await adminCli(env, 'users', 'create', '--role', 'customer', '--email', email);
    expect(orphan.status).not.toBe(0);
    expect(orphan.stderr).toMatch(/--org-siret and --org-name/);

    // A customer is a person its certificates will name: no account without a given name and a surname.
    const nameless = await adminCli(env, 'users', 'create', '--role', 'customer', '--email', email, '--org-siret', SIRETS.acme, '--org-name', 'ACME', '--given-name', 'Camille');
    expect(nameless.status).not.toBe(0);
    expect(nameless.stderr).toMatch(/--surname/);

    const made = await adminCli(env, 'users', 'create', '--role', 'customer', '--email', email, '--org-siret', SIRETS.acme, '--org-name', 'ACME', '--phone', '+33612345678', '--given-name', 'Camille', '--surname', 'Durand', '--json');
    expect(made.status, made.stderr).toBe(0);
    const { apiKey } = made.json<{ apiKey: string }>();
    const again = await adminCli(env, 'users', 'create', '--role', 'customer', '--email', email.toUpperCase(), '--org-siret', SIRETS.acme, '--org-name', 'ACME', '--given-name', 'Camille', '--surname', 'Durand');
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/exists/);

    const base = await apiReady(env, api);
    const res = await fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(rgsStarOrder()),
    });
    // 201 and not 202: the separate worker picked the workflow up and recorded the order.
    expect(res.status, worker.output()).toBe(201);
    expect(((await res.json()) as OrderView).status).toBe('awaiting_evidence');

    await Promise.all([api.stop(), worker.stop()]);
    expect(worker.output()).toMatch(/worker stopped/);
    expect(api.output()).toMatch(/"signal":"SIGTERM"/);
  }, 120_000);
});
