import type { UnreadyReason } from '../service/liveState.js';
import type { RegisterWriter, SealedChange, StreamPosition } from '../register/writer.js';
import { fromDelivered, pause, type ChangeStream, type StreamMessage } from './stream.js';

type Log = (event: Record<string, unknown>) => void;

// Changes applied in one transaction at most, when the stream has more waiting.
const BATCH = 2000;

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
  /** Changes the stream holds beyond this replica, as last seen. */
  behind = 0;
  private caughtUpAt = Date.now();
  private stopped = false;
  private messages?: { stop(): void };

  constructor(
    private readonly stream: ChangeStream,
    private readonly writer: RegisterWriter,
    private readonly log: Log,
    private readonly applied: (followed: Followed) => void,
  ) {}

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

  private async consume(until?: number): Promise<void> {
    const messages = await this.stream.follow(this.writer.build, this.position);
    this.messages = messages;
    let batch: StreamMessage[] = [];
    for await (const delivered of messages) {
      const message = fromDelivered(delivered);
      batch.push(message);
      // Applied at once when nothing more waits (so a change is visible as soon as it can be), else in batches.
      if (message.pending === 0 || batch.length >= BATCH || message.kind !== 'change') {
        this.apply(batch);
        batch = [];
        if (this.stoppedBecause || this.stopped || (until !== undefined && this.position >= until)) break;
      }
    }
    messages.stop();
  }

  private apply(batch: StreamMessage[]): void {
    const last = batch.at(-1)!;
    const changes: SealedChange[] = [];
    for (const m of batch) if (m.change) changes.push(m.change);
    const position: StreamPosition = { message: last.message, epoch: last.epoch, primary: last.primary };
    try {
      this.applied(this.writer.follow(changes, position));
    } catch (err) {
      this.stoppedBecause = 'stream_gap';
      this.log({ level: 'error', msg: 'this replica misses changes the stream no longer holds: re-seed it from a snapshot of the primary', err: (err as Error).message });
      return;
    }
    this.behind = last.pending ?? 0;
    if (this.behind === 0) this.caughtUpAt = Date.now();
    if (last.kind === 'switched') {
      this.stoppedBecause = 'build_moved';
      this.log({ level: 'error', msg: 'the primary serves another build: re-seed this replica from a snapshot of it (idv snapshot), then restart it', build: last.build, next: last.next });
    }
    if (last.kind === 'promoted') this.log({ level: 'info', msg: 'a new primary took over', primary: last.primary, epoch: last.epoch });
  }
}
