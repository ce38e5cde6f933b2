import type { Database } from 'lmdb';
import type { Citizen } from '../domain/citizen.js';
import { RecordCodec } from './codec.js';
import { openDictionary } from './dictionary.js';
import { RecordSeal } from './sealing.js';
import { ID_KEY_BYTES, LOOKUP_KEY_BYTES, idKeyText, keyHasher, legacyKeyText, recordBlockText, type KeyHasher } from './keys.js';
import { PostingSeal } from './postings.js';
import { currentBuildDir, openForReading, storedRecord, type IndexDbs, type IndexMeta } from './layout.js';
import { changeLogKey, changeLogSequence, ChangeLogSeal, lastSequence } from './changeLog.js';
import { NameKeyFilter } from './nameFilter.js';
import type { Secret } from './secret.js';

/** What a search judges a person by: name, gender and date of birth as registered. */
export type NamedPerson = Pick<Citizen, 'fullName' | 'gender' | 'dateOfBirth'>;

/** The people of one name block who share a name and gender: what a search decides of one, it decides of all. */
export interface NameGroup {
  person: NamedPerson;
  /** Their ID numbers, in the index's order. */
  idNumbers: string[];
}

/** Keys read from LMDB per slice of a filter filled while serving: a few milliseconds. */
const FILL_SLICE_KEYS = 10_000;

/** Read-only lookups on a published index. One per thread; each opens the shared environment. */
export class IndexReader {
  private readonly codec: RecordCodec;
  private readonly seal: RecordSeal | undefined;
  private readonly postings: PostingSeal;
  private readonly logSeal: ChangeLogSeal;
  /** Which name blocks hold somebody, once filled: exact through change `sequence` of the log. */
  private names?: { filter: NameKeyFilter; sequence: number };
  /** The change log, opened once a change is to be folded in (a build the register never wrote has none). */
  private changes?: Database<Buffer, Buffer>;
  private closed = false;

  private constructor(
    private readonly dbs: IndexDbs,
    private readonly hash: KeyHasher,
    readonly meta: IndexMeta,
    readonly path: string,
    secret: Secret,
  ) {
    const salt = Buffer.from(meta.salt, 'hex');
    const dictionary = openDictionary(secret.bytes, salt, meta.dictionary);
    this.codec = new RecordCodec(dictionary);
    this.postings = new PostingSeal(secret.bytes, dictionary);
    this.seal = meta.sealed === false ? undefined : new RecordSeal(secret.bytes, salt, ID_KEY_BYTES);
    this.logSeal = new ChangeLogSeal(secret.bytes, meta);
  }

  /** The build served now. A long-lived reader registers first and opens its build with openBuild. */
  static open(indexDir: string, secret: Secret): IndexReader {
    const path = currentBuildDir(indexDir);
    if (!path) throw new Error(`no index at ${indexDir} (build one with: idv build)`);
    return IndexReader.openBuild(path, secret);
  }

  /**
   * `values`: which kind of build to accept. A server accepts sealed builds only, or, when
   * it runs unprotected for measurement, unsealed ones only; `idv check` reads either.
   */
  static openBuild(path: string, secret: Secret, opts: { values?: 'sealed' | 'unsealed' | 'either' } = {}): IndexReader {
    const { dbs, meta } = openForReading(path, secret.fingerprint);
    const wanted = opts.values ?? 'sealed';
    const sealed = meta.sealed !== false;
    if (wanted !== 'either' && sealed !== (wanted === 'sealed')) {
      void dbs.env.close();
      throw new Error(sealed ? 'the index is sealed: --unprotected serves only an index built --unsealed, for measurement' : 'the index was built --unsealed, for measurement only: it is served only --unprotected');
    }
    return new IndexReader(dbs, keyHasher(secret.bytes), meta, path, secret);
  }

  byId(idNumber: string): Citizen | undefined {
    return this.byRecordKey(this.hash(idKeyText(idNumber), ID_KEY_BYTES));
  }

  /** Everyone on record with this legacy number (one, but for a number reissued). */
  byLegacyId(legacyId: string): Citizen[] {
    const key = this.hash(legacyKeyText(legacyId), LOOKUP_KEY_BYTES);
    if (this.dbs.byLegacy.getBinaryFast(key) === undefined) return [];
    return [...this.dbs.byLegacy.getValues(key)].map((k) => this.byRecordKey(Buffer.from(k))).filter((c) => c !== undefined);
  }

  /** Everyone filed under any of these name blocks, each opened. */
  byNameBlocks(blockTexts: string[]): Citizen[] {
    return this.byNameGroups(blockTexts).flatMap((g) => g.idNumbers.map((id) => this.byId(id)).filter((c) => c !== undefined));
  }

