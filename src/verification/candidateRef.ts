import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * A person found by a search, as the client that searched may refer to them: an opaque
 * token, not digits of the ID number (a masked number plus the century, gender and year
 * that the date of birth implies left three digits to guess). The token is the ID number
 * and an expiry sealed with AES-256-GCM under a key derived from the index secret, with
 * the client's id as associated data: it names the person to the service alone, only
 * for that client, for 24 hours. A follow-up verification sends it as `candidateRef`.
 *
 *   token = base64url( version(1) nonce(12) ciphertext(9) tag(16) )
 *   plaintext = ID number as a 40-bit integer (5) | expiry in minutes since the epoch (4)
 */
const VERSION = 1;
const NONCE = 12;
const TAG = 16;
const PLAIN = 9;
export const REF_LIFETIME_MINUTES = 24 * 60;
const TOKEN_BYTES = 1 + NONCE + PLAIN + TAG;

export class CandidateRefs {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    this.key = createHmac('sha256', secret).update('idv/candidate-ref/v1').digest();
  }

  seal(idNumber: string, client: string, now = Date.now()): string {
    const plain = Buffer.alloc(PLAIN);
    plain.writeUIntBE(Number(idNumber), 0, 5);
    plain.writeUInt32BE(Math.floor(now / 60_000) + REF_LIFETIME_MINUTES, 5);
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce).setAAD(Buffer.from(client));
    const sealed = Buffer.concat([Buffer.of(VERSION), nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64url');
  }

  /** The ID number a token names, or undefined when it is not one given to this client, or has expired. */
  open(token: string, client: string, now = Date.now()): string | undefined {
    const bytes = Buffer.from(token, 'base64url');
    if (bytes.length !== TOKEN_BYTES || bytes[0] !== VERSION || bytes.toString('base64url') !== token) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(1, 1 + NONCE)).setAAD(Buffer.from(client));
      decipher.setAuthTag(bytes.subarray(1 + NONCE + PLAIN));
      const plain = Buffer.concat([decipher.update(bytes.subarray(1 + NONCE, 1 + NONCE + PLAIN)), decipher.final()]);
      if (plain.readUInt32BE(5) < Math.floor(now / 60_000)) return undefined;
      return String(plain.readUIntBE(0, 5)).padStart(12, '0');
    } catch {
      return undefined;
    }
  }
}
