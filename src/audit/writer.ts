import { open, type FileHandle } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { BuildLock } from '../index/buildLock.js';
import { join } from 'node:path';
import type { Secret } from '../index/secret.js';
import { auditKeys, GENESIS, noteFragment, sealFragment, unseal, type AuditKeys } from './chain.js';
import { AUDIT_FILE, auditFiles } from './trail.js';

/** Held by the trail's one writer, in the trail's folder. */
export const TRAIL_LOCK = 'writer.lock';
const TAIL_BYTES = 64 * 1024;
// Beyond this many unwritten records (the disk refusing writes for minutes), the oldest are dropped and counted.
const MAX_BUFFERED = 1_000_000;

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');

export interface WriterOptions {
  maxFileBytes: number;
  onWritten: (records: number) => void;
  onError: (message: string) => void;
}

class ChainedFile {
  constructor(
    readonly name: string,
    readonly handle: FileHandle,
    public bytes: number,
  ) {}
}

/**
 * Seals, chains, writes and syncs the trail's records, in files rotated by day and size.
 * It runs on the audit thread (workers/audit.ts) and takes records already rendered
 * (renderEntry, on the thread that made them): numbering, chaining and sealing cost one
 * HMAC (~2 µs) a record here. Records it could not write stay buffered, in order, and
 * are written whole at the next flush.
 */
export class TrailWriter {
  /** Rendered records (renderEntry) not yet sealed. */
  private buffer: string[] = [];
  private pendingNotes: string[] = [];
  /** Lines sealed onto the chain (seq and prev already advanced) and not yet written. */
  private unwritten: string[] = [];
  private flushing: Promise<void> | undefined;
  private dropped = 0;

  private constructor(
    private readonly dir: string,
    private readonly keys: AuditKeys,
    private readonly opts: WriterOptions,
    private file: ChainedFile | undefined,
    private seq: number,
    private prev: string,
    private readonly lock: BuildLock,
  ) {}

