import { createHash } from 'node:crypto';

/** Clients a server keeps shared state for: far more than a clients file lists. */
const CAPACITY = 4096;
/**
 * Per slot: tokens, when they were counted, UTC day, requests used that day (here); then,
 * with limits shared by several instances (sharedLimits.ts), the requests asked since the
 * last report, this instance's share of the client's rate, and the requests the other
 * instances used today.
 */
export const BUCKET = { tokens: 0, at: 1, day: 2, used: 3, asked: 4, share: 5, othersToday: 6 } as const;
const BUCKET_FIELDS = 7;
/** Per slot: not_found answers by minute over the last hour, as (minute number, count) pairs, one per minute of the hour. */
const MINUTES = 60;
const NOT_FOUND_FIELDS = 2 * MINUTES;
const MINUTE_MS = 60_000;
/** Per slot, where instances share the limits: `not_found` answers this instance may still give (a lease of the client's hourly allowance), and until when. */
const LEASE_FIELDS = 2;

/** The clock every server thread shares (epoch ms, sub-millisecond): performance.now() starts anew in each thread. */
export const sharedNow = () => performance.timeOrigin + performance.now();

/**
 * What the server threads share about each client, in one SharedArrayBuffer: its rate
 * bucket and daily count (so two threads do not each grant the full rate), its count of
 * `not_found` answers in the last hour, and until when its answers must be reviewed by
 * the probing guard (probing.ts). A client's slot is found
 * by a hash of its id, claimed with a compare-and-swap by whichever thread sees it first,
 * so threads agree without asking each other. Each bucket is changed under its own
 * spinlock: the critical section is a few arithmetic operations.
 */
export class ClientTable {
  private readonly ids: BigInt64Array;
  private readonly locks: Int32Array;
  private readonly buckets: Float64Array;
  private readonly attention: Float64Array;
  private readonly notFoundCounts: Float64Array;
  private readonly leases: Float64Array;
  private readonly slots = new Map<string, number>();

  constructor(readonly buffer: SharedArrayBuffer = ClientTable.allocate()) {
    let at = 0;
    const view = <T>(make: (b: SharedArrayBuffer, at: number, n: number) => T, n: number, bytes: number): T => {
      const v = make(buffer, at, n);
      at += n * bytes;
      return v;
    };
    this.ids = view((b, o, n) => new BigInt64Array(b, o, n), CAPACITY, 8);
    this.buckets = view((b, o, n) => new Float64Array(b, o, n), CAPACITY * BUCKET_FIELDS, 8);
    this.attention = view((b, o, n) => new Float64Array(b, o, n), CAPACITY, 8);
    this.notFoundCounts = view((b, o, n) => new Float64Array(b, o, n), CAPACITY * NOT_FOUND_FIELDS, 8);
    this.leases = view((b, o, n) => new Float64Array(b, o, n), CAPACITY * LEASE_FIELDS, 8);
    this.locks = view((b, o, n) => new Int32Array(b, o, n), CAPACITY, 4);
  }

  private static allocate(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(CAPACITY * (8 + BUCKET_FIELDS * 8 + 8 + NOT_FOUND_FIELDS * 8 + LEASE_FIELDS * 8 + 4));
    // A bucket never used has no time: the first request fills it to the burst.
    new Float64Array(buffer, CAPACITY * 8, CAPACITY * BUCKET_FIELDS).fill(NaN);
    return buffer;
  }

  /** The client's slot, the same in every thread. */
  slot(clientId: string): number {
    const known = this.slots.get(clientId);
    if (known !== undefined) return known;
    // Zero marks a free slot, so no id may hash to it.
    const hash = createHash('sha256').update(clientId).digest().readBigInt64LE(0) || 1n;
    for (let i = 0, s = Number(BigInt.asUintN(32, hash)) % CAPACITY; i < CAPACITY; i++, s = (s + 1) % CAPACITY) {
      const held = Atomics.compareExchange(this.ids, s, 0n, hash);
      if (held === 0n || held === hash) {
        this.slots.set(clientId, s);
        return s;
      }
    }
    throw new Error(`more than ${CAPACITY} clients`);
  }

