/**
 * `npm run build:workflows [-- <file>]`: writes the workflow bundle ahead of time (default dist/workflow-bundle.js),
 * so that a production worker given WORKFLOW_BUNDLE_PATH starts in a moment instead of running webpack at start.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflows } from './worker.js';

const target = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
const code = await bundleWorkflows(console);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, code);
console.log(`workflow bundle written to ${target} (${(code.length / 1024).toFixed(0)} KiB)`);
