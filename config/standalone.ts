/**
 * The standalone processes of production (api/main.ts, worker/main.ts): the servers they join, and each its own
 * PKCS#11 PIN (config/pkcs11.ts): the API signs OCSP answers on certflow-ocsp, the worker issues on certflow-ca.
 */
import type { Logger } from 'pino';
import type { Config } from './index.js';

const PROCESSES = {
  api: { name: 'API', pin: 'ocspPin', variable: 'PKCS11_OCSP_PIN', token: 'certflow-ocsp' },
  worker: { name: 'worker', pin: 'caPin', variable: 'PKCS11_CA_PIN', token: 'certflow-ca' },
} as const;

/**
 * Exits (code 2) unless `config` names Temporal and the database, and in production the process's own PIN; warns
 * when the other process's PIN is given too. Production never derives a PIN.
 */
export function checkStandaloneConfig(config: Config, log: Logger, which: keyof typeof PROCESSES): asserts config is Config & { TEMPORAL_ADDRESS: string; DATABASE_URL: string } {
  const own = PROCESSES[which];
  const other = PROCESSES[which === 'api' ? 'worker' : 'api'];
  if (config.TEMPORAL_ADDRESS === undefined || config.DATABASE_URL === undefined) {
    log.fatal(`the standalone ${own.name} needs TEMPORAL_ADDRESS and DATABASE_URL (use \`npm start\` for the embedded stack)`);
    process.exit(2);
  }
  if (config.CERTFLOW_ENV === 'production' && config.pkcs11[own.pin] === undefined) {
    log.fatal(`${own.variable} is required when CERTFLOW_ENV=production (the user PIN of the ${own.token} token)`);
    process.exit(2);
  }
  if (config.pkcs11[other.pin] !== undefined) log.warn(`${other.variable} is set for the ${own.name}, which never uses it: give it only to the ${other.name}`);
}
