import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { NATS_SERVER, NatsServer } from '../helpers/nats.js';
import { citizensOf, mixedChanges, readyz, serveInstance, snapshotOf, type Change, type Instance } from '../helpers/replication.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/**
 * The primary publishes while batches keep coming, not only once they stop: batches of 20
 * every 10 ms for 3 s (2,000 changes/s), and when the last one is acknowledged the
 * replica already holds most of them.
 */
describe.skipIf(!NATS_SERVER)('publishing under a stream of batches', () => {
  let nats: NatsServer;
  let index: TempIndex;
  let primary: Instance;
  let replica: Instance;
  let changes: Change[];

  beforeAll(async () => {
    [nats, index] = await Promise.all([NatsServer.start(), tempIndex({ synthetic: 3000, seed: 51 })]);
    const clients = writeClientsFile(index.dir);
    changes = mixedChanges(citizensOf(index), 6000, 52).filter((c) => c.op === 'upsert');
    primary = await serveInstance(index, clients, nats.url);
    await vi.waitFor(async () => expect((await readyz(primary.url)).status).toBe('ready'));
    replica = await serveInstance(snapshotOf(index, 'replica'), clients, nats.url, '--replica');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([primary?.stop(), replica?.stop()]);
    await nats?.remove();
    index?.remove();
  });

  it('keeps the replica within reach while changes arrive', async () => {
    const sent: Promise<number>[] = [];
    const started = performance.now();
    for (let n = 0; n * 20 + 20 <= changes.length && performance.now() - started < 3000; n++) {
      const due = started + n * 10;
      if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
      sent.push(call(primary.url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: `stream-${n}`, changes: changes.slice(n * 20, n * 20 + 20) } }).then((r) => (r.body as { lastSequence: number }).lastSequence));
    }
    const last = Math.max(...(await Promise.all(sent)));
    // The replica's own log, read at once (its /readyz sequence is refreshed a few times a second).
    const held = ((await call(replica.url, `/v1/changes?after=${last}&limit=1`, { key: KEYS.registrar })).body as { lastSequence: number }).lastSequence;
    process.stderr.write(`${sent.length} batches acknowledged up to change ${last}; the replica held ${held} at that moment\n`);
    expect(held).toBeGreaterThan(last / 2);
  }, 60_000);
});
