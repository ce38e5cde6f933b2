import { Piscina } from 'piscina';
import { ServiceError } from '../errors.js';
import type { IndexReader } from '../index/reader.js';
import { runItems } from '../verification/engine.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import { allThreadsStarted, workerPath } from '../workers.js';
import type { Metrics } from './metrics.js';
import type { VerifyTaskResult } from '../verification/types.js';

export interface AdmissionLimits {
  maxInFlightItems: number;
  shedQueueDelayMs: number;
}

/**
 * Where verification work runs. The server only sees this interface, so the designs can
 * be compared. Work done where it is asked for (a server thread, inline) is answered at
 * once, without a promise; refusal at admission is thrown (OVERLOADED).
 */
export interface Dispatcher {
  run(items: WorkItem[]): WorkResult[] | Promise<WorkResult[]>;
  readonly inFlightItems: number;
  close(): Promise<void>;
}

interface Pending {
  items: WorkItem[];
  resolve: (results: WorkResult[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Sheds load when requests keep waiting: if the single requests answered in the last
 * window took longer than the target on average (admission to answer: the dispatch queue,
 * the workers, and the event loop's backlog of answers), the server is taking in more
 * than it can do, and new requests are refused at once until a window comes in under the
 * target. Refusing early keeps the latency of accepted requests near the target instead
 * of growing with the backlog. (CoDel uses the minimum, which suits a single queue; here
 * much of the wait is the event loop's, which delays some answers and not others.)
 */
export class QueueDelayGuard {
  private windowStart: number;
  private sum = 0;
  private count = 0;
  private overloaded = false;

  constructor(private readonly targetMs: number, private readonly windowMs = 100, private readonly now = () => performance.now()) {
    this.windowStart = now();
  }

  record(sojournMs: number): void {
    this.sum += sojournMs;
    this.count++;
    this.roll();
  }

  get shedding(): boolean {
    this.roll();
    return this.overloaded;
  }

  private roll(): void {
    const t = this.now();
    if (t - this.windowStart < this.windowMs) return;
    // A window without answers (everything refused and drained) ends the shedding.
    this.overloaded = this.count > 0 && this.sum / this.count > this.targetMs;
    this.windowStart = t;
    this.sum = 0;
    this.count = 0;
  }
}

/** Admission control shared by both dispatchers: a bounded number of items in flight, and the queue-delay guard. */
abstract class Bounded implements Dispatcher {
  inFlightItems = 0;
  private readonly guard: QueueDelayGuard;

  constructor(protected readonly limits: AdmissionLimits, protected readonly metrics?: Metrics) {
    this.guard = new QueueDelayGuard(limits.shedQueueDelayMs);
    if (metrics) metrics.inFlightSource = () => this.inFlightItems;
  }

  run(items: WorkItem[]): WorkResult[] | Promise<WorkResult[]> {
    // Admitted while below the limit, so that one batch larger than the limit still gets in.
    if (this.inFlightItems >= this.limits.maxInFlightItems || this.guard.shedding) throw new ServiceError('OVERLOADED');
    this.inFlightItems += items.length;
    const admitted = performance.now();
    const done = () => {
      this.inFlightItems -= items.length;
      // Single requests measure the whole wait (dispatch queue, worker queue, and the event
      // loop's own backlog of answers); a batch is long by nature and would cry wolf.
      if (items.length === 1) this.guard.record(performance.now() - admitted);
    };
    let results: WorkResult[] | Promise<WorkResult[]>;
    try {
      results = this.execute(items);
    } catch (err) {
      done();
      throw err;
    }
    if (results instanceof Promise) return results.finally(done);
    done();
    return results;
  }

  protected abstract execute(items: WorkItem[]): WorkResult[] | Promise<WorkResult[]>;
  abstract close(): Promise<void>;
}

/**
 * Runs work on piscina workers. A dispatch costs about as much as one small lookup,
 * so the requests that arrive in one event-loop turn are gathered and sent together,
 * in tasks of at most `maxItemsPerTask` items (so both workers get a share).
 */
export class PoolDispatcher extends Bounded {
  private pending: Pending[] = [];
  private scheduled = false;

  private constructor(private readonly pool: Piscina, private readonly maxItemsPerTask: number, limits: AdmissionLimits, metrics?: Metrics) {
    super(limits, metrics);
  }

  /** Starts the workers and waits until each has opened the index, so a bad index fails here, not on a request. */
  static async start(opts: { buildPath: string; secretHex: string; values: 'sealed' | 'unsealed'; threads: number; maxItemsPerTask: number; limits: AdmissionLimits; metrics?: Metrics }): Promise<PoolDispatcher> {
    const pool = new Piscina({
      filename: workerPath('verify'),
      minThreads: opts.threads,
      maxThreads: opts.threads,
      idleTimeout: Number.MAX_SAFE_INTEGER, // never let a worker exit and reopen the index
      recordTiming: false, // we time tasks ourselves (idv_pool_task_seconds)
      workerData: { buildPath: opts.buildPath, secretHex: opts.secretHex, values: opts.values },
    });
    try {
      await allThreadsStarted(pool, opts.threads);
    } catch (err) {
      await pool.destroy();
      throw err;
    }
    return new PoolDispatcher(pool, opts.maxItemsPerTask, opts.limits, opts.metrics);
  }

  protected execute(items: WorkItem[]): Promise<WorkResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    const flat = batch.flatMap((p) => p.items);
    const tasks: Promise<WorkResult[]>[] = [];
    for (let at = 0; at < flat.length; at += this.maxItemsPerTask) {
      tasks.push(this.runTask(flat.slice(at, at + this.maxItemsPerTask)));
    }
    let at = 0;
    for (const p of batch) {
      const first = Math.floor(at / this.maxItemsPerTask);
      const last = Math.floor((at + p.items.length - 1) / this.maxItemsPerTask);
      const offset = at - first * this.maxItemsPerTask;
      const count = p.items.length;
      // Most requests fall in one task: no Promise.all for them.
      const parts = first === last ? tasks[first].then((part) => [part]) : Promise.all(tasks.slice(first, last + 1));
      parts.then((answers) => p.resolve(answers.flat().slice(offset, offset + count)), p.reject);
      at += count;
    }
  }

  private async runTask(items: WorkItem[]): Promise<WorkResult[]> {
    const start = performance.now();
    const dispatchedAt = performance.timeOrigin + start;
    const { startedAt, results } = (await this.pool.run(items)) as VerifyTaskResult;
    const queueMs = Math.max(0, startedAt - dispatchedAt);
    this.metrics?.taskItems.observe(items.length);
    this.metrics?.taskQueueSeconds.observe(queueMs / 1000);
    this.metrics?.taskSeconds.observe((performance.now() - start) / 1000);
    return results;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** Runs work where it is asked for: on a server thread, or on the one event loop (`--dispatch inline`). */
export class InlineDispatcher extends Bounded {
  constructor(private reader: IndexReader, limits: AdmissionLimits, metrics?: Metrics) {
    super(limits, metrics);
  }

  /** Reads another build from the next request on (work here is synchronous: none is half done); returns the reader it replaces. */
  replaceReader(next: IndexReader): IndexReader {
    const previous = this.reader;
    this.reader = next;
    return previous;
  }

  protected execute(items: WorkItem[]): WorkResult[] {
    return runItems(this.reader, items);
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}
