/**
 * Which name blocks hold somebody, in memory: most blocks a search tries hold nobody (a near
 * name, another spelling, a year nobody of that name is registered under), and asking LMDB
 * costs a B-tree descent through a file of many gigabytes (~5 µs at 98M) to learn it. A
 * Bloom filter of the blocks' keys answers "nobody" from one cache line, and is never
 * wrong when it does: a key added is found. Blocked (every bit of a key in one 64-byte
 * block), 12 bits a key, 6 bits each: about 1 in 200 empty blocks is still looked up.
 *
 * The keys are keyed hashes already, uniform: their own bytes choose the block and bits.
 */
const BITS_PER_KEY = 12;
const PROBES = 6;
const WORDS_PER_BLOCK = 16;

export class NameKeyFilter {
  private readonly words: Uint32Array;
  private readonly blocks: number;

  constructor(expectedKeys: number) {
    this.blocks = Math.max(1, Math.ceil((expectedKeys * BITS_PER_KEY) / (WORDS_PER_BLOCK * 32)));
    this.words = new Uint32Array(this.blocks * WORDS_PER_BLOCK);
  }

  /** Bytes held: what the filter costs in memory. */
  get bytes(): number {
    return this.words.byteLength;
  }

  add(key: Uint8Array): void {
    this.probe(key, true);
  }

  /** False only for a key never added. */
  mayHold(key: Uint8Array): boolean {
    return this.probe(key, false);
  }

  private probe(key: Uint8Array, set: boolean): boolean {
    const h1 = (key[0] | (key[1] << 8) | (key[2] << 16) | (key[3] << 24)) >>> 0;
    const h2 = (key[4] | (key[5] << 8) | (key[6] << 16) | (key[7] << 24)) >>> 0;
    // The block from the first 32 bits (scaled, so any number of blocks), the bits from the others.
    const base = Math.floor((h1 / 2 ** 32) * this.blocks) * WORDS_PER_BLOCK;
    // An odd step over the block's 512 bits visits PROBES distinct bits.
    const step = (h2 >>> 23) | 1;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h2 + i * step) & 511;
      const word = base + (bit >>> 5);
      const mask = 1 << (bit & 31);
      if (set) this.words[word] |= mask;
      else if ((this.words[word] & mask) === 0) return false;
    }
    return true;
  }
}
