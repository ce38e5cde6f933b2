import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { ServiceError } from '../errors.js';
import { isWrongLastSequence } from '../replication/stream.js';

type Log = (event: Record<string, unknown>) => void;

// The longest window of any limit (24 h), and a margin: a key not written for this long is gone.
const MAX_AGE_MS = 25 * 3_600_000;
// A call the store does not answer within this is taken as the store unreachable.
const CALL_MS = 2000;

/** What an instance says of its clients' use, a few times a second: demand (requests a second) and requests used today. */
export interface UsageReport {
  /** When it was written (epoch ms): a report older than a few seconds is of an instance gone. */
  at: number;
  /** The UTC day the counts of today are of. */
  day: number;
  /** By client (a keyed hash of its id): [demand per second, used today]. */
  clients: Record<string, [number, number]>;
}

/**
 * The limits every instance shares, in a JetStream key-value bucket (the NATS the change
 * stream runs on): lists of recent events under keyed hashes (the probing guard's counts,
 * changed by compare-and-set, so instances count together exactly), until when a client's
 * every answer must be reviewed (watched by every instance), and each instance's report of
 * its clients' use (the rates' shares and the daily quota). Keys are hashes under a key of
 * the index secret: nothing in the bucket names a client or a citizen.
 */
export class LimitStore {
  connected = true;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
  ) {}

  static async open(servers: string, bucket: string, replicas: number, log: Log): Promise<LimitStore> {
    const nc = await connect({ servers: servers.split(',').map((s) => s.trim()), name: 'idv-limits', reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true });
    const kv = await new Kvm(nc).create(bucket, { history: 1, ttl: MAX_AGE_MS, replicas });
    const store = new LimitStore(nc, kv);
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type !== 'disconnect' && status.type !== 'reconnect') continue;
        store.connected = status.type === 'reconnect';
        log({ level: store.connected ? 'info' : 'warn', msg: store.connected ? 'shared limits reachable again' : 'shared limits unreachable: answers of the guessing kind are refused LIMITS_UNAVAILABLE until they are back' });
      }
    })();
    return store;
  }

  /** The events under `key` within `windowMs` of `now`, counted by sixtieths of the window. */
  async events(key: string, now: number, windowMs: number): Promise<Tally> {
    const entry = await this.call(this.kv.get(key));
    return new Tally(entry ? entry.json<[number, number][]>() : [], now, windowMs);
  }

  /**
   * Adds an event under `key` unless it already holds `limit` within the window; answers
   * the tally after (or, when full, as it is). Compare-and-set: two instances adding at
   * once both count, one of them again after reading the other's.
   */
  async add(key: string, now: number, windowMs: number, limit: number): Promise<Tally> {
    return (await this.addUpTo(key, now, windowMs, limit, () => 1)).tally;
  }

  /**
   * As `add`, for several events at once (a lease): `wanted` says how many from what the
   * limit leaves, read in the same compare-and-set; answers how many were added.
   */
  async addUpTo(key: string, now: number, windowMs: number, limit: number, wanted: (left: number) => number): Promise<{ tally: Tally; added: number }> {
    for (;;) {
      const entry = await this.call(this.kv.get(key));
      const tally = new Tally(entry ? entry.json<[number, number][]>() : [], now, windowMs);
      const added = Math.min(wanted(limit - tally.count), limit - tally.count);
      if (added <= 0) return { tally, added: 0 };
      tally.add(now, added);
      try {
        await this.call(entry ? this.kv.update(key, tally.text(), entry.revision) : this.kv.create(key, tally.text()));
        return { tally, added };
      } catch (err) {
        // Another instance wrote first: read again.
        if (!isWrongLastSequence(err)) throw err;
      }
    }
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.call(this.kv.put(key, JSON.stringify(value)));
  }

  /** Every value under keys matching `pattern` (NATS wildcards), as it is now and each time it changes. */
  async watch<T>(pattern: string, each: (key: string, value: T) => void): Promise<void> {
    for (;;) {
      try {
        const entries = await this.kv.watch({ key: pattern });
        for await (const e of entries) if (e.operation === 'PUT') each(e.key, e.json<T>());
      } catch {
        if (this.nc.isClosed()) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      if (this.nc.isClosed()) return;
    }
  }

  async close(): Promise<void> {
    // Nothing waits to be sent: closed at once (draining waits on the watchers' consumers).
    await this.nc.close();
  }

  /** A call to the store; LIMITS_UNAVAILABLE when it fails or does not answer in time (a lost compare-and-set is passed on). */
  private call<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ServiceError('LIMITS_UNAVAILABLE')), this.connected ? CALL_MS : 0);
    });
    const failed = work.catch((err: unknown) => {
      throw isWrongLastSequence(err) ? err : new ServiceError('LIMITS_UNAVAILABLE');
    });
    failed.catch(() => {});
    return Promise.race([failed, late]).finally(() => clearTimeout(timer));
  }
}

/**
 * Events in a sliding window, counted by sixtieths of it (a minute of an hour, 24 minutes
 * of a day): a value stays small whatever the limit, and an event leaves the window at
 * most one sixtieth late.
 */
export class Tally {
  private readonly slots: [number, number][];
  private readonly slotMs: number;

  constructor(slots: [number, number][], now: number, windowMs: number) {
    this.slotMs = windowMs / SLOTS;
    const first = Math.floor(now / this.slotMs) - SLOTS + 1;
    this.slots = slots.filter(([slot]) => slot >= first);
  }

  get count(): number {
    return this.slots.reduce((sum, [, n]) => sum + n, 0);
  }

  add(now: number, n = 1): void {
    const slot = Math.floor(now / this.slotMs);
    const held = this.slots.find(([s]) => s === slot);
    if (held) held[1] += n;
    else this.slots.push([slot, n]);
  }

  /** Seconds until fewer than `limit` events are left in the window; 0 while there are fewer already. */
  waitBelow(limit: number, now: number): number {
    let left = this.count;
    if (left < limit) return 0;
    for (const [slot, n] of [...this.slots].sort((a, b) => a[0] - b[0])) {
      left -= n;
      if (left < limit) return Math.max(1, Math.ceil(((slot + SLOTS) * this.slotMs - now) / 1000));
    }
    return 1;
  }

  text(): string {
    return JSON.stringify(this.slots);
  }
}

const SLOTS = 60;
