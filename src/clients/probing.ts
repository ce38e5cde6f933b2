import { randomBytes } from 'node:crypto';
import { keyHasher, searchedPersons } from '../index/keys.js';
import { ServiceError } from '../errors.js';
import type { Subjects, WorkItem, WorkResult } from '../verification/types.js';
import type { Client } from './clients.js';
import { ClientTable, sharedNow } from './clientTable.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

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

  /** Drops keys with nothing left in the window (run now and then, so memory stays bounded by recent activity); returns the keys left. */
  prune(now: number): number {
    for (const key of [...this.times.keys()]) this.count(key, now);
    return this.times.size;
  }
}

/**
 * Keeps a verification from becoming a way to look people up. Answers are withheld, once
 * a client has had too many of them, when they are of the kind that guessing produces:
 * - mismatches about one citizen, whichever number (ID or legacy) identified them;
 * - searches that found nobody, counted against every person the search reached,
 *   whatever form the name was sent in (searchedPersons), against the date of birth
 *   searched (many names tried on one date), and against the client's hour;
 * - ID numbers that belong to nobody (counted in the shared ClientTable).
 * Past a limit every further answer of that kind of question is refused (a match as
 * well, which would otherwise show which guess was right), with its own code, which the
 * audit trail records. Counts live in memory, under keyed hashes with a key made at
 * start: a restart forgets them.
 */
export class ProbeGuard {
  private readonly hash = keyHasher(randomBytes(32));
  // Per client: most clients never have a mismatch or an empty search recorded, and then
  // an answer costs no hashing at all.
  private readonly mismatches = new Counts(DAY_MS);
  private readonly emptyByPerson = new Counts(DAY_MS);
  private readonly emptyByDate = new Counts(DAY_MS);
  private readonly emptyByHour = new Counts(HOUR_MS);
  private answered = 0;

  /**
   * `table`: where server threads look up whether a client's every answer must come here
   * (RelayedGuard): set from the moment one of its counts reaches its limit until that
   * count's window lets it go again. Below every limit, only answers of the guessing kind
   * are counted, so the threads send only those.
   */
  constructor(
    private readonly now: () => number = sharedNow,
    private readonly table = new ClientTable(),
  ) {}

  review(client: Client, items: WorkItem[], results: WorkResult[]): Reviewed {
    return results.map((result, i) => this.filter(client, items[i], result));
  }

  /** What the threads ask: for each answer, pass or the refusal's code and wait. */
  verdicts(client: Pick<Client, 'id' | 'limits'>, items: WorkItem[], results: WorkResult[]): Verdict[] {
    return results.map((result, i) => {
      const out = this.filter(client, items[i], result);
      return out instanceof ServiceError ? { code: out.code as RefusalCode, retryAfterSeconds: out.retryAfterSeconds! } : { pass: true };
    });
  }

  /** The answer this client may have for this item: the result, or the refusal to give it. */
  filter<R extends WorkResult>(client: Pick<Client, 'id' | 'limits'>, item: WorkItem, result: R): R | ServiceError {
    if ('error' in result) return result;
    const now = this.now();
    if (++this.answered % 10_000 === 0) this.prune(now);
    const outcome = (result as { result?: string }).result;
    const { limits } = client;
    if (item.type === 'id') {
      const unknown = notFoundRefusal(this.table, client, now, outcome === 'not_found');
      if (unknown) return unknown;
      // The citizen the answer is about: a legacy number reaches the same person as the ID number.
      const citizen = () => (result as Subjects).subjects ?? [item.claim.idNumber];
      const refused = this.counted(client, now, outcome === 'mismatch', [{ counts: this.mismatches, keys: citizen, limit: limits.mismatchesPerCitizen }]);
      return refused ? this.refuse(client, 'TOO_MANY_MISMATCHES', refused) : result;
    }
    const { fullName, dateOfBirth } = item.query;
    const refused = this.counted(client, now, outcome === 'none', [
      { counts: this.emptyByHour, keys: () => [''], limit: limits.emptySearchesPerHour },
      { counts: this.emptyByDate, keys: () => [dateOfBirth], limit: limits.emptySearchesPerDate },
      { counts: this.emptyByPerson, keys: () => searchedPersons(fullName, dateOfBirth), limit: limits.emptySearchesPerName },
    ]);
    return refused ? this.refuse(client, 'TOO_MANY_SEARCHES', refused) : result;
  }

