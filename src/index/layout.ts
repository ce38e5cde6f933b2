import { open, type Database, type RootDatabase } from 'lmdb';
import { chmodSync, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FORMAT_VERSION } from './codec.js';

/**
 * An index directory holds complete builds and a `current` symlink to the one served:
 *
 *   DIR/current -> build-20261126T213000Z
 *   DIR/build-20261126T213000Z/index.mdb
 *   DIR/build-....partial/          (a build in progress, or one that was killed)
 *   DIR/build.lock                  (held by the one build running; see buildLock.ts)
 *   DIR/readers/PID-N.json          (a process reading a build; see readers.ts)
 *
 * A build fills a `.partial` directory, renames it when complete, and then replaces
 * the symlink with rename(2), which is atomic: a reader sees the old build or the new.
 * Everything is created readable by its owner only, as the secret is.
 */
export const CURRENT = 'current';
export const DB_FILE = 'index.mdb';
const PARTIAL_SUFFIX = '.partial';
export const OWNER_ONLY_DIR = 0o700;
export const OWNER_ONLY_FILE = 0o600;

export const isPartialName = (name: string) => name.startsWith('build-') && name.endsWith(PARTIAL_SUFFIX);
export const isBuildName = (name: string) => /^build-[0-9TZ-]+$/.test(name);

/** Creates the index directory owner-only; one that exists is tightened to owner-only. */
export function ensureIndexDir(indexDir: string): void {
  mkdirSync(indexDir, { recursive: true, mode: OWNER_ONLY_DIR });
  chmodSync(indexDir, OWNER_ONLY_DIR);
}

export interface IndexMeta {
  formatVersion: number;
  secretFingerprint: string;
  records: number;
  nameKeys: number;
  legacyKeys: number;
  /** Record links under legacy numbers (a number held by two citizens has two). */
  legacyLinks?: number;
  rejects: number;
  builtAt: string;
  source: string;
  sourceSha256?: string;
  sourceBytes?: number;
  /** Records read from the source: non-blank lines, or CSV rows after the header. */
  sourceRecords?: number;
  rejectsFile?: string;
  /** Hex: with the secret, makes the keys this build's values and dictionary are sealed under (sealing.ts). */
  salt: string;
  /** false for a build made `--unsealed`, for measurement: its record values are plain msgpack. */
  sealed?: false;
  /** The words and places the record codec stores as integers, sealed (dictionary.ts). */
  dictionary: string;
  /**
   * The register's changes this build's source holds: those of build `build` through
   * sequence `through` (`idv build --includes-changes N`). Later changes of that build are
   * carried over into this one (RegisterWriter.carryFrom).
   */
  changesFrom?: { build: string; through: number };
}

export interface IndexDbs {
  env: RootDatabase;
  records: Database<Buffer, Buffer>;
  byName: Database<Buffer, Buffer>;
  byLegacy: Database<Buffer, Buffer>;
  meta: Database<unknown, string>;
}

/** A build opened by the register's one writer (src/register): the change log and the batches applied, besides. */
export interface WritableDbs extends IndexDbs {
  /** Sequence number (8 bytes, big-endian) → the change as applied, sealed. */
  changes: Database<Buffer, Buffer>;
  /** Keyed hash of (client, idempotency key) → the batch's answer. */
  applied: Database<unknown, Buffer>;
}

/**
 * A record's stored bytes, without copying: a view valid until the next read. lmdb's
 * getBinaryFast hands back its shared read buffer (16 MiB) with `length` overridden to the
 * value's size; Node 22 and later take subarray, set and friends from the array's own
 * length, so a value used as it comes would run on to the buffer's end (and not open).
 */
export function storedRecord(dbs: IndexDbs, recordKey: Buffer): Buffer | undefined {
  const bytes = dbs.records.getBinaryFast(recordKey);
  return bytes && bytes.subarray(0, bytes.length);
}

// Address space only; the file grows with the data. 64 GiB leaves room for 98M records.
const MAP_SIZE = 64 * 1024 ** 3;

export function openDbs(dir: string, mode: 'build' | 'read'): IndexDbs {
  return openEnv(dir, mode);
}

/**
 * The served build opened for changes: each commit is flushed to disk before it returns
 * (no overlapping sync), so a change acknowledged is a change kept.
 */
export function openWritable(dir: string): WritableDbs {
  const dbs = openEnv(dir, 'write');
  const binary = { encoding: 'binary', keyEncoding: 'binary' } as const;
  return { ...dbs, changes: dbs.env.openDB({ name: 'changes', ...binary }), applied: dbs.env.openDB({ name: 'applied', encoding: 'json', keyEncoding: 'binary' }) };
}