  /**
   * Continues the chain where the last file ends. A last line torn by a crash is cut
   * off and the cut is itself recorded; a last record that does not authenticate
   * (another secret, or tampering) stops the start.
   */
  static async open(dir: string, secret: Secret, opts: WriterOptions): Promise<TrailWriter> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // One writer per trail: a second server appending to the same files would fork the chain.
    const lock = BuildLock.acquire(dir, 'audit trail writer', TRAIL_LOCK);
    try {
      return await TrailWriter.continued(dir, secret, opts, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static async continued(dir: string, secret: Secret, opts: WriterOptions, lock: BuildLock): Promise<TrailWriter> {
    const keys = auditKeys(secret);
    const files = auditFiles(dir);
    if (files.length === 0) return new TrailWriter(dir, keys, opts, undefined, 0, GENESIS, lock);
    const name = files[files.length - 1];
    const handle = await open(join(dir, name), 'r+');
    const { size } = await handle.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const tail = Buffer.alloc(size - start);
    await handle.read(tail, 0, tail.length, start);
    const text = tail.toString('utf8');
    const end = text.lastIndexOf('\n') + 1;
    const torn = text.length - end;
    if (torn > 0) await handle.truncate(start + Buffer.byteLength(text.slice(0, end)));
    await handle.close();
    const lines = text.slice(0, end).split('\n').filter(Boolean);
    let seq = 0;
    let prev = GENESIS;
    if (lines.length) {
      const last = unseal(keys, lines[lines.length - 1]);
      if (!last) throw new Error(`the last record of the audit trail ${join(dir, name)} does not authenticate (another secret, or it was altered): run idv audit verify with the secret it was written under; to serve under a new secret, start a new trail elsewhere (--audit-dir) and keep this one`);
      seq = last.record.seq;
      prev = last.mac;
    }
    const append = await open(join(dir, name), 'a', 0o600);
    const trail = new TrailWriter(dir, keys, opts, new ChainedFile(name, append, size - torn), seq, prev, lock);
    if (torn > 0) trail.note(`a torn last line of ${torn} bytes was cut off ${name} at start`);
    return trail;
  }

  /** Takes rendered records, joined by newlines, to write at the next flush; beyond MAX_BUFFERED unwritten ones, the oldest are dropped and counted. */
  take(text: string): void {
    if (text === '') return;
    for (const entry of text.split('\n')) {
      if (this.buffer.length >= MAX_BUFFERED) {
        this.buffer.shift();
        this.dropped++;
      }
      this.buffer.push(entry);
    }
  }

  /** Writes, syncs and closes; returns the chain's head, which the caller logs as an anchor outside the trail. */
  async close(): Promise<{ seq: number; mac: string }> {
    await this.flush();
    // Entries taken while that flush was writing.
    if (this.buffer.length || this.unwritten.length) await this.flush();
    await this.file?.handle.close();
    this.file = undefined;
    this.lock.release();
    return { seq: this.seq, mac: this.prev };
  }

  /** Writes what is buffered; one flush at a time, so the chain is written in order. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBuffered().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private note(text: string): void {
    this.pendingNotes.push(text);
  }

  private async writeBuffered(): Promise<void> {
    // While the disk refuses writes, sealed lines wait and entries stay unsealed, so that
    // dropping the oldest entries (counted, then noted in the chain) never leaves a gap in it.
    if (this.unwritten.length < MAX_BUFFERED) this.sealBuffered();
    if (this.unwritten.length === 0) return;
    try {
      // Files go by the day of writing: names then sort in chain order even if clocks step back.
      await this.append(dayOf(Date.now()));
    } catch (err) {
      // What was not written stays, sealed and in order, for the next flush.
      this.opts.onError(String((err as Error).message ?? err));
    }
  }

  /** Seals what is buffered onto the chain: from here each line is written exactly once, in order. */
  private sealBuffered(): void {
    if (this.dropped) {
      this.note(`${this.dropped} records were dropped while the trail could not be written`);
      this.dropped = 0;
    }
    const add = (fragment: string) => {
      const sealed = sealFragment(this.keys, ++this.seq, fragment, this.prev);
      this.prev = sealed.mac;
      this.unwritten.push(sealed.line);
    };
    for (const note of this.pendingNotes) add(noteFragment(note));
    for (const fragment of this.buffer) add(fragment);
    this.buffer = [];
    this.pendingNotes = [];
  }

  /**
   * Writes the sealed lines in order, each chunk synced before the next, moving to a new
   * file when the day changes or the file is full. A failure leaves the unwritten lines
   * waiting (and the current file, if the next could not be opened).
   */
  private async append(today: string): Promise<void> {
    while (this.unwritten.length) {
      const current = this.file;
      // Never a day before the current file's, so names sort in chain order.
      const day = current && fileDay(current.name) > today ? fileDay(current.name) : today;
      if (!current || fileDay(current.name) < day || current.bytes >= this.opts.maxFileBytes) await this.rotate(day);
      const file = this.file!;
      let text = '';
      let bytes = file.bytes;
      let count = 0;
      // A file takes at least one line, so a line longer than the limit still gets written.
      for (const line of this.unwritten) {
        if (text !== '' && bytes + line.length >= this.opts.maxFileBytes) break;
        text += line;
        bytes += Buffer.byteLength(line);
        count++;
      }
      await file.handle.write(text);
      await file.handle.datasync();
      file.bytes = bytes;
      this.unwritten.splice(0, count);
      this.opts.onWritten(count);
    }
  }

  private async rotate(day: string): Promise<void> {
    const last = this.file ? AUDIT_FILE.exec(this.file.name)! : undefined;
    const n = last && last[1] === day ? Number(last[2]) + 1 : 1;
    const name = `audit-${day}-${String(n).padStart(4, '0')}.ndjson`;
    // Opened before the current file is closed: when it cannot be, the current one stays in use.
    const handle = await open(join(this.dir, name), 'a', 0o600);
    await this.file?.handle.close();
    this.file = new ChainedFile(name, handle, 0);
  }
}

const fileDay = (name: string) => AUDIT_FILE.exec(name)![1];
