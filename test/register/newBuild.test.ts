import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildIndex } from '../../src/index/build.js';
import { currentBuildDir } from '../../src/index/layout.js';
import { fileSource } from '../../src/index/sources.js';
import { changesForBuild } from '../../src/register/carry.js';
import { fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A new full build served without a restart and without dropping a request: the register's
 * changes the new build's source lacks are carried into it, and every server thread moves
 * to it between two requests.
 */
let index: TempIndex;
let server: TestServer;
const logs: Record<string, unknown>[] = [];

beforeAll(async () => {
  index = await tempIndex({ input: fixture('citizens.ndjson') });
  server = await startTestServer(index, { threads: 2 }, (event) => logs.push(event));
});
afterAll(async () => {
  await server.close();
  index.remove();
});

const records = (body: object) => call(server.url, '/v1/records', { key: KEYS.registrar, body });
const changes = async () => (await call(server.url, '/v1/changes?limit=1000', { key: KEYS.registrar })).body;
const verify = (body: object) => call(server.url, '/v1/verify', { key: KEYS.full, body });
const ready = async () => (await call(server.url, '/readyz')).body.records as number;
const indexRecords = async () => Number(/^idv_index_records (\d+)$/m.exec((await call(server.url, '/metrics')).body as string)?.[1]);
const build = async (file: string, includesChanges?: number) =>
  buildIndex({ indexDir: index.indexDir, secret: index.secret, source: await fileSource(file), rejectsPath: join(index.dir, 'rejects-next.ndjson'), threads: 1, buckets: 4, ...(await changesForBuild(index.indexDir, index.secret, includesChanges)) });

/** Polls until the server answers from the build named, for at most 5 s (it looks every 2 s). */
async function servedBuild(name: string): Promise<string> {
  let now = '';
  await vi.waitFor(async () => expect((now = (await changes()).build)).toBe(name), { timeout: 5000, interval: 50 }).catch(() => {});
  return now;
}

describe('a newly published build', () => {
  it('is served without a restart, with the changes its source lacks carried in, and no request dropped', async () => {
    const first = basename(currentBuildDir(index.indexDir)!);
    expect((await records({ idempotencyKey: 'nb-1', changes: [{ op: 'rename', idNumber: '001199000404', fullName: 'Phạm Thị Mai Anh' }] })).status).toBe(200);
    expect((await records({ idempotencyKey: 'nb-2', changes: [{ op: 'deceased', idNumber: '079190000202' }] })).status).toBe(200);

    // The register's next source file: it holds the rename (change 1), not yet the death (change 2).
    const source = join(index.dir, 'next.ndjson');
    // And a citizen born since, so the new build holds one more.
    const born = JSON.stringify({ idNumber: '001226000111', fullName: 'Lê Minh Khang', dateOfBirth: '2026-11-20', gender: 'male' });
    writeFileSync(source, readFileSync(fixture('citizens.ndjson'), 'utf8').replace('"Phạm Thị Mai"', '"Phạm Thị Mai Anh"').trimEnd() + '\n' + born + '\n');
    const countBefore = await ready();
    await expect(changesForBuild(index.indexDir, index.secret, undefined)).rejects.toThrow(/--includes-changes/);

    // Verifications run throughout: every one is answered 200.
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!stop) statuses.push((await verify({ idNumber: '001090000101', fullName: 'Nguyễn Văn An', dateOfBirth: '1990-05-17' })).status);
    })();
    const report = await build(source, 1);
    const next = basename(report.path);
    // A change made after the build carried the others, perhaps before the server moved: carried too.
    expect((await records({ idempotencyKey: 'nb-2b', changes: [{ op: 'revokeCard', idNumber: '001085000505' }] })).status).toBe(200);
    expect(await servedBuild(next)).toBe(next);
    // Counted within 1 s on every thread (each /readyz may reach either) and in the metric: the new build's citizens.
    expect(report.records).toBe(countBefore + 1);
    await vi.waitFor(async () => expect(await Promise.all(Array.from({ length: 8 }, ready))).toEqual(Array(8).fill(report.records)), { timeout: 1000, interval: 20 });
    expect(await indexRecords()).toBe(report.records);
    stop = true;
    await load;
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.every((s) => s === 200)).toBe(true);

    expect((await verify({ idNumber: '001199000404', fullName: 'Phạm Thị Mai Anh', dateOfBirth: '1999-03-01' })).body.result).toBe('match');
    expect((await verify({ idNumber: '079190000202', fullName: 'Trần Thị Thủy', dateOfBirth: '1990-11-02' })).body.status).toEqual({ alive: false, card: 'valid' });
    expect((await verify({ idNumber: '001085000505', fullName: 'Hoàng Đức Minh', dateOfBirth: '1985-07-20' })).body.status.card).toBe('revoked');
    const log = await changes();
    expect(log.changes).toEqual([
      expect.objectContaining({ seq: 1, op: 'deceased', idNumber: '079190000202', batch: 'nb-2' }),
      expect.objectContaining({ seq: 2, op: 'revokeCard', idNumber: '001085000505', batch: 'nb-2b' }),
    ]);
    expect(logs.find((l) => l.msg === 'serving a new build')).toMatchObject({ build: next });
    expect(first).not.toBe(next);

    // Changes go on into the new build.
    expect((await records({ idempotencyKey: 'nb-3', changes: [{ op: 'revokeCard', idNumber: '001090000101' }] })).body).toMatchObject({ firstSequence: 3 });
  });

  it('is not served when it does not say which changes its source holds: the previous one still is', async () => {
    const before = (await changes()).build;
    // Built without the register's say (as an older tool would): published, but refused by the server.
    const report = await buildIndex({ indexDir: index.indexDir, secret: index.secret, source: await fileSource(fixture('citizens.ndjson')), rejectsPath: join(index.dir, 'rejects-other.ndjson'), threads: 1, buckets: 4 });
    await server.service.reload();
    expect((await changes()).build).toBe(before);
    expect(logs.find((l) => l.msg === 'a new build is not served; the previous one still is')).toMatchObject({ build: basename(report.path), reason: expect.stringMatching(/--includes-changes/) });
    expect((await verify({ idNumber: '079190000202', fullName: 'Trần Thị Thủy', dateOfBirth: '1990-11-02' })).body.status.alive).toBe(false);
  });
});

describe('asking a served build which changes it has', () => {
  it('reads it without writing to it', async () => {
    const other = await tempIndex({ input: fixture('citizens.ndjson') });
    try {
      const file = join(currentBuildDir(other.indexDir)!, 'index.mdb');
      const before = readFileSync(file);
      expect(await changesForBuild(other.indexDir, other.secret, undefined)).toEqual({});
      // A build that never took a change: opening it for writing would have added the register's tables.
      expect(readFileSync(file).equals(before)).toBe(true);
    } finally {
      other.remove();
    }
  });
});
