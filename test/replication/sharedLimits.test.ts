import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../src/clients/clients.js';
import { GIVEN_ROWS } from '../../src/domain/nameWords.js';
import { claimOf, fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { NATS_SERVER, NatsServer } from '../helpers/nats.js';
import { readyz, serveInstance, snapshotOf, type Instance } from '../helpers/replication.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/**
 * The guessing attacks of test/server/probing.test.ts, each request sent to the next of
 * three instances (a primary and two replicas) in turn: stopped at the counts one
 * instance stops them at. A client's rate holds across the three within 10%. With the
 * shared limits unreachable, answers of the guessing kind are withheld.
 */
const ATTACKER = 'key-attacker-0123456789';
const RATED = 'key-rated-20-a-second-0123';
const RATE = 20;

describe.skipIf(!NATS_SERVER)('limits shared by three instances', () => {
  let nats: NatsServer;
  let index: TempIndex;
  let instances: Instance[] = [];
  let turn = 0;

  beforeAll(async () => {
    [nats, index] = await Promise.all([NatsServer.start(), tempIndex({ input: fixture('citizens.ndjson') })]);
    const usual = JSON.parse(readFileSync(writeClientsFile(index.dir), 'utf8')).clients;
    const attacker = { id: 'attacker', keySha256: sha256Hex(ATTACKER), scopes: ['verify', 'demographic', 'batch'], ratePerSecond: 1e6, burst: 1e6, consentRequired: false };
    const rated = { id: 'rated', keySha256: sha256Hex(RATED), scopes: ['verify'], ratePerSecond: RATE, burst: RATE, consentRequired: false };
    const clients = join(index.dir, 'shared-clients.json');
    writeFileSync(clients, JSON.stringify({ clients: [...usual, attacker, rated] }));
    const primary = await serveInstance(index, clients, nats.url);
    await vi.waitFor(async () => expect((await readyz(primary.url)).status).toBe('ready'));
    instances = [primary, await serveInstance(snapshotOf(index, 'r1'), clients, nats.url, '--replica'), await serveInstance(snapshotOf(index, 'r2'), clients, nats.url, '--replica')];
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await nats?.remove();
    index?.remove();
  });

  /** One request to the next instance in turn. */
  const next = (path: string, body: object, key = ATTACKER) => call(instances[turn++ % instances.length].url, path, { key, body });
  const outcome = (reply: { body: unknown }) => (reply.body as { result?: string; error?: { code: string } }).result ?? (reply.body as { error: { code: string } }).error.code;
  const spread = async (path: string, bodies: object[]) => {
    const out: string[] = [];
    for (const body of bodies) out.push(outcome(await next(path, body)));
    return out;
  };

  it('ID number known, name guessed word by word over three instances: 5 mismatches in all, then refused, the right guess included', async () => {
    const given = [...GIVEN_ROWS.map((row) => row.given).filter((w) => w !== 'An').slice(0, 20), 'An'];
    const at = given.indexOf('An');
    const codes = await spread('/v1/verify', given.map((word) => ({ ...claimOf('001090000101'), fullName: `Nguyễn Văn ${word}` })));
    expect(codes.filter((c) => c === 'mismatch')).toHaveLength(5);
    expect(codes.slice(codes.indexOf('TOO_MANY_MISMATCHES')).every((c) => c === 'TOO_MANY_MISMATCHES')).toBe(true);
    expect(codes[at]).toBe('TOO_MANY_MISMATCHES');
  });

  it('name known, date of birth searched day by day over three instances: 20 searches that found nobody in all, then refused', async () => {
    const days = Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(1995, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
    const codes = await spread('/v1/verify/demographic', days.map((d) => ({ fullName: 'Nguyễn Thị Hương', dateOfBirth: d })));
    expect(codes.filter((c) => c === 'none')).toHaveLength(20);
    expect(codes.slice(20).every((c) => c === 'TOO_MANY_SEARCHES')).toBe(true);
  });

  it('ID numbers guessed over three instances: 100 that belong to nobody in all, then refused, on every instance', async () => {
    const serials = Array.from({ length: 130 }, (_, i) => `001090000${String(i + 600).padStart(3, '0')}`);
    const codes = await spread('/v1/verify', serials.map((idNumber) => ({ idNumber, fullName: 'Hoàng Đức Minh', dateOfBirth: '1985-07-20' })));
    expect(codes.filter((c) => c === 'not_found')).toHaveLength(100);
    expect(codes.slice(100).every((c) => c === 'TOO_MANY_NOT_FOUND')).toBe(true);
    for (const instance of instances) expect(outcome(await call(instance.url, '/v1/verify', { key: ATTACKER, body: claimOf('001085000505') }))).toBe('TOO_MANY_NOT_FOUND');
    // Other clients are not touched.
    expect(outcome(await next('/v1/verify', claimOf('001090000101'), KEYS.full))).toBe('match');
  });

  it("holds a client's rate across three instances within 10%", async () => {
    const seconds = 6;
    const until = Date.now() + seconds * 1000;
    const answered: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, lane) => {
        for (let n = lane; Date.now() < until; n += 6) answered.push((await call(instances[n % 3].url, '/v1/verify', { key: RATED, body: claimOf('001090000101') })).status);
      }),
    );
    const granted = answered.filter((s) => s === 200).length;
    const allowed = RATE + RATE * seconds;
    process.stderr.write(`rate ${RATE}/s, burst ${RATE}, ${seconds} s over three instances: ${granted} granted of ${answered.length} asked (the limit allows ${allowed}; three instances each alone would grant ${3 * allowed})\n`);
    expect(granted).toBeGreaterThanOrEqual(allowed * 0.9);
    expect(granted).toBeLessThanOrEqual(allowed * 1.1);
  }, 30_000);

  it('withholds answers of the guessing kind while the shared limits are unreachable, and answers the rest', async () => {
    await nats.stop();
    try {
      const guess = await call(instances[1].url, '/v1/verify', { key: KEYS.full, body: { ...claimOf('079190000202'), dateOfBirth: '1990-01-01' } });
      expect(guess).toMatchObject({ status: 503, body: { error: { code: 'LIMITS_UNAVAILABLE' } } });
      expect(Number(guess.headers.get('retry-after'))).toBeGreaterThan(0);
      const match = await call(instances[2].url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') });
      expect(match).toMatchObject({ status: 200, body: { result: 'match' } });
    } finally {
      await nats.resume();
    }
    await vi.waitFor(async () => expect((await call(instances[1].url, '/v1/verify', { key: KEYS.full, body: { ...claimOf('079190000202'), dateOfBirth: '1990-01-01' } })).body).toMatchObject({ result: 'mismatch' }), { timeout: 15_000, interval: 250 });
  }, 60_000);

  it('stops on SIGTERM, every instance, with exit 0, just after the shared limits came back', async () => {
    expect(await Promise.all(instances.map((i) => i.stop()))).toEqual([0, 0, 0]);
  }, 30_000);
});
