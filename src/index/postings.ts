import type { Citizen } from '../domain/citizen.js';
import type { Dictionary } from './dictionary.js';
import { LOOKUP_KEY_BYTES } from './keys.js';
import { SealBrokenError } from './sealing.js';
import { sipHash128, sipHashKey } from './siphash.js';
import { memo } from '../domain/memo.js';

/**
 * A name posting (format 5) carries the person it stands for, sealed: the ID number, the
 * gender and the name as dictionary codes. A search scores and lists the people of a
 * block from their postings alone; a record is opened only for a name the dictionary
 * cannot code (a word outside it, a single word, more than two middle names).
 *
 *   posting = iv (5) | ciphertext (10)
 *   plain   = 80 bits, most significant first: ID number (40) | female (1) |
 *             middle names (2: 0 to 2, or 3 for a name not coded) | surname (9) | given (9) |
 *             first middle (9) | second middle (9) | 0 (1)
 *
 * Sealed as SIV with SipHash-2-4 under two keys derived from the index secret: the iv is
 * the keyed hash of the block key and the plain posting, the ciphertext the plain posting
 * XOR a keyed hash of the block key and the iv. Equal people under one block make equal
 * postings (a posting is found again to be moved), any two others differ in their iv but
 * once in ~10^12 pairs of a block, and opening recomputes the iv: a posting altered, moved
 * to another block or made with another secret does not open. Postings of a block sort by
 * iv, a keyed hash: the order search lists equal candidates in.
 */
export const POSTING_IV_BYTES = 5;
const PLAIN_BYTES = 10;
export const NAME_POSTING_BYTES = POSTING_IV_BYTES + PLAIN_BYTES;

const CODE_BITS = 9;
/** The largest code a posting holds: a dictionary of more words codes its first 512 only. */
const MAX_CODE = (1 << CODE_BITS) - 1;
const NOT_CODED = 3;
const MAX_MIDDLES = 2;

/** A person as a posting tells them: the name as registered, or undefined where it is not coded (open the record). */
export interface PostedPerson {
  idNumber: string;
  gender: Citizen['gender'];
  fullName?: string;
}

export class PostingSeal {
  private readonly ivKey: Buffer;
  private readonly streamKey: Buffer;
  private readonly input = Buffer.alloc(LOOKUP_KEY_BYTES + PLAIN_BYTES);
  private readonly tag = Buffer.alloc(16);
  // Scratch for opening: a search opens every posting of the blocks it reads.
  private readonly opened = Buffer.alloc(PLAIN_BYTES);
  private readonly ivCheck = Buffer.alloc(POSTING_IV_BYTES);
  /** A name from its codes, made once: a search meets a name under its day, month and year, and common names everywhere. */
  private readonly nameOf = memo((coded: number): string => {
    const high = Math.floor(coded / 2 ** 32);
    const low = coded % 2 ** 32;
    const code = (shift: number) => this.dictionary.word(((low >>> shift) | (shift === 28 ? high << 4 : 0)) & MAX_CODE);
    return [code(28), ...[10, 1].slice(0, (high >>> 5) & 3).map(code), code(19)].join(' ');
  }, 200_000);

  constructor(
    secret: Buffer,
    private readonly dictionary: Dictionary,
  ) {
    this.ivKey = sipHashKey(secret, 'idv/name-postings/siv-iv/siphash-2-4/v1');
    this.streamKey = sipHashKey(secret, 'idv/name-postings/siv-stream/siphash-2-4/v1');
  }

  /** The posting of a citizen filed under `blockKey`. */
  seal(blockKey: Uint8Array, c: Pick<Citizen, 'idNumber' | 'fullName' | 'gender'>): Buffer {
    const plain = this.plain(c);
    const posting = Buffer.allocUnsafe(NAME_POSTING_BYTES);
    this.iv(blockKey, plain, posting);
    this.xorStream(blockKey, posting, plain, 0, posting.subarray(POSTING_IV_BYTES));
    return posting;
  }

