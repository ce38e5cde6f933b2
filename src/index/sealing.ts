import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Encryption at rest. A copy of an index directory without the secret must reveal
 * nobody, so every record value, and the dictionary its names are coded with, is sealed
 * with AES-256-GCM.
 *
 * Records: the key is derived from the index secret and the build's salt (random, kept
 * in the metadata), so every build has its own key. The record key (the keyed hash of the
 * ID number) is the associated data: a value moved under another citizen's key does not
 * open. The IV is the record key followed by the sequence number of the write: a build
 * writes sequence 0 once per record key, and a later change to a record must seal with
 * its own, never reused, number; so no IV repeats under one key, which GCM requires.
 * The tag is 12 bytes (96 bits, allowed by NIST SP 800-38D), saving 4 bytes per citizen;
 * forging a value takes write access to the index and 2^96 tries per value.
 *
 *   value = n (1 byte) | sequence (n bytes, big-endian, none for 0) | ciphertext | tag (12)
 */
const ALGORITHM = 'aes-256-gcm';
export const TAG_BYTES = 12;
export const SALT_BYTES = 16;
const MAX_SEQUENCE_BYTES = 6;

export class SealBrokenError extends Error {
  readonly code = 'SEAL_BROKEN';
  constructor(what: string) {
    super(`${what} does not open under this secret: the index was altered, or belongs to another secret`);
  }
}

const deriveKey = (secret: Buffer, salt: Buffer, purpose: string) => Buffer.from(hkdfSync('sha256', secret, salt, `idv/${purpose}/aes-256-gcm/v1`, 32));

export const newSalt = () => randomBytes(SALT_BYTES);

export class RecordSeal {
  private readonly key: Buffer;
  // Record key, then the sequence as 8 bytes: rewritten per call, never shared across threads.
  private readonly iv: Buffer;

  constructor(secret: Buffer, salt: Buffer, recordKeyBytes: number) {
    this.key = deriveKey(secret, salt, 'records');
    this.iv = Buffer.alloc(recordKeyBytes + 8);
  }

  seal(recordKey: Uint8Array, plain: Uint8Array, sequence = 0): Buffer {
    const head = sequenceHead(sequence);
    const cipher = createCipheriv(ALGORITHM, this.key, this.ivFor(recordKey, sequence), { authTagLength: TAG_BYTES });
    cipher.setAAD(recordKey);
    const body = cipher.update(plain);
    cipher.final();
    return Buffer.concat([head, body, cipher.getAuthTag()]);
  }

  open(recordKey: Uint8Array, sealed: Uint8Array): Buffer {
    const n = sealed[0];
    if (n > MAX_SEQUENCE_BYTES || sealed.length < 1 + n + TAG_BYTES) throw new SealBrokenError('a record');
    let sequence = 0;
    for (let i = 1; i <= n; i++) sequence = sequence * 256 + sealed[i];
    const decipher = createDecipheriv(ALGORITHM, this.key, this.ivFor(recordKey, sequence), { authTagLength: TAG_BYTES });
    decipher.setAAD(recordKey);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = decipher.update(sealed.subarray(1 + n, sealed.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      throw new SealBrokenError('a record');
    }
    return plain;
  }

  private ivFor(recordKey: Uint8Array, sequence: number): Buffer {
    this.iv.set(recordKey, 0);
    this.iv.writeBigUInt64BE(BigInt(sequence), recordKey.length);
    return this.iv;
  }
}

function sequenceHead(sequence: number): Buffer {
  if (!Number.isSafeInteger(sequence) || sequence < 0 || sequence >= 2 ** (8 * MAX_SEQUENCE_BYTES)) throw new RangeError('a write sequence is an integer from 0 to 2^48 - 1');
  const bytes: number[] = [];
  for (let s = sequence; s > 0; s = Math.floor(s / 256)) bytes.unshift(s % 256);
  return Buffer.from([bytes.length, ...bytes]);
}

/**
 * A one-off blob (the dictionary): a random 12-byte IV kept in front, its name as
 * associated data so one blob cannot stand for another.
 *   blob = iv (12) | ciphertext | tag (16)
 */
export function sealBlob(secret: Buffer, salt: Buffer, name: string, plain: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, deriveKey(secret, salt, 'metadata'), iv);
  cipher.setAAD(Buffer.from(name));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

export function openBlob(secret: Buffer, salt: Buffer, name: string, blob: Buffer): Buffer {
  if (blob.length < 28) throw new SealBrokenError(`the ${name}`);
  const decipher = createDecipheriv(ALGORITHM, deriveKey(secret, salt, 'metadata'), blob.subarray(0, 12));
  decipher.setAAD(Buffer.from(name));
  decipher.setAuthTag(blob.subarray(blob.length - 16));
  try {
    return Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
  } catch {
    throw new SealBrokenError(`the ${name}`);
  }
}
