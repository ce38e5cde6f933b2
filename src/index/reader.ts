import type { Citizen } from '../domain/citizen.js';
import { RecordCodec } from './codec.js';
import { openDictionary } from './dictionary.js';
import { RecordSeal } from './sealing.js';
import { ID_KEY_BYTES, LOOKUP_KEY_BYTES, POSTING_TAG_BYTES, idKeyText, keyHasher, legacyKeyText, type KeyHasher } from './keys.js';
import { currentBuildDir, openForReading, storedRecord, type IndexDbs, type IndexMeta } from './layout.js';
import type { Secret } from './secret.js';

/**
 * People of one name block who share a posting tag (name and gender): one of them opened,
 * since what a search decides of one it decides of all; the others known by record key.
 */
export interface NameGroup {
  /** The person of `keys[0]`. */
  first: Citizen;
  /** Every member's record key, in the index's order. */
  keys: Buffer[];
}

/** Read-only lookups on a published index. One per thread; each opens the shared environment. */
export class IndexReader {
  private readonly codec: RecordCodec;
  private readonly seal: RecordSeal | undefined;

  private constructor(
    private readonly dbs: IndexDbs,
    private readonly hash: KeyHasher,
    readonly meta: IndexMeta,
    readonly path: string,
    secret: Secret,
  ) {
    const salt = Buffer.from(meta.salt, 'hex');
    this.codec = new RecordCodec(openDictionary(secret.bytes, salt, meta.dictionary));
    this.seal = meta.sealed === false ? undefined : new RecordSeal(secret.bytes, salt, ID_KEY_BYTES);
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
    return this.byNameGroups(blockTexts).flatMap((g) => g.keys.map((k) => this.byRecordKey(k)).filter((c) => c !== undefined));
  }

  /**
   * The people filed under these name blocks, by posting tag, one of each tag opened.
   * `read` (block texts) carries the blocks read already across calls: each is read once.
   */
  byNameGroups(blockTexts: string[], read = new Set<string>()): NameGroup[] {
    const groups: NameGroup[] = [];
    for (const text of blockTexts) {
      if (read.has(text)) continue;
      read.add(text);
      const key = this.hash(text, LOOKUP_KEY_BYTES);
      // Most blocks a search tries hold nobody: a plain read answers that far faster than a cursor.
      if (this.dbs.byName.getBinaryFast(key) === undefined) continue;
      let tag: Buffer | undefined;
      let keys: Buffer[] = [];
      const close = () => {
        const first = this.byRecordKey(keys[0]);
        // A posting always has its record (one write transaction moves both): were one missing, its group is skipped.
        if (first) groups.push({ first, keys });
      };
      // Postings are in tag order: each tag's run is one group.
      for (const posting of this.dbs.byName.getValues(key)) {
        if (tag === undefined || tag.compare(posting, 0, POSTING_TAG_BYTES) !== 0) {
          if (tag !== undefined) close();
          tag = Buffer.from(posting.subarray(0, POSTING_TAG_BYTES));
          keys = [];
        }
        keys.push(Buffer.from(posting.subarray(POSTING_TAG_BYTES)));
      }
      if (tag !== undefined) close();
    }
    return groups;
  }

  /** The citizen on record under a record key, opened. */
  byRecordKey(recordKey: Buffer): Citizen | undefined {
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
    return this.dbs.env.close();
  }
}
