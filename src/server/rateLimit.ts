import type { Client } from './clients.js';

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
  /** Searches by one name that found nobody within 24 h (a date of birth guessed date by date). */
  emptySearchesPerName: number;
  /** Answers `not_found` within 1 h (ID numbers guessed). */
  notFoundPerHour: number;
}

/** Why a request was refused, and when it is worth trying again. */
export interface Refusal {
  reason: 'rate' | 'quota';
  retryAfterSeconds: number;
}

const DAY_MS = 86_400_000;

interface State {
  tokens: number;
  at: number;
  day: number;
  used: number;
}

/**
 * Per-client limits. A cost larger than the bucket (a batch bigger than the burst) is let
 * through when the bucket is full and leaves it in debt, so the sustained rate of items
 * still holds; a refusal takes nothing.
 */
export class RateLimiter {
  private readonly state = new Map<string, State>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly wallClock: () => number = () => Date.now(),
  ) {}

  take(client: Client, cost = 1): Refusal | undefined {
    const { ratePerSecond: rate, burst, dailyQuota } = client.limits;
    const t = this.now();
    const day = Math.floor(this.wallClock() / DAY_MS);
    let s = this.state.get(client.id);
    if (!s) this.state.set(client.id, (s = { tokens: burst, at: t, day, used: 0 }));
    if (s.day !== day) {
      s.day = day;
      s.used = 0;
    }
    s.tokens = Math.min(burst, s.tokens + ((t - s.at) / 1000) * rate);
    s.at = t;
    if (s.used + cost > dailyQuota) return { reason: 'quota', retryAfterSeconds: Math.max(1, Math.ceil(((day + 1) * DAY_MS - this.wallClock()) / 1000)) };
    const needed = Math.min(cost, burst);
    if (s.tokens < needed) return { reason: 'rate', retryAfterSeconds: Math.max(1, Math.ceil((needed - s.tokens) / rate)) };
    s.tokens -= cost;
    s.used += cost;
    return undefined;
  }
}
