import type { Client } from './clients.js';
import { BUCKET, ClientTable, sharedNow } from './clientTable.js';

/**
 * A client's allowance: a token bucket of requests (batch items count one each), a quota
 * per UTC day, and how many answers of the kind guessing produces it may have (probing.ts).
 */
export interface Limits {
  ratePerSecond: number;
  burst: number;
  dailyQuota: number;
  /** Mismatching answers about one citizen (by ID number) within 24 h. */
  mismatchesPerCitizen: number;
  /** Searches that found nobody and reached one person (in any form of the name) within 24 h: a date of birth guessed date by date. */
  emptySearchesPerName: number;
  /** Searches that found nobody on one date of birth within 24 h: a name guessed name by name. */
  emptySearchesPerDate: number;
  /** Searches that found nobody within 1 h, whatever they asked. */
  emptySearchesPerHour: number;
  /** Answers `not_found` within 1 h (ID numbers guessed). */
  notFoundPerHour: number;
  /** Items waiting or running at once, on all the server's threads (admission.ts). */
  pendingItems: number;
}

/** Why a request was refused, and when it is worth trying again. */
export interface Refusal {
  reason: 'rate' | 'quota';
  retryAfterSeconds: number;
}

const DAY_MS = 86_400_000;

/** This instance's share of a client's rate and burst: all of it, unless instances share the limits (sharedLimits.ts). */
const shareOf = (b: Float64Array, at: number) => (Number.isNaN(b[at + BUCKET.share]) ? 1 : b[at + BUCKET.share]);

/** Adds the tokens earned since the bucket was last touched, up to the burst (this instance's share of both). */
function refill(b: Float64Array, at: number, { burst, ratePerSecond }: Limits, t: number): void {
  const share = shareOf(b, at);
  b[at] = Math.min(burst * share, b[at] + (Math.max(0, t - b[at + BUCKET.at]) / 1000) * ratePerSecond * share);
  b[at + BUCKET.at] = Math.max(b[at + BUCKET.at], t);
}

/** Counts what a client asks of this instance, refused or not: its demand, from which shared limits give each instance its share. */
function asked(b: Float64Array, at: number, cost: number): void {
  b[at + BUCKET.asked] = (Number.isNaN(b[at + BUCKET.asked]) ? 0 : b[at + BUCKET.asked]) + cost;
}

/**
 * Per-client limits, kept in the ClientTable the server threads share: a client gets its
 * rate once, not once per thread. A cost larger than the bucket (a batch bigger than the
 * burst) is let through when the bucket is full and leaves it in debt, so the sustained
 * rate of items still holds; a refusal takes nothing.
 */
export class RateLimiter {
  constructor(
    private readonly now: () => number = sharedNow,
    private readonly wallClock: () => number = () => Date.now(),
    private readonly table = new ClientTable(),
  ) {}

  /** The requests the client has used of its daily quota today (UTC), on every instance that shares its limits. */
  usedToday(client: Client): number {
    const day = Math.floor(this.wallClock() / DAY_MS);
    return this.table.withBucket(client.id, (b, at) => (b[at + 2] === day ? b[at + 3] + (Number.isNaN(b[at + BUCKET.othersToday]) ? 0 : b[at + BUCKET.othersToday]) : 0));
  }

  /** Takes `cost` from the client's bucket whatever is left (into debt): work already done is paid for, not refused. */
  charge(client: Client, cost: number): void {
    const t = this.now();
    this.table.withBucket(client.id, (b, at) => {
      if (Number.isNaN(b[at + 1])) return; // a bucket never used: nothing taken yet to charge against
      refill(b, at, client.limits, t);
      b[at] -= cost;
      asked(b, at, cost);
    });
  }

  take(client: Client, cost = 1): Refusal | undefined {
    const { ratePerSecond: rate, burst, dailyQuota } = client.limits;
    const t = this.now();
    const wall = this.wallClock();
    const day = Math.floor(wall / DAY_MS);
    return this.table.withBucket(client.id, (b, at) => {
      // [tokens, at, day, used]; a bucket never used (NaN) starts full.
      if (Number.isNaN(b[at + 1])) {
        b[at] = burst * shareOf(b, at);
        b[at + 1] = t;
        b[at + 2] = day;
        b[at + 3] = 0;
      }
      if (b[at + 2] !== day) {
        b[at + 2] = day;
        b[at + 3] = 0;
      }
      refill(b, at, client.limits, t);
      asked(b, at, cost);
      const others = Number.isNaN(b[at + BUCKET.othersToday]) ? 0 : b[at + BUCKET.othersToday];
      if (b[at + 3] + others + cost > dailyQuota) return { reason: 'quota' as const, retryAfterSeconds: Math.max(1, Math.ceil(((day + 1) * DAY_MS - wall) / 1000)) };
      const share = shareOf(b, at);
      const needed = Math.min(cost, burst * share);
      if (b[at] < needed) return { reason: 'rate' as const, retryAfterSeconds: Math.max(1, Math.ceil((needed - b[at]) / (rate * share))) };
      b[at] -= cost;
      b[at + 3] += cost;
      return undefined;
    });
  }
}
