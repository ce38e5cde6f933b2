import type { Citizen } from '../domain/citizen.js';
import { RecordCodec } from './codec.js';
import { openDictionary } from './dictionary.js';
import { RecordSeal } from './sealing.js';
import { ID_KEY_BYTES, LOOKUP_KEY_BYTES, idKeyText, keyHasher, legacyKeyText, type KeyHasher } from './keys.js';
import { currentBuildDir, openForReading, storedRecord, type IndexDbs, type IndexMeta } from './layout.js';
import type { Secret } from './secret.js';

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
    const key = this.hash(idKeyText(idNumber), ID_KEY_BYTES);
    const bytes = storedRecord(this.dbs, key);
    return bytes ? this.decode(key, bytes) : undefined;
  }

  byLegacyId(legacyId: string): Citizen[] {
    return this.follow(this.dbs.byLegacy, [legacyKeyText(legacyId)]);
  }

  /** Everyone filed under any of these name blocks, each once; `seen` (record keys, hex) carries who was found already across calls. */
  byNameBlocks(blockTexts: string[], seen = new Set<string>()): Citizen[] {
    return this.follow(this.dbs.byName, blockTexts, seen);
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

  private follow(db: IndexDbs['byName'], keyTexts: string[], seen = new Set<string>()): Citizen[] {
    const found: Citizen[] = [];
    for (const text of keyTexts) {
      const key = this.hash(text, LOOKUP_KEY_BYTES);
      // Most keys a search tries lead nowhere: a plain read answers that far faster than a cursor.
      if (db.getBinaryFast(key) === undefined) continue;
      for (const recordKey of db.getValues(key)) {
        const hex = recordKey.toString('hex');
        if (seen.has(hex)) continue;
        seen.add(hex);
        const bytes = storedRecord(this.dbs, recordKey);
        if (bytes) found.push(this.decode(recordKey, bytes));
      }
    }
    return found;
  }
}
