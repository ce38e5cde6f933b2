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
    [{ ...base, port: 70000 }, 'invalid option port: expected an integer from 0 to 65535'],
    [{ ...base, dispatch: 'pool' }, 'invalid option dispatch: unknown option'],
    [{ ...base, logLevel: 'loud' }, 'invalid option logLevel: expected one of'],
    [{ indexDir: '/x' }, 'invalid option secretFile: required'],
    [{ indexDir: '/x', secretFile: '/y' }, 'invalid option clientsFile: required (give --clients FILE; --demo starts a throwaway demo client instead)'],
  ])('refuses %o', (input, message) => {
    expect(() => serveConfig(input)).toThrow(ConfigError);
    expect(() => serveConfig(input)).toThrow(message);
  });
  it('reads numbers given as strings (flags, environment)', () => {
    expect(serveConfig({ ...base, port: '9090' }).port).toBe(9090);
  });
});
