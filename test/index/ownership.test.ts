import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndex, BuildCheckError, type RecordSource } from '../../src/index/build.js';
import { BuildLock, IndexLockedError, LOCK_FILE } from '../../src/index/buildLock.js';
import { currentBuildDir } from '../../src/index/layout.js';
import { IndexReader } from '../../src/index/reader.js';
import { ReaderRegistration } from '../../src/index/readers.js';
import { Secret } from '../../src/index/secret.js';
import { syntheticSource } from '../../src/synth/source.js';
import { BucketSpill } from '../../src/index/spill.js';
import { syntheticCitizens } from '../../src/synth/generator.js';
import { idv, idvAsync, logLines, startCli } from '../helpers/cli.js';
import { fullDateOf } from '../helpers/fixtures.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

let dir: string;
let secretFile: string;
let secret: Secret;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'idv-ownership-'));
  secretFile = join(dir, 'secret.hex');
  secret = Secret.create(secretFile);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const synthetic = (indexDir: string, count: number, seed: number) =>
  buildIndex({ indexDir, secret, source: syntheticSource(count, seed), rejectsPath: join(indexDir, 'rejects.ndjson'), threads: 1, buckets: 4 });

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('one build at a time per index directory', () => {
  it('of two builds started at once, exactly one runs; the other stops naming it, and the index holds every record', async () => {
    const indexDir = join(dir, 'contested');
    const args = ['build', '--synthetic', '150000', '--seed', '2', '--index', indexDir, '--secret-file', secretFile, '--threads', '1'];
    const runs = [idvAsync(...args), idvAsync(...args)];
    const results = await Promise.all(runs.map((r) => r.done));
    const winner = results.findIndex((r) => r.status === 0);
    const loser = 1 - winner;
    expect(results.map((r) => r.status).sort()).toEqual([0, 1]);
    expect(results[loser].stderr).toContain(`is locked by another build (pid ${runs[winner].pid} on ${hostname()}, since`);
    expect(results[loser].stderr.trim()).toMatch(/\[INDEX_LOCKED\]$/);
    expect(logLines(results[winner].stdout).find((e) => e.msg === 'index built')).toMatchObject({ records: 150000 });

    const reader = IndexReader.open(indexDir, secret);
    try {
      expect(reader.meta).toMatchObject({ records: 150000 });
      let found = 0;
      for (const p of syntheticCitizens(2, 0, 150000)) if (reader.byId(p.idNumber)?.fullName === p.fullName) found++;
      expect(found).toBe(150000);
    } finally {
      await reader.close();
    }
    expect(readdirSync(indexDir).filter((e) => e.includes('.partial') || e === LOCK_FILE)).toEqual([]);
  });

  it('takes over a lock left by a process that has died', async () => {
    const indexDir = join(dir, 'stale');
    mkdirSync(indexDir);
    writeFileSync(join(indexDir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), since: '2026-01-01T00:00:00.000Z', task: 'build' }));
    const report = await synthetic(indexDir, 300, 1);
    expect(report.records).toBe(300);
    expect(existsSync(join(indexDir, LOCK_FILE))).toBe(false);
  });

  it('refuses a lock held by a live process, then grants it once released', () => {
    const indexDir = join(dir, 'held');
    mkdirSync(indexDir);
    const lock = BuildLock.acquire(indexDir, 'build');
    expect(() => BuildLock.acquire(indexDir, 'gc')).toThrow(IndexLockedError);
    expect(idv('gc', '--index', indexDir).stderr).toContain(`is locked by another build (pid ${process.pid}`);
    lock.release();
    BuildLock.acquire(indexDir, 'gc').release();
  });

  it('publishes nothing when what it wrote disagrees with what it counted', async () => {
    const indexDir = join(dir, 'miscounted');
    await synthetic(indexDir, 200, 1);
    const served = currentBuildDir(indexDir);
    const inner = syntheticSource(300, 2);
    // A source that claims one record more than it yields.
    const lying: RecordSource = { ...inner, summary: () => ({ sha256: '0'.repeat(64), bytes: 1, records: 301 }) };
    const failure = buildIndex({ indexDir, secret, source: lying, rejectsPath: join(dir, 'r'), threads: 1, buckets: 4 });
    await expect(failure).rejects.toThrow(BuildCheckError);
    await expect(failure).rejects.toThrow(/source records indexed or rejected: counted 301, found 300/);
    expect(currentBuildDir(indexDir)).toBe(served);
    expect(existsSync(join(indexDir, LOCK_FILE))).toBe(false);
  });
});

