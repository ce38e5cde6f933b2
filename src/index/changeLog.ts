import type { IndexDbs, IndexMeta } from './layout.js';
import { ID_KEY_BYTES } from './keys.js';
import { RecordSeal } from './sealing.js';

/**
 * A build's change log, as both its sides read it: the register's writer, which logs each
 * change sealed under its sequence number, and a reader, which folds the changes since a
 * point into what it keeps in memory (reader.ts, the name filter).
 */

/** The metadata key of the last change applied (a number; absent: none). */
export const SEQUENCE_KEY = 'sequence';

/** The last change applied to a build: 0 when none. */
export const lastSequence = (dbs: IndexDbs): number => (dbs.meta.get(SEQUENCE_KEY) as number | undefined) ?? 0;

/** The 12-byte key a logged change is sealed under: its sequence number, big-endian, at the end. */
export function changeLogKey(seq: number): Buffer {
  const key = Buffer.alloc(ID_KEY_BYTES);
  key.writeBigUInt64BE(BigInt(seq), ID_KEY_BYTES - 8);
  return key;
}

/** The sequence number a change-log key holds. */
export const changeLogSequence = (key: Buffer): number => Number(key.readBigUInt64BE(ID_KEY_BYTES - 8));

/** Seals and opens a build's logged changes (JSON) under a key of their own; an unsealed build keeps them plain. */
export class ChangeLogSeal {
  private readonly seal: RecordSeal | undefined;

  constructor(secret: Buffer, meta: Pick<IndexMeta, 'sealed' | 'salt'>) {
    this.seal = meta.sealed === false ? undefined : new RecordSeal(secret, Buffer.from(meta.salt, 'hex'), ID_KEY_BYTES, 'changes');
  }

  sealed(seq: number, change: unknown): Buffer {
    const plain = Buffer.from(JSON.stringify(change));
    return this.seal ? this.seal.seal(changeLogKey(seq), plain, seq) : plain;
  }

  opened<T>(seq: number, sealed: Uint8Array): T {
    const plain = this.seal ? this.seal.open(changeLogKey(seq), sealed) : sealed;
    return JSON.parse(Buffer.from(plain).toString('utf8')) as T;
  }
}
