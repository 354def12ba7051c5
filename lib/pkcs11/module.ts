/**
 * One PKCS#11 module per process (C_Initialize may run once), the tokens on it found by label, and SoftHSM2's
 * configuration file for a token directory of our own. graphene-pk11 over pkcs11js; node-webcrypto-p11 builds its
 * WebCrypto on the same module.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as graphene from 'graphene-pk11';

const loaded = new Map<string, graphene.Module>();

/** The module at `path`, initialised once for the whole process. */
export function pkcs11Module(path: string): graphene.Module {
  let module = loaded.get(path);
  if (module === undefined) {
    module = graphene.Module.load(path);
    module.initialize();
    loaded.set(path, module);
  }
  return module;
}

export function finalizePkcs11Modules(): void {
  for (const module of loaded.values()) module.finalize();
  loaded.clear();
}

const slotsOf = (module: graphene.Module): graphene.Slot[] => {
  const list = module.getSlots(true);
  return Array.from({ length: list.length }, (_, i) => list.items(i));
};

/** The slot whose initialised token carries `label`, or undefined. Slot ids move when a token is initialised. */
export function findTokenSlot(module: graphene.Module, label: string): graphene.Slot | undefined {
  return slotsOf(module).find((slot) => {
    const token = slot.getToken();
    return (token.flags & graphene.TokenFlag.TOKEN_INITIALIZED) !== 0 && token.label.trim() === label;
  });
}

/**
 * Initialises a new token on the module's free slot with the security officer's PIN and the user PIN, and returns
 * its slot. A label already in use is refused: a token is never initialised twice (that would erase its keys).
 */
export function initToken(module: graphene.Module, req: { label: string; soPin: string; userPin: string }): graphene.Slot {
  if (req.label.length === 0 || req.label.length > 32) throw new Error(`a token label is 1 to 32 characters: "${req.label}"`);
  if (findTokenSlot(module, req.label) !== undefined) throw new Error(`a token labelled "${req.label}" exists already`);
  const free = slotsOf(module).find((slot) => (slot.getToken().flags & graphene.TokenFlag.TOKEN_INITIALIZED) === 0);
  if (free === undefined) throw new Error('the PKCS#11 module has no free slot to initialise a token on');
  // graphene's Slot.initToken expects a label back from pkcs11js 2.x, which returns none: call C_InitToken itself.
  module.lib.C_InitToken(free.handle, req.soPin, req.label.padEnd(32));
  const slot = findTokenSlot(module, req.label);
  if (slot === undefined) throw new Error(`token "${req.label}" was initialised but cannot be found`);
  const session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
  try {
    session.login(req.soPin, graphene.UserType.SO);
    session.initPin(req.userPin);
    session.logout();
  } finally {
    session.close();
  }
  return slot;
}

/**
 * Writes SoftHSM2's configuration for a token directory of our own (`dir`/tokens) and returns the file's path, to
 * be given to the module as SOFTHSM2_CONF before it is loaded.
 */
export function writeSoftHsmConfig(dir: string): string {
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'softhsm2.conf');
  writeFileSync(file, [`directories.tokendir = ${tokenDir}`, 'objectstore.backend = file', 'log.level = ERROR', 'slots.removable = false', ''].join('\n'), { mode: 0o600 });
  return file;
}

/**
 * Points SoftHSM2 at `conf` for this process: SoftHSM2 reads SOFTHSM2_CONF once, when its module is loaded, so this
 * runs before any module is; setting it again to the same file is a no-op, to another file once a module is loaded
 * is refused (the module would keep the first). The worker, the API, the ceremony and the tests all set it here.
 */
export function useSoftHsmConfig(conf: string | undefined): void {
  if (conf === undefined || process.env.SOFTHSM2_CONF === conf) return;
  if (loaded.size > 0) throw new Error(`SOFTHSM2_CONF is ${process.env.SOFTHSM2_CONF ?? 'unset'} and a PKCS#11 module is loaded already: cannot switch to ${conf}`);
  process.env.SOFTHSM2_CONF = conf;
}
