import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writer } from './stream.js';

/**
 * Which primary this index directory is: its term (epoch) and a random id, kept beside the
 * builds (not in them, so a snapshot of a build carries no identity). Written when an
 * instance first publishes to an empty stream, and when it is promoted.
 */
export const IDENTITY_FILE = 'primary.json';

export function readIdentity(indexDir: string): Writer | undefined {
  try {
    const { epoch, primary } = JSON.parse(readFileSync(join(indexDir, IDENTITY_FILE), 'utf8')) as Writer;
    return { epoch, primary };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${join(indexDir, IDENTITY_FILE)}: ${(err as Error).message}`);
  }
}

/** A new identity of the given term, written whole (a temporary file renamed) before it is used. */
export function newIdentity(indexDir: string, epoch: number): Writer {
  const identity: Writer = { epoch, primary: randomBytes(8).toString('hex') };
  const path = join(indexDir, IDENTITY_FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(identity) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return identity;
}
