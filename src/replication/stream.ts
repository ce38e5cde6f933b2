import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, StorageType, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type StoredMsg } from '@nats-io/jetstream';
import { Packr } from 'msgpackr';
import type { SealedChange } from '../register/writer.js';

/**
 * What a message of the change stream is. Changes of the register (consecutive sealed log
 * records, as many as fit: one message for many changes keeps the stream's work per
 * change small); a promotion (a replica taking over as the primary, which fences the one
 * before); a build switch (the primary now serves, and publishes, another build).
 */
export type MessageKind = 'changes' | 'promoted' | 'switched';

/** The primary that wrote a message: its term, which only grows, and its own id. */
export interface Writer {
  epoch: number;
  primary: string;
}

/** A message of the stream, read back. */
export interface StreamMessage extends Writer {
  /** The stream's own sequence number. */
  message: number;
  kind: MessageKind;
  build: string;
  /** Changes: the last one's sequence in the build's log. A promotion: the last change the new primary held. A switch: the last change of the build. */
  seq: number;
  /** A switch: the build served after it. */
  next?: string;
  /** Changes: each, in order, ending at `seq`. */
  changes?: SealedChange[];
  /** When the stream stored it (ms since the epoch). */
  time: number;
  /** Messages of its build's subject after it, when delivered by a consumer. */
  pending?: number;
}

const H = { kind: 'Idv-Kind', build: 'Idv-Build', seq: 'Idv-Seq', epoch: 'Idv-Epoch', primary: 'Idv-Primary', next: 'Idv-Next' } as const;

// Plain msgpack (no records extension): a message is read by any version that reads its kind.
const packr = new Packr({ useRecords: false });

/** The stream holds a message the publisher did not expect: another primary wrote, or this one's view is stale. */
export const isWrongLastSequence = (err: unknown) => err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence;

export interface StreamOptions {
  servers: string;
  name: string;
  replicas: number;
  /** Connection state changes, for the log and the metrics. */
  onConnection?: (connected: boolean) => void;
}

/**
 * The change stream: one JetStream stream with file storage, a subject per build
 * (NAME.<build>), written by the primary only and read by every replica. The connection
 * reconnects for ever; a call made while it is down fails, and its caller retries.
 */
export class ChangeStream {
  connected = true;
  /** Called each time the connection comes back (a consumer is then made again at once, not when its heartbeats are missed). */
  readonly reconnected = new Set<() => void>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly name: string,
  ) {}

  /** Connects (waiting for a first connection as long as it takes) and makes sure the stream exists. */
  static async open(options: StreamOptions, stopped: () => boolean): Promise<ChangeStream | undefined> {
    const servers = options.servers.split(',').map((s) => s.trim()).filter(Boolean);
    let nc: NatsConnection | undefined;
    while (!nc) {
      if (stopped()) return undefined;
      nc = await connect({ servers, name: 'idv', reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: false }).catch(() => undefined);
      if (!nc) await pause(250);
    }
    const stream = new ChangeStream(nc, jetstream(nc), await jetstreamManager(nc), options.name);
    void stream.watch(options.onConnection);
    await stream.ensure(options.replicas, stopped);
    return stream;
  }

  subject(build: string): string {
    return `${this.name}.${build}`;
  }

  /** The stream's last message, of any build; undefined while it is empty. */
  async last(): Promise<StreamMessage | undefined> {
    const { state } = await this.jsm.streams.info(this.name);
    if (state.last_seq === 0 || state.messages === 0) return undefined;
    const stored = await this.jsm.streams.getMessage(this.name, { seq: state.last_seq });
    return stored ? fromStored(stored) : undefined;
  }

  /** The last message on a build's subject; undefined when there is none. */
  async lastOf(build: string): Promise<StreamMessage | undefined> {
    const stored = await this.jsm.streams.getMessage(this.name, { last_by_subj: this.subject(build) });
    return stored ? fromStored(stored) : undefined;
  }

  /**
   * Appends a message only if the stream's last message is `expectLast` (fencing: a
   * primary that another has replaced cannot append). Answers the message's sequence.
   */
  async publish(message: Omit<StreamMessage, 'message' | 'time' | 'pending'>, expectLast: number): Promise<number> {
    const h = headers();
    h.set(H.kind, message.kind);
    h.set(H.build, message.build);
    h.set(H.seq, String(message.seq));
    h.set(H.epoch, String(message.epoch));
    h.set(H.primary, message.primary);
    if (message.next) h.set(H.next, message.next);
    const msgID = message.kind === 'changes' ? `${message.build}:${message.seq}` : `${message.build}:${message.kind}:${message.epoch}`;
    const payload = message.changes ? packr.pack(message.changes) : new Uint8Array(0);
    const ack = await this.js.publish(this.subject(message.build), payload, { msgID, headers: h, expect: { lastSequence: expectLast } });
    return ack.seq;
  }

  /** A build's messages after stream message `after`, in order, each to `each` as it comes. */
  async follow(build: string, after: number, each: (message: StreamMessage) => void): Promise<ConsumerMessages> {
    const consumer = await this.js.consumers.get(this.name, { filter_subjects: this.subject(build), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 });
    // Heartbeats every second: a consumer lost with a server of the cluster is noticed and made again within seconds.
    return consumer.consume({ max_messages: 4000, expires: 5000, idle_heartbeat: 1000, callback: (m) => each(fromDelivered(m)) });
  }

  async close(): Promise<void> {
    // Every publish has been awaited and the consumer stopped: nothing is left to drain.
    await this.nc.close();
  }

  private async ensure(replicas: number, stopped: () => boolean): Promise<void> {
    for (;;) {
      try {
        await this.jsm.streams.info(this.name);
        return;
      } catch (err) {
        if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) {
          // Not "stream not found": JetStream unreachable for now.
          if (stopped()) return;
          await pause(250);
          continue;
        }
      }
      try {
        await this.jsm.streams.add({ name: this.name, subjects: [`${this.name}.>`], storage: StorageType.File, num_replicas: replicas, duplicate_window: 120_000_000_000 });
        return;
      } catch {
        // Another instance made it meanwhile, or JetStream is not ready yet: looked at again.
        if (stopped()) return;
        await pause(250);
      }
    }
  }

  private async watch(onConnection?: (connected: boolean) => void): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect') {
        this.connected = status.type === 'reconnect';
        onConnection?.(this.connected);
        if (this.connected) for (const listener of this.reconnected) listener();
      }
    }
  }
}

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function fromHeaders(h: MsgHdrs | undefined, message: number, data: Uint8Array, time: number): StreamMessage {
  const get = (name: string) => h?.get(name) ?? '';
  const out: StreamMessage = { message, kind: get(H.kind) as MessageKind, build: get(H.build), seq: Number(get(H.seq)), epoch: Number(get(H.epoch)), primary: get(H.primary), time };
  if (get(H.next)) out.next = get(H.next);
  if (out.kind === 'changes') out.changes = packr.unpack(data) as SealedChange[];
  return out;
}

const fromStored = (m: StoredMsg): StreamMessage => fromHeaders(m.header, m.seq, m.data, m.time.getTime());

/** A message a consumer delivered. */
function fromDelivered(m: JsMsg): StreamMessage {
  const out = fromHeaders(m.headers, m.seq, m.data, m.info.timestampNanos / 1e6);
  out.pending = m.info.pending;
  return out;
}
