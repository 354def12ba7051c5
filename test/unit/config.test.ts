import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../config/index.js';

describe('configuration', () => {
  it('defaults to the embedded mode', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.TEMPORAL_UI_PORT).toBe(8233);
    expect(c.TEMPORAL_ADDRESS).toBeUndefined();
    expect(c.embeddedDatabase).toBe(true);
    expect(c.DATA_DIR).toMatch(/\/data$/);
    expect(c.publicBaseUrl).toBe('http://127.0.0.1:3000');
  });
  it('reads production settings, treating empty values as unset', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@db/certflow', TEMPORAL_ADDRESS: 'temporal:7233', HOST: '0.0.0.0', PORT: '8080', TEMPORAL_CLI_PATH: ' ' });
    expect(c.embeddedDatabase).toBe(false);
    expect(c.PORT).toBe(8080);
    expect(c.TEMPORAL_CLI_PATH).toBeUndefined();
    expect(c.publicBaseUrl).toBe('http://127.0.0.1:8080');
  });
  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT[\s\S]*LOG_LEVEL|LOG_LEVEL[\s\S]*PORT/);
  });
  it('is documented: the README table lists every variable', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const name of CONFIG_VARIABLES) expect(readme, name).toMatch(new RegExp(`\\|\\s*\`${name}\`\\s*\\|`));
  });
});
