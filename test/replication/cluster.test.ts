import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { NATS_SERVER, NatsServer, streamLeader } from '../helpers/nats.js';
import { citizensOf, mixedChanges, reaches, readyz, serveInstance, snapshotOf, storedEntries, type Change, type Instance } from '../helpers/replication.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/**
 * A three-server JetStream cluster holding three copies of the stream: one server killed
 * (SIGKILL) while changes arrive under --ack replicated; publishing and following go on
 * over the other two.
 */
describe.skipIf(!NATS_SERVER)('a three-server JetStream cluster', () => {
  let servers: NatsServer[];
  let index: TempIndex;
  let replicaIndex: { indexDir: string; secretFile: string };
  let primary: Instance;
  let replica: Instance;
  let changes: Change[];

  beforeAll(async () => {
    [servers, index] = await Promise.all([NatsServer.cluster(3), tempIndex({ synthetic: 6000, seed: 41 })]);
    const clients = writeClientsFile(index.dir);
    changes = mixedChanges(citizensOf(index), 6000, 42);
    const urls = servers.map((s) => s.url);
    primary = await serveInstance(index, clients, urls.join(','), '--nats-stream-replicas', '3', '--ack', 'replicated');
    // A cluster elects its JetStream leaders after it starts: the first batch waits for them.
    await vi.waitFor(async () => expect((await post(0)).status).toBe(200), { timeout: 60_000, interval: 500 });
    replicaIndex = snapshotOf(index, 'replica');
    replica = await serveInstance(replicaIndex, clients, [...urls].reverse().join(','), '--replica');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([primary?.stop(), replica?.stop()]);
    await Promise.all((servers ?? []).map((s) => s.remove()));
    index?.remove();
  });

  const post = (n: number) => call(primary.url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: `cluster-${n}`, changes: changes.slice(n * 100, n * 100 + 100) } });

  it('goes on publishing and following with one server of three killed under load', async () => {
    const refused: number[] = [];
    let last = 0;
    const leader = await streamLeader(servers, 'IDV_CHANGES');
    for (let n = 1; n < 60; n++) {
      // The server that leads the stream: its copies elect another leader while changes arrive.
      if (n === 20) await leader.stop('SIGKILL');
      // A batch the stream could not confirm (its leader lost meanwhile) is sent again with the same key, as a client would.
      const reply = await vi.waitFor(
        async () => {
          const r = await post(n);
          if (r.status !== 200) refused.push(r.status);
          expect(r.status).toBe(200);
          return r;
        },
        { timeout: 30_000, interval: 200 },
      );
      last = (reply.body as { lastSequence: number }).lastSequence;
    }
    process.stderr.write(`59 batches acknowledged by the stream's copies, the stream's leading server killed after 19 of them; ${refused.length} answers to send again (${[...new Set(refused)]})\n`);
    expect(last).toBe(6000);
    await reaches(replica.url, last, 30_000);
    expect(await readyz(replica.url)).toMatchObject({ status: 'ready', sequence: last });
  }, 180_000);

  it('the replica holds what the primary holds', async () => {
    await Promise.all([primary.stop(), replica.stop()]);
    const [p, r] = await Promise.all([storedEntries(index.indexDir), storedEntries(replicaIndex.indexDir)]);
    expect(r).toEqual(p);
  }, 60_000);
});
