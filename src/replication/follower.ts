import type { UnreadyReason } from '../service/liveState.js';
import type { RegisterWriter, SealedChange, StreamPosition } from '../register/writer.js';
import { pause, type ChangeStream, type StreamMessage } from './stream.js';

type Log = (event: Record<string, unknown>) => void;

// Changes gathered into one commit at most while a replica catches up.
const CATCH_UP_CHANGES = 20_000;
// Nothing delivered this long while the stream holds more: the consumer is made again.
const STALL_MS = 3000;

/** What a follower applied last: the register's count and sequence after it. */
export interface Followed {
  applied: number;
  lastSequence: number;
  records: number;
}

/**
 * A replica's side of the change stream: applies its build's changes in order with the
 * register's own writer, from where the build stands in the stream (a snapshot starts
 * where its primary had noted). A change already applied is skipped by its sequence
 * number, so delivery more than once applies it once; a change missing stops the
 * follower (stream_gap), as does the primary moving to another build (build_moved).
 */
export class Follower {
  /** Why this replica should not be sent verifications, once it cannot go on. */
  stoppedBecause?: UnreadyReason;
  /** Messages of the stream beyond the last one applied here, as last delivered. */
  private pendingMessages = 0;
  /** The last change the stream holds for this build, read once a second. */
  private streamHolds = 0;
  private caughtUpAt = Date.now();
  private stopped = false;
  private messages?: { stop(): void };

  constructor(
    private readonly stream: ChangeStream,
    private readonly writer: RegisterWriter,
    private readonly log: Log,
    private readonly applied: (followed: Followed) => void,
  ) {}

  /** Changes the stream holds beyond this replica (at least 1 while a message waits). */
  get behind(): number {
    return this.pendingMessages === 0 ? 0 : Math.max(1, this.streamHolds - this.writer.lastSequence);
  }

  /** How far behind, in seconds: since this replica last held everything the stream had (0 when it does). */
  get lagSeconds(): number {
    if (this.behind === 0 && this.stream.connected) {
      this.caughtUpAt = Date.now();
      return 0;
    }
    return (Date.now() - this.caughtUpAt) / 1000;
  }

  /** The last message applied here. */
  get position(): number {
    return this.writer.streamPosition?.message ?? 0;
  }

  /**
   * Follows the stream until stopped, or (`until`) until it has applied stream message
   * `until`; a consumer that fails (NATS gone for long) is made again from where this
   * replica stands.
   */
  async run(until?: number): Promise<void> {
    const run = ++this.runs;
    void this.watchStream(run);
    try {
      await this.follow(until);
    } finally {
      this.runs++;
    }
  }

  private runs = 0;

  /** Reads, once a second while run `run` goes on, how far the stream goes, for the lag in changes. */
  private async watchStream(run: number): Promise<void> {
    while (this.runs === run && !this.stopped) {
      this.streamHolds = (await this.stream.lastOf(this.writer.build).catch(() => undefined))?.seq ?? this.streamHolds;
      // The stream holds more, and nothing has come for a while: the consumer is made again from where this replica stands.
      if (this.streamHolds > this.writer.lastSequence && Date.now() - this.deliveredAt > STALL_MS) {
        this.log({ level: 'warn', msg: 'the change stream holds changes this replica has not been sent: consuming again', holds: this.streamHolds, sequence: this.writer.lastSequence });
        this.deliveredAt = Date.now();
        this.messages?.stop();
      }
      await pause(1000);
    }
  }

  /** When the last message came. */
  private deliveredAt = Date.now();

  private async follow(until?: number): Promise<void> {
    while (!this.stopped && !this.stoppedBecause && !(until !== undefined && this.position >= until)) {
      try {
        await this.consume(until);
      } catch (err) {
        if (this.stopped) return;
        this.log({ level: 'warn', msg: 'following the change stream failed; following again', err: (err as Error).message });
        await pause(500);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.messages?.stop();
  }

  /**
   * Consumes until stopped or done: what arrived while the last transaction was being
   * written is applied in the next one, so a burst of changes costs a few commits (each
   * flushed to disk), not one each.
   */
  private async consume(until?: number): Promise<void> {
    let waiting: StreamMessage[] = [];
    let scheduled = false;
    const done = () => this.stoppedBecause !== undefined || this.stopped || (until !== undefined && this.position >= until);
    const flush = () => {
      scheduled = false;
      const batch = waiting;
      waiting = [];
      // A switch or a promotion ends a batch: what follows it is judged after it.
      let start = 0;
      for (let i = 0; i < batch.length && !done(); i++) {
        if (batch[i].kind === 'changes' && i < batch.length - 1) continue;
        this.apply(batch.slice(start, i + 1));
        start = i + 1;
      }
      if (done()) messages.stop();
    };
    let waitingChanges = 0;
    const messages = await this.stream.follow(this.writer.build, this.position, (message) => {
      this.deliveredAt = Date.now();
      waiting.push(message);
      waitingChanges += message.changes?.length ?? 0;
      // Catching up (more waits in the stream), changes are gathered into larger commits: each
      // commit writes its pages and waits for the disk once, whatever it holds.
      const catchingUp = (message.pending ?? 0) > 0 && waitingChanges < CATCH_UP_CHANGES && message.kind === 'changes';
      if (!scheduled && !catchingUp) {
        scheduled = true;
        waitingChanges = 0;
        setImmediate(flush);
      }
    });
    this.messages = messages;
    // Stopped while the consumer was being made: nothing else would stop this one.
    if (done()) messages.stop();
    // After an outage, consumed again from where this replica stands, at once.
    const again = () => messages.stop();
    this.stream.reconnected.add(again);
    try {
      const failed = await messages.closed();
      if (failed && !done()) throw failed;
    } finally {
      this.stream.reconnected.delete(again);
    }
  }

  private apply(batch: StreamMessage[]): void {
    const last = batch.at(-1)!;
    const changes: SealedChange[] = [];
    for (const m of batch) if (m.changes) changes.push(...m.changes);
    const position: StreamPosition = { message: last.message, epoch: last.epoch, primary: last.primary };
    try {
      this.applied(this.writer.follow(changes, position));
    } catch (err) {
      this.stoppedBecause = 'stream_gap';
      this.log({ level: 'error', msg: 'this replica misses changes the stream no longer holds: re-seed it from a snapshot of the primary', err: (err as Error).message });
      return;
    }
    this.pendingMessages = last.pending ?? 0;
    if (this.pendingMessages === 0) this.caughtUpAt = Date.now();
    if (last.kind === 'switched') {
      this.stoppedBecause = 'build_moved';
      this.log({ level: 'error', msg: 'the primary serves another build: re-seed this replica from a snapshot of it (idv snapshot), then restart it', build: last.build, next: last.next });
    }
    if (last.kind === 'promoted') this.log({ level: 'info', msg: 'a new primary took over', primary: last.primary, epoch: last.epoch });
  }
}
