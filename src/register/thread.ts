import { Worker, type MessagePort } from 'node:worker_threads';
import { loggableError, ServiceError, type ErrorBody } from '../errors.js';
import { Secret } from '../index/secret.js';
import { workerPath } from '../workers.js';
import { answer, Caller } from '../threads/rpc.js';
import type { ChangeBatch } from './changes.js';
import { Replication, type ReplicationSettings, type ReplicationStatus } from '../replication/replication.js';
import { CarryError, RegisterWriter, type BatchAnswer, type ChangePage } from './writer.js';

/** What the server asks of the register: applied batches and the change log. */
export interface Register {
  apply(client: string, batch: ChangeBatch): Promise<{ answer: BatchAnswer; replayed: boolean }>;
  changes(after: number, limit: number): Promise<ChangePage>;
}

export type RegisterCall = { call: 'apply'; client: string; batch: ChangeBatch } | { call: 'changes'; after: number; limit: number };

/** A failure as it crosses threads: a catalogue error, or an unexpected one (logged where it happened). */
export type RegisterFailure = ErrorBody['error'] | { code: 'INTERNAL'; message: string; internal: ReturnType<typeof loggableError> };

/** The calls the server makes of the register thread, and what each answers. */
type RegisterProtocol = {
  apply: { arg: { client: string; batch: ChangeBatch }; value: { answer: BatchAnswer; replayed: boolean; records: number; sequence: number } };
  changes: { arg: { after: number; limit: number }; value: ChangePage };
  switch: { arg: { buildPath: string }; value: { carried: number; through: number; lastSequence: number; records: number } };
  status: { arg: null; value: RegisterStatus };
  close: { arg: null; value: null };
};

/** Where the register stands, and (with a change stream) where this instance stands in it. */
export interface RegisterStatus {
  lastSequence: number;
  records: number;
  replication?: ReplicationStatus;
}

/** What the register thread is given at start. */
interface RegisterData {
  buildPath: string;
  secretHex: string;
  replication?: ReplicationSettings;
}
/** What the register thread says once, at start. */
type Started = { type: 'ready'; lastSequence: number; records: number } | { type: 'failed'; message: string };

export function failureOf(err: unknown): RegisterFailure {
  if (err instanceof ServiceError) return err.toBody().error;
  // Its message names builds and counts, nothing personal: kept, for the log of the refused switch.
  if (err instanceof CarryError) return { code: 'INTERNAL', message: err.message, internal: loggableError(err) };
  return { code: 'INTERNAL', message: 'Internal error', internal: loggableError(err) };
}

/** The catalogue error a failure stands for, on the thread that answers the request. */
export function errorOf(failure: RegisterFailure): ServiceError {
  const error = new ServiceError(failure.code, failure.message);
  if ('items' in failure && failure.items) error.items = failure.items;
  return error;
}

/**
 * The register's writer on a thread of its own: a batch's commit waits for the disk
 * (fsync), and nothing else of the server should wait with it. Calls are answered in the
 * order they came; close() waits for the calls in progress.
 */
