import { Agent, request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { claimOf, fixture, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { NATS_SERVER, NatsServer } from '../helpers/nats.js';
import { readyz, serveInstance, snapshotOf, type Instance } from '../helpers/replication.js';
import { KEYS, writeClientsFile } from '../helpers/server.js';
import { PROXY_TOOLS, startTlsProxy, type TlsProxy } from '../helpers/tlsProxy.js';

/**
 * The shipped nginx template in front of three instances (a primary and two replicas):
 * verifications spread over all of them, changes reach the primary only, and an instance
 * killed under load costs the clients nothing: the requests in flight on it are sent to
 * another instance, and the dead one gets none after its first failure.
 */
describe.runIf(PROXY_TOOLS && NATS_SERVER)('nginx in front of three instances', () => {
  let nats: NatsServer;
  let index: TempIndex;
  let instances: Instance[] = [];
  let proxy: TlsProxy;
  let agent: Agent;

  beforeAll(async () => {
    [nats, index] = await Promise.all([NatsServer.start(), tempIndex({ input: fixture('citizens.ndjson') })]);
    const clients = writeClientsFile(index.dir);
    const primary = await serveInstance(index, clients, nats.url);
    await vi.waitFor(async () => expect((await readyz(primary.url)).status).toBe('ready'));
    instances = [primary, await serveInstance(snapshotOf(index, 'r1'), clients, nats.url, '--replica'), await serveInstance(snapshotOf(index, 'r2'), clients, nats.url, '--replica')];
    proxy = await startTlsProxy(primary.port, instances.slice(1).map((i) => i.port));
    agent = new Agent({ keepAlive: true, maxSockets: 32, ca: proxy.cert, servername: 'localhost' });
  }, 120_000);

  afterAll(async () => {
    agent?.destroy();
    await proxy?.stop();
    await Promise.all(instances.map((i) => i.stop()));
    await nats?.remove();
    index?.remove();
  });

  const send = (method: string, path: string, body?: object, key: string = KEYS.full) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, agent, path, method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });

  it('sends changes to the primary only, and verifications to every instance', async () => {
    for (let n = 0; n < 6; n++) {
      const reply = await send('POST', '/v1/records', { idempotencyKey: `through-nginx-${n}`, changes: [{ op: 'reissueCard', idNumber: '001090000101', cardIssueDate: `2026-11-0${n + 1}` }] }, KEYS.registrar);
      expect(reply.status, reply.body).toBe(200);
    }
    expect((await send('GET', '/v1/changes?after=0', undefined, KEYS.registrar)).status).toBe(200);
    const before = await Promise.all(instances.map((i) => requestsServed(i.url)));
    for (let n = 0; n < 60; n++) expect((await send('POST', '/v1/verify', claimOf('001090000101'))).status).toBe(200);
    const after = await Promise.all(instances.map((i) => requestsServed(i.url)));
    const served = after.map((a, i) => a - before[i]);
    process.stderr.write(`60 verifications through nginx, served by the three instances: ${served.join(', ')}\n`);
    for (const count of served) expect(count).toBeGreaterThan(0);
  });

  it('loses no verification when an instance is killed under load: in flight ones go to another, later ones never to it', async () => {
    const outcomes: { at: number; ok: boolean; why?: string }[] = [];
    const started = performance.now();
    let killedAt = Infinity;
    const stopAt = started + 6000;
    const lane = async () => {
      while (performance.now() < stopAt) {
        const at = performance.now();
        try {
          const reply = await send('POST', '/v1/verify', claimOf('001090000101'));
          outcomes.push({ at, ok: reply.status === 200, why: reply.status === 200 ? undefined : reply.body });
        } catch (err) {
          outcomes.push({ at, ok: false, why: (err as Error).message });
        }
      }
    };
    const killing = (async () => {
      await new Promise((r) => setTimeout(r, 2000));
      killedAt = performance.now();
      await instances[2].stop('SIGKILL');
    })();
    await Promise.all([...Array.from({ length: 16 }, lane), killing]);
    const failed = outcomes.filter((o) => !o.ok);
    const after = outcomes.filter((o) => o.at > killedAt);
    process.stderr.write(`${outcomes.length} verifications through nginx over 6 s, 16 at a time, an instance killed at 2 s: ${failed.length} failed (${[...new Set(failed.map((f) => f.why))].join('; ')}), ${after.length} sent after the kill\n`);
    expect(after.length).toBeGreaterThan(100);
    expect(failed).toEqual([]);
  }, 60_000);
});

/** POST /v1/verify answers an instance has given (its own metrics). */
async function requestsServed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^idv_http_requests_total\{route="\/v1\/verify",status="200"\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}
