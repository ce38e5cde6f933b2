import { mkdirSync, readdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Secret } from '../index/secret.js';
import { auditKeys, GENESIS, seal, subjectOf, unseal, type AuditKeys, type AuditRecord } from './chain.js';

/** What the server tells the trail about one decision; the ID number is hashed before anything is written. */
export interface AuditEntry {
  kind: 'decision' | 'item';
  requestId: string;
  client: string | null;
  endpoint: string;
  item?: number;
  type?: 'id' | 'demographic';
  purpose?: string;
  consentRef?: string;
  idNumber?: string;
  result?: string;
  status: number;
  code?: string;
  latencyMs: number;
  time: number;
}

export interface AuditOptions {
  /** How often buffered records are written and synced: each is durable within this (plus the write). */
  flushMs: number;
  maxFileBytes: number;
  log?: (event: Record<string, unknown>) => void;
  onWritten?: (records: number) => void;
  onError?: () => void;
}

/** The trail's folder inside the index directory, unless configured elsewhere. */
export const AUDIT_DIR = 'audit';
export const AUDIT_FILE = /^audit-(\d{8})-(\d{4})\.ndjson$/;
const TAIL_BYTES = 64 * 1024;
// Beyond this many unwritten records (the disk refusing writes for minutes), the oldest are dropped and counted.
const MAX_BUFFERED = 1_000_000;

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');

/** The trail's files in chain order (names sort by day, then by sequence within the day). */
export function auditFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => AUDIT_FILE.test(f)).sort();
  } catch {
    return [];
  }
}

class ChainedFile {
  constructor(
    readonly name: string,
    readonly handle: FileHandle,
    public bytes: number,
  ) {}
}

/**
 * The append-only audit trail: records are buffered by the request path and written,
 * chained and synced every `flushMs` off it, in files rotated by day and size.
 */
export class AuditTrail {
  private buffer: AuditEntry[] = [];
  private pendingNotes: string[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout;
  private dropped = 0;

  private constructor(
    private readonly dir: string,
    private readonly keys: AuditKeys,
    private readonly opts: AuditOptions,
    private file: ChainedFile | undefined,
    private seq: number,
    private prev: string,
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushMs);
    this.timer.unref();
  }

  /**
   * Continues the chain where the last file ends. A last line torn by a crash is cut
   * off and the cut is itself recorded; a last record that does not authenticate
   * (another secret, or tampering) stops the start.
   */
  static async open(dir: string, secret: Secret, opts: AuditOptions): Promise<AuditTrail> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keys = auditKeys(secret);
    const files = auditFiles(dir);
    if (files.length === 0) return new AuditTrail(dir, keys, opts, undefined, 0, GENESIS);
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
      if (!last) throw new Error(`the last record of the audit trail ${join(dir, name)} does not authenticate (another secret, or it was altered): run idv audit verify`);
      seq = last.record.seq;
      prev = last.mac;
    }
    const append = await open(join(dir, name), 'a', 0o600);
    const trail = new AuditTrail(dir, keys, opts, new ChainedFile(name, append, size - torn), seq, prev);
    if (torn > 0) trail.note(`a torn last line of ${torn} bytes was cut off ${name} at start`);
    return trail;
  }

  record(entry: AuditEntry): void {
    if (this.buffer.length >= MAX_BUFFERED) {
      this.buffer.shift();
      this.dropped++;
    }
    this.buffer.push(entry);
  }

  /** Writes, syncs and closes; returns the chain's head, which the caller logs as an anchor outside the trail. */
  async close(): Promise<{ seq: number; mac: string }> {
    clearInterval(this.timer);
    await this.flush();
    await this.file?.handle.close();
    this.file = undefined;
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
    if (this.dropped) {
      this.note(`${this.dropped} records were dropped while the trail could not be written`);
      this.dropped = 0;
    }
    if (this.buffer.length === 0 && this.pendingNotes.length === 0) return;
    const entries = this.buffer;
    const notes = this.pendingNotes;
    this.buffer = [];
    this.pendingNotes = [];
    let seq = this.seq;
    let prev = this.prev;
    const lines: string[] = [];
    const add = (record: Omit<AuditRecord, 'seq' | 'prev'>) => {
      const sealed = seal(this.keys, { seq: ++seq, ...record, prev } as AuditRecord);
      prev = sealed.mac;
      lines.push(sealed.line);
    };
    const now = Date.now();
    for (const note of notes) add({ time: new Date(now).toISOString(), kind: 'trail', note });
    for (const e of entries) add(this.toRecord(e));
    try {
      // Files go by the day of writing: names then sort in chain order even if clocks step back.
      await this.append(lines, dayOf(now));
      this.seq = seq;
      this.prev = prev;
      this.opts.onWritten?.(lines.length);
    } catch (err) {
      // Not chained: written again, whole, at the next flush.
      this.buffer = entries.concat(this.buffer);
      this.pendingNotes = notes.concat(this.pendingNotes);
      this.opts.onError?.();
      this.opts.log?.({ level: 'error', msg: 'audit trail write failed', err: String((err as Error).message ?? err) });
    }
  }

  private toRecord(e: AuditEntry): Omit<AuditRecord, 'seq' | 'prev'> {
    const { idNumber, time, ...rest } = e;
    const record: Omit<AuditRecord, 'seq' | 'prev'> = { time: new Date(time).toISOString(), ...rest };
    if (idNumber !== undefined) record.subject = subjectOf(this.keys, idNumber);
    return record;
  }

  /** Appends lines in order, moving to a new file when the day changes or the file is full. */
  private async append(lines: string[], day: string): Promise<void> {
    if (!this.file || fileDay(this.file.name) < day) await this.rotate(day);
    let i = 0;
    while (i < lines.length) {
      const file = this.file!;
      let text = '';
      let bytes = file.bytes;
      // A file takes at least one line, so a line longer than the limit still gets written.
      for (; i < lines.length && (text === '' || bytes + lines[i].length < this.opts.maxFileBytes); i++) {
        text += lines[i];
        bytes += Buffer.byteLength(lines[i]);
      }
      await file.handle.write(text);
      await file.handle.datasync();
      file.bytes = bytes;
      if (i < lines.length || bytes >= this.opts.maxFileBytes) await this.rotate(fileDay(file.name));
    }
  }

  private async rotate(day: string): Promise<void> {
    const last = this.file ? AUDIT_FILE.exec(this.file.name)! : undefined;
    const n = last && last[1] === day ? Number(last[2]) + 1 : 1;
    const name = `audit-${day}-${String(n).padStart(4, '0')}.ndjson`;
    await this.file?.handle.close();
    this.file = new ChainedFile(name, await open(join(this.dir, name), 'a', 0o600), 0);
  }
}

const fileDay = (name: string) => AUDIT_FILE.exec(name)![1];
