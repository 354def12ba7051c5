/**
 * The browser the page tests drive: Debian's chromium through playwright-core, never a browser download. Found at
 * CHROMIUM_PATH, /usr/bin/chromium or on PATH; when it is missing and `install` is true, installed from Debian's
 * packages (as root, or through sudo when it asks no password). Where neither works, the error says what to run.
 */
import { delimiter, join } from 'node:path';
import { aptInstall } from './debian-packages.js';
import { isExecutable } from './temporal-binaries.js';

export interface ResolvedBrowser {
  readonly path: string;
  readonly source: 'env' | 'found' | 'installed';
}

const DEFAULT_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function findChromium(env: NodeJS.ProcessEnv): string | undefined {
  const onPath = (env.PATH ?? '').split(delimiter).flatMap((dir) => ['chromium', 'chromium-browser'].map((name) => join(dir, name)));
  return [...DEFAULT_PATHS, ...onPath].find(isExecutable);
}

const HOW_TO = 'install Debian\'s chromium (apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium executable';

export function resolveChromium(env: NodeJS.ProcessEnv = process.env, install = true): ResolvedBrowser {
  const override = env.CHROMIUM_PATH?.trim();
  if (override !== undefined && override !== '') {
    if (!isExecutable(override)) throw new Error(`CHROMIUM_PATH=${override} is not an executable file`);
    return { path: override, source: 'env' };
  }
  const found = findChromium(env);
  if (found !== undefined) return { path: found, source: 'found' };
  if (!install) throw new Error(`No Chromium found: ${HOW_TO}.`);
  aptInstall('browser', ['chromium', 'fonts-dejavu-core'], HOW_TO);
  const installed = findChromium(env);
  if (installed === undefined) throw new Error(`apt-get installed chromium but no executable appeared: ${HOW_TO}.`);
  return { path: installed, source: 'installed' };
}
