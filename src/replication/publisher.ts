import { ServiceError } from '../errors.js';
import type { RegisterWriter, SealedChange } from '../register/writer.js';
import { isWrongLastSequence, pause, type ChangeStream, type StreamMessage, type Writer } from './stream.js';

type Log = (event: Record<string, unknown>) => void;

// Changes read from the log at once, and published as messages of at most MESSAGE_CHANGES
// changes or MESSAGE_BYTES of sealed records (under JetStream's 1 MB default), all of
// them at once (each expecting the one before it in the stream).
const WINDOW = 8192;
const MESSAGE_CHANGES = 1024;
const MESSAGE_BYTES = 512 * 1024;
// How often the stream's position is noted in the build (a replica seeded from a snapshot starts there).
const NOTE_MS = 1000;

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The primary's side of the change stream: publishes the register's change log (the
 * outbox) in order, each change once by its sequence number. Every publish expects the
 * stream's last message to be the one this publisher wrote before it, so a primary that
 * another has replaced (its promotion is in the stream) cannot append: it is fenced. While
 * NATS is unreachable the log only grows; once it is back the publisher goes on from the
 * last change the stream holds.
 */
export class Publisher {
  /** The last change of the served build the stream holds. */
  published = 0;
  /** Set once the stream holds a message of another primary as new as this one: this one takes no more changes. */
  fenced?: string;
  /** Whether the publisher has once agreed with the stream on where it stands (before that, nothing is known of a replacement). */
  everSynced = false;
  private synced = false;
  /** The stream's last message, as far as this publisher knows. */
  private last = 0;
  private waiters = new Set<Waiter>();
  private wake?: () => void;
  private stopped = false;
  private noted = 0;
  private outage?: number;
  /** A switch to another build, to be said on the old build's subject before anything else. */
  private switched?: { from: string; to: string; seq: number };

  constructor(
    private readonly stream: ChangeStream,
    private readonly writer: () => RegisterWriter,
    readonly identity: Writer,
    private readonly log: Log,
  ) {}

  /** Changes applied here that the stream does not hold yet. */
  get backlog(): number {
    return Math.max(0, this.writer().lastSequence - this.published);
  }

  /** Whether a batch acknowledged only once the stream holds it can be taken now. */
  get replicating(): boolean {
    return this.synced && !this.fenced && this.stream.connected;
  }

  /** New changes are in the log. */
  kick(): void {
    this.wake?.();
  }

