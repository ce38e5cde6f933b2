import { describe, expect, it } from 'vitest';
import { ConfigError, serveConfig } from '../../src/config.js';

describe('serveConfig', () => {
  const base = { indexDir: '/x', secretFile: '/y', clientsFile: '/z' };
  it('fills defaults and freezes', () => {
    const c = serveConfig(base);
    expect(c.port).toBe(8080);
    expect(Object.isFrozen(c)).toBe(true);
  });
  it.each([
    [{ ...base, prot: 1 }, 'invalid option prot: unknown option'],
    [{ ...base, port: 70000 }, 'invalid option port: must be an integer from 0 to 65535'],
    [{ ...base, dispatch: 'pool' }, 'invalid option dispatch: unknown option'],
    [{ ...base, logLevel: 'loud' }, 'invalid option logLevel: must be "fatal", "error", "warn", "info", "debug", "trace" or "silent"'],
    [{ ...base, threads: '2.5' }, 'invalid option threads: must be an integer from 1 to 64'],
    [{ ...base, demo: 'yes' }, 'invalid option demo: must be a boolean'],
    [{ ...base, host: '' }, 'invalid option host: must not be empty'],
    [{ indexDir: '/x' }, 'invalid option secretFile: required'],
    [{ indexDir: '/x', secretFile: '/y' }, 'invalid option clientsFile: required (give --clients FILE; --demo starts a throwaway demo client instead)'],
  ])('refuses %o', (input, message) => {
    expect(() => serveConfig(input)).toThrow(ConfigError);
    expect(() => serveConfig(input)).toThrow(message);
  });
  it('reads numbers given as strings (flags, environment)', () => {
    expect(serveConfig({ ...base, port: '9090' }).port).toBe(9090);
    expect(serveConfig({ ...base, demo: '1', logClientErrors: 'true', unprotected: '0' })).toMatchObject({ demo: true, logClientErrors: true, unprotected: false });
  });
});
