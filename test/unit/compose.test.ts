/**
 * docker-compose.yml and the Dockerfile are not run by the test suite (no Docker engine in CI), so this test
 * pins what can drift silently: variable names and values against config/index.ts, service wiring,
 * search attributes against workflows/definitions.ts, and the entry points the image runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig, retentionSeconds } from '../../config/index.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions.js';
import { REAL_CA } from './real-ca.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const composePath = `${root}docker-compose.yml`;
const dockerfilePath = `${root}Dockerfile`;

type Scalar = string | number | boolean | null;

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, Scalar> | string[];
  depends_on?: string[] | Record<string, { condition?: string } | null>;
  ports?: (string | number | { target?: number | string; published?: number | string })[];
  command?: string | string[];
  entrypoint?: string | string[];
  volumes?: (string | { source?: string; target?: string })[];
  healthcheck?: { test?: string | string[] };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** The parsed file; merge keys on, as Compose resolves `<<: *anchor` the same way. */
function loadCompose(): ComposeFile {
  const parsed: unknown = parse(readFileSync(composePath, 'utf8'), { merge: true });
  if (typeof parsed !== 'object' || parsed === null || !('services' in parsed)) {
    throw new Error('docker-compose.yml has no services');
  }
  return parsed as ComposeFile;
}

const compose = loadCompose();
const services = compose.services;
const serviceNames = Object.keys(services);
const APP_SERVICES = ['api', 'worker', 'migrate'] as const;
const LONG_RUNNING_APP_SERVICES = ['api', 'worker'] as const;

function service(name: string): ComposeService {
  const s = services[name];
  if (s === undefined) throw new Error(`service ${name} is missing from docker-compose.yml`);
  return s;
}

/**
 * What an operator's .env gives `${NAME:?…}`: a real-looking CA (production refuses the demo identity). Any other
 * variable left to the deployment fails as `docker compose` would.
 */
const DEPLOYMENT_ENV: Record<string, string> = {
  MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  ...REAL_CA,
  PKCS11_SO_PIN: '58201937',
  PKCS11_ROOT_PIN: '73019285',
  PKCS11_CA_PIN: '26481950',
  PKCS11_OCSP_PIN: '91827364',
};
const interpolate = (value: string): string =>
  value.replace(/\$\{(\w+)(?:(:?-)([^}]*)|:?\?[^}]*)?\}/g, (_, key: string, dash: string | undefined, fallback: string | undefined) => {
    const v = DEPLOYMENT_ENV[key];
    if (v !== undefined) return v;
    if (dash !== undefined) return fallback ?? '';
    throw new Error(`\${${key}} is required by docker-compose.yml and not set`);
  });

/** Environment as Compose hands it to the container (interpolated): both the map and the `KEY=value` list forms. */
function environmentOf(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const entry of env) {
      const i = entry.indexOf('=');
      if (i < 0) throw new Error(`${name}: environment entry "${entry}" has no value (would be taken from the host)`);
      out[entry.slice(0, i)] = interpolate(entry.slice(i + 1));
    }
  } else {
    for (const [key, value] of Object.entries(env)) {
      if (value === null) throw new Error(`${name}: ${key} has no value (would be taken from the host)`);
      out[key] = interpolate(String(value));
    }
  }
  return out;
}

function dependsOn(name: string): Record<string, string> {
  const deps = service(name).depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([d, v]) => [d, v?.condition ?? 'service_started']));
}

function words(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter((w) => w !== '');
}

