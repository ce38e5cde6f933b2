import type { Citizen } from '../domain/citizen.js';
import { decodeCitizen } from './codec.js';
import { idKeyText, keyHasher, legacyKeyText, type KeyHasher } from './keys.js';
import { openForReading, type IndexDbs, type IndexMeta } from './layout.js';
import type { Secret } from './secret.js';

/** Read-only lookups on a published index. One per thread; each opens the shared environment. */
export class IndexReader {
  private constructor(
    private readonly dbs: IndexDbs,
    private readonly hash: KeyHasher,
    readonly meta: IndexMeta,
    readonly path: string,
  ) {}

  static open(indexDir: string, secret: Secret): IndexReader {
    const { dbs, meta, path } = openForReading(indexDir, secret.fingerprint);
    return new IndexReader(dbs, keyHasher(secret.bytes), meta, path);
  }

  byId(idNumber: string): Citizen | undefined {
    const bytes = this.dbs.records.getBinaryFast(this.hash(idKeyText(idNumber)));
    return bytes ? decodeCitizen(bytes) : undefined;
  }

  byLegacyId(legacyId: string): Citizen[] {
    return this.follow(this.dbs.byLegacy, [legacyKeyText(legacyId)]);
  }

  /** Everyone filed under any of these name blocks, each once. */
  byNameBlocks(blockTexts: string[]): Citizen[] {
    return this.follow(this.dbs.byName, blockTexts);
  }

  close(): Promise<void> {
    return this.dbs.env.close();
  }

  private follow(db: IndexDbs['byName'], keyTexts: string[]): Citizen[] {
    const seen = new Set<string>();
    const found: Citizen[] = [];
    for (const text of keyTexts) {
      for (const recordKey of db.getValues(this.hash(text))) {
        const hex = recordKey.toString('hex');
        if (seen.has(hex)) continue;
        seen.add(hex);
        const bytes = this.dbs.records.getBinaryFast(recordKey);
        if (bytes) found.push(decodeCitizen(bytes));
      }
    }
    return found;
  }
}
