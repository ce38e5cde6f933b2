import { randomBytes } from 'node:crypto';
import { ServiceError } from '../errors.js';
import { keyHasher, searchedPersons, type KeyHasher } from '../index/keys.js';
import type { Secret } from '../index/secret.js';
import type { Subjects, WorkItem, WorkResult } from '../verification/types.js';
import type { Client, ClientRegistry } from './clients.js';
import { BUCKET, sharedNow, type ClientTable } from './clientTable.js';
import type { Verdict } from './probing.js';
import { LimitStore, type UsageReport } from './sharedStore.js';

type Log = (event: Record<string, unknown>) => void;
/** Each call to the store, for the metrics: what it did, and whether it was answered. */
type Counted = (op: 'count' | 'report', ok: boolean) => void;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
// How often an instance reports its clients' use, and how old a report may be before its instance counts as gone.
const REPORT_MS = 250;
const GONE_MS = 3000;
// The least share of a client's rate an instance keeps, so a client moving its traffic is not refused while the shares follow.
const MIN_SHARE = 0.05;
// The most `not_found` answers one lease grants an instance.
const MAX_LEASE = 256;
// How long an answer withheld because the shared limits cannot be reached asks the client to wait.
const UNAVAILABLE_RETRY_SECONDS = 5;

/** What the probing guard counts, each under its own keys, window and limit. */
type RuleName = 'notFound' | 'mismatch' | 'emptyHour' | 'emptyDate' | 'emptyPerson';

interface Rule {
  name: RuleName;
  keys: () => string[];
  windowMs: number;
  limit: number;
}

/**
 * The probing guard and the client rates and quotas for several instances at once,
 * through the LimitStore every one of them shares (a JetStream key-value bucket):
 *
 * - The guard's counts are kept in the store itself, each answer of the guessing kind
 *   (a mismatch, a search that found nobody, an ID number of nobody) added by
 *   compare-and-set: a guesser spreading over three instances is stopped at the counts
 *   one instance would stop it at. Only those answers, and every answer of a client that
 *   has reached a limit, cost a call to the store; the others go out at once.
 * - Rates stay local on the request path: each instance refills a client's bucket at its
 *   share of the rate, the share following where the client's requests go (each
 *   instance reports what each client asked of it, four times a second). Daily quotas
 *   count every instance's use.
 * - When the store cannot be reached, answers of the guessing kind are withheld (503
 *   LIMITS_UNAVAILABLE): the service does not become an oracle without limits. Rates go on
 *   at the last shares known; quotas at the last counts known.
 */
export class SharedLimits {
  private readonly hash: KeyHasher;
  private readonly instance = randomBytes(6).toString('hex');
  private readonly reports = new Map<string, UsageReport>();
  /** Each client's demand here (requests a second), smoothed. */
  private readonly demand = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  private store?: LimitStore;
  private stopped = false;

  private constructor(
    secret: Secret,
    private readonly table: ClientTable,
    private registry: ClientRegistry,
    private readonly log: Log,
    private readonly calls: Counted,
  ) {
    this.hash = keyHasher(secret.bytes);
  }

  /** Starts at once; until the store is first reached, answers of the guessing kind are withheld. */
  static start(opts: { servers: string; bucket: string; replicas: number; secret: Secret; table: ClientTable; registry: ClientRegistry; log: Log; counted?: Counted }): SharedLimits {
    const limits = new SharedLimits(opts.secret, opts.table, opts.registry, opts.log, opts.counted ?? (() => {}));
    void limits.connect(opts);
    return limits;
  }

