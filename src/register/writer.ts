import stableStringify from 'safe-stable-stringify';
import { statfsSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import type { Citizen } from '../domain/citizen.js';
import { ServiceError, type ItemError } from '../errors.js';
import { ID_KEY_BYTES } from '../index/keys.js';
import { openForReading, openForWriting, readMeta, type IndexMeta, type WritableDbs } from '../index/layout.js';
import { changeLogKey, changeLogSequence, ChangeLogSeal, lastSequence, SEQUENCE_KEY } from '../index/changeLog.js';
import { RecordWriter } from '../index/recordWriter.js';
import type { Secret } from '../index/secret.js';
import { changedRecord, type ChangeBatch, type Op } from './changes.js';

/**
 * One applied change as the change log keeps it and serves it (GET /v1/changes). Version 1.
 * `record` is the citizen after the change (null: removed), so a replica that applies the
 * log in order, whatever it held before, holds what this index holds.
 */
export interface LoggedChange {
  v: 1;
  seq: number;
  /** When the batch was applied (ISO 8601, UTC). */
  time: string;
  /** The batch's idempotency key, and the client that sent it. */
  batch: string;
  client: string;
  op: Op;
  idNumber: string;
  record: Citizen | null;
}

/** The answer to a batch; a re-sent batch gets the same one. */
export interface BatchAnswer {
  idempotencyKey: string;
  applied: number;
  firstSequence: number;
  lastSequence: number;
}

export interface ChangePage {
  /** The build the log belongs to: a new build starts a new log (sequence numbers restart). */
  build: string;
  lastSequence: number;
  changes: LoggedChange[];
}

/** Where this build stands in the change stream: the last stream message published or followed (StreamPosition). */
const STREAM = 'stream';
/** How far the changes of the build this one replaced were carried into it. */
const CARRIED = 'carried';


// Below this much free space, a failed write is taken for a full disk.
const LOW_SPACE_BYTES = 64 * 1024 ** 2;

/**
 * Disk full or LMDB's map full: the store cannot take more until space is freed. A write
 * that fails on a full disk reaches lmdb-js as ENOSPC or, measured on tmpfs, as EIO; an
 * EIO with space to spare is a real I/O error and is not taken for this.
 */
function isStorageFull(err: unknown, path: string): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (e?.code === 'ENOSPC' || e?.code === 28 || e?.code === -30792 || /MDB_MAP_FULL|No space left/.test(String(e?.message))) return true;
  if (e?.code !== 5 && e?.code !== 'EIO') return false;
  const fs = statfsSync(path);
  return fs.bavail * fs.bsize < LOW_SPACE_BYTES;
}

/**
 * The last change applied to a build, read without opening it for writing (a build about
 * to replace it asks): 0 when none. Throws, as the writer would, for another secret or format.
 */
export async function lastSequenceOf(buildPath: string, secret: Secret): Promise<number> {
  const { dbs } = openForReading(buildPath, secret.fingerprint);
  try {
    return lastSequence(dbs);
  } finally {
    await dbs.env.close();
  }
}

/** A logged change as it is kept and as the change stream carries it: sealed under the build's key. */
export interface SealedChange {
  seq: number;
  sealed: Buffer;
  /** The answer of the batch this change ends, if it ends one: a replica then knows the batch by its idempotency key. */
  applied?: AppliedRow;
}

/** A batch's answer as the register keeps it (keyed by client and idempotency key); nothing personal in it. */
export interface AppliedRow {
  key: string;
  value: { digest: string; answer: Omit<BatchAnswer, 'idempotencyKey'>; time: string };
}

/** The last message of the change stream a build has published or followed. */
export interface StreamPosition {
  /** The stream's own sequence number of that message. */
  message: number;
  /** The primary that wrote it: its term (epoch) and its id. */
  epoch: number;
  primary: string;
}

/** A new build that cannot take over the changes of the one it replaces (its message names builds and counts only). */
export class CarryError extends Error {}

/** Where changes are carried from: the log of the build being replaced. */
export type ChangeSource = Pick<RegisterWriter, 'build' | 'lastSequence' | 'changes'>;