  /** Resolves once the stream holds change `seq`; refused after `timeoutMs`, or at once if fenced. */
  stored(seq: number, timeoutMs: number): Promise<void> {
    if (this.published >= seq) return Promise.resolve();
    if (this.fenced) return Promise.reject(notPrimary(this.fenced));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { seq, resolve, reject };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new ServiceError('REPLICATION_UNAVAILABLE', 'The batch is applied here, but the change stream has not stored it yet: send it again with the same Idempotency-Key'));
      }, timeoutMs);
      waiter.resolve = () => (clearTimeout(timer), resolve());
      waiter.reject = (err) => (clearTimeout(timer), reject(err));
      this.waiters.add(waiter);
      this.kick();
    });
  }

  /** The primary moved to another build: the old build's subject says so, then the new build's log is published from its start. */
  switchedBuild(from: string, to: string, seq: number): void {
    this.switched = { from, to, seq };
    this.synced = false;
    this.kick();
  }

  async run(): Promise<void> {
    while (!this.stopped && !this.fenced) {
      try {
        if (!this.synced) await this.sync();
        if (this.fenced) break;
        if (!(await this.pump())) await this.idle(NOTE_MS);
        if (this.outage !== undefined) {
          this.log({ level: 'info', msg: 'publishing changes again', afterSeconds: +((Date.now() - this.outage) / 1000).toFixed(1) });
          this.outage = undefined;
        }
      } catch (err) {
        this.synced = false;
        if (isWrongLastSequence(err)) continue;
        if (this.outage === undefined) {
          this.outage = Date.now();
          this.log({ level: 'warn', msg: 'the change stream is unreachable: changes are kept here and published when it is back', err: (err as Error).message });
        }
        await pause(250);
      }
    }
    for (const w of this.waiters) w.reject(notPrimary(this.fenced ?? 'the publisher stopped'));
    this.waiters.clear();
  }

  stop(): void {
    this.stopped = true;
    this.kick();
  }

  /** Agrees with the stream on where it stands: who wrote its last message, and how much of this build's log it holds. */
  private async sync(): Promise<void> {
    const last = await this.stream.last();
    if (last && (last.primary !== this.identity.primary || last.epoch !== this.identity.epoch) && last.epoch >= this.identity.epoch) {
      return this.fence(`the change stream's last message is from primary ${last.primary} (term ${last.epoch}); this one is ${this.identity.primary} (term ${this.identity.epoch})`);
    }
    this.last = last?.message ?? 0;
    if (this.switched) {
      const { from, to, seq } = this.switched;
      this.last = await this.publish({ kind: 'switched', build: from, seq, next: to });
      this.switched = undefined;
    }
    const build = this.writer().build;
    const mine = last?.build === build ? last : await this.stream.lastOf(build);
    this.published = mine && mine.kind !== 'switched' ? mine.seq : 0;
    if (this.published > this.writer().lastSequence) {
      return this.fence(`the change stream holds ${this.published} changes of build ${build}, this index ${this.writer().lastSequence}`);
    }
    if (last && last.epoch < this.identity.epoch) {
      // Promoted, but the promotion is not in the stream yet: it goes first, and fences the primary before.
      this.last = await this.publish({ kind: 'promoted', build, seq: this.writer().lastSequence });
      this.published = this.writer().lastSequence;
    }
    this.synced = this.everSynced = true;
    this.settle();
  }

  /** Publishes what the log holds beyond the stream, a window at a time; false when there was nothing. */
  private async pump(): Promise<boolean> {
    const writer = this.writer();
    const changes = writer.sealedChanges(this.published, WINDOW);
    if (changes.length === 0) {
      this.note(writer);
      return false;
    }
    const messages = inMessages(changes);
    const acks = messages.map((part, i) => this.stream.publish({ kind: 'changes', build: writer.build, seq: part.at(-1)!.seq, ...this.identity, changes: part }, this.last + i));
    // Every publish after a refused one is refused too: each is awaited, none left unhandled.
    acks.forEach((ack) => ack.catch(() => {}));
    for (let i = 0; i < messages.length; i++) {
      const seq = await acks[i];
      if (seq !== this.last + 1) throw new Error(`the stream stored changes through ${messages[i].at(-1)!.seq} as message ${seq}, not ${this.last + 1}`);
      this.last = seq;
      this.published = messages[i].at(-1)!.seq;
    }
    this.settle();
    this.note(writer);
    return true;
  }

  private async publish(message: Pick<StreamMessage, 'kind' | 'build' | 'seq' | 'next'>): Promise<number> {
    return this.stream.publish({ ...message, ...this.identity }, this.last);
  }

  private settle(): void {
    for (const w of this.waiters) {
      if (w.seq > this.published) continue;
      this.waiters.delete(w);
      w.resolve();
    }
  }

  /** Notes in the build how far the stream holds it, at most once a second. */
  private note(writer: RegisterWriter): void {
    if (Date.now() - this.noted < NOTE_MS || this.last === 0 || writer.streamPosition?.message === this.last) return;
    this.noted = Date.now();
    writer.published({ message: this.last, ...this.identity });
  }

  private fence(why: string): void {
    this.fenced = why;
    this.log({ level: 'error', msg: 'fenced: another primary has replaced this one; changes are refused NOT_PRIMARY (re-seed this instance from a snapshot of the new primary to serve again)', why });
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** Consecutive changes cut into messages of at most MESSAGE_CHANGES changes and about MESSAGE_BYTES. */
function inMessages(changes: SealedChange[]): SealedChange[][] {
  const out: SealedChange[][] = [];
  let part: SealedChange[] = [];
  let bytes = 0;
  for (const change of changes) {
    if (part.length === MESSAGE_CHANGES || (part.length > 0 && bytes + change.sealed.length > MESSAGE_BYTES)) {
      out.push(part);
      part = [];
      bytes = 0;
    }
    part.push(change);
    bytes += change.sealed.length + 64;
  }
  if (part.length) out.push(part);
  return out;
}

export const notPrimary = (why: string) => new ServiceError('NOT_PRIMARY', `This instance does not take changes: ${why}`);
