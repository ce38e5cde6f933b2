import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { NATS_SERVER, NatsServer } from '../helpers/nats.js';
import { citizensOf, mixedChanges, readyz, serveInstance, snapshotOf, storedEntries, type Change, type Instance } from '../helpers/replication.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/**
 * Failover under --ack replicated: the primary killed (SIGKILL) right after acknowledged
 * batches, a replica promoted: it holds every acknowledged change, answers a re-sent batch
 * as replayed, and takes new ones; the old primary, started again as it was, is fenced.
 */
describe.skipIf(!NATS_SERVER)('failover', () => {
  let nats: NatsServer;
  let index: TempIndex;
  let clients: string;
  let replicaIndex: { indexDir: string; secretFile: string };
  let primary: Instance;
  let replica: Instance;
  let promoted: Instance;
  let changes: Change[];
  const acknowledged: { key: string; lastSequence: number }[] = [];

  beforeAll(async () => {
    [nats, index] = await Promise.all([NatsServer.start(), tempIndex({ synthetic: 3000, seed: 31 })]);
    clients = writeClientsFile(index.dir);
    changes = mixedChanges(citizensOf(index), 3000, 32);
    primary = await serveInstance(index, clients, nats.url, '--ack', 'replicated');
    await vi.waitFor(async () => expect((await readyz(primary.url)).status).toBe('ready'));
    replicaIndex = snapshotOf(index, 'replica');
    replica = await serveInstance(replicaIndex, clients, nats.url, '--replica');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([primary?.stop('SIGKILL'), replica?.stop('SIGKILL'), promoted?.stop()]);
    await nats?.remove();
    index?.remove();
  });

  const post = (instance: Instance, key: string, batch: Change[]) => call(instance.url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: key, changes: batch } });

  it('loses no acknowledged change when the primary is killed and a replica promoted', async () => {
    for (let n = 0; n < 20; n++) {
      const key = `before-failover-${n}`;
      const reply = await vi.waitFor(async () => {
        const r = await post(primary, key, changes.slice(n * 100, n * 100 + 100));
        expect(r.status).toBe(200);
        return r;
      });
      acknowledged.push({ key, lastSequence: (reply.body as { lastSequence: number }).lastSequence });
    }
    await primary.stop('SIGKILL');
    const killed = performance.now();
    // The replica is restarted as the primary: it applies what the stream holds beyond it, then takes over.
    await replica.stop();
    promoted = await serveInstance(replicaIndex, clients, nats.url, '--promote', '--ack', 'replicated');
    const taken = await vi.waitFor(
      async () => {
        const r = await post(promoted, 'after-failover-0', changes.slice(2000, 2100));
        expect(r.status).toBe(200);
        return r;
      },
      { timeout: 30_000, interval: 100 },
    );
    const seconds = (performance.now() - killed) / 1000;
    const last = acknowledged.at(-1)!.lastSequence;
    process.stderr.write(`primary killed after change ${last}; the promoted replica took a batch ${seconds.toFixed(1)} s later, as changes ${JSON.stringify(taken.body)}\n`);
    expect(taken.body).toMatchObject({ firstSequence: last + 1 });
    expect(await readyz(promoted.url)).toMatchObject({ status: 'ready', role: 'primary', sequence: last + 100 });
    // A batch whose answer the client never saw, sent again to the new primary: known by its key, not applied twice.
    const again = await post(promoted, acknowledged[19].key, changes.slice(1900, 2000));
    expect(again).toMatchObject({ status: 200, body: { replayed: true, lastSequence: last } });
  }, 120_000);

  it('fences the old primary when it comes back: it refuses changes NOT_PRIMARY and reports fenced', async () => {
    primary = await serveInstance(index, clients, nats.url, '--ack', 'replicated');
    await vi.waitFor(async () => expect(await readyz(primary.url)).toMatchObject({ status: 'not_ready', reason: 'fenced', role: 'primary' }), { timeout: 15_000 });
    const refused = await post(primary, 'to-the-old-primary', changes.slice(2100, 2200));
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'NOT_PRIMARY' } } });
    expect((refused.body as { error: { message: string } }).error.message).toMatch(/term 2/);
    // And the stream still has one writer: the promoted primary takes changes.
    expect((await post(promoted, 'after-failover-1', changes.slice(2200, 2300))).status).toBe(200);
  }, 60_000);

  it('the promoted primary holds every change the old one acknowledged, as the old one held it', async () => {
    const last = acknowledged.at(-1)!.lastSequence;
    await Promise.all([primary.stop(), promoted.stop()]);
    const [old, now] = await Promise.all([storedEntries(index.indexDir), storedEntries(replicaIndex.indexDir)]);
    expect(old.changes).toHaveLength(last);
    expect(now.changes.slice(0, last)).toEqual(old.changes);
  }, 60_000);
});
