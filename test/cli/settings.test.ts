import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, serveConfig, SETTINGS, type ServeConfig } from '../../src/config.js';
import { program } from '../../src/cli/program.js';
import { documentedSettings, flagAttribute, serveSettings, settingsTable } from '../../src/cli/serveSettings.js';
import { PACKAGE_ROOT } from '../../src/packageFiles.js';

type Key = keyof ServeConfig;
const keys = Object.keys(SETTINGS) as Key[];

/** A value each setting accepts, other than its default, as an operator would type it. */
function sample(key: Key): string {
  const fallback = (DEFAULTS as Partial<ServeConfig>)[key];
  if (typeof fallback === 'boolean') return String(!fallback);
  if (typeof fallback === 'number') return String(key === 'port' ? 8443 : fallback + 1);
  if (key === 'logLevel') return 'debug';
  if (key === 'ack') return 'replicated';
  if (key === 'natsStream') return 'IDV_OTHER_CHANGES';
  if (key === 'natsLimitsBucket') return 'IDV_OTHER_LIMITS';
  if (key === 'nats') return 'nats://10.0.0.2:4222,nats://10.0.0.3:4222';
  return `/srv/idv/${key}`;
}

/** The setting's value once validated, as the server would have it. */
const validated = (key: Key, value: string) => serveConfig({ indexDir: '/i', secretFile: '/s', demo: true, nats: 'nats://127.0.0.1:4222', [key]: value })[key];

describe('every server setting', () => {
  it('is in the settings table: every key of ServeConfig, the defaulted and the optional ones', () => {
    const known = [...Object.keys(DEFAULTS), 'indexDir', 'secretFile', 'clientsFile', 'auditDir', 'nats'];
    expect(keys.sort()).toEqual([...new Set(known)].sort());
  });

  it('can be set by its flag, by its environment variable and by its key in --config FILE, the flag first, the file last', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idv-settings-'));
    try {
      for (const key of keys) {
        const { flag, env } = SETTINGS[key];
        const value = sample(key);
        const file = join(dir, `${key}.json`);
        writeFileSync(file, JSON.stringify({ [key]: value }));
        const flagValue = flag.includes('<') ? value : true;
        expect(serveSettings({ [flagAttribute(flag)]: flagValue }, {})[key], `${key} by ${flag}`).toBe(flagValue);
        expect(serveSettings({}, { [env]: value })[key], `${key} by ${env}`).toBe(value);
        expect(serveSettings({ config: file }, {})[key], `${key} in --config`).toBe(value);
        expect(validated(key, value), `${key} = ${value}`).not.toEqual((DEFAULTS as Partial<ServeConfig>)[key]);
      }
      const file = join(dir, 'port.json');
      writeFileSync(file, JSON.stringify({ port: 1001 }));
      expect(serveSettings({ config: file, port: '1003' }, { IDV_PORT: '1002' }).port).toBe('1003');
      expect(serveSettings({ config: file }, { IDV_PORT: '1002' }).port).toBe('1002');
      expect(serveSettings({ config: file }, {}).port).toBe(1001);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a --config file that is not a JSON object, or that names a setting that does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idv-settings-'));
    try {
      writeFileSync(join(dir, 'list.json'), '[1]');
      expect(() => serveSettings({ config: join(dir, 'list.json') }, {})).toThrow('invalid option config');
      writeFileSync(join(dir, 'typo.json'), JSON.stringify({ prot: 1 }));
      expect(() => serveConfig({ indexDir: '/i', secretFile: '/s', demo: true, ...serveSettings({ config: join(dir, 'typo.json') }, {}) })).toThrow('invalid option prot: unknown option');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is named with its flag and its variable by idv serve --help and idv demo --help', () => {
    for (const name of ['serve', 'demo']) {
      const help = program().commands.find((c) => c.name() === name)!.helpInformation();
      // demo's index directory is its own (.idv/demo-index unless --index), never the service's.
      for (const key of keys.filter((k) => name === 'serve' || k !== 'indexDir')) {
        expect(help, `${name}: ${key}`).toContain(SETTINGS[key].flag.split(' ')[0]);
        expect(help.replace(/\s+/g, ' '), `${name}: ${key}`).toContain(SETTINGS[key].env);
      }
    }
  });

  it('is in docs/operations.md, as the settings table says (npm run docs:settings writes it)', () => {
    expect(documentedSettings(readFileSync(join(PACKAGE_ROOT, 'docs', 'operations.md'), 'utf8'))).toBe(settingsTable());
  });
});
