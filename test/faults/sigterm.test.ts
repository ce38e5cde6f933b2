import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { fullDateOf, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';
import { batchesFor, checkLog, wholeLog } from './helpers.js';
import { currentBuildDir } from '../../src/index/layout.js';
import { IndexReader } from '../../src/index/reader.js';

let index: TempIndex;
beforeAll(async () => {
  index = await tempIndex({ synthetic: 3000, seed: 13 });
});
afterAll(() => index.remove());

const GRACE_MS = 10_000; // the server's default shutdown grace

describe('SIGTERM under load with updates in flight', () => {
  it('answers what it accepted, refuses the rest, keeps every acknowledged update, and exits 0 within the grace period', async () => {
    const args = ['--index', index.indexDir, '--secret-file', index.secretFile, '--clients', writeClientsFile(index.dir)];
    const reader = IndexReader.openBuild(currentBuildDir(index.indexDir)!, index.secret);
    const claims = reader.sample(200).map((p) => ({ idNumber: p.idNumber, fullName: p.fullName, dateOfBirth: fullDateOf(p.dateOfBirth) }));
    await reader.close();
    const sent = batchesFor(index, 200, 10, 'term');
    const acknowledged = new Map<string, { firstSequence: number; lastSequence: number }>();
    const outcomes = new Map<string, number>();
    const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
    const server = await startCli('serve', args);

    let stopped = false;
    const verifier = async (n: number) => {
      for (let i = n; !stopped; i += 16) {
        const reply = await call(server.url, '/v1/verify', { key: KEYS.full, body: claims[i % claims.length] }).catch(() => undefined);
        if (!reply) return count('connection refused or closed');
        count(reply.status === 200 ? '200' : `${reply.status} ${reply.body.error?.code}`);
      }
    };
    let next = 0;
    const updater = async () => {
      while (next < sent.length && !stopped) {
        const batch = sent[next++];
        const reply = await call(server.url, '/v1/records', { key: KEYS.registrar, body: batch }).catch(() => undefined);
        if (!reply) return count('update: connection refused or closed');
        if (reply.status === 200) acknowledged.set(batch.idempotencyKey, reply.body);
        count(`update ${reply.status === 200 ? '200' : `${reply.status} ${reply.body.error?.code}`}`);
      }
    };
    const load = Promise.all([...Array.from({ length: 16 }, (_, n) => verifier(n)), updater(), updater()]);
    // Under way: some updates acknowledged and verifications answered.
    await vi.waitFor(() => expect(acknowledged.size).toBeGreaterThanOrEqual(10), { timeout: 15_000, interval: 10 });
    const signalled = performance.now();
    const exitCode = await server.stop('SIGTERM');
    const tookMs = performance.now() - signalled;
    stopped = true;
    await load;

    expect(exitCode).toBe(0);
    expect(tookMs).toBeLessThan(GRACE_MS + 2000);
    // Nothing but answers, the refusal of a server going down, and closed connections.
    for (const what of outcomes.keys()) expect(['200', '503 NOT_READY', 'connection refused or closed', 'update 200', 'update 503 NOT_READY', 'update: connection refused or closed']).toContain(what);
    expect(outcomes.get('200')).toBeGreaterThan(0);

    const restarted = await startCli('serve', args);
    try {
      const checked = checkLog(await wholeLog(restarted.url), sent, acknowledged);
      console.log(`SIGTERM under load: exit 0 after ${Math.round(tookMs)} ms; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}; ${checked}`);
    } finally {
      await restarted.stop();
    }
  });
});