  private refuse(client: Pick<Client, 'id'>, code: RefusalCode, retryAfterSeconds: number): ServiceError {
    this.attend(client, retryAfterSeconds);
    return refusal(code, retryAfterSeconds);
  }

  private attend(client: Pick<Client, 'id'>, seconds: number): void {
    this.table.attend(client.id, this.now() + seconds * 1000);
  }

  /**
   * Says, in seconds to wait, whether the answer must be withheld: when any of its keys
   * under any of the rules has reached its limit. Otherwise an answer of the guessing kind
   * is counted under every key of every rule. Keys are made and hashed only when the
   * client has such answers on record or this is one.
   */
  private counted(client: Pick<Client, 'id'>, now: number, guessing: boolean, rules: Rule[]): number | undefined {
    const held = rules.map((rule) => rule.counts.of(client.id, guessing));
    if (held.every((recent) => recent === undefined)) return undefined;
    const keyed = rules.map((rule, r) => (held[r] ? rule.keys().map((k) => this.hash(k, 12).toString('base64')) : []));
    let wait = 0;
    rules.forEach((rule, r) => {
      for (const key of keyed[r]) if (held[r]!.count(key, now) >= rule.limit) wait = Math.max(wait, held[r]!.retryAfter(key, now));
    });
    if (wait > 0) return wait;
    if (!guessing) return undefined;
    // The next answer about a key that reaches its limit, whatever it is, is refused: from now on the threads send them all.
    let full = 0;
    rules.forEach((rule, r) => {
      for (const key of keyed[r]) {
        held[r]!.add(key, now);
        if (held[r]!.count(key, now) >= rule.limit) full = Math.max(full, held[r]!.retryAfter(key, now));
      }
    });
    if (full > 0) this.attend(client, full);
    return undefined;
  }

  private prune(now: number): void {
    for (const counts of [this.mismatches, this.emptyByPerson, this.emptyByDate, this.emptyByHour]) counts.prune(now);
  }
}

/** One kind of count an answer is held against: its keys (made only when needed) and its limit. */
interface Rule {
  counts: Counts;
  keys: () => string[];
  limit: number;
}

/** Recent events per client, under keys of one kind, all in one window. */
class Counts {
  private readonly byClient = new Map<string, Recent>();
  constructor(private readonly windowMs: number) {}

  /** The client's record, made when `create` (an event is coming); undefined while it has none. */
  of(client: string, create: boolean): Recent | undefined {
    const recent = this.byClient.get(client);
    if (recent || !create) return recent;
    const made = new Recent(this.windowMs);
    this.byClient.set(client, made);
    return made;
  }

  prune(now: number): void {
    for (const [client, recent] of this.byClient) if (recent.prune(now) === 0) this.byClient.delete(client);
  }
}

export type Reviewed = (WorkResult | ServiceError)[];

/** What the verification endpoints ask of a guard: each answer, or the refusal to give it. */
export interface AnswerGuard {
  review(client: Client, items: WorkItem[], results: WorkResult[]): Reviewed | Promise<Reviewed>;
}

export const UNGUARDED: AnswerGuard = { review: (_client, _items, results) => results };

type RefusalCode = 'TOO_MANY_MISMATCHES' | 'TOO_MANY_SEARCHES' | 'TOO_MANY_NOT_FOUND' | 'LIMITS_UNAVAILABLE';
/** A guard's decision on one answer, as it crosses between threads. */
export type Verdict = { pass: true } | { code: RefusalCode; retryAfterSeconds: number };

