import { createHmac, randomBytes } from 'node:crypto';
import { foldedTokens } from '../domain/text.js';
import { ServiceError } from '../errors.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import type { Client } from './clients.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Times of recent events under one key, oldest first, pruned to a window. */
class Recent {
  private readonly times = new Map<string, number[]>();
  constructor(private readonly windowMs: number) {}

  count(key: string, now: number): number {
    const list = this.times.get(key);
    if (!list) return 0;
    while (list.length && list[0] <= now - this.windowMs) list.shift();
    if (!list.length) this.times.delete(key);
    return list.length;
  }

  add(key: string, now: number): void {
    const list = this.times.get(key);
    if (list) list.push(now);
    else this.times.set(key, [now]);
  }

  /** Seconds until the oldest event under `key` leaves the window. */
  retryAfter(key: string, now: number): number {
    const oldest = this.times.get(key)?.[0] ?? now;
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }

  /** Drops keys with nothing left in the window (run now and then, so memory stays bounded by recent activity). */
  prune(now: number): void {
    for (const key of [...this.times.keys()]) this.count(key, now);
  }
}

/**
 * Keeps a verification from becoming a way to look people up. Answers are withheld, once
 * a client has had too many of them, when they are of the kind that guessing produces:
 * mismatches about one citizen, searches by one name that find nobody, ID numbers that
 * belong to nobody. Past the limit every further answer of that kind of question is
 * refused (a match as well, which would otherwise show which guess was right), with its
 * own code, which the audit trail records. Counts live in memory, under a keyed hash
 * with a key made at start: a restart forgets them.
 */
export class ProbeGuard {
  private readonly key = randomBytes(32);
  private readonly mismatches = new Recent(DAY_MS);
  private readonly emptySearches = new Recent(DAY_MS);
  private readonly notFound = new Recent(HOUR_MS);
  private answered = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** The answer this client may have for this item: the result, or the refusal to give it. */
  filter<R extends WorkResult>(client: Client, item: WorkItem, result: R): R | ServiceError {
    if ('error' in result) return result;
    const now = this.now();
    if (++this.answered % 10_000 === 0) this.prune(now);
    if (item.type === 'id') {
      const probe = `${client.id}\u0000${this.hash(item.claim.idNumber)}`;
      if (this.notFound.count(client.id, now) >= client.limits.notFoundPerHour) return refusal('TOO_MANY_NOT_FOUND', this.notFound.retryAfter(client.id, now));
      if (this.mismatches.count(probe, now) >= client.limits.mismatchesPerCitizen) return refusal('TOO_MANY_MISMATCHES', this.mismatches.retryAfter(probe, now));
      const outcome = (result as { result?: string }).result;
      if (outcome === 'not_found') this.notFound.add(client.id, now);
      if (outcome === 'mismatch') this.mismatches.add(probe, now);
      return result;
    }
    const probe = `${client.id}\u0000${this.hash(foldedTokens(item.query.fullName).sort().join(' '))}`;
    if (this.emptySearches.count(probe, now) >= client.limits.emptySearchesPerName) return refusal('TOO_MANY_SEARCHES', this.emptySearches.retryAfter(probe, now));
    if ((result as { result?: string }).result === 'none') this.emptySearches.add(probe, now);
    return result;
  }

  private hash(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url').slice(0, 22);
  }

  private prune(now: number): void {
    this.mismatches.prune(now);
    this.emptySearches.prune(now);
    this.notFound.prune(now);
  }
}

function refusal(code: 'TOO_MANY_MISMATCHES' | 'TOO_MANY_SEARCHES' | 'TOO_MANY_NOT_FOUND', retryAfterSeconds: number): ServiceError {
  const error = new ServiceError(code);
  error.retryAfterSeconds = retryAfterSeconds;
  return error;
}
