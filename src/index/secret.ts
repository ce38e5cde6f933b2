import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Where `build` keeps a secret it creates when given none: beside the index directory,
 * never inside it, so that a copy of the directory holds only sealed data (a demo
 * convenience; production keeps the secret elsewhere, e.g. /etc/idv/secret.hex).
 */
export const defaultSecretPath = (indexDir: string) => `${indexDir.replace(/\/+$/, '')}.secret.hex`;

/** The 32-byte key of every keyed hash in the index. Its file holds 64 hex characters. */
export class Secret {
  private constructor(readonly bytes: Buffer) {}

  static fromHex(hex: string): Secret {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error('a secret is 64 hex characters (32 bytes)');
    return new Secret(Buffer.from(hex, 'hex'));
  }

  /**
   * Reads a secret file, refusing one that any user may read or change: whoever reads it
   * can open every record of the index. Its owner's group may read it (a service group).
   */
  static load(path: string): Secret {
    let text: string;
    let mode: number;
    try {
      mode = statSync(path).mode;
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`cannot read secret file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    if (mode & 0o026) {
      throw new Error(`secret file ${path} may be read or changed by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): make it readable by its owner only (chmod 600 ${path})`);
    }
    const hex = text.endsWith('\n') ? text.slice(0, -1) : text;
    try {
      return Secret.fromHex(hex);
    } catch {
      throw new Error(`secret file ${path} must hold 64 hex characters and an optional trailing newline`);
    }
  }

  /** Creates a new random secret file readable by its owner only (0600). */
  static create(path: string): Secret {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const bytes = randomBytes(32);
    writeFileSync(path, bytes.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return new Secret(bytes);
  }

  static loadOrCreate(path: string): { secret: Secret; created: boolean } {
    if (existsSync(path)) return { secret: Secret.load(path), created: false };
    try {
      return { secret: Secret.create(path), created: true };
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { secret: Secret.load(path), created: false };
      throw err;
    }
  }

  get hex(): string {
    return this.bytes.toString('hex');
  }

  /** Identifies the secret without revealing it: stored in the index, compared at open. */
  get fingerprint(): string {
    return createHmac('sha256', this.bytes).update('idv/secret-fingerprint/v1').digest('hex').slice(0, 16);
  }
}
