/**
 * The PKCS#11 token of the embedded stack and of the tests: Debian's SoftHSM2 (the module) and OpenSC's pkcs11-tool
 * (to read a token's objects and attributes from outside CertFlow). Found at PKCS11_MODULE / the Debian paths; when
 * missing and `install` is true, installed from Debian's packages like the browser (scripts/debian-packages.ts).
 */
import { existsSync } from 'node:fs';
import { aptInstall } from './debian-packages.js';
import { isExecutable } from './temporal-binaries.js';

export interface ResolvedSoftHsm {
  /** The PKCS#11 module (libsofthsm2.so). */
  readonly modulePath: string;
  /** OpenSC's pkcs11-tool. */
  readonly pkcs11ToolPath: string;
  readonly source: 'found' | 'installed';
}

/** Debian's paths of the module: the package's own and the multiarch one (both exist on amd64). */
export const SOFTHSM_MODULE_PATHS = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'];
const PKCS11_TOOL_PATHS = ['/usr/bin/pkcs11-tool'];

const HOW_TO = "install Debian's softhsm2 and opensc (apt-get install -y softhsm2 opensc), or set PKCS11_MODULE to a PKCS#11 module";

function find(env: NodeJS.ProcessEnv): { modulePath?: string; pkcs11ToolPath?: string } {
  const override = env.PKCS11_MODULE?.trim();
  const modulePath = override !== undefined && override !== '' ? override : SOFTHSM_MODULE_PATHS.find((path) => existsSync(path));
  return { modulePath, pkcs11ToolPath: PKCS11_TOOL_PATHS.find(isExecutable) };
}

export function resolveSoftHsm(env: NodeJS.ProcessEnv = process.env, install = true): ResolvedSoftHsm {
  const found = find(env);
  if (found.modulePath !== undefined && !existsSync(found.modulePath)) throw new Error(`PKCS11_MODULE=${found.modulePath} does not exist`);
  if (found.modulePath !== undefined && found.pkcs11ToolPath !== undefined) return { modulePath: found.modulePath, pkcs11ToolPath: found.pkcs11ToolPath, source: 'found' };
  if (!install) throw new Error(`No PKCS#11 module or pkcs11-tool found: ${HOW_TO}.`);
  aptInstall('softhsm', ['softhsm2', 'opensc'], HOW_TO);
  const installed = find(env);
  if (installed.modulePath === undefined || installed.pkcs11ToolPath === undefined) throw new Error(`apt-get installed softhsm2 and opensc but the module or pkcs11-tool is missing: ${HOW_TO}.`);
  return { modulePath: installed.modulePath, pkcs11ToolPath: installed.pkcs11ToolPath, source: 'installed' };
}
