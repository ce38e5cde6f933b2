import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { NATS_SERVER, NatsServer } from '../helpers/nats.js';
import { citizensOf, mixedChanges, postChanges, reaches, readyz, serveInstance, snapshotOf, type Change, type Instance } from '../helpers/replication.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/**
 * NATS stopped for 10 s while changes arrive: a primary acknowledging locally goes on
 * taking them, one acknowledging only once the stream holds them refuses them (and
 * applies nothing), and the replica, not ready once too far behind, catches up after.
 */
describe.skipIf(!NATS_SERVER)('the change stream unreachable for 10 s', () => {
  let nats: NatsServer;
  let local: TempIndex;
  let replicated: TempIndex;
  let primaryLocal: Instance;
  let primaryReplicated: Instance;
  let replica: Instance;
  let changes: Change[];

  beforeAll(async () => {
    [nats, local, replicated] = await Promise.all([NatsServer.start(), tempIndex({ synthetic: 3000, seed: 21 }), tempIndex({ synthetic: 3000, seed: 21 })]);
    const clients = writeClientsFile(local.dir);
    changes = mixedChanges(citizensOf(local), 3000, 22);
    [primaryLocal, primaryReplicated] = await Promise.all([
      serveInstance(local, clients, nats.url, '--nats-stream', 'LOCAL'),
      serveInstance(replicated, clients, nats.url, '--nats-stream', 'REPLICATED', '--ack', 'replicated', '--replication-timeout', '1000'),
    ]);
    await vi.waitFor(async () => expect((await postBatch(primaryLocal, 0, 'first')).status).toBe(200), { timeout: 10_000 });
    await vi.waitFor(async () => expect((await postBatch(primaryReplicated, 0, 'first')).status).toBe(200), { timeout: 10_000 });
    replica = await serveInstance(snapshotOf(local, 'replica'), clients, nats.url, '--nats-stream', 'LOCAL', '--replica', '--max-lag', '3');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([primaryLocal?.stop(), primaryReplicated?.stop(), replica?.stop()]);
    await nats?.remove();
    local?.remove();
    replicated?.remove();
  });

  const postBatch = (instance: Instance, n: number, key = `outage-${n}`) => call(instance.url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: key, changes: changes.slice(n * 50, n * 50 + 50) } });

  it('--ack local goes on acknowledging, --ack replicated refuses with REPLICATION_UNAVAILABLE and applies nothing; the replica reports lagging', async () => {
    const before = await readyz(primaryReplicated.url);
    await nats.stop();
    const started = Date.now();
    const answers: { local: number[]; replicated: number[] } = { local: [], replicated: [] };
    for (let n = 1; Date.now() - started < 10_000; n++) {
      const [l, r] = await Promise.all([postBatch(primaryLocal, n), postBatch(primaryReplicated, n)]);
      answers.local.push(l.status);
      answers.replicated.push(r.status);
      if (r.status === 503) expect(r.body).toMatchObject({ error: { code: 'REPLICATION_UNAVAILABLE' } });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    process.stderr.write(`during the outage: ${answers.local.length} batches to each primary; --ack local answered ${[...new Set(answers.local)]}, --ack replicated ${[...new Set(answers.replicated)]}\n`);
    expect(new Set(answers.local)).toEqual(new Set([200]));
    expect(new Set(answers.replicated)).toEqual(new Set([503]));
    // Refused before anything was applied: the replicated primary's register did not move.
    expect((await readyz(primaryReplicated.url)).sequence).toBe(before.sequence);
    expect(await readyz(replica.url)).toMatchObject({ status: 'not_ready', reason: 'lagging', role: 'replica' });
    expect((await readyz(primaryLocal.url)).status).toBe('ready');
  }, 60_000);

  it('once NATS is back, the replica catches up with every change acknowledged meanwhile, and --ack replicated takes batches again', async () => {
    await nats.resume();
    const { sequence } = await readyz(primaryLocal.url);
    const took = await reaches(replica.url, sequence, 30_000);
    process.stderr.write(`the replica held change ${sequence} ${took.toFixed(0)} ms after NATS was back\n`);
    await vi.waitFor(async () => expect(await readyz(replica.url)).toMatchObject({ status: 'ready', sequence, lag: { changes: 0 } }), { timeout: 10_000 });
    await vi.waitFor(async () => expect((await postBatch(primaryReplicated, 40, 'after-outage')).status).toBe(200), { timeout: 30_000, interval: 500 });
    await postChanges(primaryLocal.url, changes.slice(2900), 100, 'after');
    await reaches(replica.url, sequence + 100, 5000);
  }, 90_000);
});
