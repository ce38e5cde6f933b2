import { appendFileSync, cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { idv } from '../helpers/cli.js';
import { claimOf, fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { NATS_SERVER, NatsServer } from '../helpers/nats.js';
import { readyz, serveInstance, snapshotOf } from '../helpers/replication.js';
import { call, KEYS, writeClientsFile } from '../helpers/server.js';

/**
 * "Who checked me" for the whole service: each instance keeps its own chained trail; the
 * trails gathered in one directory (one folder per instance) answer one query, oldest
 * first, each record naming its instance's trail, and each chain is verified on its own.
 */
describe.skipIf(!NATS_SERVER)('the audit trails of several instances', () => {
  let nats: NatsServer;
  let index: TempIndex;
  let replicaDir: string;
  const trails = () => join(index.dir, 'trails');

  beforeAll(async () => {
    [nats, index] = await Promise.all([NatsServer.start(), tempIndex({ input: fixture('citizens.ndjson') })]);
    const clients = writeClientsFile(index.dir);
    const primary = await serveInstance(index, clients, nats.url, '--audit-flush', '20');
    await vi.waitFor(async () => expect((await readyz(primary.url)).status).toBe('ready'));
    const replicaIndex = snapshotOf(index, 'replica');
    replicaDir = replicaIndex.indexDir;
    const replica = await serveInstance(replicaIndex, clients, nats.url, '--replica', '--audit-flush', '20');
    // Four checks of one citizen, alternating between the instances, and one of someone else.
    for (const [n, instance] of [primary, replica, primary, replica].entries()) {
      expect((await call(instance.url, '/v1/verify', { key: KEYS.full, body: claimOf('001090000101') })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 30 + n));
    }
    expect((await call(replica.url, '/v1/verify', { key: KEYS.full, body: claimOf('079190000202') })).status).toBe(200);
    await Promise.all([primary.stop(), replica.stop()]);
    await nats.remove();
    cpSync(join(index.indexDir, 'audit'), join(trails(), 'instance-a'), { recursive: true });
    cpSync(join(replicaDir, 'audit'), join(trails(), 'instance-b'), { recursive: true });
  }, 120_000);

  afterAll(() => index?.remove());

  it('answers who checked a citizen across every instance, oldest first, naming each trail', () => {
    const run = idv('audit', 'query', '--trails', trails(), '--secret-file', index.secretFile, '--id', '001090000101');
    expect(run.status, run.stderr).toBe(0);
    const records = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { trail: string; time: string; client: string });
    expect(records.map((r) => r.trail)).toEqual(['instance-a', 'instance-b', 'instance-a', 'instance-b']);
    expect(records.map((r) => r.time)).toEqual([...records.map((r) => r.time)].sort());
    expect(new Set(records.map((r) => r.client))).toEqual(new Set(['bank-a']));
    expect(run.stdout).not.toContain('001090000101');
  });

  it("verifies each instance's chain on its own, and names the trail that is broken", () => {
    const good = idv('audit', 'verify', '--trails', trails(), '--secret-file', index.secretFile);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout.trim().split('\n').map((l) => JSON.parse(l).trail)).toEqual(['instance-a', 'instance-b']);
    const dir = join(trails(), 'instance-b');
    appendFileSync(join(dir, readdirSync(dir).filter((f) => f.endsWith('.ndjson')).sort().at(-1)!), '{"forged":true}\n');
    const broken = idv('audit', 'verify', '--trails', trails(), '--secret-file', index.secretFile);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain('trail instance-b: the audit trail is broken');
    expect(broken.stderr).not.toContain('instance-a');
  });
});
