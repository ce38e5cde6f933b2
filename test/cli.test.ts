import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { checkCitizen } from '../src/domain/citizen.js';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import { fixture } from './helpers/fixtures.js';
import { call, KEYS, writeClientsFile } from './helpers/server.js';

const IDV = join(PACKAGE_ROOT, 'bin', 'idv.js');
const idv = (...args: string[]) => spawnSync(process.execPath, [IDV, ...args], { encoding: 'utf8' });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'idv-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('idv gen', () => {
  it('is deterministic for a seed, and valid by the import rules', () => {
    const a = idv('gen', '--count', '300', '--seed', '5');
    const b = idv('gen', '--count', '300', '--seed', '5');
    const c = idv('gen', '--count', '300', '--seed', '6');
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
    const lines = a.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(300);
    for (const line of lines) expect(checkCitizen(JSON.parse(line))).toMatchObject({ ok: true });
  });

  it('writes to --out', () => {
    const out = join(dir, 'people.ndjson');
    expect(idv('gen', '--count', '10', '--out', out).status).toBe(0);
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(10);
  });

  it('refuses a bad flag with a usage error', () => {
    const r = idv('gen', '--cuont', '10');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Usage: idv');
  });
});

describe('idv build --input, then idv serve --clients', () => {
  it('builds from a file made elsewhere and serves it by the contract', async () => {
    const secretFile = join(dir, 'secret.hex');
    writeFileSync(secretFile, 'ef'.repeat(32) + '\n', { mode: 0o600 });
    const indexDir = join(dir, 'index');
    const built = idv('build', '--input', fixture('bad-lines.ndjson'), '--index', indexDir, '--secret-file', secretFile, '--rejects', join(dir, 'rejects.ndjson'));
    expect(built.status).toBe(0);
    const summary = built.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)).find((e) => e.msg === 'index built');
    expect(summary).toMatchObject({ records: 2, rejects: 10 });
    expect(readFileSync(join(dir, 'rejects.ndjson'), 'utf8').trimEnd().split('\n')).toHaveLength(10);

    const server = spawn(process.execPath, [IDV, 'serve', '--index', indexDir, '--secret-file', secretFile, '--clients', writeClientsFile(dir), '--port', '0', '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        server.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
        createInterface({ input: server.stdout! }).on('line', (line) => {
          const event = JSON.parse(line);
          if (event.msg === 'listening') resolve(event.port);
        });
      });
      const url = `http://127.0.0.1:${port}`;
      const reply = await call(url, '/v1/verify', { key: KEYS.full, body: { idNumber: '001090000117', fullName: 'Trinh Van Bao', dateOfBirth: '1990' } });
      expect(reply.body).toMatchObject({ result: 'match', fields: { fullName: { level: 'normalized' }, dateOfBirth: { match: true, precision: 'year' } } });
      expect((await call(url, '/v1/verify', { key: 'demo', body: { idNumber: '001090000117' } })).status).toBe(401);
    } finally {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('serve refuses an index built with another secret', () => {
    const other = join(dir, 'other.hex');
    writeFileSync(other, '01'.repeat(32));
    const r = idv('serve', '--index', join(dir, 'index'), '--secret-file', other, '--port', '0');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('another secret');
  });

  it('build creates a missing secret file with mode 0600', () => {
    const indexDir = join(dir, 'index2');
    const r = idv('build', '--synthetic', '50', '--index', indexDir);
    expect(r.status).toBe(0);
    expect(statSync(join(indexDir, 'secret.hex')).mode & 0o777).toBe(0o600);
  });
});

describe('idv demo', () => {
  /** Starts the demo on a free port; resolves with its stderr so far once it listens, then stops it. */
  async function demoRun(indexDir: string): Promise<string> {
    const child = spawn(process.execPath, [IDV, 'demo', '--index', indexDir, '--count', '500', '--port', '0', '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`demo exited ${code}: ${stderr}`)));
        setTimeout(() => reject(new Error(`demo not listening after 20 s: ${stderr}`)), 20_000);
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line.startsWith('{') && JSON.parse(line).msg === 'listening') resolve();
        });
      });
      return stderr;
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  }

  it('builds its index when absent or of an older format, and reuses a current one', async () => {
    const indexDir = join(dir, 'demo');
    expect(await demoRun(indexDir)).toContain(`No index at ${indexDir}: building`);
    expect(await demoRun(indexDir)).not.toContain('building');
    const { openDbs, currentBuildDir } = await import('../src/index/layout.js');
    const dbs = openDbs(currentBuildDir(indexDir)!, 'build');
    await dbs.meta.put('meta', { ...(dbs.meta.get('meta') as object), formatVersion: 1 });
    await dbs.env.close();
    expect(await demoRun(indexDir)).toMatch(/is of format 1, not \d+: building/);
  });
});
