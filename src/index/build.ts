import { closeSync, createWriteStream, fchmodSync, fsyncSync, mkdirSync, openSync, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { Secret } from './secret.js';
import { FORMAT_VERSION } from './codec.js';
import { ID_KEY_BYTES as ID, LOOKUP_KEY_BYTES as LOOKUP } from './keys.js';
import { NAME_POSTING_BYTES as POSTING } from './postings.js';
import { Dictionary, sealDictionary } from './dictionary.js';
import { newSalt } from './sealing.js';
import { DB_FILE, ensureIndexDir, openDbs, OWNER_ONLY_DIR, OWNER_ONLY_FILE, publishBuild, startBuildDir, type IndexDbs, type IndexMeta } from './layout.js';
import { BuildLock } from './buildLock.js';
import { removeUnusedBuilds, type Cleanup } from './readers.js';
import { BucketSpill, sortEntries } from './spill.js';
import { type IngestResult, type IngestTask, type IngestWork } from './ingest.js';
import { workerPath } from '../workers.js';

/** Where the records come from: a file (NDJSON or CSV) or the synthetic generator. */
export interface RecordSource {
  description: string;
  /** Expected number of records, for progress; undefined when unknown. */
  expected?: number;
  /** Pieces of work for the ingest workers, in source order. */
  work: AsyncIterable<IngestWork>;
  /** What was read, available once the work is exhausted (files only). */
  summary?: () => SourceSummary;
}

export interface SourceSummary {
  sha256: string;
  bytes: number;
  /** Records read: every one is either in the index or in the rejects file. */
  records: number;
}

export type BuildPhase = 'ingest' | 'write records' | 'write lookups' | 'check';
export type ProgressFn = (phase: BuildPhase, done: number, total: number | undefined) => void;

export interface BuildOptions {
  indexDir: string;
  secret: Secret;
  source: RecordSource;
  rejectsPath: string;
  threads?: number;
  buckets?: number;
  onProgress?: ProgressFn;
  /** false: record values stay plain msgpack, for measuring what sealing costs; such a build is served only unprotected. */
  sealed?: boolean;
  /** The register's changes the source holds (recorded in the metadata; see IndexMeta). */
  changesFrom?: IndexMeta['changesFrom'];
  /** Runs on the finished build, checked and not yet published (the register carries its later changes in). */
  beforePublish?: (path: string) => Promise<void> | void;
}

export interface BuildReport {
  path: string;
  records: number;
  rejects: number;
  nameKeys: number;
  legacyKeys: number;
  seconds: Record<BuildPhase, number>;
  /** Older builds removed after publishing, and those kept because a process still reads them. */
  cleanup: Cleanup;
}

/** What was written disagrees with what the build counted: nothing is published. */
export class BuildCheckError extends Error {
  readonly code = 'BUILD_CHECK_FAILED';
}

// Spilled entry layouts (big-endian line numbers so byte order is line order):
//   record: key(12) line(4) valueLength(2) value
//   link:   kind(1) key(8) posting(15) recordKey(12) line(4)
//           kind 0 = name block, its posting stored; kind 1 = legacy ID, posting zero, the record key stored.
//           The record key tells a rejected duplicate's links; the posting first keeps a block's in their stored order.
const RECORD_HEAD = ID + 6;
const LINK_VALUE = POSTING + ID;
const RECORD_KEY_AT = POSTING;
const LINK_LINE = 1 + LOOKUP + LINK_VALUE;
const LINK_BYTES = LINK_LINE + 4;
const KIND_NAME = 0;
const KIND_LEGACY = 1;

class Rejects {
  count = 0;
  private readonly out: WriteStream;
  constructor(path: string) {
    // Owner-only even when an older rejects file is overwritten: it holds line numbers of the register.
    const fd = openSync(path, 'w', OWNER_ONLY_FILE);
    fchmodSync(fd, OWNER_ONLY_FILE);
    this.out = createWriteStream(path, { fd });
  }
  add(line: number, reason: string): void {
    this.count++;
    this.out.write(JSON.stringify({ line, reason }) + '\n');
  }
  close(): Promise<void> {
    return new Promise((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

function spillBatch(result: IngestResult, records: BucketSpill, links: BucketSpill): void {
  let valueStart = 0;
  for (let k = 0; k < result.count; k++) {
    const key = result.idKeys.subarray(k * ID, (k + 1) * ID);
    const line = result.lineNumbers[k];
    const value = result.values.subarray(valueStart, result.valueEnds[k]);
    valueStart = result.valueEnds[k];
    const [entry, at] = records.reserve(records.bucketOf(key[0]), RECORD_HEAD + value.length);
    entry.set(key, at);
    entry.writeUInt32BE(line, at + ID);
    entry.writeUInt16BE(value.length, at + ID + 4);
    entry.set(value, at + RECORD_HEAD);
    spillLink(links, KIND_NAME, result.nameKeys.subarray(k * LOOKUP, (k + 1) * LOOKUP), result.namePostings.subarray(k * POSTING, (k + 1) * POSTING), key, line);
    if (result.hasLegacy[k]) spillLink(links, KIND_LEGACY, result.legacyKeys.subarray(k * LOOKUP, (k + 1) * LOOKUP), undefined, key, line);
  }
}

/** A link: its lookup key, the name posting (none for a legacy ID), the record key it leads to. */
function spillLink(links: BucketSpill, kind: number, key: Uint8Array, posting: Uint8Array | undefined, recordKey: Uint8Array, line: number): void {
  const [entry, at] = links.reserve(links.bucketOf(key[0]), LINK_BYTES);
  entry[at] = kind;
  entry.set(key, at + 1);
  if (posting) entry.set(posting, at + 1 + LOOKUP);
  else entry.fill(0, at + 1 + LOOKUP, at + 1 + LOOKUP + POSTING);
  entry.set(recordKey, at + 1 + LOOKUP + RECORD_KEY_AT);
  entry.writeUInt32BE(line, at + LINK_LINE);
}

/** Phase 1: parse, check, normalize and hash on worker threads; spill into key buckets. */
async function ingest(opts: BuildOptions, salt: Buffer, records: BucketSpill, links: BucketSpill, rejects: Rejects): Promise<number> {
  const threads = opts.threads ?? 2;
  const pool = new Piscina({ filename: workerPath('ingest'), minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  const inFlight = new Set<Promise<void>>();
  let accepted = 0;
  let seen = 0;
  const currentYear = new Date().getUTCFullYear();
  const secretHex = opts.secret.hex;
  // An empty salt tells the workers to leave values unsealed (an --unsealed build).
  const saltHex = opts.sealed === false ? '' : salt.toString('hex');
  try {
    for await (const work of opts.source.work) {
      const task: IngestTask = { ...work, secretHex, saltHex, currentYear };
      const done = (pool.run(task) as Promise<IngestResult>).then((result) => {
        spillBatch(result, records, links);
        for (const r of result.rejects) rejects.add(r.line, r.reason);
        accepted += result.count;
        seen += result.count + result.rejects.length;
        opts.onProgress?.('ingest', seen, opts.source.expected);
      });
      inFlight.add(done);
      done.finally(() => inFlight.delete(done)).catch(() => {});
      // Bounded: the source is read only as fast as the workers hash it.
      if (inFlight.size >= threads * 2) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await pool.destroy();
  }
  records.finish();
  links.finish();
  return accepted;
}

function entryStarts(data: Buffer, fixedLength?: number): Uint32Array {
  if (fixedLength) return Uint32Array.from({ length: data.length / fixedLength }, (_, i) => i * fixedLength);
  const starts: number[] = [];
  for (let at = 0; at < data.length; at += RECORD_HEAD + data.readUInt16BE(at + ID + 4)) starts.push(at);
  return Uint32Array.from(starts);
}

const APPEND = { append: true };
const APPEND_DUP = { appendDup: true };

/**
 * Phase 2: records in key order, one write transaction per bucket (at 98M a bucket is
 * ~1.5M records, ~90 MB of dirty pages). A repeated ID number keeps its first line and
 * rejects the rest.
 */
function writeRecords(opts: BuildOptions, dbs: IndexDbs, spill: BucketSpill, rejects: Rejects, total: number): Set<string> {
  const dropped = new Set<string>();
  let written = 0;
  for (let b = 0; b < spill.buckets; b++) {
    const data = spill.read(b);
    const starts = entryStarts(data);
    const order = sortEntries(data, starts, ID + 4);
    dbs.env.transactionSync(() => {
      let previous: Buffer | undefined;
      let previousLine = 0;
      for (const i of order) {
        const s = starts[i];
        const key = data.subarray(s, s + ID);
        const line = data.readUInt32BE(s + ID);
        if (previous && previous.equals(key)) {
          rejects.add(line, `duplicate idNumber (first on line ${previousLine})`);
          dropped.add(`${key.toString('hex')}:${line}`);
          continue;
        }
        previous = key;
        previousLine = line;
        dbs.records.putSync(key, data.subarray(s + RECORD_HEAD, s + RECORD_HEAD + data.readUInt16BE(s + ID + 4)), APPEND);
        written++;
      }
    });
    opts.onProgress?.('write records', written, total);
  }
  return dropped;
}

interface LinkCounts {
  nameKeys: number;
  legacyKeys: number;
  nameLinks: number;
  legacyLinks: number;
}

/** Phase 3: the name-block and legacy-ID lookups, each in (key, record key) order, one transaction per bucket. */
function writeLinks(opts: BuildOptions, dbs: IndexDbs, spill: BucketSpill, dropped: Set<string>): LinkCounts {
  const counts = { nameKeys: 0, legacyKeys: 0, nameLinks: 0, legacyLinks: 0 };
  const last: (Buffer | undefined)[] = [undefined, undefined];
  let done = 0;
  for (let b = 0; b < spill.buckets; b++) {
    const data = spill.read(b);
    const starts = entryStarts(data, LINK_BYTES);
    const order = sortEntries(data, starts, LINK_LINE);
    dbs.env.transactionSync(() => {
      for (const i of order) {
        const s = starts[i];
        const kind = data[s];
        const key = data.subarray(s + 1, s + 1 + LOOKUP);
        const value = data.subarray(s + 1 + LOOKUP, s + LINK_LINE);
        const recordKey = value.subarray(RECORD_KEY_AT);
        if (dropped.size && dropped.has(`${recordKey.toString('hex')}:${data.readUInt32BE(s + LINK_LINE)}`)) continue;
        const sameKey = last[kind]?.equals(key) ?? false;
        if (!sameKey) kind === KIND_NAME ? counts.nameKeys++ : counts.legacyKeys++;
        kind === KIND_NAME ? counts.nameLinks++ : counts.legacyLinks++;
        last[kind] = key;
        (kind === KIND_NAME ? dbs.byName : dbs.byLegacy).putSync(key, kind === KIND_NAME ? value.subarray(0, POSTING) : recordKey, sameKey ? APPEND_DUP : APPEND);
      }
    });
    done += starts.length;
    opts.onProgress?.('write lookups', done, undefined);
  }
  return counts;
}

function syncToDisk(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the finished build back as a server will open it, and refuses it unless LMDB
 * holds what the build counted: a record per accepted citizen, a name link per record,
 * the distinct lookup keys, and every source record either indexed or rejected.
 */
async function checkWritten(path: string, meta: IndexMeta, links: LinkCounts): Promise<void> {
  const dbs = openDbs(path, 'read');
  const wrong: string[] = [];
  const expect = (what: string, expected: number, found: number) => {
    if (found !== expected) wrong.push(`${what}: counted ${expected}, found ${found}`);
  };
  try {
    expect('records', meta.records, (dbs.records.getStats() as { entryCount: number }).entryCount);
    expect('name links', meta.records, (dbs.byName.getStats() as { entryCount: number }).entryCount);
    expect('legacy links', links.legacyLinks, (dbs.byLegacy.getStats() as { entryCount: number }).entryCount);
    expect('name keys', meta.nameKeys, dbs.byName.getKeysCount());
    expect('legacy keys', meta.legacyKeys, dbs.byLegacy.getKeysCount());
    expect('metadata', 1, dbs.meta.get('meta') === undefined ? 0 : 1);
    if (meta.sourceRecords !== undefined) expect('source records indexed or rejected', meta.sourceRecords, meta.records + meta.rejects);
  } finally {
    await dbs.env.close();
  }
  if (wrong.length) throw new BuildCheckError(`the build in ${path} does not hold what it counted (${wrong.join('; ')}): not published`);
}

/**
 * Builds an index into a new directory and publishes it only when complete and checked.
 * The index directory is locked for the whole build, so a second build into it stops
 * at once; a killed build leaves a `.partial` directory that the next build removes.
 */
export async function buildIndex(opts: BuildOptions): Promise<BuildReport> {
  ensureIndexDir(opts.indexDir);
  const lock = BuildLock.acquire(opts.indexDir, 'build');
  try {
    return await buildLocked(opts, lock);
  } finally {
    lock.release();
  }
}

async function buildLocked(opts: BuildOptions, lock: BuildLock): Promise<BuildReport> {
  const { partial, final } = startBuildDir(opts.indexDir);
  const spillDir = join(partial, 'spill');
  mkdirSync(spillDir, { mode: OWNER_ONLY_DIR });
  const buckets = opts.buckets ?? 64;
  const records = new BucketSpill(spillDir, 'records', buckets);
  const links = new BucketSpill(spillDir, 'links', buckets);
  const rejects = new Rejects(opts.rejectsPath);
  const seconds = {} as Record<BuildPhase, number>;
  const timed = async <T>(phase: BuildPhase, fn: () => T | Promise<T>): Promise<T> => {
    const start = performance.now();
    const out = await fn();
    seconds[phase] = (performance.now() - start) / 1000;
    return out;
  };

  // Every build seals under a key of its own (sealing.ts), so record IVs never repeat across builds.
  const salt = newSalt();
  const accepted = await timed('ingest', () => ingest(opts, salt, records, links, rejects));
  const dbs = openDbs(partial, 'build');
  const dropped = await timed('write records', () => writeRecords(opts, dbs, records, rejects, accepted));
  const counts = await timed('write lookups', () => writeLinks(opts, dbs, links, dropped));
  await rejects.close();
  const source = opts.source.summary?.();
  const meta: IndexMeta = {
    formatVersion: FORMAT_VERSION,
    secretFingerprint: opts.secret.fingerprint,
    records: accepted - dropped.size,
    nameKeys: counts.nameKeys,
    legacyKeys: counts.legacyKeys,
    legacyLinks: counts.legacyLinks,
    rejects: rejects.count,
    builtAt: new Date().toISOString(),
    source: opts.source.description,
    sourceSha256: source?.sha256,
    sourceBytes: source?.bytes,
    sourceRecords: source?.records,
    rejectsFile: opts.rejectsPath,
    salt: salt.toString('hex'),
    ...(opts.sealed === false ? { sealed: false as const } : {}),
    dictionary: sealDictionary(opts.secret.bytes, salt, Dictionary.standard().data),
    ...(opts.changesFrom ? { changesFrom: opts.changesFrom } : {}),
  };
  await dbs.meta.put('meta', meta);
  await dbs.env.close();
  rmSync(spillDir, { recursive: true, force: true });
  // The build ran with noSync: make it durable before it can be published.
  syncToDisk(join(partial, DB_FILE));
  syncToDisk(partial);
  await timed('check', () => checkWritten(partial, meta, counts));
  await opts.beforePublish?.(partial);
  lock.assertHeld();
  publishBuild(opts.indexDir, partial, final);
  const cleanup = removeUnusedBuilds(opts.indexDir);
  return { path: final, records: meta.records, rejects: meta.rejects, nameKeys: counts.nameKeys, legacyKeys: counts.legacyKeys, seconds, cleanup };
}
