import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { idv } from '../helpers/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { NATS_SERVER, NatsServer } from '../helpers/nats.js';
import { applyFile, citizensOf, mixedChanges, postChanges, reaches, readyz, serveInstance, snapshotOf, storedEntries, type Instance } from '../helpers/replication.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/**
 * A primary and two replicas on loopback, over a real nats-server: 100,000 changes of
 * every kind, through POST /v1/records and `idv apply`, reach both replicas, one of them
 * killed (SIGKILL) and started again midway; afterwards every replica holds what the
 * primary holds, byte for byte.
 */
const CHANGES = 100_000;

describe.skipIf(!NATS_SERVER)('replicas following the change stream', () => {
  let nats: NatsServer;
  let primaryIndex: TempIndex;
  let clients: string;
  let primary: Instance;
  const replicas: { index: { indexDir: string; secretFile: string }; instance: Instance }[] = [];
  let changes: ReturnType<typeof mixedChanges>;
  let lastAcknowledged = 0;

  beforeAll(async () => {
    [nats, primaryIndex] = await Promise.all([NatsServer.start(), tempIndex({ synthetic: 40_000, seed: 11 })]);
    clients = writeClientsFile(primaryIndex.dir);
    changes = mixedChanges(citizensOf(primaryIndex), CHANGES + 1000, 12);
    primary = await serveInstance(primaryIndex, clients, nats.url);
    // Some changes before the replicas are seeded: a snapshot starts where the primary had published.
    await postChanges(primary.url, changes.slice(0, 1000), 500, 'before');
    for (const name of ['replica-1', 'replica-2']) {
      const index = snapshotOf(primaryIndex, name);
      replicas.push({ index, instance: await serveInstance(index, clients, nats.url, '--replica') });
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([primary?.stop(), ...replicas.map((r) => r.instance.stop())]);
    await nats?.remove();
    primaryIndex?.remove();
  });

  it('say their role, build, sequence and lag on /readyz, and refuse changes NOT_PRIMARY', async () => {
    const [p, r] = await Promise.all([readyz(primary.url), readyz(replicas[0].instance.url)]);
    expect(p).toMatchObject({ status: 'ready', role: 'primary', sequence: 1000 });
    expect(r).toMatchObject({ status: 'ready', role: 'replica', build: p.build, lag: { changes: 0, seconds: 0 } });
    const refused = await call(replicas[0].instance.url, '/v1/records', { key: KEYS.registrar, body: { idempotencyKey: 'to-a-replica', changes: changes.slice(0, 1) } });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'NOT_PRIMARY' } } });
    const applied = await call(replicas[0].instance.url, '/v1/changes?after=0&limit=1', { key: KEYS.registrar });
    expect(applied.status).toBe(200);
    // Nor may idv apply write into a replica behind the stream's back.
    writeFileSync(join(primaryIndex.dir, 'one.ndjson'), JSON.stringify(changes[0]) + '\n');
    const run = idv('apply', '--index', replicas[0].index.indexDir, '--secret-file', primaryIndex.secretFile, '--input', join(primaryIndex.dir, 'one.ndjson'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('is a replica: it follows primary');
  });

  it('converge on the primary within 1 s of the last acknowledgement, one of them killed and restarted midway', async () => {
    const fresh = changes.slice(1000);
    const third = CHANGES / 4;
    // A quarter through the API, then the replica killed; a quarter more, then the replica started again; a quarter by idv apply; the last through the API.
    await postChanges(primary.url, fresh.slice(0, third), 1000, 'a');
    await replicas[1].instance.stop('SIGKILL');
    await postChanges(primary.url, fresh.slice(third, 2 * third), 1000, 'b');
    replicas[1].instance = await serveInstance(replicas[1].index, clients, nats.url, '--replica');
    applyFile(primaryIndex.indexDir, primaryIndex.secretFile, fresh.slice(2 * third, 3 * third), join(primaryIndex.dir, 'changes.ndjson'));
    const acknowledged = await postChanges(primary.url, fresh.slice(3 * third), 1000, 'c');
    lastAcknowledged = acknowledged.at(-1)!;
    expect(lastAcknowledged).toBe(CHANGES + 1000);
    const took = await Promise.all(replicas.map((r) => reaches(r.instance.url, lastAcknowledged, 5000)));
    process.stderr.write(`replicas held change ${lastAcknowledged} ${took.map((ms) => `${ms.toFixed(0)} ms`).join(' and ')} after its acknowledgement\n`);
    for (const ms of took) expect(ms).toBeLessThan(1000);
  }, 300_000);

  it('hold what the primary holds, record by record, lookup by lookup and change by change: nothing applied twice, nothing missed', async () => {
    const [p, ...r] = await Promise.all([readyz(primary.url), ...replicas.map((x) => readyz(x.instance.url))]);
    for (const replica of r) expect(replica).toMatchObject({ sequence: p.sequence, records: p.records, lag: { changes: 0 } });
    await Promise.all([primary.stop(), ...replicas.map((x) => x.instance.stop())]);
    const expected = await storedEntries(primaryIndex.indexDir);
    expect(expected.changes).toHaveLength(lastAcknowledged);
    for (const replica of replicas) {
      const held = await storedEntries(replica.index.indexDir);
      for (const db of Object.keys(expected)) expect(held[db].length, db).toBe(expected[db].length);
      for (const db of Object.keys(expected)) expect(held[db], db).toEqual(expected[db]);
    }
    process.stderr.write(`replicas equal to the primary: ${Object.entries(expected).map(([db, entries]) => `${entries.length} ${db}`).join(', ')}\n`);
  }, 120_000);
});
