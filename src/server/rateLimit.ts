import type { Client } from './clients.js';

/** A token bucket per client: `ratePerSecond` sustained, `burst` (default one second's worth) at once. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes `cost` tokens; false when the client is over its rate. */
  take(client: Client, cost = 1): boolean {
    const rate = client.ratePerSecond;
    if (rate === undefined) return true;
    const capacity = client.burst ?? Math.max(1, rate);
    const t = this.now();
    const bucket = this.buckets.get(client.id) ?? { tokens: capacity, at: t };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((t - bucket.at) / 1000) * rate);
    bucket.at = t;
    this.buckets.set(client.id, bucket);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }
}
