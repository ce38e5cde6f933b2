import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { check, SMOKE_TARGETS, TARGETS } from '../targets.js';
import { openLoop } from '../openloop.js';
import type { RegisterResults } from '../register.js';
import { earlierOf, STREAM_METHOD, streamCost } from '../registerRuns.js';

/** The bench's own honesty, as the performance issue found it wanting. */
describe('bench targets', () => {
  it('count a figure that is not a number as missed, never as skipped', () => {
    const figure = { key: 'overloadAcceptedP99', name: 'p99 over no answers', unit: 'ms', value: Number.NaN };
    expect(check(figure, TARGETS).pass).toBe(false);
    expect(check(figure, SMOKE_TARGETS).pass).toBe(false);
  });

  it('give the smoke run only thresholds that a broken run misses', () => {
    // A throughput, share or ratio of 0 is what a broken run measures: every "at least" target must refuse it.
    const vacuous = Object.entries(SMOKE_TARGETS).filter(([, t]) => t.op === '>=' && !(t.value > 0));
    expect(vacuous).toEqual([]);
    for (const [key, target] of Object.entries(SMOKE_TARGETS)) expect(Number.isFinite(target.value), key).toBe(true);
  });
});

describe('the open-loop generator', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // Answers each request after 50 ms: 4 connections carry at most ~80 requests a second.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.end('{}'), 50));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reports what it delivered, not what it scheduled, when the server or its connections cannot keep up', async () => {
    const result = await openLoop({ url, path: '/', key: 'k', bodies: ['{}'], rate: 1000, seconds: 1, connections: 4 });
    expect(result.requestsPerSecond).toBe(1000); // the schedule
    expect(result.deliveredPerSecond).toBeGreaterThan(0);
    expect(result.deliveredPerSecond).toBeLessThan(250);
  });
});

describe('the register bench', () => {
  const run = (date: string, method: number | undefined, alone: number, withChanges: number, earlier: RegisterResults['earlier'] = []): RegisterResults => ({
    date,
    machine: 'm',
    scale: 1,
    command: 'c',
    method,
    apply: { changes: 1, seconds: 1, changesPerSecond: 1 },
    verifyAlone: [alone],
    verifyWithChanges: [withChanges],
    changesPerSecond: [2000],
    visibleP50Ms: 1,
    visibleP99Ms: 2,
    visibleSamples: 1,
    earlier,
  });

  it("takes each round's loss against the round alone just before it, so that a drift of the machine is not counted as cost", () => {
    // The machine slows by 30% in the third round; the changes cost 10% in two rounds of three.
    expect(streamCost({ verifyAlone: [100, 100, 70], verifyWithChanges: [90, 70, 63] })).toBeCloseTo(0.1);
  });

  it('keeps for its median only the earlier runs measured the way it measures', () => {
    const older = run('2026-01-01', undefined, 100, 80); // fetch: its own client cost counted against verify
    const saved = run('2026-01-02', STREAM_METHOD, 100, 90, [{ date: '2026-01-01', method: STREAM_METHOD, applyPerSecond: 1, cost: 0.12, visibleP99Ms: 1 }, ...earlierOf(older)]);
    const kept = earlierOf(saved);
    expect(kept.map((r) => r.date)).toEqual(['2026-01-02', '2026-01-01']);
    expect(kept[0].cost).toBeCloseTo(0.1);
    expect(earlierOf(older)).toEqual([]);
  });
});
