import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { check, SMOKE_TARGETS, TARGETS } from '../targets.js';
import { openLoop } from '../openloop.js';

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
