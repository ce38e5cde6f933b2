import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { OWNER_ONLY_FILE } from './layout.js';

const FLUSH_BYTES = 1 << 20;

/**
 * Entries spread over files by the top bits of their (uniformly random) keyed-hash
 * key. Bucket b holds only keys below those of bucket b+1, so sorting the buckets one
 * at a time gives the whole key order while holding 1/buckets of the data in memory.
 */
export class BucketSpill {
  private readonly fds: number[];
  // One staging buffer per bucket: entries are copied in place, so adding allocates nothing.
  private readonly staging: Buffer[];
  private readonly used: number[];
  private readonly shift: number;

  constructor(private readonly dir: string, private readonly name: string, readonly buckets = 64) {
    if (!Number.isInteger(Math.log2(buckets)) || buckets > 256) throw new Error('buckets must be a power of 2 up to 256');
    this.shift = 8 - Math.log2(buckets);
    this.fds = Array.from({ length: buckets }, (_, b) => openSync(this.path(b), 'w', OWNER_ONLY_FILE));
    this.staging = Array.from({ length: buckets }, () => Buffer.allocUnsafe(FLUSH_BYTES));
    this.used = new Array<number>(buckets).fill(0);
  }

  bucketOf(firstKeyByte: number): number {
    return firstKeyByte >> this.shift;
  }

  /** Room for an entry of `length` bytes in a bucket: returns the buffer and offset to write it at. */
  reserve(bucket: number, length: number): [Buffer, number] {
    if (length > FLUSH_BYTES) throw new Error('spill entry too large');
    if (this.used[bucket] + length > FLUSH_BYTES) this.flush(bucket);
    const at = this.used[bucket];
    this.used[bucket] += length;
    return [this.staging[bucket], at];
  }

  finish(): void {
    for (let b = 0; b < this.buckets; b++) {
      this.flush(b);
      closeSync(this.fds[b]);
    }
  }

  read(bucket: number): Buffer {
    return readFileSync(this.path(bucket));
  }

  private flush(bucket: number): void {
    if (this.used[bucket] === 0) return;
    writeSync(this.fds[bucket], this.staging[bucket], 0, this.used[bucket]);
    this.used[bucket] = 0;
  }

  private path(bucket: number): string {
    return join(this.dir, `${this.name}-${String(bucket).padStart(3, '0')}.spill`);
  }
}

/**
 * Sorts entries of one bucket by `compareLength` bytes from each entry's start.
 * The first 5 bytes and the entry's index are packed into one 64-bit integer, so a
 * native typed-array sort does nearly all the work; runs that tie on those 5 bytes
 * are then finished with a full byte comparison.
 */
export function sortEntries(data: Buffer, starts: Uint32Array, compareLength: number): Uint32Array {
  const n = starts.length;
  if (n >= 1 << 24) throw new Error('bucket too large to sort: use more buckets');
  const packed = new BigUint64Array(n);
  const halves = new Uint32Array(packed.buffer);
  for (let i = 0; i < n; i++) {
    const s = starts[i];
    halves[2 * i + 1] = data.readUInt32BE(s);
    halves[2 * i] = ((data[s + 4] << 24) | i) >>> 0;
  }
  packed.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = halves[2 * i] & 0xffffff;
  const top40 = (i: number) => halves[2 * i + 1] * 256 + (halves[2 * i] >>> 24);
  // buf.compare(target, ...targetRange, ...sourceRange) orders source against target: b is the target here.
  const full = (a: number, b: number) =>
    data.compare(data, starts[b], starts[b] + compareLength, starts[a], starts[a] + compareLength);
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && top40(j) === top40(i)) j++;
    if (j - i > 1) order.set(Array.from(order.subarray(i, j)).sort(full), i);
    i = j;
  }
  return order;
}
