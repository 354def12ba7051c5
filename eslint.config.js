// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Node's built-in modules, by name and with the node: prefix: none of them may enter the workflow bundle or domain/. */
const nodeBuiltins = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url',
  'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

/** Node's modules that reach outside the process (files, network, processes): the pure libraries use none of them. */
const nodeIo = ['child_process', 'cluster', 'dgram', 'dns', 'fs', 'fs/promises', 'http', 'http2', 'https', 'net', 'readline', 'tls', 'worker_threads'];
const ioLibraries = ['postgres', 'drizzle-orm', 'drizzle-orm/*', '@electric-sql/*', 'express', 'nodemailer', 'twilio', 'pino', 'pino-*'];

/**
 * The arrows of docs/architecture.md: a relative import (the project's own folders are only reached so) that lands in
 * one of the named top-level folders. Package names never match, whatever folders they hold.
 */
const folders = (names, message, extra = {}) => ({ regex: `^\\.{1,2}/(\\.\\./)*(${names.join('|')})/`, message, ...extra });

/** Deterministic code (workflows/, domain/) imports no I/O: no Node module, no driver, no Temporal but the workflow API. */
const deterministicBase = {
  paths: nodeBuiltins.map((name) => ({ name, message: 'No Node modules in deterministic code.' })),
  patterns: [
    { group: ['node:*'], message: 'No Node modules in deterministic code.' },
    { group: [...ioLibraries, '@peculiar/*'], message: 'No I/O libraries in deterministic code: call an activity.' },
    { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/testing', '@temporalio/activity'], message: 'Workflows use @temporalio/workflow only.' },
  ],
};

/** domain/: the innermost room, it imports no other folder of the project. */
const domainImports = {
  ...deterministicBase,
  patterns: [
    ...deterministicBase.patterns,
    folders(['api', 'activities', 'workflows', 'worker', 'db', 'config', 'scripts', 'lib'], 'domain/ imports no other folder of the project (docs/architecture.md).'),
  ],
};

/** workflows/: domain/, and the types of the activities (and of lib/) they call; never db/ nor a process's wiring. */
const workflowImports = {
  ...deterministicBase,
  patterns: [
    ...deterministicBase.patterns,
    folders(['db', 'api', 'worker', 'config', 'scripts'], 'workflows/ import domain/ and activity types only, never db/ (docs/architecture.md).'),
    folders(['activities', 'lib'], 'workflows/ import only the types of activities/ and lib/: their code runs outside the workflow sandbox.', { allowTypeImports: true }),
  ],
};

/** lib/pki, lib/unlock-code.ts: pure code both processes load; no database, no process, no network. */
const pureLibraryImports = {
  paths: nodeIo.flatMap((name) => [name, `node:${name}`]).map((name) => ({ name, message: 'A pure library does no I/O.' })),
  patterns: [
    { group: [...ioLibraries, '@temporalio/*'], message: 'A pure library uses no driver, server or Temporal.' },
    folders(['db', 'config', 'activities', 'api', 'worker', 'workflows', 'scripts'], 'A pure library imports domain/ and lib/ only (docs/architecture.md).'),
  ],
};

/** lib/documents: the PDFs both processes render; they read their fonts and the CA's identity, nothing of a process. */
const documentImports = {
  patterns: [
    { group: [...ioLibraries, '@temporalio/*'], message: 'The documents use no driver, server or Temporal.' },
    folders(['db', 'activities', 'api', 'worker', 'workflows', 'scripts'], 'lib/documents imports domain/, config/ and lib/ only (docs/architecture.md).'),
  ],
};

/** api/: starts and queries workflows, reads db/, reads the CA through lib/pki/ca-view.ts; no worker, no activity code. */
const apiImports = {
  paths: [{ name: '@temporalio/worker', message: 'The API never loads the worker runtime.' }],
  patterns: [
    folders(['worker'], 'api/ never imports worker/ (docs/architecture.md).'),
    folders(['activities'], 'api/ imports only the types of activities/; the CA through lib/pki/ca-view.ts, shared code from lib/.', { allowTypeImports: true }),
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.temporal/', '.tools/', '.schemathesis/', 'bench-results/', 'db/migrations/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No process in deterministic code.' },
        { name: 'Buffer', message: 'No Buffer in deterministic code.' },
        { name: 'setTimeout', message: 'Use workflow timers (sleep, condition).' },
        { name: 'setInterval', message: 'Use workflow timers (sleep, condition).' },
        { name: 'fetch', message: 'No I/O in deterministic code: call an activity.' },
      ],
    },
  },
  // The arrows between folders (docs/architecture.md).
  { files: ['domain/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', domainImports] } },
  { files: ['workflows/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowImports] } },
  { files: ['lib/pki/**/*.ts', 'lib/unlock-code.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', pureLibraryImports] } },
  { files: ['lib/documents/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', documentImports] } },
  // api/main.ts is the API process's wiring: it alone builds the services (activities/services.ts createApiServices).
  { files: ['api/**/*.{ts,tsx}'], ignores: ['api/main.ts'], rules: { '@typescript-eslint/no-restricted-imports': ['error', apiImports] } },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  // The pages' views (bundled by esbuild for the browser) have the browser's globals, not Node's.
  { files: ['api/web/client/**/*.{ts,tsx}'], languageOptions: { globals: { ...globals.browser } } },
);
