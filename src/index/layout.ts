import { open, type Database, type RootDatabase } from 'lmdb';
import { existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FORMAT_VERSION } from './codec.js';
import type { DictionaryData } from './dictionary.js';

/**
 * An index directory holds complete builds and a `current` symlink to the one served:
 *
 *   DIR/current -> build-20261126T213000Z
 *   DIR/build-20261126T213000Z/index.mdb
 *   DIR/build-....partial/          (a build in progress, or one that was killed)
 *
 * A build fills a `.partial` directory, renames it when complete, and then replaces
 * the symlink with rename(2), which is atomic: a reader sees the old build or the new.
 */
export const CURRENT = 'current';
export const DB_FILE = 'index.mdb';
const PARTIAL_SUFFIX = '.partial';

export interface IndexMeta {
  formatVersion: number;
  secretFingerprint: string;
  records: number;
  nameKeys: number;
  legacyKeys: number;
  rejects: number;
  builtAt: string;
  source: string;
  sourceSha256?: string;
  /** The words and places the record codec stores as integers. */
  dictionary: DictionaryData;
}

export interface IndexDbs {
  env: RootDatabase;
  records: Database<Buffer, Buffer>;
  byName: Database<Buffer, Buffer>;
  byLegacy: Database<Buffer, Buffer>;
  meta: Database<unknown, string>;
}

// Address space only; the file grows with the data. 64 GiB leaves room for 98M records.
const MAP_SIZE = 64 * 1024 ** 3;

export function openDbs(dir: string, mode: 'build' | 'read'): IndexDbs {
  const env = open({
    path: join(dir, DB_FILE),
    maxDbs: 8,
    mapSize: MAP_SIZE,
    readOnly: mode === 'read',
    // A build writes into a fresh directory that is only published once complete and
    // flushed, so a crash mid-build loses nothing that matters.
    noSync: mode === 'build',
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

export function readMeta(dbs: IndexDbs): IndexMeta {
  const meta = dbs.meta.get('meta') as IndexMeta | undefined;
  if (!meta) throw new Error('index has no metadata: it is not a complete build');
  return meta;
}

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

/** Opens the served build and checks it belongs to this secret and format. */
export function openForReading(indexDir: string, secretFingerprint: string): { dbs: IndexDbs; meta: IndexMeta; path: string } {
  const path = currentBuildDir(indexDir);
  if (!path) throw new Error(`no index at ${indexDir} (build one with: idv build)`);
  const dbs = openDbs(path, 'read');
  const meta = readMeta(dbs);
  if (meta.formatVersion !== FORMAT_VERSION) {
    dbs.env.close();
    throw new Error(`index format ${meta.formatVersion} is not the supported format ${FORMAT_VERSION}: rebuild it`);
  }
  if (meta.secretFingerprint !== secretFingerprint) {
    dbs.env.close();
    throw new Error('index was built with another secret (fingerprints differ): refusing to open it');
  }
  return { dbs, meta, path };
}

/** Removes builds left `.partial` by a killed run, and returns a fresh one to fill. */
export function startBuildDir(indexDir: string, now = new Date()): { partial: string; final: string } {
  mkdirSync(indexDir, { recursive: true });
  for (const entry of readdirSync(indexDir)) {
    if (entry.endsWith(PARTIAL_SUFFIX)) rmSync(join(indexDir, entry), { recursive: true, force: true });
  }
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  // Two builds within one second (a rebuild right after a build) get the next free name.
  let final = join(indexDir, `build-${stamp}`);
  for (let n = 2; existsSync(final); n++) final = join(indexDir, `build-${stamp}-${n}`);
  const partial = final + PARTIAL_SUFFIX;
  mkdirSync(partial);
  return { partial, final };
}

/** Publishes a finished build and removes the builds no longer referenced. */
export function publishBuild(indexDir: string, partial: string, final: string): void {
  const previous = currentBuildDir(indexDir);
  renameSync(partial, final);
  const tmpLink = join(indexDir, `${CURRENT}.${process.pid}.tmp`);
  rmSync(tmpLink, { force: true });
  symlinkSync(basename(final), tmpLink); // relative: the index directory can be moved
  renameSync(tmpLink, join(indexDir, CURRENT));
  // A server still running on the previous build keeps its open file; unlinking is safe.
  if (previous && previous !== realpathSync(final)) rmSync(previous, { recursive: true, force: true });
}
