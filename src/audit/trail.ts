import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Secret } from '../index/secret.js';
import { workerPath } from '../workers.js';
import { Caller } from '../threads/rpc.js';
import { auditKeys, renderEntry, type AuditKeys } from './chain.js';

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
  /** The ID numbers of the citizens the answer reached (a search's candidates, the holder of a legacy number). */
  found?: string[];
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

/** The trail's files in chain order (names sort by day, then by sequence within the day). */
export function auditFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => AUDIT_FILE.test(f)).sort();
  } catch {
    return [];
  }
}

/** What the audit thread says back. */
export type WriterMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'written'; records: number }
  | { type: 'error'; message: string };

/** What the event loop sends the audit thread. */
/** Rendered records (renderEntry) travel joined by newlines: one string is the cheapest thing to copy between threads. */
export type TrailMessage = { type: 'entries'; text: string };

/** What the server asks of the audit thread: to write, sync and close the trail, answering with the chain's head. */
export type TrailCalls = { close: { arg: null; value: { seq: number; mac: string } } };

/**
 * Entries rendered where they are made (renderEntry: the ID number hashed there) and
 * handed on every `everyMs` as one string, the cheapest thing to copy between threads.
 * The audit trail buffers its own server's entries in one; each server thread in another.
 */
export class RenderedEntries {
  private lines: string[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly keys: Pick<AuditKeys, 'subject'>,
    everyMs: number,
    private readonly handOn: (text: string) => void,
  ) {
    this.timer = setInterval(() => this.flush(), everyMs);
    this.timer.unref();
  }

  record(entry: AuditEntry): void {
    this.lines.push(renderEntry(this.keys, entry));
  }

  flush(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.join('\n');
    this.lines = [];
    this.handOn(text);
  }

  /** Hands on what is left and stops. */
  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

/**
 * The append-only audit trail, as the server sees it: `record` only buffers, and every
 * `flushMs` the buffered entries go to the audit thread in one message, which seals,
 * chains, writes and syncs them (writer.ts). A record is durable within `flushMs` plus
 * the write.
 */
export class AuditTrail {
  private readonly entries: RenderedEntries;
  private readonly calls: Caller<TrailCalls>;
  private closed: Promise<{ seq: number; mac: string }> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly opts: AuditOptions,
    keys: AuditKeys,
  ) {
    this.entries = new RenderedEntries(keys, opts.flushMs, (text) => this.recordRendered(text));
    this.calls = new Caller<TrailCalls>(worker);
    worker.on('message', (m: WriterMessage) => this.heard(m));
    // The thread failing is a write failure: counted, logged, and the server goes on answering.
    worker.on('error', (err) => this.heard({ type: 'error', message: `the audit thread failed: ${err.message}` }));
    // A thread gone before it closed the trail: closing must not wait for it.
    worker.on('exit', () => this.calls.stop(new Error('the audit thread stopped before closing the trail')));
  }

  /**
   * Starts the audit thread, which continues the chain where the last file ends. A last
   * line torn by a crash is cut off and the cut is itself recorded; a last record that
   * does not authenticate (another secret, or tampering) stops the start.
   */
  static async open(dir: string, secret: Secret, opts: AuditOptions): Promise<AuditTrail> {
    const worker = new Worker(workerPath('audit'), { workerData: { dir, secretHex: secret.hex, maxFileBytes: opts.maxFileBytes, flushMs: opts.flushMs } });
    const first = await new Promise<WriterMessage>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (first.type !== 'ready') {
      await worker.terminate();
      throw new Error(first.type === 'failed' ? first.message : `unexpected message from the audit thread: ${first.type}`);
    }
    return new AuditTrail(worker, opts, auditKeys(secret));
  }

  /** Buffers an entry: it goes to the audit thread within `flushMs` (which bounds what it holds back). */
  record(entry: AuditEntry): void {
    this.entries.record(entry);
  }

  /** Records a server thread rendered over its own interval, joined by newlines: handed over at once, so they are no later than the thread's own. */
  recordRendered(text: string): void {
    if (text === '') return;
    this.worker.postMessage({ type: 'entries', text } satisfies TrailMessage);
  }

  /** Hands over what is buffered, then writes, syncs and closes; returns the chain's head, which the caller logs as an anchor outside the trail. */
  close(): Promise<{ seq: number; mac: string }> {
    if (this.closed) return this.closed;
    this.entries.stop();
    this.closed = this.calls
      .call('close', null)
      .catch((err: Error) => ({ seq: -1, mac: `unknown: ${err.message}` }))
      .then(async (head) => {
        await this.worker.terminate();
        return head;
      });
    return this.closed;
  }

  private heard(m: WriterMessage): void {
    if (m.type === 'written') this.opts.onWritten?.(m.records);
    else if (m.type === 'error') {
      this.opts.onError?.();
      this.opts.log?.({ level: 'error', msg: 'audit trail write failed', err: m.message });
    }
  }
}