/**
 * The register's one writer: applies batches of changes to the served build, each batch
 * in one LMDB transaction that is flushed to disk before `apply` returns. Readers (every
 * server thread) never wait for it and see a batch whole or not at all. Every change gets
 * the next sequence number, and is logged (sealed) under it; the records themselves are
 * written by the index's RecordWriter.
 */
export class RegisterWriter {
  private readonly citizens: RecordWriter;
  private readonly logSeal: ChangeLogSeal;

  private constructor(
    private readonly dbs: WritableDbs,
    meta: IndexMeta,
    readonly buildPath: string,
    secret: Secret,
  ) {
    this.citizens = new RecordWriter(dbs, meta, secret);
    this.logSeal = new ChangeLogSeal(secret.bytes, meta);
  }

  static open(buildPath: string, secret: Secret): RegisterWriter {
    const { dbs, meta } = openForWriting(buildPath, secret.fingerprint);
    return new RegisterWriter(dbs, meta, buildPath, secret);
  }

  get build(): string {
    return basename(this.buildPath);
  }

  get lastSequence(): number {
    return lastSequence(this.dbs);
  }

  /** Citizens on record now. */
  get records(): number {
    return this.citizens.records;
  }

  /** Runs `work` in one write transaction, flushed before it returns; a full disk is STORAGE_FULL. */
  private transaction<T>(work: () => T): T {
    try {
      return this.dbs.env.transactionSync(work);
    } catch (err) {
      if (isStorageFull(err, this.buildPath)) {
        // LMDB's C code writes "Write error: …" to stderr without a line end: ended here, at once and
        // on the descriptor itself, so the next JSON log line (stdout and stderr often share one journal) starts a line of its own.
        writeSync(2, '\n');
        throw new ServiceError('STORAGE_FULL');
      }
      throw err;
    }
  }

  /**
   * Applies a batch whole, or nothing of it: a change that cannot apply (a citizen not on
   * record, a changed record the import rules refuse) fails the batch with every such
   * change listed (INVALID_CHANGES). A batch whose idempotency key this client already
   * used gets the first answer and changes nothing (`replayed`), unless its changes differ
   * (IDEMPOTENCY_CONFLICT). The changes are compared as data: the same changes with their
   * JSON keys in another order are the same batch.
   */
  apply(client: string, batch: ChangeBatch, now = new Date()): { answer: BatchAnswer; replayed: boolean } {
    // Keyed: a plain digest of a one-change batch could be matched by trying every ID number.
    const batchDigest = this.citizens.hash(`d:${stableStringify(batch.changes)}`, 16).toString('hex');
    // Batches applied before the digest sorted keys: their digest is of the changes as sent.
    const asSent = () => this.citizens.hash(`d:${JSON.stringify(batch.changes)}`, 16).toString('hex');
    const appliedKey = this.citizens.hash(`a:${client}\n${batch.idempotencyKey}`, ID_KEY_BYTES);
    return this.transaction(() => {
      const prior = this.dbs.applied.get(appliedKey) as { digest: string; answer: Omit<BatchAnswer, 'idempotencyKey'> } | undefined;
      if (prior) {
        if (prior.digest !== batchDigest && prior.digest !== asSent()) throw new ServiceError('IDEMPOTENCY_CONFLICT');
        return { answer: { idempotencyKey: batch.idempotencyKey, ...prior.answer }, replayed: true };
      }
      const first = this.lastSequence + 1;
      this.citizens.setRecords(this.applyChanges(client, batch, first, now));
      const answer: BatchAnswer = { idempotencyKey: batch.idempotencyKey, applied: batch.changes.length, firstSequence: first, lastSequence: first + batch.changes.length - 1 };
      this.dbs.meta.putSync(SEQUENCE_KEY, answer.lastSequence);
      // Readable without the secret: the answer's numbers only, not the client's key (a client might have put anything in it).
      const { idempotencyKey: _, ...numbers } = answer;
      this.dbs.applied.putSync(appliedKey, { digest: batchDigest, answer: numbers, time: now.toISOString() });
      return { answer, replayed: false };
    });
  }

