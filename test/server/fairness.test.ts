import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wrkLoad } from '../../bench/wrk.js';
import { DEFAULTS } from '../../src/config.js';
import { IndexReader } from '../../src/index/reader.js';
import { sha256Hex } from '../../src/clients/clients.js';
import { fullDateOf, tempIndex, type TempIndex } from '../helpers/fixtures.js';
import { call, KEYS, startTestServer, writeClientsFile, type TestServer } from '../helpers/server.js';
import { debianTool } from '../helpers/tools.js';

const WRK = debianTool('wrk', 'wrk', 'the fairness test under a flood (test/server/fairness.test.ts)');

/**
 * One client floods 1,000-item search batches; another sends single ID checks meanwhile.
 * Before the server threads took turns between clients, each check waited behind every
 * batch read before it (seconds, or its timeout); now it waits a turn, and the flood's
 * excess is refused from its headers. The bound is lenient (a busy runner): the bench
 * (npm run bench:fairness) measures the real figures.
 */
const FLOOD_KEY = 'key-flooding-client-0123456789';
let index: TempIndex;
let server: TestServer;
let people: { idNumber: string; fullName: string; dateOfBirth: string }[];

beforeAll(async () => {
  if (!WRK) return;
  index = await tempIndex({ synthetic: 20_000 });
  const reader = IndexReader.open(index.indexDir, index.secret);
  let seed = 1;
  people = reader.sample(3000, () => ((seed = (seed * 16807) % 2147483647) / 2147483647));
  await reader.close();
  const clientsFile = join(index.dir, 'fairness-clients.json');
  const usual = JSON.parse(readFileSync(writeClientsFile(index.dir), 'utf8')).clients;
  // No rate limit of its own (a large client's allowance); the server's default share of pending work.
  const flood = { id: 'flood', keySha256: sha256Hex(FLOOD_KEY), scopes: ['demographic', 'batch'], ratePerSecond: 1e9, burst: 1e9, dailyQuota: 1e12, emptySearchesPerName: 1e9, emptySearchesPerDate: 1e9, emptySearchesPerHour: 1e9, consentRequired: false };
  writeFileSync(clientsFile, JSON.stringify({ clients: [...usual, flood] }));
  // The server's defaults: two threads, and its shedding (the test helper's other servers do not shed).
  server = await startTestServer(index, { clientsFile, threads: 2, shedQueueDelayMs: DEFAULTS.shedQueueDelayMs });
}, 120_000);
afterAll(async () => {
  await server?.close();
  index?.remove();
});

/** wrk flooding `bodies` to /v1/verify/batch with the flood's key; its summary once it ends. */
async function flood(bodies: string[], connections: number, seconds: number): Promise<{ total: number; refused: number }> {
  const result = await wrkLoad({ url: server.url, path: '/v1/verify/batch', key: FLOOD_KEY, bodies, connections, seconds });
  return { total: result.total, refused: result.non2xx };
}

describe.runIf(WRK)('one client flooding search batches', () => {
  it("leaves another client's single checks answered, each within a bound, and is itself refused its excess", async () => {
    const batches: string[] = [];
    for (let at = 1000; at + 1000 <= people.length; at += 1000) {
      batches.push(JSON.stringify({ items: people.slice(at, at + 1000).map((p) => ({ type: 'demographic', fullName: p.fullName, dateOfBirth: fullDateOf(p.dateOfBirth) })) }));
    }
    const flooding = flood(batches, 64, 8);
    await new Promise((r) => setTimeout(r, 1500)); // the flood's backlog builds up first

    // A check every 20 ms for 4 s, each on its own (a client's pool of connections), all while the flood runs.
    const latencies: number[] = [];
    const statuses: number[] = [];
    const floodRefusals: Headers[] = [];
    const checks: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const p = people[i];
      checks.push(
        (async () => {
          const started = performance.now();
          const reply = await call(server.url, '/v1/verify', { key: KEYS.verifyOnly, body: { idNumber: p.idNumber, fullName: p.fullName, dateOfBirth: fullDateOf(p.dateOfBirth) } });
          latencies.push(performance.now() - started);
          statuses.push(reply.status);
        })(),
      );
      // Now and then a batch of the flood's own: refused with when to come back.
      if (i % 20 === 0) {
        checks.push(
          call(server.url, '/v1/verify/batch', { key: FLOOD_KEY, raw: batches[0] }).then((mine) => {
            if (mine.status === 200) return;
            expect([429, 503]).toContain(mine.status);
            expect(['TOO_MANY_PENDING', 'OVERLOADED']).toContain(mine.body.error.code);
            floodRefusals.push(mine.headers);
          }),
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(checks);
    const shed = await flooding;

    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)];
    expect(p99).toBeLessThan(300);
    expect(shed.refused).toBeGreaterThan(0);
    expect(shed.refused / shed.total).toBeGreaterThan(0.5);
    expect(floodRefusals.length).toBeGreaterThan(0);
    for (const h of floodRefusals) expect(Number(h.get('retry-after'))).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
