import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDV, idvWithin, startCli } from '../helpers/cli.js';
import { claimOf, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/**
 * What `idv serve` says when it cannot start: each cause named for what it is, in the
 * order an operator would fix them. Each of these was once reported as another cause.
 */
let index: TempIndex;
let clients: string;
beforeAll(async () => {
  index = await tempIndex({ synthetic: 200 });
  clients = writeClientsFile(index.dir);
});
afterAll(() => index?.remove());

const serve = (...args: string[]) => idvWithin(15_000, 'serve', '--clients', clients, '--port', '0', ...args);

describe('idv serve refuses to start', () => {
  it('on a missing index, naming the index (not its secret file)', () => {
    const run = serve('--index', join(index.dir, 'nothing-here'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`no index at ${join(index.dir, 'nothing-here')}`);
    expect(run.stderr).not.toContain('secret');
  });

  it('on a secret file other users may read, saying how to fix it', () => {
    const open = join(index.dir, 'open-secret.hex');
    copyFileSync(index.secretFile, open);
    chmodSync(open, 0o644);
    const run = serve('--index', index.indexDir, '--secret-file', open);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('may be read or changed by other users (mode 0644)');
    expect(run.stderr).toContain(`chmod 600 ${open}`);
  });

  it('on another secret, naming the secret, even where the audit trail holds records (not as a tampered trail)', async () => {
    const server = await startCli('serve', ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', clients]);
    expect((await call(server.url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') })).status).toBe(200);
    expect(await server.stop()).toBe(0);
    const other = join(index.dir, 'other-secret.hex');
    writeFileSync(other, 'ab'.repeat(32) + '\n', { mode: 0o600 });
    const run = serve('--index', index.indexDir, '--secret-file', other);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('index was built with another secret');
    expect(run.stderr).not.toContain('audit');
  });

  it('on an index directory it cannot write, naming the directory', () => {
    const home = mkdtempSync(join(tmpdir(), 'idv-read-only-'));
    const readOnly = join(home, 'index');
    cpSync(index.indexDir, readOnly, { recursive: true, verbatimSymlinks: true });
    const args = [IDV, 'serve', '--index', readOnly, '--secret-file', index.secretFile, '--clients', clients, '--port', '0'];
    // The superuser writes anywhere a mode forbids: for it, the copy is mounted read-only (CI runs as root).
    const root = process.getuid?.() === 0;
    if (root) {
      execFileSync('mount', ['--bind', readOnly, readOnly]);
      execFileSync('mount', ['-o', 'remount,bind,ro', readOnly]);
    } else chmodSync(readOnly, 0o500);
    try {
      const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 15_000 });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`index directory ${readOnly} is not writable`);
    } finally {
      if (root) execFileSync('umount', [readOnly]);
      else chmodSync(readOnly, 0o700);
      rmSync(home, { recursive: true, force: true });
    }
  });


});
