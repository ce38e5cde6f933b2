import { describe, expect, it } from 'vitest';
import { Tally } from '../../src/clients/sharedStore.js';

const HOUR = 3_600_000;

describe('a tally of events in a sliding window (the shared probing counts)', () => {
  it('counts events by sixtieths of the window and forgets those that left it', () => {
    const t0 = 1_000 * HOUR;
    const tally = new Tally([], t0, HOUR);
    for (let i = 0; i < 5; i++) tally.add(t0 + i * 60_000);
    expect(tally.count).toBe(5);
    const stored = JSON.parse(tally.text()) as [number, number][];
    expect(stored).toHaveLength(5);
    // An hour and half a minute on, the first one (an hour old) is gone; two hours on, all are.
    expect(new Tally(stored, t0 + HOUR + 30_000, HOUR).count).toBe(4);
    expect(new Tally(stored, t0 + 2 * HOUR, HOUR).count).toBe(0);
  });

  it('keeps one entry a slot however many events, and says how long until the count is below a limit', () => {
    const t0 = 2_000 * HOUR;
    const tally = new Tally([], t0, HOUR);
    for (let i = 0; i < 1000; i++) tally.add(t0 + i);
    expect(JSON.parse(tally.text())).toHaveLength(1);
    expect(tally.waitBelow(1001, t0)).toBe(0);
    // All thousand leave together, an hour after their minute began.
    expect(tally.waitBelow(1000, t0 + 1000)).toBe(Math.ceil((HOUR - 1000) / 1000));
  });
});
