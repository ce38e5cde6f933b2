import { ServiceError } from '../errors.js';
import type { RegisterWriter } from '../register/writer.js';
import type { Role, UnreadyReason } from '../service/liveState.js';
import { Follower, type Followed } from './follower.js';
import { newIdentity, readIdentity } from './identity.js';
import { notPrimary, Publisher } from './publisher.js';
import { ChangeStream, isWrongLastSequence, pause, type Writer } from './stream.js';

type Log = (event: Record<string, unknown>) => void;

/** The change stream's settings, as the register thread is given them. */
export interface ReplicationSettings {
  nats: string;
  stream: string;
  streamReplicas: number;
  /** Follow the stream, or take changes and publish them (after taking over, with `promote`). */
  replica: boolean;
  promote: boolean;
  ack: 'local' | 'replicated';
  timeoutMs: number;
  maxLagSeconds: number;
  /** Where the primary's identity is kept (identity.ts). */
  indexDir: string;
}

/** What the register thread says of the stream, for /readyz and the metrics. */
export interface ReplicationStatus {
  role: Exclude<Role, 'standalone'>;
  connected: boolean;
  unready?: UnreadyReason;
  /** A replica: changes the stream holds beyond it, and for how long it has not held everything. */
  lag?: { changes: number; seconds: number };
  /** A primary: changes applied here that the stream does not hold yet. */
  backlog: number;
  /** The term of the primary this instance is, or last followed. */
  epoch: number;
}

/**
 * An instance's place in the change stream, on the register's thread: a primary publishes
 * the register's log (Publisher), a replica applies it (Follower), and a replica started as
 * the primary (`promote`) first catches up, then takes over with a new term that fences the
 * primary before it. Connecting never delays the start: verifications are served meanwhile,
 * and changes are refused until this instance knows it is the primary.
 */
export class Replication {
  private stream?: ChangeStream;
  private publisher?: Publisher;
  private follower?: Follower;
  private refusal?: string;
  private stopped = false;
  private readonly running: Promise<void>;

  private constructor(
    private readonly settings: ReplicationSettings,
    private readonly writer: () => RegisterWriter,
    private readonly log: Log,
    private readonly followed: (f: Followed) => void,
  ) {
    this.running = this.start().catch((err) => {
      this.refusal = (err as Error).message;
      this.log({ level: 'error', msg: 'the change stream is not followed or published', err: this.refusal });
    });
  }

  static start(settings: ReplicationSettings, writer: () => RegisterWriter, log: Log, followed: (f: Followed) => void): Replication {
    return new Replication(settings, writer, log, followed);
  }

  /** Refuses a batch of changes this instance must not take now (before anything of it is applied). */
  admit(): void {
    if (this.settings.replica) throw notPrimary('it is a replica');
    if (this.publisher?.fenced) throw notPrimary(this.publisher.fenced);
    if (this.refusal) throw notPrimary(this.refusal);
    if (!this.publisher?.everSynced) throw new ServiceError('REPLICATION_UNAVAILABLE', 'The change stream has not yet confirmed this instance as the primary; nothing was applied');
    if (this.settings.ack === 'replicated' && !this.publisher.replicating) throw new ServiceError('REPLICATION_UNAVAILABLE', 'The change stream is unreachable; nothing was applied');
  }

  /** After a batch is applied here: published, and under ack replicated, awaited until the stream holds it. */
  async applied(lastSequence: number): Promise<void> {
    this.publisher?.kick();
    if (this.settings.ack === 'replicated') await this.publisher!.stored(lastSequence, this.settings.timeoutMs);
  }

  switchedBuild(from: string, to: string, seq: number): void {
    this.publisher?.switchedBuild(from, to, seq);
  }

  status(): ReplicationStatus {
    const connected = this.stream?.connected ?? false;
    const epoch = this.publisher?.identity.epoch ?? this.writer().streamPosition?.epoch ?? 0;
    if (this.settings.replica || !this.publisher) {
      const f = this.follower;
      const lag = f ? { changes: f.behind, seconds: +f.lagSeconds.toFixed(3) } : undefined;
      const unready = f?.stoppedBecause ?? (lag && lag.seconds > this.settings.maxLagSeconds ? 'lagging' : undefined);
      return { role: 'replica', connected, lag, unready, backlog: 0, epoch };
    }
    return { role: 'primary', connected, unready: this.publisher.fenced || this.refusal ? 'fenced' : undefined, backlog: this.publisher.backlog, epoch };
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.publisher?.stop();
    this.follower?.stop();
    await this.running;
    await this.stream?.close();
  }

  private async start(): Promise<void> {
    const { settings } = this;
    const stream = await ChangeStream.open(
      { servers: settings.nats, name: settings.stream, replicas: settings.streamReplicas, onConnection: (up) => this.log({ level: up ? 'info' : 'warn', msg: up ? 'NATS connected' : 'NATS connection lost' }) },
      () => this.stopped,
    );
    if (!stream) return;
    this.stream = stream;
    if (settings.replica) {
      this.follower = new Follower(stream, this.writer(), this.log, this.followed);
      return this.follower.run();
    }
    const identity = settings.promote ? await this.promote(stream) : await this.primaryIdentity(stream);
    if (!identity) return;
    this.publisher = new Publisher(stream, this.writer, identity, this.log);
    await this.publisher.run();
  }

  /** The identity this index directory published under; a first one if the stream is empty; else it is not the primary. */
  private async primaryIdentity(stream: ChangeStream): Promise<Writer | undefined> {
    const known = readIdentity(this.settings.indexDir);
    if (known) return known;
    const last = await this.retrying(() => stream.last());
    if (last) throw new Error(`stream ${stream.name} already has a primary (${last.primary}, term ${last.epoch}) and this index directory has never published to it: start it with --replica, or with --promote to take over`);
    return newIdentity(this.settings.indexDir, 1);
  }

  /**
   * Takes over as the primary: follows the stream to its last message, then appends a
   * promotion with the next term, expecting that message to be still the last. If the old
   * primary appended meanwhile, it catches up again and tries again.
   */
  private async promote(stream: ChangeStream): Promise<Writer | undefined> {
    const writer = this.writer();
    const follower = (this.follower = new Follower(stream, writer, this.log, this.followed));
    for (;;) {
      if (this.stopped) return undefined;
      const last = await this.retrying(() => stream.last());
      if (last && last.build !== writer.build) throw new Error(`the stream's last message is of build ${last.build}; this index holds ${writer.build}: re-seed it from a snapshot of the primary's build`);
      if (last) await follower.run(last.message);
      if (follower.stoppedBecause) throw new Error(`cannot take over: ${follower.stoppedBecause}`);
      const identity = newIdentity(this.settings.indexDir, (last?.epoch ?? 0) + 1);
      try {
        const message = await stream.publish({ kind: 'promoted', build: writer.build, seq: writer.lastSequence, ...identity }, last?.message ?? 0);
        // Noted at once: the build now stands in the stream as this primary's (idv apply checks whose it is).
        writer.published({ message, ...identity });
        this.log({ level: 'info', msg: 'promoted: this instance is the primary', epoch: identity.epoch, primary: identity.primary, sequence: writer.lastSequence });
        this.follower = undefined;
        return identity;
      } catch (err) {
        if (!isWrongLastSequence(err)) await pause(250);
      }
    }
  }

  private async retrying<T>(read: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await read();
      } catch (err) {
        if (this.stopped) throw err;
        await pause(250);
      }
    }
  }
}