  private async connect(opts: { servers: string; bucket: string; replicas: number }): Promise<void> {
    while (!this.stopped) {
      try {
        const store = await LimitStore.open(opts.servers, opts.bucket, opts.replicas, this.log);
        if (this.stopped) return void store.close();
        this.store = store;
        void store.watch<UsageReport>('u.*', (key, report) => this.reports.set(key.slice(2), report));
        void store.watch<{ until: number }>('a.*', (key, { until }) => this.attendByHash(key.slice(2), until));
        this.timer = setInterval(() => void this.report(), REPORT_MS);
        this.timer.unref();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** The clients changed (the clients file reloaded). */
  useClients(registry: ClientRegistry): void {
    this.registry = registry;
  }

  /** The guard's decision on each answer, in order: an answer past a limit refuses the ones after it. */
  async verdicts(client: Pick<Client, 'id' | 'limits'>, items: WorkItem[], results: WorkResult[]): Promise<Verdict[]> {
    const out: Verdict[] = [];
    for (let i = 0; i < results.length; i++) {
      try {
        out.push(await this.verdict(client, items[i], results[i]));
      } catch (err) {
        if (!(err instanceof ServiceError) || err.code !== 'LIMITS_UNAVAILABLE') throw err;
        this.calls('count', false);
        out.push({ code: 'LIMITS_UNAVAILABLE', retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS });
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.store?.close();
  }

  private async verdict(client: Pick<Client, 'id' | 'limits'>, item: WorkItem, result: WorkResult): Promise<Verdict> {
    if ('error' in result) return { pass: true };
    const outcome = (result as { result?: string }).result;
    const { limits } = client;
    if (item.type === 'id') {
      const unknown = await this.notFound(client, outcome === 'not_found');
      if (unknown) return { code: 'TOO_MANY_NOT_FOUND', retryAfterSeconds: unknown };
      // The citizen the answer is about: a legacy number reaches the same person as the ID number.
      const citizen = () => (result as Subjects).subjects ?? [item.claim.idNumber];
      const refused = await this.counted(client, outcome === 'mismatch', [{ name: 'mismatch', keys: citizen, windowMs: DAY_MS, limit: limits.mismatchesPerCitizen }]);
      return refused ? { code: 'TOO_MANY_MISMATCHES', retryAfterSeconds: refused } : { pass: true };
    }
    const { fullName, dateOfBirth } = item.query;
    const refused = await this.counted(client, outcome === 'none', [
      { name: 'emptyHour', keys: () => [''], windowMs: HOUR_MS, limit: limits.emptySearchesPerHour },
      { name: 'emptyDate', keys: () => [dateOfBirth], windowMs: DAY_MS, limit: limits.emptySearchesPerDate },
      { name: 'emptyPerson', keys: () => searchedPersons(fullName, dateOfBirth), windowMs: DAY_MS, limit: limits.emptySearchesPerName },
    ]);
    return refused ? { code: 'TOO_MANY_SEARCHES', retryAfterSeconds: refused } : { pass: true };
  }

  /**
   * As the single instance's guard: the seconds to wait when any key of any rule has
   * reached its limit; otherwise an answer of the guessing kind is added under every key
   * (and a key it fills makes every instance send this client's answers to its guard).
   */
  private async counted(client: Pick<Client, 'id'>, guessing: boolean, rules: Rule[]): Promise<number | undefined> {
    const store = this.store;
    if (!store) throw new ServiceError('LIMITS_UNAVAILABLE');
    const now = sharedNow();
    const keyed = rules.map((rule) => rule.keys().map((k) => this.storeKey(rule.name, client.id, k)));
    const held = await Promise.all(rules.map((rule, r) => Promise.all(keyed[r].map((key) => store.events(key, now, rule.windowMs)))));
    let wait = 0;
    rules.forEach((rule, r) => held[r].forEach((tally) => (wait = Math.max(wait, tally.waitBelow(rule.limit, now)))));
    if (wait > 0 || !guessing) {
      this.calls('count', true);
      return wait || undefined;
    }
    const added = await Promise.all(rules.map((rule, r) => Promise.all(keyed[r].map((key) => store.add(key, now, rule.windowMs, rule.limit)))));
    let full = 0;
    rules.forEach((rule, r) => added[r].forEach((tally) => (full = Math.max(full, tally.waitBelow(rule.limit, now)))));
    if (full > 0) await store.put(`a.${this.clientKey(client.id)}`, { until: now + full * 1000 });
    this.calls('count', true);
    return undefined;
  }

  /**
   * A client's `not_found` answers are counted by leases: the store grants an instance
   * a share of what is left of the hour's allowance (a few units when little is left, one
   * at the end, many when the limit is far), which its threads then spend on their own
   * (ClientTable.takeLease) without asking anyone. So the commonest guess costs a call to
   * the store only once a lease, and the service as a whole never gives more than the
   * limit. Answers the seconds to wait when the allowance is spent, else undefined.
   */
  private async notFound(client: Pick<Client, 'id' | 'limits'>, isNotFound: boolean): Promise<number | undefined> {
    const now = sharedNow();
    if (isNotFound && this.table.takeLease(client.id, now)) return undefined;
    const store = this.store;
    if (!store) throw new ServiceError('LIMITS_UNAVAILABLE');
    const key = this.storeKey('notFound', client.id, '');
    const limit = client.limits.notFoundPerHour;
    if (!isNotFound) {
      // Another kind of answer, of a client under attention: refused while the allowance is spent everywhere.
      const tally = await store.events(key, now, HOUR_MS);
      this.calls('count', true);
      return this.table.leaseLeft(client.id, now) > 0 ? undefined : tally.waitBelow(limit, now) || undefined;
    }
    const instances = 1 + [...this.reports.entries()].filter(([id, r]) => id !== this.instance && Date.now() - r.at <= GONE_MS).length;
    const { tally, added } = await store.addUpTo(key, now, HOUR_MS, limit, (left) => Math.max(1, Math.min(MAX_LEASE, Math.floor(left / (2 * instances)))));
    this.calls('count', true);
    if (added > 0) {
      // One unit is this answer; the rest wait here, until the units leave the store's hour.
      this.table.addLease(client.id, added - 1, now + HOUR_MS, now);
      if (tally.count >= limit) await store.put(`a.${this.clientKey(client.id)}`, { until: now + tally.waitBelow(limit, now) * 1000 });
      return undefined;
    }
    await store.put(`a.${this.clientKey(client.id)}`, { until: now + tally.waitBelow(limit, now) * 1000 });
    return tally.waitBelow(limit, now);
  }

  private storeKey(rule: RuleName, clientId: string, key: string): string {
    return `g.${rule}.${this.clientKey(clientId)}.${this.hash(`probe\n${rule}\n${clientId}\n${key}`, 12).toString('base64url')}`;
  }

  private clientKey(clientId: string): string {
    return this.hash(`client\n${clientId}`, 9).toString('base64url');
  }

  private attendByHash(clientHash: string, until: number): void {
    const client = this.registry.clients().find((c) => this.clientKey(c.id) === clientHash);
    if (client) this.table.attend(client.id, until);
  }

  /** Reports this instance's use, and sets each client's share and the other instances' use of today from everyone's reports. */
  private async report(): Promise<void> {
    const now = Date.now();
    const day = Math.floor(now / DAY_MS);
    const clients: UsageReport['clients'] = {};
    for (const client of this.registry.clients()) {
      const key = this.clientKey(client.id);
      const { askedNow, usedToday } = this.table.withBucket(client.id, (b, at) => {
        const a = Number.isNaN(b[at + BUCKET.asked]) ? 0 : b[at + BUCKET.asked];
        b[at + BUCKET.asked] = 0;
        return { askedNow: a, usedToday: b[at + BUCKET.day] === day ? b[at + BUCKET.used] : 0 };
      });
      const demand = 0.5 * (this.demand.get(key) ?? 0) + 0.5 * (askedNow / (REPORT_MS / 1000));
      this.demand.set(key, demand);
      clients[key] = [demand, usedToday];
      this.share(client, key, demand, day, now);
    }
    if (!this.store) return;
    try {
      await this.store.put(`u.${this.instance}`, { at: now, day, clients } satisfies UsageReport);
      this.calls('report', true);
    } catch {
      // Unreachable: the shares and counts known last stay in force.
      this.calls('report', false);
    }
  }

  private share(client: Client, key: string, demand: number, day: number, now: number): void {
    let others = 0;
    let othersToday = 0;
    let instances = 1;
    for (const [instance, report] of this.reports) {
      if (instance === this.instance || now - report.at > GONE_MS) continue;
      instances++;
      const [d, used] = report.clients[key] ?? [0, 0];
      others += d;
      if (report.day === day) othersToday += used;
    }
    // A client asking nothing anywhere gets an equal share on each instance: one that starts on all of them at once gets its burst once.
    const share = demand + others > 0 ? Math.max(MIN_SHARE, demand / (demand + others)) : 1 / instances;
    this.table.withBucket(client.id, (b, at) => {
      b[at + BUCKET.share] = share;
      b[at + BUCKET.othersToday] = othersToday;
    });
  }
}