/** Answers the guard keeps counts of by citizen or name: a mismatch, a search that found nobody. */
function sentToGuard(item: WorkItem, result: WorkResult): boolean {
  if ('error' in result) return false;
  const outcome = (result as { result?: string }).result;
  return item.type === 'id' ? outcome === 'mismatch' : outcome === 'none';
}

const isNotFound = (item: WorkItem, result: WorkResult) => item.type === 'id' && !('error' in result) && (result as { result?: string }).result === 'not_found';

/**
 * The guard as a server thread sees it: the counts live in one ProbeGuard on the main
 * thread, so that a guesser spreading over connections (and so threads) is counted once.
 * A thread sends it the answers of a request that has a mismatch or an empty search,
 * and every answer of a client that has reached a limit (ClientTable.needsAttention);
 * `not_found` answers are counted in the shared table on the thread itself (or, when
 * several instances share the limits, spent from this instance's lease of the client's
 * allowance, and sent to the guard for another lease when it is spent); any other answer
 * cannot be refused and goes out at once.
 */
export class RelayedGuard implements AnswerGuard {
  constructor(
    private readonly table: ClientTable,
    private readonly ask: (client: Pick<Client, 'id' | 'limits'>, items: WorkItem[], results: WorkResult[]) => Promise<Verdict[]>,
    /** The counts are those of every instance (sharedLimits.ts), `not_found` included. */
    private readonly shared = false,
  ) {}

  review(client: Client, items: WorkItem[], results: WorkResult[]): Reviewed | Promise<Reviewed> {
    if (this.table.needsAttention(client.id) || results.some((result, i) => sentToGuard(items[i], result))) return this.relay(client, items, results);
    if (this.shared) return this.leased(client, items, results);
    // Unknown ID numbers are counted here, in the shared table: the commonest guess needs no round trip.
    const now = sharedNow();
    let out: Reviewed = results;
    results.forEach((result, i) => {
      if ('error' in result || items[i].type !== 'id') return;
      const refused = notFoundRefusal(this.table, client, now, (result as { result?: string }).result === 'not_found');
      if (refused) (out === results ? (out = results.slice()) : out)[i] = refused;
    });
    return out;
  }

  /** Shared limits: the request's `not_found` answers spent from this instance's lease, or the request sent to the guard for more. */
  private leased(client: Client, items: WorkItem[], results: WorkResult[]): Reviewed | Promise<Reviewed> {
    const unknown = results.filter((result, i) => isNotFound(items[i], result)).length;
    if (unknown === 0) return results;
    return this.table.takeLease(client.id, sharedNow(), unknown) ? results : this.relay(client, items, results);
  }

  /** The whole request, in order, to the guard: a guess past a limit refuses the answers after it. */
  private relay(client: Client, items: WorkItem[], results: WorkResult[]): Promise<Reviewed> {
    const picked: number[] = [];
    results.forEach((result, i) => {
      if (!('error' in result)) picked.push(i);
    });
    const { id, limits } = client;
    return this.ask({ id, limits }, picked.map((i) => items[i]), picked.map((i) => results[i])).then((verdicts) => {
      const out: Reviewed = results.slice();
      verdicts.forEach((v, k) => {
        if ('code' in v) out[picked[k]] = refusal(v.code, v.retryAfterSeconds);
      });
      return out;
    });
  }
}

/**
 * Counts an answer about an ID number against the client's hourly allowance of
 * `not_found` (the shared table, so every thread and the guard count together), and
 * refuses the answer once the allowance is spent, whatever it is.
 */
function notFoundRefusal(table: ClientTable, client: Pick<Client, 'id' | 'limits'>, now: number, notFound: boolean): ServiceError | undefined {
  const limit = client.limits.notFoundPerHour;
  const before = table.notFound(client.id, now, false, limit);
  if (before.count >= limit) return refusal('TOO_MANY_NOT_FOUND', before.retryAfterSeconds);
  if (notFound) table.notFound(client.id, now, true, limit);
  return undefined;
}

function refusal(code: RefusalCode, retryAfterSeconds: number): ServiceError {
  const error = new ServiceError(code);
  error.retryAfterSeconds = retryAfterSeconds;
  return error;
}