describe('a build published while a server runs', () => {
  it('leaves the served build on disk until that server is gone, whether it stops or is killed', async () => {
    const indexDir = join(dir, 'served');
    await synthetic(indexDir, 2000, 1);
    const first = currentBuildDir(indexDir)!;
    const clients = writeClientsFile(dir);
    // New builds taken up on SIGHUP only: the server holds the first build for as long as the checks take.
    const serve = () => startCli('serve', ['--index', indexDir, '--secret-file', secretFile, '--clients', clients, '--threads', '1', '--build-check', '0']);
    const server = await serve();
    try {
      const second = await synthetic(indexDir, 3000, 2);
      expect(second.cleanup.kept).toEqual([{ build: first.split('/').pop(), readers: [`pid ${server.child.pid} on ${hostname()}`] }]);
      expect(existsSync(join(first, 'index.mdb'))).toBe(true);
      // It goes on answering from the build it opened.
      expect((await call(server.url, '/readyz')).body).toMatchObject({ records: 2000 });
      const someone = [...syntheticCitizens(1, 0, 1)][0];
      expect((await call(server.url, '/v1/verify', { key: KEYS.full, body: { idNumber: someone.idNumber, fullName: someone.fullName, dateOfBirth: fullDateOf(someone.dateOfBirth) } })).body).toMatchObject({
        result: someone.dateOfBirth.length === 10 ? 'match' : 'partial',
      });
      const info = JSON.parse(idv('info', '--index', indexDir).stdout);
      expect(info).toMatchObject({ records: 3000, readers: { [first.split('/').pop()!]: [`pid ${server.child.pid} on ${hostname()}`] } });
      expect(JSON.parse(idv('gc', '--index', indexDir).stdout)).toMatchObject({ removed: [], kept: [{ build: first.split('/').pop() }] });
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    expect(JSON.parse(idv('gc', '--index', indexDir).stdout)).toMatchObject({ removed: [first.split('/').pop()], kept: [] });
    expect(existsSync(first)).toBe(false);

    // Killed outright, a server leaves its registration behind; its dead pid frees the build.
    const killed = await serve();
    const secondBuild = currentBuildDir(indexDir)!;
    await synthetic(indexDir, 100, 3);
    expect(existsSync(secondBuild)).toBe(true);
    expect(await killed.stop('SIGKILL')).toBe(null);
    expect(JSON.parse(idv('gc', '--index', indexDir).stdout)).toMatchObject({ removed: [secondBuild.split('/').pop()] });
    expect(readdirSync(join(indexDir, 'readers'))).toEqual([]);
  });
});

describe('file modes', () => {
  let umask: number;
  beforeAll(() => {
    // With no umask, anything created without an explicit mode would be world-readable.
    umask = process.umask(0);
  });
  afterAll(() => process.umask(umask));
  const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

  it('makes every directory and file of an index, its rejects, secret and lock owner-only', async () => {
    const indexDir = join(dir, 'modes');
    mkdirSync(indexDir, { mode: 0o755 });
    writeFileSync(join(indexDir, 'rejects.ndjson'), '', { mode: 0o644 });
    const r = idv('build', '--synthetic', '500', '--index', indexDir);
    expect(r.status).toBe(0);
    const build = currentBuildDir(indexDir)!;
    expect(mode(indexDir)).toBe('700');
    expect(mode(build)).toBe('700');
    expect(mode(join(build, 'index.mdb'))).toBe('600');
    expect(mode(join(build, 'index.mdb-lock'))).toBe('600');
    expect(mode(join(indexDir, 'rejects.ndjson'))).toBe('600');
    expect(mode(`${indexDir}.secret.hex`)).toBe('600');

    const lock = BuildLock.acquire(indexDir, 'build');
    expect(mode(join(indexDir, LOCK_FILE))).toBe('600');
    lock.release();
    const registration = ReaderRegistration.register(indexDir);
    expect(mode(join(indexDir, 'readers'))).toBe('700');
    for (const f of readdirSync(join(indexDir, 'readers'))) expect(mode(join(indexDir, 'readers', f))).toBe('600');
    registration.release();
  });

  it('writes spill files owner-only', () => {
    const spillDir = join(dir, 'spill');
    mkdirSync(spillDir, { mode: 0o700 });
    const spill = new BucketSpill(spillDir, 'records', 2);
    spill.finish();
    const files = readdirSync(spillDir);
    expect(files).toHaveLength(2);
    for (const f of files) expect(mode(join(spillDir, f))).toBe('600');
  });

  it('writes generated people owner-only', () => {
    const out = join(dir, 'people.ndjson');
    expect(idv('gen', '--count', '5', '--out', out).status).toBe(0);
    expect(mode(out)).toBe('600');
    expect(readFileSync(out, 'utf8').split('\n').filter(Boolean)).toHaveLength(5);
  });
});
