import type { Citizen } from '../domain/citizen.js';
import { RecordCodec } from './codec.js';
import { Dictionary } from './dictionary.js';
import { ID_KEY_BYTES, LOOKUP_KEY_BYTES, idKeyText, keyHasher, legacyKeyText, type KeyHasher } from './keys.js';
import { currentBuildDir, openForReading, type IndexDbs, type IndexMeta } from './layout.js';
import type { Secret } from './secret.js';
import { CandidateRefs } from '../verification/candidateRef.js';

/** Read-only lookups on a published index. One per thread; each opens the shared environment. */
export class IndexReader {
  private readonly codec: RecordCodec;
  /** Seals the people a search finds into references only the searching client can use. */
  readonly candidateRefs: CandidateRefs;

  private constructor(
    private readonly dbs: IndexDbs,
    private readonly hash: KeyHasher,
    readonly meta: IndexMeta,
    readonly path: string,
    secret: Secret,
  ) {
    this.codec = new RecordCodec(new Dictionary(meta.dictionary));
    this.candidateRefs = new CandidateRefs(secret.bytes);
  }

  /** The build served now. A long-lived reader registers first and opens its build with openBuild. */
  static open(indexDir: string, secret: Secret): IndexReader {
    const path = currentBuildDir(indexDir);
    if (!path) throw new Error(`no index at ${indexDir} (build one with: idv build)`);
    return IndexReader.openBuild(path, secret);
  }

  static openBuild(path: string, secret: Secret): IndexReader {
    const { dbs, meta } = openForReading(path, secret.fingerprint);
    return new IndexReader(dbs, keyHasher(secret.bytes), meta, path, secret);
  }

  byId(idNumber: string): Citizen | undefined {
    const bytes = this.dbs.records.getBinaryFast(this.hash(idKeyText(idNumber), ID_KEY_BYTES));
    return bytes ? this.codec.decode(bytes) : undefined;
  }

  byLegacyId(legacyId: string): Citizen[] {
    return this.follow(this.dbs.byLegacy, [legacyKeyText(legacyId)]);
  }

  /** Everyone filed under any of these name blocks, each once. */
  byNameBlocks(blockTexts: string[]): Citizen[] {
    return this.follow(this.dbs.byName, blockTexts);
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
      for (const { value } of this.dbs.records.getRange({ start: key, limit: 1 })) out.push(this.codec.decode(value));
    }
    return out;
  }

  close(): Promise<void> {
    return this.dbs.env.close();
  }

  private follow(db: IndexDbs['byName'], keyTexts: string[]): Citizen[] {
    const seen = new Set<string>();
    const found: Citizen[] = [];
    for (const text of keyTexts) {
      for (const recordKey of db.getValues(this.hash(text, LOOKUP_KEY_BYTES))) {
        const hex = recordKey.toString('hex');
        if (seen.has(hex)) continue;
        seen.add(hex);
        const bytes = this.dbs.records.getBinaryFast(recordKey);
        if (bytes) found.push(this.codec.decode(bytes));
      }
    }
    return found;
  }
}
