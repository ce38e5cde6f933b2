import type { Citizen } from '../domain/citizen.js';
import { RecordCodec } from './codec.js';
import { openDictionary } from './dictionary.js';
import { ID_KEY_BYTES, LOOKUP_KEY_BYTES, idKeyText, keyHasher, legacyKeyText, nameBlockKey, type KeyHasher } from './keys.js';
import { PostingSeal } from './postings.js';
import { LIVE_RECORDS, recordCount, storedRecord, type IndexMeta, type WritableDbs } from './layout.js';
import { RecordSeal } from './sealing.js';
import type { Secret } from './secret.js';

/** A lookup entry: under `key` in `db`, `value` (a name posting, or the record key). */
type Lookup = { db: WritableDbs['byName']; key: Buffer; value: Buffer };

/**
 * A served build's records changed one citizen at a time, inside a write transaction the
 * caller holds (the register's): the record sealed under its change's sequence number (a
 * build wrote each with 0, so no nonce repeats under the build's key), the lookup keys
 * that lead to it moved with it, and the count of citizens on record.
 */
export class RecordWriter {
  private readonly codec: RecordCodec;
  private readonly seal: RecordSeal | undefined;
  private readonly postings: PostingSeal;
  readonly hash: KeyHasher;

  constructor(
    private readonly dbs: WritableDbs,
    meta: IndexMeta,
    secret: Secret,
  ) {
    const salt = Buffer.from(meta.salt, 'hex');
    const dictionary = openDictionary(secret.bytes, salt, meta.dictionary);
    this.codec = new RecordCodec(dictionary);
    this.postings = new PostingSeal(secret.bytes, dictionary);
    this.seal = meta.sealed === false ? undefined : new RecordSeal(secret.bytes, salt, ID_KEY_BYTES);
    this.hash = keyHasher(secret.bytes);
  }

  /** The key a citizen's record is filed under. */
  recordKey(idNumber: string): Buffer {
    return this.hash(idKeyText(idNumber), ID_KEY_BYTES);
  }

  /** Citizens on record now. Read in each transaction: another process (`idv apply`) may write too. */
  get records(): number {
    return recordCount(this.dbs);
  }

  /** Sets the count of citizens on record. */
  setRecords(records: number): void {
    this.dbs.meta.putSync(LIVE_RECORDS, records);
  }

  read(recordKey: Buffer): Citizen | undefined {
    const stored = storedRecord(this.dbs, recordKey);
    if (!stored) return undefined;
    return this.codec.decode(this.seal ? this.seal.open(recordKey, stored) : stored);
  }

  /**
   * Writes a citizen's record as it is after a change (null: removed) and moves the lookup
   * keys that changed (a card or a death changes none); the change in the count of records.
   */
  write(recordKey: Buffer, before: Citizen | undefined, after: Citizen | null, seq: number): number {
    // A card or a death leaves what the lookups are made of as it was: nothing to hash or move.
    const same = before && after && before.fullName === after.fullName && before.dateOfBirth === after.dateOfBirth && before.gender === after.gender && before.legacyIdNumber === after.legacyIdNumber;
    const was = before && !same ? this.lookups(before, recordKey) : [];
    const is = after && !same ? this.lookups(after, recordKey) : [];
    const kept = (l: Lookup, among: Lookup[]) => among.some((o) => o.db === l.db && o.key.equals(l.key) && o.value.equals(l.value));
    for (const l of was) if (!kept(l, is)) l.db.removeSync(l.key, l.value);
    if (after) {
      const plain = this.codec.encode(after);
      this.dbs.records.putSync(recordKey, this.seal ? this.seal.seal(recordKey, plain, seq) : Buffer.from(plain));
    } else if (before) this.dbs.records.removeSync(recordKey);
    for (const l of is) if (!kept(l, was)) l.db.putSync(l.key, l.value);
    return (after ? 1 : 0) - (before ? 1 : 0);
  }

  /**
   * `items` in the order of their citizens' record keys, a citizen's own items keeping
   * their order. Changes written in this order share LMDB pages: a batch of random
   * citizens dirties a page (and its parent) per change, one in key order far fewer.
   */
  inKeyOrder<T>(items: T[], idNumberOf: (item: T) => string): T[] {
    const keyed = items.map((item, i) => ({ item, i, key: this.recordKey(idNumberOf(item)) }));
    keyed.sort((a, b) => Buffer.compare(a.key, b.key) || a.i - b.i);
    return keyed.map((k) => k.item);
  }

  /** The lookup entries that lead to a citizen: the name posting, and the legacy number's if any. */
  private lookups(c: Citizen, recordKey: Buffer): Lookup[] {
    const blockKey = nameBlockKey(this.hash, c);
    const entries = [{ db: this.dbs.byName, key: blockKey, value: this.postings.seal(blockKey, c) }];
    if (c.legacyIdNumber) entries.push({ db: this.dbs.byLegacy, key: this.hash(legacyKeyText(c.legacyIdNumber), LOOKUP_KEY_BYTES), value: recordKey });
    return entries;
  }
}
