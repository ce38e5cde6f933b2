import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import { Admission } from '../../src/clients/admission.js';
import type { Client } from '../../src/clients/clients.js';
import { FairScheduler } from '../../src/clients/fairScheduler.js';
import type { WorkItem, WorkResult } from '../../src/verification/types.js';

const client = (id: string, pendingItems = 4000) => ({ id, limits: { pendingItems } }) as unknown as Client;
const LIMITS = { maxInFlightItems: 10_000, shedQueueDelayMs: 20, threads: 1, retryAfterSeconds: 1, sliceItems: 16 };
/** Items that say whose they are and which they are, and a run that notes the order they ran in. */
const items = (owner: string, n: number) => Array.from({ length: n }, (_, i) => ({ type: 'id', claim: { idNumber: `${owner}${i}` } }) as unknown as WorkItem);
function recorder() {
  const ran: string[] = [];
  const execute = (work: WorkItem[]): WorkResult[] =>
    work.map((w) => {
      const id = (w as { claim: { idNumber: string } }).claim.idNumber;
      ran.push(id);
      return { result: 'not_found', fields: {}, id } as unknown as WorkResult;
    });
  return { ran, execute };
}

describe('FairScheduler', () => {
  it('runs work at once, without a promise, when nothing is queued', () => {
    const { ran, execute } = recorder();
    const scheduler = new FairScheduler(execute, { sliceItems: 16, turnMs: 5 });
    const results = scheduler.run(new Admission(LIMITS).admit(client('a'), 1), items('a', 1));
    expect(results).not.toBeInstanceOf(Promise);
    expect(ran).toEqual(['a0']);
  });

  it("gives another client's single item a turn after one slice of a long batch, and keeps each answer in order", async () => {
    const { ran, execute } = recorder();
    const admission = new Admission(LIMITS);
    const scheduler = new FairScheduler(execute, { sliceItems: 16, turnMs: 1000 });
    const batch = scheduler.run(admission.admit(client('a'), 100), items('a', 100));
    const single = scheduler.run(admission.admit(client('b'), 1), items('b', 1));
    expect(batch).toBeInstanceOf(Promise);
    expect(single).toBeInstanceOf(Promise);
    const [batchResults, singleResults] = await Promise.all([batch, single]);
    expect(ran.indexOf('b0')).toBe(16);
    expect(batchResults.map((r) => (r as unknown as { id: string }).id)).toEqual(items('a', 100).map((w) => (w as { claim: { idNumber: string } }).claim.idNumber));
    expect(singleResults).toHaveLength(1);
    expect(admission.total).toBe(0);
  });

  it('goes back to the event loop between turns', async () => {
    const { ran, execute } = recorder();
    let t = 0;
    // Each slice takes 3 ms of the clock: a turn of 5 ms holds two.
    const timed = (work: WorkItem[]) => ((t += 3), execute(work));
    const scheduler = new FairScheduler(timed, { sliceItems: 16, turnMs: 5 }, () => t);
    const done = scheduler.run(new Admission(LIMITS).admit(client('a'), 160), items('a', 160));
    await new Promise((r) => setImmediate(r));
    expect(ran.length).toBe(32);
    await done;
    expect(ran.length).toBe(160);
  });
});

describe('Admission', () => {
  it("refuses a client at its share with 429 TOO_MANY_PENDING and Retry-After, others still admitted, and frees the share when released", () => {
    const admission = new Admission({ ...LIMITS, threads: 2 });
    const flood = client('flood', 2000);
    const first = admission.admit(flood, 1000); // the share is 1,000 a thread
    const refusal = (() => {
      try {
        admission.admit(flood, 1000);
      } catch (err) {
        return err as ServiceError;
      }
    })();
    expect(refusal?.code).toBe('TOO_MANY_PENDING');
    expect(refusal?.status).toBe(429);
    expect(refusal?.retryAfterSeconds).toBe(1);
    expect(() => admission.admit(client('other'), 1)).not.toThrow();
    first.release();
    expect(() => admission.admit(flood, 1000)).not.toThrow();
  });

  it('sheds a client whose work kept waiting, but never one with no more than a turn pending', () => {
    const admission = new Admission(LIMITS);
    const heavy = admission.lineOf('heavy');
    const light = admission.lineOf('light');
    heavy.queued = 100;
    // A window in which every request of both waited past the target.
    for (const line of [heavy, light]) line.guard.record(50);
    const start = performance.now();
    while (performance.now() - start < 110);
    expect(() => admission.admit(client('heavy'), 1)).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    expect(() => admission.admit(client('light'), 1)).not.toThrow();
  });

  it('refuses every client once the thread holds its limit of items', () => {
    const admission = new Admission({ ...LIMITS, maxInFlightItems: 10 });
    admission.admit(client('a'), 10);
    expect(() => admission.admit(client('b'), 1)).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
  });
});