  /** Writes every change inside the open transaction; throws INVALID_CHANGES (rolling it back) if any cannot apply. */
  private applyChanges(client: string, batch: ChangeBatch, first: number, now: Date): number {
    const errors: ItemError[] = [];
    const time = now.toISOString();
    const year = now.getUTCFullYear();
    let records = this.records;
    // Each citizen as the batch's changes so far leave them: once a change is refused nothing more is written, and the rest are still checked against these.
    const changed = new Map<string, Citizen | null>();
    batch.changes.forEach((change, index) => {
      const idNumber = change.op === 'upsert' ? change.record.idNumber : change.idNumber;
      const idKey = this.citizens.recordKey(idNumber);
      const seen = changed.get(idNumber);
      const before = seen === undefined ? this.citizens.read(idKey) : (seen ?? undefined);
      const after = changedRecord(change, before, year);
      if (after !== null && 'code' in after) return void errors.push({ index, ...after });
      changed.set(idNumber, after);
      if (errors.length) return; // the batch will not be applied; the rest is only checked
      const seq = first + index;
      records += this.citizens.write(idKey, before, after, seq);
      this.log({ v: 1, seq, time, batch: batch.idempotencyKey, client, op: change.op, idNumber, record: after });
    });
    if (errors.length) {
      const error = new ServiceError('INVALID_CHANGES');
      error.items = errors;
      throw error;
    }
    return records;
  }

  /**
   * A replica's side of the log: applies logged changes (another index's GET /v1/changes)
   * in order, each under its own sequence number, so that this index ends as the other
   * is. Changes already applied here are skipped; a gap (a change missing) is refused.
   */
  replay(entries: LoggedChange[]): { applied: number; lastSequence: number } {
    return this.transaction(() => {
      const fresh = entries.filter((entry) => entry.seq > this.lastSequence);
      fresh.forEach((entry, i) => {
        if (entry.v !== 1) throw new Error(`change ${entry.seq}: log record version ${entry.v} is not 1`);
        const expected = this.lastSequence + 1 + i;
        if (entry.seq !== expected) throw new Error(`change ${expected} is missing: the log given goes on at ${entry.seq}`);
      });
      this.writeLogged(fresh);
      return { applied: fresh.length, lastSequence: this.lastSequence };
    });
  }

  /**
   * Carries into this build the changes applied to the build it replaces after its source
   * was taken (meta `changesFrom`), each as a new change of this build's log (its time,
   * batch and client kept), and notes how far it carried, so that carrying again (the
   * server switching builds after `idv build` carried the first part) takes only the rest.
   */
  carryFrom(previous: ChangeSource): { carried: number; through: number } {
    const from = readMeta(this.dbs).changesFrom;
    const done = (this.dbs.meta.get(CARRIED) as { build: string; through: number } | undefined)?.through;
    const last = previous.lastSequence;
    if (!from || from.build !== previous.build) {
      if (last === 0) return { carried: 0, through: 0 };
      throw new CarryError(`${this.build} does not say which of the ${last} changes applied to ${previous.build} its source holds (build it with --includes-changes N)`);
    }
    if (from.through > last) throw new CarryError(`${this.build} says its source holds ${from.through} changes of ${previous.build}, which has ${last}`);
    let through = done ?? from.through;
    let carried = 0;
    while (through < last) {
      const { changes } = previous.changes(through, 10_000);
      if (changes.length === 0) break;
      this.transaction(() => {
        const first = this.lastSequence + 1;
        this.writeLogged(changes.map((change, i) => ({ ...change, seq: first + i })));
        through = changes.at(-1)!.seq;
        this.dbs.meta.putSync(CARRIED, { build: previous.build, through });
      });
      carried += changes.length;
    }
    return { carried, through };
  }

  /** `items` in the order their citizens' records are filed (RecordWriter.inKeyOrder). */
  inKeyOrder<T>(items: T[], idNumberOf: (item: T) => string): T[] {
    return this.citizens.inKeyOrder(items, idNumberOf);
  }

  /** The logged changes after `after`, in order, at most `limit`. */
  changes(after: number, limit: number): ChangePage {
    const changes = this.sealedChanges(after, limit).map(({ seq, sealed }) => this.opened(seq, sealed));
    return { build: this.build, lastSequence: this.lastSequence, changes };
  }

