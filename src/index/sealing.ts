import { hkdfSync, randomBytes } from 'node:crypto';
import sodium from 'libsodium-wrappers';

// libsodium is WebAssembly, made ready once per thread before anything seals or opens.
await sodium.ready;

/**
 * Encryption at rest. A copy of an index directory without the secret must reveal
 * nobody, so every record value, and the dictionary its names are coded with, is sealed
 * with XChaCha20-Poly1305 (libsodium; ChaCha20-Poly1305 with a 24-byte nonce).
 * Node's own AES-256-GCM costs ~3.3 µs a call for a 40-byte record (a cipher object per
 * message); libsodium's XChaCha20-Poly1305 costs ~0.9 µs, on every lookup and at build.
 *
 * Records: the key is derived from the index secret and the build's salt (random, kept
 * in the metadata), so every build has its own key. The record key (the keyed hash of the
 * ID number) is the associated data: a value moved under another citizen's key does not
 * open. The nonce is the record key followed by the sequence number of the write: a build
 * writes sequence 0 once per record key, and a later change to a record must seal with
 * its own, never reused, number; so no nonce repeats under one key.
 *
 *   value = n (1 byte) | sequence (n bytes, big-endian, none for 0) | ciphertext | tag (16)
 */
export const TAG_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES;
const NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
export const SALT_BYTES = 16;
const MAX_SEQUENCE_BYTES = 6;

export class SealBrokenError extends Error {
  readonly code = 'SEAL_BROKEN';
  constructor(what: string) {
    super(`${what} does not open under this secret: the index was altered, or belongs to another secret`);
  }
}

const deriveKey = (secret: Buffer, salt: Buffer, purpose: string) => new Uint8Array(hkdfSync('sha256', secret, salt, `idv/${purpose}/xchacha20-poly1305/v1`, 32));

export const newSalt = () => randomBytes(SALT_BYTES);

export class RecordSeal {
  private readonly key: Uint8Array;
  // Record key, then the sequence as 8 bytes, then zeros: rewritten per call, never shared across threads.
  private readonly nonce = Buffer.alloc(NONCE_BYTES);
  // Opened values are copied here: msgpackr decodes a view of one long-lived buffer ~1 µs
  // faster than a fresh array per record (it keeps its DataView while the buffer is the same).
  private readonly opened = Buffer.allocUnsafe(64 * 1024);

  /** `purpose`: what is sealed; each purpose has its own key, so nonces of two purposes never meet. */
  constructor(secret: Buffer, salt: Buffer, private readonly recordKeyBytes: number, purpose: 'records' | 'changes' = 'records') {
    if (recordKeyBytes + 8 > NONCE_BYTES) throw new RangeError('a record key and a sequence must fit in the nonce');
    this.key = deriveKey(secret, salt, purpose);
  }

  seal(recordKey: Uint8Array, plain: Uint8Array, sequence = 0): Buffer {
    const head = sequenceHead(sequence);
    const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, recordKey, null, this.nonceFor(recordKey, sequence), this.key);
    const out = Buffer.allocUnsafe(head.length + sealed.length);
    out.set(head, 0);
    out.set(sealed, head.length);
    return out;
  }

  /** The plain value: a view valid until the next call, to be decoded at once. */
  open(recordKey: Uint8Array, sealed: Uint8Array): Uint8Array {
    const n = sealed[0];
    if (n > MAX_SEQUENCE_BYTES || sealed.length < 1 + n + TAG_BYTES) throw new SealBrokenError('a record');
    let sequence = 0;
    for (let i = 1; i <= n; i++) sequence = sequence * 256 + sealed[i];
    let plain: Uint8Array;
    try {
      plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed.subarray(1 + n), recordKey, this.nonceFor(recordKey, sequence), this.key);
    } catch {
      throw new SealBrokenError('a record');
    }
    if (plain.length > this.opened.length) return plain;
    this.opened.set(plain);
    return this.opened.subarray(0, plain.length);
  }

  private nonceFor(recordKey: Uint8Array, sequence: number): Buffer {
    if (recordKey.length !== this.recordKeyBytes) throw new RangeError(`a record key is ${this.recordKeyBytes} bytes`);
    this.nonce.set(recordKey, 0);
    this.nonce.writeBigUInt64BE(BigInt(sequence), recordKey.length);
    return this.nonce;
  }
}

function sequenceHead(sequence: number): Buffer {
  if (!Number.isSafeInteger(sequence) || sequence < 0 || sequence >= 2 ** (8 * MAX_SEQUENCE_BYTES)) throw new RangeError('a write sequence is an integer from 0 to 2^48 - 1');
  const bytes: number[] = [];
  for (let s = sequence; s > 0; s = Math.floor(s / 256)) bytes.unshift(s % 256);
  return Buffer.from([bytes.length, ...bytes]);
}

/**
 * A one-off blob (the dictionary): a random nonce kept in front, its name as associated
 * data so one blob cannot stand for another.
 *   blob = nonce (24) | ciphertext | tag (16)
 */
export function sealBlob(secret: Buffer, salt: Buffer, name: string, plain: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, Buffer.from(name), null, nonce, deriveKey(secret, salt, 'metadata'));
  return Buffer.concat([nonce, sealed]);
}

export function openBlob(secret: Buffer, salt: Buffer, name: string, blob: Buffer): Buffer {
  if (blob.length < NONCE_BYTES + TAG_BYTES) throw new SealBrokenError(`the ${name}`);
  try {
    const plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, blob.subarray(NONCE_BYTES), Buffer.from(name), blob.subarray(0, NONCE_BYTES), deriveKey(secret, salt, 'metadata'));
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  } catch {
    throw new SealBrokenError(`the ${name}`);
  }
}