function openEnv(dir: string, mode: 'build' | 'read' | 'write'): IndexDbs {
  const env = open({
    path: join(dir, DB_FILE),
    // Not in lmdb-js's typings, but read by its native open (mdb_env_open's mode).
    ...{ permissionsMode: OWNER_ONLY_FILE },
    maxDbs: 8,
    mapSize: MAP_SIZE,
    readOnly: mode === 'read',
    // A build writes into a fresh directory that is only published once complete and
    // flushed, so a crash mid-build loses nothing that matters.
    noSync: mode === 'build',
    ...(mode === 'write' ? { overlappingSync: false } : {}),
    maxReaders: 256,
  });
  const binary = { encoding: 'binary', keyEncoding: 'binary' } as const;
  return {
    env,
    records: env.openDB({ name: 'records', ...binary }),
    byName: env.openDB({ name: 'byName', dupSort: true, ...binary }),
    byLegacy: env.openDB({ name: 'byLegacy', dupSort: true, ...binary }),
    meta: env.openDB({ name: 'meta', encoding: 'json' }),
  };
}

export function currentBuildDir(indexDir: string): string | undefined {
  const link = join(indexDir, CURRENT);
  return existsSync(link) ? realpathSync(link) : undefined;
}

/**
 * The count of citizens once the register has changed it. Kept under a key of its own: the
 * metadata record holds the sealed dictionary (~15 KB), and rewriting it with every batch
 * of changes would parse and write it again each time.
 */
export const LIVE_RECORDS = 'records';

export function readMeta(dbs: IndexDbs): IndexMeta {
  const meta = dbs.meta.get('meta') as IndexMeta | undefined;
  if (!meta) throw new Error('index has no metadata: it is not a complete build');
  const live = liveRecords(dbs);
  return live === undefined ? meta : { ...meta, records: live };
}

const liveRecords = (dbs: IndexDbs) => dbs.meta.get(LIVE_RECORDS) as number | undefined;

/** The count of citizens on record now, without reading the metadata record once the register keeps the count. */
export const recordCount = (dbs: IndexDbs): number => liveRecords(dbs) ?? readMeta(dbs).records;

/** The format of the served build, or undefined when there is none. */
export async function servedFormat(indexDir: string): Promise<number | undefined> {
  const path = currentBuildDir(indexDir);
  if (!path) return undefined;
  const dbs = openDbs(path, 'read');
  try {
    return readMeta(dbs).formatVersion;
  } finally {
    // Closed before anything opens the same file again in this process.
    await dbs.env.close();
  }
}

/** Opens a published build and checks it belongs to this secret and format. */
export function openForReading(path: string, secretFingerprint: string): { dbs: IndexDbs; meta: IndexMeta } {
  return checked(openDbs(path, 'read'), secretFingerprint);
}

/** The same checks, for the register's writer. */
export function openForWriting(path: string, secretFingerprint: string): { dbs: WritableDbs; meta: IndexMeta } {
  return checked(openWritable(path), secretFingerprint);
}

function checked<D extends IndexDbs>(dbs: D, secretFingerprint: string): { dbs: D; meta: IndexMeta } {
  const meta = readMeta(dbs);
  if (meta.formatVersion !== FORMAT_VERSION) {
    dbs.env.close();
    throw new Error(`index format ${meta.formatVersion} is not the supported format ${FORMAT_VERSION}: rebuild it`);
  }
  if (meta.secretFingerprint !== secretFingerprint) {
    dbs.env.close();
    throw new Error('index was built with another secret (fingerprints differ): refusing to open it');
  }
  return { dbs, meta };
}

/**
 * A fresh directory to fill, in an index directory that exists (ensureIndexDir). The
 * caller holds the build lock, so a `.partial` directory found here was left by a
 * killed run and is removed.
 */
export function startBuildDir(indexDir: string, now = new Date()): { partial: string; final: string } {
  for (const entry of readdirSync(indexDir)) {
    if (isPartialName(entry)) rmSync(join(indexDir, entry), { recursive: true, force: true });
  }
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  // Two builds within one second (a rebuild right after a build) get the next free name.
  for (let n = 1; ; n++) {
    const final = join(indexDir, n === 1 ? `build-${stamp}` : `build-${stamp}-${n}`);
    if (existsSync(final)) continue;
    try {
      mkdirSync(final + PARTIAL_SUFFIX, { mode: OWNER_ONLY_DIR });
      return { partial: final + PARTIAL_SUFFIX, final };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Publishes a finished build. The previous one stays on disk: a server may still read
 * it; removeUnusedBuilds deletes it once nobody does.
 */
export function publishBuild(indexDir: string, partial: string, final: string): void {
  renameSync(partial, final);
  const tmpLink = join(indexDir, `${CURRENT}.${process.pid}.tmp`);
  rmSync(tmpLink, { force: true });
  symlinkSync(basename(final), tmpLink); // relative: the index directory can be moved
  renameSync(tmpLink, join(indexDir, CURRENT));
}