  /** The logged changes after `after` as they are kept, sealed, each with the answer of the batch it ends (if it ends one). */
  sealedChanges(after: number, limit: number): SealedChange[] {
    const out: SealedChange[] = [];
    for (const { key, value } of this.dbs.changes.getRange({ start: changeLogKey(after + 1), limit })) {
      const seq = changeLogSequence(key);
      const change: SealedChange = { seq, sealed: Buffer.from(value) };
      const { client, batch } = this.opened(seq, change.sealed);
      const appliedKey = this.citizens.hash(`a:${client}\n${batch}`, ID_KEY_BYTES);
      const row = this.dbs.applied.get(appliedKey) as AppliedRow['value'] | undefined;
      if (row?.answer.lastSequence === seq) change.applied = { key: appliedKey.toString('hex'), value: row };
      out.push(change);
    }
    return out;
  }

  /**
   * A replica's side of the change stream: applies sealed changes in order (those already
   * applied skipped, a gap refused), keeps the batches' answers they carry (a retried batch
   * is then known here too, after a promotion), and notes the stream's position, all in one
   * transaction.
   */
  follow(changes: SealedChange[], position: StreamPosition): { applied: number; lastSequence: number; records: number } {
    return this.transaction(() => {
      const fresh = changes.filter((change) => change.seq > this.lastSequence);
      fresh.forEach((change, i) => {
        const expected = this.lastSequence + 1 + i;
        if (change.seq !== expected) throw new Error(`change ${expected} is missing: the stream goes on at ${change.seq}`);
      });
      this.writeFollowed(fresh);
      for (const { applied } of fresh) if (applied) this.dbs.applied.putSync(Buffer.from(applied.key, 'hex'), applied.value);
      this.dbs.meta.putSync(STREAM, position);
      return { applied: fresh.length, lastSequence: this.lastSequence, records: this.records };
    });
  }

  /** Where this build stands in the change stream; undefined before it published or followed anything. */
  get streamPosition(): StreamPosition | undefined {
    return this.dbs.meta.get(STREAM) as StreamPosition | undefined;
  }

  /** Notes how far the stream holds this build's changes (a primary, after the stream stored them). */
  published(position: StreamPosition): void {
    this.transaction(() => this.dbs.meta.putSync(STREAM, position));
  }

  private opened(seq: number, sealed: Uint8Array): LoggedChange {
    return this.logSeal.opened<LoggedChange>(seq, sealed);
  }

  close(): Promise<void> {
    return this.dbs.env.close();
  }

  /** Writes logged changes (numbered on from the last) as they left each record, logs them, and moves the count and the sequence on. */
  private writeLogged(entries: LoggedChange[]): void {
    let records = this.records;
    for (const entry of entries) {
      const idKey = this.citizens.recordKey(entry.idNumber);
      records += this.citizens.write(idKey, this.citizens.read(idKey), entry.record, entry.seq);
      this.log(entry);
    }
    if (entries.length === 0) return;
    this.citizens.setRecords(records);
    this.dbs.meta.putSync(SEQUENCE_KEY, entries.at(-1)!.seq);
  }

  /**
   * Writes changes as the stream carried them: each record as it left the change, in the
   * order of the citizens' record keys (a citizen's own changes keep theirs; changes to
   * different citizens commute, and in key order a transaction shares LMDB pages), and
   * each log record as it came, already sealed under its sequence number.
   */
  private writeFollowed(changes: SealedChange[]): void {
    if (changes.length === 0) return;
    const opened = changes.map((change) => ({ change, entry: this.opened(change.seq, change.sealed) }));
    let records = this.records;
    for (const { entry } of this.citizens.inKeyOrder(opened, ({ entry }) => entry.idNumber)) {
      const idKey = this.citizens.recordKey(entry.idNumber);
      records += this.citizens.write(idKey, this.citizens.read(idKey), entry.record, entry.seq);
    }
    for (const { change } of opened) this.dbs.changes.putSync(changeLogKey(change.seq), change.sealed);
    this.citizens.setRecords(records);
    this.dbs.meta.putSync(SEQUENCE_KEY, changes.at(-1)!.seq);
  }

  private log(entry: LoggedChange): void {
    this.dbs.changes.putSync(changeLogKey(entry.seq), this.logSeal.sealed(entry.seq, entry));
  }
}