  /** The person a posting under `blockKey` stands for; SealBrokenError if it does not open. */
  open(blockKey: Uint8Array, posting: Uint8Array): PostedPerson {
    if (posting.length !== NAME_POSTING_BYTES) throw new SealBrokenError('a name posting');
    const plain = this.opened;
    this.xorStream(blockKey, posting, posting, POSTING_IV_BYTES, plain);
    this.iv(blockKey, plain, this.ivCheck);
    for (let i = 0; i < POSTING_IV_BYTES; i++) if (this.ivCheck[i] !== posting[i]) throw new SealBrokenError('a name posting');
    return this.person(plain);
  }

  private iv(blockKey: Uint8Array, plain: Uint8Array, out: Uint8Array): void {
    this.input.set(blockKey, 0);
    this.input.set(plain, LOOKUP_KEY_BYTES);
    sipHash128(this.ivKey, this.input, LOOKUP_KEY_BYTES + PLAIN_BYTES, this.tag);
    for (let i = 0; i < POSTING_IV_BYTES; i++) out[i] = this.tag[i];
  }

  /** `to` = `from` (from offset `at`) XOR the key stream of (block key, the posting's iv). */
  private xorStream(blockKey: Uint8Array, posting: Uint8Array, from: Uint8Array, at: number, to: Uint8Array): void {
    this.input.set(blockKey, 0);
    for (let i = 0; i < POSTING_IV_BYTES; i++) this.input[LOOKUP_KEY_BYTES + i] = posting[i];
    sipHash128(this.streamKey, this.input, LOOKUP_KEY_BYTES + POSTING_IV_BYTES, this.tag);
    for (let i = 0; i < PLAIN_BYTES; i++) to[i] = from[at + i] ^ this.tag[i];
  }

  private plain(c: Pick<Citizen, 'idNumber' | 'fullName' | 'gender'>): Buffer {
    const codes = this.codes(c.fullName);
    // 40 bits of ID number, then 40 of the rest; each half fits a double exactly.
    let rest = (c.gender === 'female' ? 1 : 0) * 2 ** 39 + (codes ? codes.length - 2 : NOT_CODED) * 2 ** 37;
    if (codes) {
      const [surname, given, ...middles] = [codes[0], codes[codes.length - 1], ...codes.slice(1, -1)];
      rest += surname * 2 ** 28 + given * 2 ** 19 + (middles[0] ?? 0) * 2 ** 10 + (middles[1] ?? 0) * 2 ** 1;
    }
    const plain = Buffer.allocUnsafe(PLAIN_BYTES);
    plain.writeUIntBE(Number(c.idNumber), 0, 5);
    plain.writeUIntBE(rest, 5, 5);
    return plain;
  }

  /** The name's words as codes, surname first; undefined where it cannot be coded. */
  private codes(fullName: string): number[] | undefined {
    const words = fullName.split(' ');
    if (words.length < 2 || words.length > 2 + MAX_MIDDLES) return undefined;
    const codes: number[] = [];
    for (const w of words) {
      const code = this.dictionary.wordCode(w);
      if (code === undefined || code > MAX_CODE) return undefined;
      codes.push(code);
    }
    return codes;
  }

  private person(plain: Buffer): PostedPerson {
    const idNumber = String(plain[0] * 2 ** 32 + plain.readUInt32BE(1)).padStart(12, '0');
    // The last 40 bits: `high` holds bits 39..32, `low` bits 31..0.
    const high = plain[5];
    const low = plain.readUInt32BE(6);
    const gender = high >>> 7 ? 'female' : 'male';
    const middles = (high >>> 5) & 3;
    if (middles === NOT_CODED) return { idNumber, gender };
    // The codes and the count of middle names (bits 38..0): a key exact in a double.
    const fullName = this.nameOf((high & 127) * 2 ** 32 + low);
    return { idNumber, gender, fullName };
  }
}
