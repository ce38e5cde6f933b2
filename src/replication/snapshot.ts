import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BuildLock } from '../index/buildLock.js';
import { DB_FILE, ensureIndexDir, openForReading, OWNER_ONLY_DIR, publishBuild } from '../index/layout.js';
import { ReaderRegistration } from '../index/readers.js';
import type { Secret } from '../index/secret.js';
import { RegisterWriter } from '../register/writer.js';

/** What a snapshot holds: the build, its register's last change, and where it stood in the change stream. */
export interface SnapshotReport {
  build: string;
  out: string;
  sequence: number;
  streamMessage: number;
  bytes: number;
  seconds: number;
}

/**
 * A consistent copy of the build an index directory serves, taken while it serves (one
 * LMDB read transaction: the copy is the build as of one commit), published in `outDir`
 * under the same build name. A replica is started from it: it holds the secret's
 * fingerprint, the register's log and its position in the change stream, and no
 * primary's identity (identity.ts keeps that beside the builds).
 */
export async function snapshotBuild(indexDir: string, outDir: string, secret: Secret): Promise<SnapshotReport> {
  const started = Date.now();
  const registration = ReaderRegistration.register(indexDir);
  try {
    const build = basename(registration.buildPath);
    ensureIndexDir(outDir);
    const lock = BuildLock.acquire(outDir, 'snapshot');
    try {
      const final = join(outDir, build);
      if (existsSync(final)) throw new Error(`${final} exists: snapshot into a directory that does not hold ${build}`);
      const partial = `${final}.partial`;
      rmSync(partial, { recursive: true, force: true });
      mkdirSync(partial, { mode: OWNER_ONLY_DIR });
      const { dbs } = openForReading(registration.buildPath, secret.fingerprint);
      try {
        await dbs.env.backup(join(partial, DB_FILE), false);
      } finally {
        await dbs.env.close();
      }
      // What the copy holds, read from the copy: the source has moved on since.
      const copy = RegisterWriter.open(partial, secret);
      const sequence = copy.lastSequence;
      const streamMessage = copy.streamPosition?.message ?? 0;
      await copy.close();
      publishBuild(outDir, partial, final);
      const bytes = statSync(join(final, DB_FILE)).size;
      return { build, out: final, sequence, streamMessage, bytes, seconds: +((Date.now() - started) / 1000).toFixed(1) };
    } finally {
      lock.release();
    }
  } finally {
    registration.release();
  }
}
