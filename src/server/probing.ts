import { createHmac, randomBytes } from 'node:crypto';
import { surnameAndGiven } from '../index/keys.js';
import { ServiceError } from '../errors.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import type { Client } from './clients.js';
import { ClientTable, sharedNow } from './clientTable.js';

const DAY_MS = 86_400_000;

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
 * mismatches about one citizen, searches by one name that find nobody, ID numbers that
 * belong to nobody. Past the limit every further answer of that kind of question is
 * refused (a match as well, which would otherwise show which guess was right), with its
 * own code, which the audit trail records. Counts live in memory, under a keyed hash
 * with a key made at start: a restart forgets them.
 */
export class ProbeGuard {
  private readonly key = randomBytes(32);
  // Per client: most clients never have a mismatch or an empty search recorded, and then
  // an answer costs no hashing at all.
  private readonly mismatches = new Map<string, Recent>();
  private readonly emptySearches = new Map<string, Recent>();
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
    if (item.type === 'id') {
      const unknown = notFoundRefusal(this.table, client, now, outcome === 'not_found');
      if (unknown) return unknown;
      const refused = this.perCitizen(this.mismatches, client, () => item.claim.idNumber, outcome === 'mismatch', client.limits.mismatchesPerCitizen, now);
      return refused ? this.refuse(client, 'TOO_MANY_MISMATCHES', refused) : result;
    }
    const name = () => searchedPerson(item.query.fullName);
    const refused = this.perCitizen(this.emptySearches, client, name, outcome === 'none', client.limits.emptySearchesPerName, now);
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
   * Counts an answer of the guessing kind under (client, key) and says, in seconds to
   * wait, whether the answer must be withheld. The key is hashed only when the client
   * has such answers on record or this is one.
   */
  private perCitizen(byClient: Map<string, Recent>, client: Pick<Client, 'id'>, keyText: () => string, guessing: boolean, limit: number, now: number): number | undefined {
    let recent = byClient.get(client.id);
    if (!recent && !guessing) return undefined;
    recent ??= byClient.set(client.id, new Recent(DAY_MS)).get(client.id)!;
    const key = this.hash(keyText());
    const count = recent.count(key, now);
    if (count >= limit) return recent.retryAfter(key, now);
    if (guessing) {
      recent.add(key, now);
      // The next answer about this key, whatever it is, is refused: from now on the threads send them all.
      if (count + 1 >= limit) this.attend(client, recent.retryAfter(key, now));
    }
    return undefined;
  }

  private hash(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url').slice(0, 22);
  }

  private prune(now: number): void {
    for (const byClient of [this.mismatches, this.emptySearches]) {
      for (const [client, recent] of byClient) if (recent.prune(now) === 0) byClient.delete(client);
    }
  }
}

/**
 * Whom a search is about, as the index files people: family and given name, folded and
 * unordered. Middle names are left out, as the lookup leaves them out: a guesser who
 * varies the middle name, or swaps the order, still asks about the same person.
 */
function searchedPerson(fullName: string): string {
  return surnameAndGiven(fullName).sort().join(' ');
}

export type Reviewed = (WorkResult | ServiceError)[];

/** What the verification endpoints ask of a guard: each answer, or the refusal to give it. */
export interface AnswerGuard {
  review(client: Client, items: WorkItem[], results: WorkResult[]): Reviewed | Promise<Reviewed>;
}

export const UNGUARDED: AnswerGuard = { review: (_client, _items, results) => results };

type RefusalCode = 'TOO_MANY_MISMATCHES' | 'TOO_MANY_SEARCHES' | 'TOO_MANY_NOT_FOUND';
/** A guard's decision on one answer, as it crosses between threads. */
export type Verdict = { pass: true } | { code: RefusalCode; retryAfterSeconds: number };

/** Answers the guard keeps counts of by citizen or name: a mismatch, a search that found nobody. */
function sentToGuard(item: WorkItem, result: WorkResult): boolean {
  if ('error' in result) return false;
  const outcome = (result as { result?: string }).result;
  return item.type === 'id' ? outcome === 'mismatch' : outcome === 'none';
}

/**
 * The guard as a server thread sees it: the counts live in one ProbeGuard on the main
 * thread, so that a guesser spreading over connections (and so threads) is counted once.
 * A thread sends it the answers of a request that has a mismatch or an empty search,
 * and every answer of a client that has reached a limit (ClientTable.needsAttention);
 * `not_found` answers are counted in the shared table on the thread itself; any other
 * answer cannot be refused and goes out at once.
 */
export class RelayedGuard implements AnswerGuard {
  constructor(
    private readonly table: ClientTable,
    private readonly ask: (client: Pick<Client, 'id' | 'limits'>, items: WorkItem[], results: WorkResult[]) => Promise<Verdict[]>,
  ) {}

  review(client: Client, items: WorkItem[], results: WorkResult[]): Reviewed | Promise<Reviewed> {
    if (this.table.needsAttention(client.id) || results.some((result, i) => sentToGuard(items[i], result))) return this.relay(client, items, results);
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
