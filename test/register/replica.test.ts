import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Citizen } from '../../src/domain/citizen.js';
import { currentBuildDir } from '../../src/index/layout.js';
import { IndexReader } from '../../src/index/reader.js';
import { queryBlockTexts } from '../../src/index/keys.js';
import { idv } from '../helpers/cli.js';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The change log is the unit of replication: an index fed by the API, and a second index
 * of the same people (its own secret) fed only by replaying the first one's log with
 * `idv apply --log`, hold the same citizens, found by the same lookups.
 */
let primary: TempIndex;
let replica: TempIndex;
let server: TestServer;

beforeAll(async () => {
  [primary, replica] = await Promise.all([tempIndex({ synthetic: 400, seed: 7 }), tempIndex({ synthetic: 400, seed: 7 })]);
  server = await startTestServer(primary);
});
afterAll(async () => {
  await server.close();
  primary.remove();
  replica.remove();
});

/** A deterministic stream of numbers in [0, 1). */
function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function snapshot(index: TempIndex): Map<string, Citizen> {
  const reader = IndexReader.openBuild(currentBuildDir(index.indexDir)!, index.secret);
  try {
    const citizens = new Map([...reader.citizens()].map((c) => [c.idNumber, c]));
    // The count a reader is told follows the changes too (births added, deaths of records deleted).
    expect(reader.meta.records).toBe(citizens.size);
    return citizens;
  } finally {
    void reader.close();
  }
}

/** Who each name and date of birth finds, ID numbers sorted: the lookups compared, not only the records. */
function searches(index: TempIndex, claims: { fullName: string; dateOfBirth: string }[]): string[][] {
  const reader = IndexReader.openBuild(currentBuildDir(index.indexDir)!, index.secret);
  try {
    return claims.map((c) => reader.byNameBlocks(queryBlockTexts(c.fullName, c.dateOfBirth)).map((p) => p.idNumber).sort());
  } finally {
    void reader.close();
  }
}

describe('replaying the change log', () => {
  it('gives an index equal to the one fed by the API, record by record and lookup by lookup', async () => {
    const before = [...snapshot(primary).values()];
    const random = seeded(11);
    const pick = () => before[Math.floor(random() * before.length)];
    const given = ['An', 'Bình', 'Châu', 'Dũng', 'Giang', 'Hải'];
    let sent = 0;
    for (let b = 0; b < 12; b++) {
      const changes = Array.from({ length: 1 + Math.floor(random() * 8) }, () => {
        const p = pick();
        const r = random();
        if (r < 0.3) return { op: 'rename', idNumber: p.idNumber, fullName: `${p.fullName.split(' ')[0]} ${given[Math.floor(random() * given.length)]}` };
        if (r < 0.45) return { op: 'deceased', idNumber: p.idNumber };
        if (r < 0.55) return { op: 'revokeCard', idNumber: p.idNumber };
        if (r < 0.65) return { op: 'reissueCard', idNumber: p.idNumber, cardIssueDate: '2026-10-0' + (1 + Math.floor(random() * 9)) };
        if (r < 0.75) return { op: 'upsert', record: { ...p, legacyIdNumber: String(100_000_000 + Math.floor(random() * 899_999_999)) } };
        if (r < 0.85) return { op: 'upsert', record: { idNumber: `0012260${String(b).padStart(2, '0')}${String(Math.floor(random() * 1000)).padStart(3, '0')}`, fullName: 'Lê Thị Mới', dateOfBirth: '2026-11-01', gender: 'male' } };
        return { op: 'delete', idNumber: p.idNumber };
      });
      const reply = await call(server.url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: `replica-${b}`, changes } });
      // A batch naming someone deleted earlier is refused whole: the replica must not see it either.
      expect([200, 422]).toContain(reply.status);
      if (reply.status === 200) sent += changes.length;
      if (b % 4 === 0) await call(server.url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: `replica-${b}`, changes } });
    }
    expect(sent).toBeGreaterThan(20);

    const log: object[] = [];
    for (let after = 0; ; ) {
      const page = (await call(server.url, `/v1/changes?after=${after}&limit=7`, { key: KEYS.registrar })).body;
      if (page.changes.length === 0) break;
      log.push(...page.changes);
      after = page.next;
    }
    expect(log.length).toBe(sent);
    const logFile = join(replica.dir, 'log.ndjson');
    writeFileSync(logFile, log.map((c) => JSON.stringify(c)).join('\n') + '\n');
    const run = idv('apply', '--index', replica.indexDir, '--secret-file', replica.secretFile, '--log', logFile, '--batch', '5');
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ applied: sent, lastSequence: sent });
    // Replaying again applies nothing: a replica may resume from anywhere in what it holds.
    expect(JSON.parse(idv('apply', '--index', replica.indexDir, '--secret-file', replica.secretFile, '--log', logFile).stdout)).toMatchObject({ applied: 0, lastSequence: sent });

    const a = snapshot(primary);
    const b = snapshot(replica);
    expect(b.size).toBe(a.size);
    for (const [id, citizen] of a) expect(b.get(id), id).toEqual(citizen);
    expect(a).not.toEqual(new Map(before.map((c) => [c.idNumber, c])));
    // Old names and new: each finds the same people in both.
    const claims = [...before, ...a.values()].map(({ fullName, dateOfBirth }) => ({ fullName, dateOfBirth }));
    expect(searches(replica, claims)).toEqual(searches(primary, claims));
  });

  it('refuses a log with a change missing', () => {
    const file = join(replica.dir, 'gap.ndjson');
    writeFileSync(file, JSON.stringify({ v: 1, seq: 10_000, time: '2026-11-27T00:00:00.000Z', batch: 'x', client: 'x', op: 'delete', idNumber: '001090000101', record: null }) + '\n');
    const run = idv('apply', '--index', replica.indexDir, '--secret-file', replica.secretFile, '--log', file);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/is missing/);
  });
});