export class RegisterThread implements Register {
  private readonly calls: Caller<RegisterProtocol>;
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    private readonly log: (event: Record<string, unknown>) => void,
    private readonly counted: (outcome: 'applied' | 'replayed' | 'refused', done?: { changes: number; lastSequence: number; records: number }) => void,
    /** The last change applied when the writer opened its build. */
    readonly lastSequence: number,
    /** The citizens on record then: the build's count with the changes applied since. */
    readonly records: number,
  ) {
    this.calls = new Caller<RegisterProtocol>(worker, (failure) => {
      const f = failure as RegisterFailure;
      if ('internal' in f) this.log({ level: 'error', msg: 'register change failed', ...f.internal });
      return errorOf(f);
    });
    // A writer that stops is not restarted behind the operator's back: changes are refused
    // (NOT_READY), verifications go on, and the log says why.
    worker.on('error', (err) => this.log({ level: 'error', msg: 'the register thread failed', ...loggableError(err) }));
    worker.on('exit', (code) => {
      if (!this.closing) this.log({ level: 'error', msg: 'the register thread stopped: changes are refused until a restart', code });
      this.calls.stop(new ServiceError('NOT_READY', 'The register is closed'));
    });
  }

  /** `counted`: each batch's outcome, and where an accepted one left the register, for the metrics. */
  static async start(buildPath: string, secret: Secret, log: (event: Record<string, unknown>) => void, counted: RegisterThread['counted'] = () => {}, replication?: ReplicationSettings): Promise<RegisterThread> {
    const worker = new Worker(workerPath('register'), { workerData: { buildPath, secretHex: secret.hex, replication } satisfies RegisterData });
    worker.on('message', (m: { type?: string; event?: Record<string, unknown> }) => {
      if (m.type === 'log' && m.event) log(m.event);
    });
    const { lastSequence, records } = await new Promise<{ lastSequence: number; records: number }>((resolve, reject) => {
      worker.once('message', (m: Started) => (m.type === 'ready' ? resolve(m) : reject(new Error(m.type === 'failed' ? m.message : 'the register did not start'))));
      worker.once('error', reject);
    });
    return new RegisterThread(worker, log, counted, lastSequence, records);
  }

  apply(client: string, batch: ChangeBatch): Promise<{ answer: BatchAnswer; replayed: boolean }> {
    return this.calls.call('apply', { client, batch }).then(
      ({ answer, replayed, records, sequence }) => {
        // Where the register stands now: a replayed batch's own numbers are those of its first time.
        this.counted(replayed ? 'replayed' : 'applied', { changes: replayed ? 0 : answer.applied, lastSequence: sequence, records });
        return { answer, replayed };
      },
      (err) => {
        this.counted('refused');
        throw err;
      },
    );
  }

  changes(after: number, limit: number): Promise<ChangePage> {
    return this.calls.call('changes', { after, limit });
  }

  /**
   * Moves the writer to a newly published build: the changes applied to the old one after
   * the new one's source was taken are carried in first. Refused (and the old build kept)
   * when the new build does not say which changes its source holds.
   */
  switchTo(buildPath: string): Promise<{ carried: number; through: number; lastSequence: number; records: number }> {
    return this.calls.call('switch', { buildPath });
  }

  /** Where the register stands, and this instance in the change stream. */
  status(): Promise<RegisterStatus> {
    return this.calls.call('status', null);
  }

  /** Answers a call relayed from a server thread, as it will cross back. */
  relay(call: RegisterCall): Promise<{ value?: unknown; failure?: RegisterFailure }> {
    const answer: Promise<unknown> = call.call === 'apply' ? this.apply(call.client, call.batch) : this.changes(call.after, call.limit);
    return answer.then(
      (value) => ({ value }),
      (err) => ({ failure: failureOf(err) }),
    );
  }

  /** Waits for the calls in progress (every acknowledged batch is on disk), then stops. */
  async close(): Promise<void> {
    this.closing = true;
    await this.calls.call('close', null).catch(() => {});
    await this.worker.terminate();
  }
}

/** The register thread's side (workers/register.ts). */
export function runRegisterThread(parent: MessagePort, data: RegisterData): void {
  let writer: RegisterWriter;
  const secret = Secret.fromHex(data.secretHex);
  try {
    writer = RegisterWriter.open(data.buildPath, secret);
  } catch (err) {
    parent.postMessage({ type: 'failed', message: (err as Error).message } satisfies Started);
    return;
  }
  const log = (event: Record<string, unknown>) => parent.postMessage({ type: 'log', event });
  const stream = data.replication && Replication.start(data.replication, () => writer, log, () => {});
  // Batches are applied one per turn of the event loop, in order: between two commits (each
  // waits for the disk) the thread reads its sockets, so the change stream is published
  // while batches keep coming, not only once they stop.
  let tail: Promise<unknown> = Promise.resolve();
  const oneATurn = <T>(work: () => T): Promise<T> => {
    const turn = tail.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(work);
    tail = turn.catch(() => {});
    return turn;
  };
  answer<RegisterProtocol>(
    parent,
    {
      // An applied batch carries the count of citizens on record after it, for the metrics.
      apply: async ({ client, batch }) => {
        const applied = await oneATurn(() => {
          stream?.admit();
          return { ...writer.apply(client, batch), records: writer.records, sequence: writer.lastSequence };
        });
        await stream?.applied(applied.answer.lastSequence);
        return applied;
      },
      changes: ({ after, limit }) => writer.changes(after, limit),
      switch: ({ buildPath }) => {
        const next = RegisterWriter.open(buildPath, secret);
        try {
          // The count after the carried changes: births and deaths the new build's source lacked included.
          const value = { ...next.carryFrom(writer), lastSequence: next.lastSequence, records: next.records };
          const previous = writer;
          writer = next;
          stream?.switchedBuild(previous.build, next.build, previous.lastSequence);
          void previous.close();
          return value;
        } catch (err) {
          void next.close();
          throw err;
        }
      },
      status: () => ({ lastSequence: writer.lastSequence, records: writer.records, replication: stream?.status() }),
      close: async () => {
        await stream?.close();
        await writer.close();
        return null;
      },
    },
    failureOf,
  );
  parent.postMessage({ type: 'ready', lastSequence: writer.lastSequence, records: writer.records } satisfies Started);
}