  /**
   * Runs `change` on the client's bucket (fields at BUCKET's offsets from `at`) with no other thread
   * changing it meanwhile; `change` must not throw.
   */
  withBucket<T>(clientId: string, change: (bucket: Float64Array, at: number) => T): T {
    return this.locked(clientId, (s) => change(this.buckets, s * BUCKET_FIELDS));
  }

  private locked<T>(clientId: string, run: (slot: number) => T): T {
    const s = this.slot(clientId);
    while (Atomics.compareExchange(this.locks, s, 0, 1) !== 0);
    try {
      return run(s);
    } finally {
      Atomics.store(this.locks, s, 0);
    }
  }

  /**
   * The client's `not_found` answers over the last hour (counted by the minute), with
   * `add` one more now; and, when they reach `limit`, the seconds until enough of them
   * leave the hour.
   */
  notFound(clientId: string, now: number, add: boolean, limit: number): { count: number; retryAfterSeconds: number } {
    return this.locked(clientId, (s) => {
      const c = this.notFoundCounts;
      const at = s * NOT_FOUND_FIELDS;
      const minute = Math.floor(now / MINUTE_MS);
      const slot = at + 2 * (minute % MINUTES);
      if (add) {
        if (c[slot] !== minute) {
          c[slot] = minute;
          c[slot + 1] = 0;
        }
        c[slot + 1]++;
      }
      // A minute's count stays within the hour until 60 minutes after it.
      const countOf = (m: number) => (c[at + 2 * (m % MINUTES)] === m ? c[at + 2 * (m % MINUTES) + 1] : 0);
      let count = 0;
      for (let m = minute - MINUTES + 1; m <= minute; m++) count += countOf(m);
      let retryAfterSeconds = 0;
      if (count >= limit) {
        let left = count;
        for (let m = minute - MINUTES + 1; m <= minute && left >= limit; m++) {
          left -= countOf(m);
          retryAfterSeconds = Math.max(1, Math.ceil(((m + MINUTES) * MINUTE_MS - now) / 1000));
        }
      }
      return { count, retryAfterSeconds };
    });
  }

  /** Takes `units` `not_found` answers from the client's lease on this instance, all or none; false when fewer are left. */
  takeLease(clientId: string, now: number, units = 1): boolean {
    return this.locked(clientId, (s) => {
      const at = s * LEASE_FIELDS;
      if (this.leases[at + 1] <= now || this.leases[at] < units) return false;
      this.leases[at] -= units;
      return true;
    });
  }

  /** `not_found` answers this instance may still give the client. */
  leaseLeft(clientId: string, now: number): number {
    return this.locked(clientId, (s) => (this.leases[s * LEASE_FIELDS + 1] > now ? this.leases[s * LEASE_FIELDS] : 0));
  }

  /** Adds `units` to the client's lease, good until `until` (a lease that ran out is replaced). */
  addLease(clientId: string, units: number, until: number, now: number): void {
    this.locked(clientId, (s) => {
      const at = s * LEASE_FIELDS;
      const left = this.leases[at + 1] > now ? this.leases[at] : 0;
      this.leases[at] = left + units;
      this.leases[at + 1] = left > 0 ? Math.min(this.leases[at + 1], until) : until;
    });
  }

  /** Asks every thread to send this client's answers to the probing guard until `untilMs` (sharedNow's clock). */
  attend(clientId: string, untilMs: number): void {
    const s = this.slot(clientId);
    // Only the guard's thread writes: no lock needed to keep the later of two times.
    if (this.attention[s] < untilMs) this.attention[s] = untilMs;
  }

  needsAttention(clientId: string, now = sharedNow()): boolean {
    return this.attention[this.slot(clientId)] > now;
  }
}