/** "host:port" of TEMPORAL_ADDRESS, split on the last colon. */
function hostOfAddress(address: string): string {
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

/** [published, container] ports; short syntax is [ip:][published:]container[/proto]. */
function publishedPorts(name: string): { published: string | undefined; target: string }[] {
  return (service(name).ports ?? []).map((p) => {
    if (typeof p === 'object') return { published: p.published?.toString(), target: String(p.target) };
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const target = parts[parts.length - 1] ?? '';
    return { published: parts.length > 1 ? parts[parts.length - 2] : undefined, target };
  });
}

/** The CLI's spelling of an SDK search attribute type: KEYWORD_LIST -> KeywordList. */
function cliType(type: string): string {
  return type
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

describe('docker-compose.yml', () => {
  it('declares the production topology', () => {
    for (const name of ['postgres', 'temporal', 'temporal-setup', 'temporal-ui', 'migrate', 'api', 'worker', 'prometheus']) {
      expect(serviceNames, `service ${name}`).toContain(name);
    }
  });

  it('pins every image tag', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.image === undefined) continue;
      const tag = s.image.includes(':') ? s.image.slice(s.image.lastIndexOf(':') + 1) : '';
      expect(tag, `${name}: ${s.image}`).not.toBe('');
      expect(tag, `${name}: ${s.image}`).not.toBe('latest');
    }
  });

  it('sets only variables that config/index.ts reads on the app services', () => {
    const known = new Set<string>(CONFIG_VARIABLES);
    for (const name of APP_SERVICES) {
      const keys = Object.keys(environmentOf(name));
      expect(keys.length, `${name} has an environment`).toBeGreaterThan(0);
      for (const key of keys) expect(known.has(key), `${name}: ${key} is not in CONFIG_VARIABLES`).toBe(true);
    }
  });

  it('gives api and worker an external database and Temporal server, on services of this file', () => {
    for (const name of LONG_RUNNING_APP_SERVICES) {
      const env = environmentOf(name);
      expect(env.DATABASE_URL, `${name}: DATABASE_URL`).toBeDefined();
      expect(env.TEMPORAL_ADDRESS, `${name}: TEMPORAL_ADDRESS`).toBeDefined();
      const db = new URL(env.DATABASE_URL ?? '');
      expect(db.protocol).toBe('postgres:');
      expect(serviceNames, `${name}: host of DATABASE_URL`).toContain(db.hostname);
      expect(serviceNames, `${name}: host of TEMPORAL_ADDRESS`).toContain(hostOfAddress(env.TEMPORAL_ADDRESS ?? ''));
    }
    // migrate needs the same database, and nothing points anywhere else.
    expect(environmentOf('migrate').DATABASE_URL).toBe(environmentOf('api').DATABASE_URL);
    expect(environmentOf('worker').DATABASE_URL).toBe(environmentOf('api').DATABASE_URL);
    expect(environmentOf('worker').TEMPORAL_ADDRESS).toBe(environmentOf('api').TEMPORAL_ADDRESS);
    expect(environmentOf('worker').TEMPORAL_NAMESPACE).toBe(environmentOf('api').TEMPORAL_NAMESPACE);
    expect(environmentOf('worker').TEMPORAL_TASK_QUEUE).toBe(environmentOf('api').TEMPORAL_TASK_QUEUE);
  });

  it('has app environments that load, outside the embedded mode', () => {
    for (const name of APP_SERVICES) {
      const config = loadConfig(environmentOf(name));
      expect(config.embeddedDatabase, name).toBe(false);
    }
    // Reachable through the published port: the API's default 127.0.0.1 would not be.
    expect(loadConfig(environmentOf('api')).HOST).toBe('0.0.0.0');
  });

  it('runs in production, on the identity the deployment gives, never on the demo one', () => {
    for (const name of APP_SERVICES) {
      const config = loadConfig(environmentOf(name));
      expect(config.CERTFLOW_ENV, name).toBe('production');
      expect(config.caIdentity.legalName, name).toBe(DEPLOYMENT_ENV.CA_LEGAL_NAME);
      // A deployment that leaves a CA_* variable out gets the demo value, which production refuses.
      const { CA_BANK_IBAN: _iban, ...withoutIban } = environmentOf(name);
      expect(() => loadConfig(withoutIban), name).toThrow(/CA_BANK_IBAN/);
    }
  });

  it('points the database credentials of the app at the postgres service', () => {
    const db = new URL(environmentOf('api').DATABASE_URL ?? '');
    const pg = environmentOf(db.hostname);
    expect(decodeURIComponent(db.username)).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(db.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(db.pathname.slice(1)).toBe(pg.POSTGRES_DB);
  });

  it('persists Temporal in that PostgreSQL', () => {
    const temporal = environmentOf('temporal');
    const pg = environmentOf('postgres');
    expect(temporal.DB).toBe('postgres12');
    expect(serviceNames).toContain(temporal.POSTGRES_SEEDS);
    expect(temporal.POSTGRES_USER).toBe(pg.POSTGRES_USER);
    expect(temporal.POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
    expect(dependsOn('temporal').postgres).toBe('service_healthy');
    // The namespace auto-setup creates is the one the app uses and temporal-setup registers on.
    const namespace = loadConfig(environmentOf('worker')).TEMPORAL_NAMESPACE;
    expect(temporal.DEFAULT_NAMESPACE).toBe(namespace);
    expect(environmentOf('temporal-setup').TEMPORAL_NAMESPACE).toBe(namespace);
    // And with the app's retention (auto-setup takes hours: '720h'), not its own 24 h.
    const retention = loadConfig(environmentOf('worker')).TEMPORAL_RETENTION;
    expect(temporal.DEFAULT_NAMESPACE_RETENTION).toMatch(/^\d+h$/);
    expect(retentionSeconds(temporal.DEFAULT_NAMESPACE_RETENTION ?? '')).toBe(retentionSeconds(retention));
  });

  it('points the UI and the setup job at the Temporal server of the app', () => {
    const address = environmentOf('api').TEMPORAL_ADDRESS;
    expect(environmentOf('temporal-ui').TEMPORAL_ADDRESS).toBe(address);
    expect(environmentOf('temporal-setup').TEMPORAL_ADDRESS).toBe(address);
    expect(publishedPorts('temporal-ui')).toContainEqual({ published: '8080', target: '8080' });
  });

  it('depends only on services that exist', () => {
    for (const name of serviceNames) {
      for (const dep of Object.keys(dependsOn(name))) {
        expect(serviceNames, `${name} depends on ${dep}`).toContain(dep);
      }
    }
  });

  it('starts api and worker after the migrations and the search attributes', () => {
    for (const name of LONG_RUNNING_APP_SERVICES) {
      const deps = dependsOn(name);
      expect(deps.migrate, `${name} -> migrate`).toBe('service_completed_successfully');
      expect(deps['temporal-setup'], `${name} -> temporal-setup`).toBe('service_completed_successfully');
    }
  });

  it('runs the key ceremony before api and worker, each of them with its own token PIN and the token volume', () => {
    expect(words(service('ceremony').command).join(' ')).toContain('dist/scripts/ceremony.js init');
    for (const name of LONG_RUNNING_APP_SERVICES) expect(dependsOn(name).ceremony, name).toBe('service_completed_successfully');
    const tokens = (name: string) => (service(name).volumes ?? []).map(String).find((v) => v.split(':')[1] === '/var/lib/softhsm/tokens')?.split(':')[0];
    expect(tokens('ceremony')).toBeDefined();
    expect(tokens('worker')).toBe(tokens('ceremony'));
    expect(tokens('api')).toBe(tokens('ceremony'));
    const pins = (name: string) => Object.keys(environmentOf(name)).filter((k) => /^PKCS11_.*_PIN$/.test(k)).sort();
    expect(pins('worker')).toEqual(['PKCS11_CA_PIN']);
    expect(pins('api')).toEqual(['PKCS11_OCSP_PIN']);
    expect(pins('ceremony')).toEqual(['PKCS11_CA_PIN', 'PKCS11_OCSP_PIN', 'PKCS11_ROOT_PIN', 'PKCS11_SO_PIN']);
    // The processes load their environment as production: the worker finds its PIN, the API its own.
    expect(loadConfig(environmentOf('worker')).pkcs11.caPin).toBe(DEPLOYMENT_ENV.PKCS11_CA_PIN);
    expect(loadConfig(environmentOf('api')).pkcs11.ocspPin).toBe(DEPLOYMENT_ENV.PKCS11_OCSP_PIN);
  });

  it('publishes the API on its PORT', () => {
    const port = String(loadConfig(environmentOf('api')).PORT);
    const ports = publishedPorts('api');
    expect(ports.length).toBeGreaterThan(0);
    expect(ports.map((p) => p.target)).toContain(port);
    expect(words(service('api').healthcheck?.test).join(' ')).toContain(`:${port}/healthz`);
  });

  it('registers every search attribute of SEARCH_ATTRIBUTE_KEYS, with its type', () => {
    const setup = service('temporal-setup');
    const args = [...words(setup.entrypoint), ...words(setup.command)];
    const expected = SEARCH_ATTRIBUTE_KEYS.map((k) => `${k.name}=${cliType(k.type)}`);
    expect(expected.length).toBeGreaterThan(0);
    for (const pair of expected) expect(args, `temporal-setup registers ${pair}`).toContain(pair);
    // …and nothing the workflows no longer define.
    expect(args.filter((a) => /^\w+=\w+$/.test(a)).sort()).toEqual([...expected].sort());
  });

  it('mounts a registration script that exists and creates search attributes', () => {
    const setup = service('temporal-setup');
    const mount = (setup.volumes ?? []).map(String).find((v) => v.includes('register-search-attributes.sh'));
    expect(mount, 'temporal-setup mounts the script').toBeDefined();
    const [source = '', target = ''] = (mount ?? '').split(':');
    expect(words(setup.entrypoint)).toContain(target);
    const script = readFileSync(`${root}${source.replace(/^\.\//, '')}`, 'utf8');
    expect(script).toContain('temporal operator search-attribute create');
    expect(script).toMatch(/already exists/);
  });

  it('builds the app services from the Dockerfile and runs the right entry points', () => {
    for (const name of APP_SERVICES) {
      const build = service(name).build;
      expect(build, `${name} has a build`).toBeDefined();
      const dockerfile = typeof build === 'string' ? 'Dockerfile' : (build?.dockerfile ?? 'Dockerfile');
      const context = typeof build === 'string' ? build : (build?.context ?? '.');
      expect(`${context}/${dockerfile}`.replace(/^\.\//, '')).toBe('Dockerfile');
    }
    expect(words(service('api').command).join(' ')).toContain('dist/api/main.js');
    expect(words(service('worker').command).join(' ')).toContain('dist/worker/main.js');
    expect(words(service('migrate').command).join(' ')).toContain('dist/db/migrate.js');
  });

  it('runs a Prometheus that scrapes the API and the worker on their ports and loads the alert rules', () => {
    const prometheus = service('prometheus');
    const mount = (prometheus.volumes ?? []).map(String).find((v) => v.split(':')[1] === '/etc/prometheus');
    expect(mount, 'prometheus mounts its folder at /etc/prometheus').toBeDefined();
    const folder = `${root}${(mount ?? '').split(':')[0]?.replace(/^\.\//, '')}`;
    const configFlag = words(prometheus.command).find((w) => w.startsWith('--config.file='));
    expect(configFlag).toBe('--config.file=/etc/prometheus/prometheus.yml');
    const scrape = parse(readFileSync(`${folder}/prometheus.yml`, 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = scrape.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    expect(targets).toEqual([`api:${loadConfig(environmentOf('api')).PORT}`, `worker:${loadConfig(environmentOf('worker')).WORKER_METRICS_PORT}`]);
    for (const rules of scrape.rule_files) expect(existsSync(`${folder}/${rules}`), `rule file ${rules}`).toBe(true);
    expect(Object.keys(prometheus.depends_on ?? {})).toEqual(expect.arrayContaining(['api', 'worker']));
  });
});

describe('Dockerfile', () => {
  it('exists, next to a .dockerignore that keeps host node_modules out', () => {
    expect(existsSync(dockerfilePath)).toBe(true);
    const ignore = readFileSync(`${root}.dockerignore`, 'utf8').split('\n').map((l) => l.trim());
    expect(ignore).toContain('node_modules');
    expect(ignore).toContain('dist');
  });

  const dockerfile = existsSync(dockerfilePath) ? readFileSync(dockerfilePath, 'utf8') : '';
  const instructions = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const finalStage = instructions.slice(instructions.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));

  it('runs the API by default', () => {
    const cmds = finalStage.filter((l) => /^CMD\s/i.test(l));
    expect(cmds.at(-1) ?? '').toContain('dist/api/main.js');
  });

  it('builds from the lock file and ships production dependencies only', () => {
    expect(instructions.some((l) => /^COPY\s+package\.json\s+package-lock\.json/.test(l))).toBe(true);
    expect(instructions.some((l) => /^RUN\s.*npm install\b(?!.*--omit=dev)/.test(l))).toBe(true);
    expect(instructions.some((l) => /^RUN\s.*npm run build\b/.test(l))).toBe(true);
    expect(instructions.some((l) => /^RUN\s.*npm install\b.*--omit=dev/.test(l))).toBe(true);
  });

  it('ships dist and the migrations in the repository layout', () => {
    const copies = finalStage.filter((l) => /^COPY\s/i.test(l)).join('\n');
    expect(copies).toMatch(/\/app\/dist\s+\.\/dist/);
    expect(copies).toMatch(/db\/migrations\s+\.\/db\/migrations/);
    expect(copies).toContain('package.json');
    expect(finalStage.some((l) => /^WORKDIR\s+\/app$/.test(l))).toBe(true);
  });

  it('runs as a non-root user', () => {
    const user = finalStage.filter((l) => /^USER\s/i.test(l)).at(-1)?.split(/\s+/)[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });
});