  /**
   * The people filed under these name blocks, by name and gender, as their postings tell
   * them: a record is opened only for a name its posting does not code. `read` (block
   * texts) carries the blocks read already across calls: each is read once.
   */
  byNameGroups(blockTexts: string[], read = new Set<string>()): NameGroup[] {
    const groups: NameGroup[] = [];
    const filter = this.nameFilter();
    for (const text of blockTexts) {
      if (read.has(text)) continue;
      read.add(text);
      const key = this.hash(text, LOOKUP_KEY_BYTES);
      // Most blocks a search tries hold nobody: the filter says so from memory; without it, a
      // plain read says so far faster than a cursor (with it, that read would only repeat the cursor's descent).
      if (filter ? !filter.mayHold(key) : this.dbs.byName.getBinaryFast(key) === undefined) continue;
      // Everyone of a block was registered with its date. Two blocks whose keys collide (about
      // once in 20,000 builds of 98M) read as one under the date searched; their names tell them apart.
      const dateOfBirth = text.slice(text.lastIndexOf('|') + 1);
      const byName = new Map<string, NameGroup>();
      for (const posting of this.dbs.byName.getValues(key)) {
        const posted = this.postings.open(key, posting);
        // A posting always has its record (one write transaction moves both): were one missing, it is skipped.
        const fullName = posted.fullName ?? this.byId(posted.idNumber)?.fullName;
        if (fullName === undefined) continue;
        const name = `${posted.gender} ${fullName}`;
        let group = byName.get(name);
        if (!group) {
          byName.set(name, (group = { person: { fullName, gender: posted.gender, dateOfBirth }, idNumbers: [] }));
          groups.push(group);
        }
        group.idNumbers.push(posted.idNumber);
      }
    }
    return groups;
  }

  /**
   * Fills the filter of the name blocks that hold somebody, at once (a bench, a test). A
   * server fills it while serving (fillNameFilterWhileServing); until then every block is
   * asked of LMDB.
   */
  fillNameFilter(): void {
    const fill = this.startFilling();
    while (!fill()) {
      // Every slice at once.
    }
  }

  /** Fills the filter in slices of a few milliseconds between requests; resolves with its size once in use, or undefined if the reader was closed first. */
  fillNameFilterWhileServing(): Promise<{ keys: number; bytes: number } | undefined> {
    const fill = this.startFilling();
    return new Promise((resolve, reject) => {
      const slice = () => {
        try {
          // A reader closed (the server moved to a newer build) stops filling.
          if (this.closed) resolve(undefined);
          else if (fill()) resolve({ keys: this.meta.nameKeys, bytes: this.names!.filter.bytes });
          else setImmediate(slice);
        } catch (err) {
          reject(err);
        }
      };
      setImmediate(slice);
    });
  }

  /**
   * One slice at a time, the keys in order from where the last slice stopped. Keys written
   * meanwhile are in the change log after the sequence read first, and are folded in when
   * the filter is used; a key removed meanwhile only costs a lookup.
   */
  private startFilling(): () => boolean {
    const sequence = lastSequence(this.dbs);
    const filter = new NameKeyFilter(Math.max(this.meta.nameKeys, 1) * 1.1);
    let after: Buffer | undefined;
    return () => {
      let n = 0;
      for (const key of this.dbs.byName.getKeys(after ? { start: after, limit: FILL_SLICE_KEYS + 1 } : { limit: FILL_SLICE_KEYS })) {
        if (after && after.equals(key)) continue;
        filter.add(key);
        after = Buffer.from(key);
        n++;
      }
      if (n > 0) return false;
      this.names = { filter, sequence };
      return true;
    };
  }

  /** The filter, with every block the change log added since it was filled: undefined before it is. */
  private nameFilter(): NameKeyFilter | undefined {
    if (!this.names) return undefined;
    const sequence = lastSequence(this.dbs);
    if (sequence > this.names.sequence) this.foldChanges(this.names);
    // Changes the log does not hold (it never drops any): the filter can no longer say "nobody", and is dropped.
    if (this.names.sequence < sequence) this.names = undefined;
    return this.names?.filter;
  }

  /** The name blocks of the citizens changed since `names.sequence`, as the changes left them, into the filter. */
  private foldChanges(names: { filter: NameKeyFilter; sequence: number }): void {
    this.changes ??= this.dbs.env.openDB({ name: 'changes', encoding: 'binary', keyEncoding: 'binary' });
    for (const { key, value } of this.changes.getRange({ start: changeLogKey(names.sequence + 1) })) {
      const seq = changeLogSequence(key);
      const { record } = this.logSeal.opened<{ record: Citizen | null }>(seq, value);
      if (record) names.filter.add(this.hash(recordBlockText(record.fullName, record.dateOfBirth), LOOKUP_KEY_BYTES));
      names.sequence = seq;
    }
  }

  /** The citizen on record under a record key, opened. */
  private byRecordKey(recordKey: Buffer): Citizen | undefined {
    const bytes = storedRecord(this.dbs, recordKey);
    return bytes ? this.decode(recordKey, bytes) : undefined;
  }

  /**
   * Citizens drawn uniformly from the whole index, for load tests: keys are uniform
   * hashes, so the first record at or after a random key is a uniform draw.
   */
  sample(count: number, random: () => number = Math.random): Citizen[] {
    const out: Citizen[] = [];
    const key = Buffer.alloc(ID_KEY_BYTES);
    while (out.length < count) {
      for (let i = 0; i < ID_KEY_BYTES; i++) key[i] = Math.floor(random() * 256);
      for (const { key: found, value } of this.dbs.records.getRange({ start: key, limit: 1 })) out.push(this.decode(found, value));
    }
    return out;
  }

  /** Every citizen on record, in key order (a whole-index comparison, a check). */
  *citizens(): Generator<Citizen> {
    for (const { key, value } of this.dbs.records.getRange()) yield this.decode(key, value);
  }

  /** A stored value opened and decoded; one that does not open under its key throws SealBrokenError. */
  private decode(recordKey: Uint8Array, sealed: Uint8Array): Citizen {
    return this.codec.decode(this.seal ? this.seal.open(recordKey, sealed) : sealed);
  }

  close(): Promise<void> {
    this.closed = true;
    return this.dbs.env.close();
  }
}
