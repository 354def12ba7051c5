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

/** Deterministic code (workflows/, domain/) imports no I/O: no Node module, no driver, no project layer that does I/O. */
const deterministicImports = {
  paths: nodeBuiltins.map((name) => ({ name, message: 'No Node modules in deterministic code.' })),
  patterns: [
    { group: ['node:*'], message: 'No Node modules in deterministic code.' },
    {
      group: ['postgres', 'drizzle-orm', 'drizzle-orm/*', '@electric-sql/*', 'express', 'nodemailer', 'twilio', 'pino', 'pino-*', '@peculiar/*'],
      message: 'No I/O libraries in deterministic code: call an activity.',
    },
    { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/testing', '@temporalio/activity'], message: 'Workflows use @temporalio/workflow only.' },
    {
      group: ['**/db/*', '**/api/*', '**/worker/*', '**/config/*', '**/scripts/*', '**/activities/*'],
      allowTypeImports: true,
      message: 'Deterministic code may import only the types of the I/O layers.',
    },
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
      '@typescript-eslint/no-restricted-imports': ['error', deterministicImports],
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
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  // The pages' views (bundled by esbuild for the browser) have the browser's globals, not Node's.
  { files: ['api/web/client/**/*.{ts,tsx}'], languageOptions: { globals: { ...globals.browser } } },
);
