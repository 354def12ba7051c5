/**
 * `npm run fuzz:install`: the API fuzzer, schemathesis from PyPI, pinned with all its dependencies
 * (scripts/fuzz-requirements.txt) in a virtual environment in the git-ignored .tools/ folder of the project
 * (scripts/python-tool.ts). SCHEMATHESIS_PATH names an executable to use instead (nothing is installed then).
 */
import { pathToFileURL } from 'node:url';
import { describeResolved, resolvePythonTool, type PythonTool, type ResolvedTool } from './python-tool.js';

const SCHEMATHESIS: PythonTool = { name: 'schemathesis', requirements: 'fuzz-requirements.txt', venvFolder: 'schemathesis-venv', overrideEnv: 'SCHEMATHESIS_PATH', npmScript: 'fuzz:install' };
/** The schemathesis executable; installs the pinned set when `install` is true and it is missing or stale. */
export const resolveSchemathesis = (env: NodeJS.ProcessEnv = process.env, install = true): ResolvedTool => resolvePythonTool(SCHEMATHESIS, env, install);

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(describeResolved(SCHEMATHESIS, resolveSchemathesis()));
}
