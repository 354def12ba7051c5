/**
 * `npm run certbot:install`: certbot from PyPI, the ACME client test/acme/certbot.test.ts runs against the stack,
 * pinned with all its dependencies (scripts/certbot-requirements.txt) in .tools/certbot-venv (scripts/python-tool.ts).
 * The test installs it itself on a fresh machine; CERTBOT_PATH names an executable to use instead.
 */
import { pathToFileURL } from 'node:url';
import { describeResolved, resolvePythonTool, type PythonTool, type ResolvedTool } from './python-tool.js';

const CERTBOT: PythonTool = { name: 'certbot', requirements: 'certbot-requirements.txt', venvFolder: 'certbot-venv', overrideEnv: 'CERTBOT_PATH', npmScript: 'certbot:install' };

/** The certbot executable; installs the pinned set when `install` is true and it is missing or stale. */
export const resolveCertbot = (env: NodeJS.ProcessEnv = process.env, install = true): ResolvedTool => resolvePythonTool(CERTBOT, env, install);

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(describeResolved(CERTBOT, resolveCertbot()));
}
