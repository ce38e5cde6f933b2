import { describe, expect, it } from 'vitest';
import { RateLimiter, type Limits } from '../../src/clients/rateLimit.js';
import { ClientRegistry, sha256Hex } from '../../src/clients/clients.js';
import { ClientTable } from '../../src/clients/clientTable.js';
import { WaitGuard } from '../../src/clients/admission.js';

const PROBING = { mismatchesPerCitizen: 5, emptySearchesPerName: 20, emptySearchesPerDate: 20, emptySearchesPerHour: 100, notFoundPerHour: 100, pendingItems: 4000 };

describe('RateLimiter', () => {
  const client = (limits: Partial<Limits> = {}) => ({ id: 'c', scopes: new Set<never>(), consentRequired: false, scores: false, limits: { ratePerSecond: 10, burst: 2, dailyQuota: 1e9, mismatchesPerCitizen: 5, emptySearchesPerName: 20, emptySearchesPerDate: 20, emptySearchesPerHour: 100, notFoundPerHour: 100, pendingItems: 4000, ...limits } });

  it('allows a burst, then the sustained rate, and says when to come back', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const c = client();
    expect([limiter.take(c), limiter.take(c)]).toEqual([undefined, undefined]);
    expect(limiter.take(c)).toEqual({ reason: 'rate', retryAfterSeconds: 1 });
    now += 100; // 0.1 s refills one token
    expect([limiter.take(c), limiter.take(c)]).toEqual([undefined, { reason: 'rate', retryAfterSeconds: 1 }]);
  });

  it('counts batch items: a batch above the burst passes on a full bucket and leaves it in debt', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const c = client({ ratePerSecond: 100, burst: 50 });
    expect(limiter.take(c, 500)).toBeUndefined();
    expect(limiter.take(c)).toEqual({ reason: 'rate', retryAfterSeconds: 5 }); // 450 in debt + 1 at 100/s
    now += 5_000;
    expect(limiter.take(c)).toBeUndefined();
  });

  it('refuses past the daily quota until 00:00 UTC', () => {
    let wall = Date.UTC(2026, 10, 27, 23, 59, 0);
    const limiter = new RateLimiter(() => wall, () => wall);
    const c = client({ ratePerSecond: 1e6, burst: 1e6, dailyQuota: 3 });
    expect(limiter.take(c, 3)).toBeUndefined();
    expect(limiter.take(c)).toEqual({ reason: 'quota', retryAfterSeconds: 60 });
    wall += 60_000;
    expect(limiter.take(c)).toBeUndefined();
  });
});

describe('ClientTable', () => {
  it('counts not_found answers over the last hour by the minute, and says when enough of them have left it', () => {
    const table = new ClientTable();
    const t0 = Date.UTC(2026, 10, 27, 10, 0, 30);
    for (let i = 0; i < 3; i++) table.notFound('c', t0, true, 5);
    for (let i = 0; i < 2; i++) table.notFound('c', t0 + 10 * 60_000, true, 5);
    // Five in the hour: the oldest three leave it at 11:00:00, 2,970 s after the last two came (10:10:30).
    expect(table.notFound('c', t0 + 10 * 60_000, false, 5)).toEqual({ count: 5, retryAfterSeconds: 2970 });
    expect(table.notFound('c', t0 + 59 * 60_000, false, 5).count).toBe(5);
    expect(table.notFound('c', t0 + 60 * 60_000, false, 5)).toEqual({ count: 2, retryAfterSeconds: 0 });
    expect(table.notFound('c', t0 + 70 * 60_000, false, 5).count).toBe(0);
    // Another client, and a second view of the same memory (another thread), see their own and the same counts.
    expect(table.notFound('d', t0, false, 5).count).toBe(0);
    expect(new ClientTable(table.buffer).notFound('c', t0 + 10 * 60_000, false, 5).count).toBe(5);
  });
});

describe('ClientRegistry', () => {
  it('authenticates by key hash only', () => {
    const registry = new ClientRegistry([{ id: 'a', keySha256: sha256Hex('k1'), scopes: ['verify'] }], { ...PROBING, ratePerSecond: 1, burst: 1, dailyQuota: 1 });
    expect(registry.authenticate('Bearer k1')?.id).toBe('a');
    expect(registry.authenticate('Bearer k2')).toBeUndefined();
    expect(registry.authenticate('k1')).toBeUndefined();
    expect(registry.authenticate('Bearer ')).toBeUndefined();
  });

  it('gives an entry without limits the defaults, and swaps clients at once on replace', () => {
    const registry = new ClientRegistry([{ id: 'a', keySha256: sha256Hex('k1'), scopes: ['verify'], ratePerSecond: 5 }], { ...PROBING, ratePerSecond: 1, burst: 2, dailyQuota: 3 });
    expect(registry.authenticate('Bearer k1')?.limits).toEqual({ ...PROBING, ratePerSecond: 5, burst: 5, dailyQuota: 3 });
    registry.replace([{ id: 'b', keySha256: sha256Hex('k2'), scopes: ['batch'] }]);
    expect(registry.authenticate('Bearer k1')).toBeUndefined();
    expect(registry.authenticate('Bearer k2')).toMatchObject({ id: 'b', limits: { ratePerSecond: 1, burst: 2, dailyQuota: 3 } });
  });
});

describe('WaitGuard', () => {
  it('sheds while even the shortest wait of a window was past the target, and recovers', async () => {
    let now = 0;
    const guard = new WaitGuard(10, 100, () => now);
    guard.record(15);
    guard.record(2); // one passed through at once: a burst, not a standing queue
    now = 100;
    expect(guard.shedding).toBe(false);
    guard.record(15);
    guard.record(30);
    now = 200;
    expect(guard.shedding).toBe(true);
    guard.record(12);
    now = 300; // still standing
    expect(guard.shedding).toBe(true);
    now = 400; // a window without answers: the queue has drained
    expect(guard.shedding).toBe(false);
  });
});
