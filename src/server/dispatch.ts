import { Piscina } from 'piscina';
import type { IndexReader } from '../index/reader.js';
import { runItems } from '../verification/engine.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import { allThreadsStarted, workerPath } from '../workers.js';
import type { Metrics } from './metrics.js';
import type { Ticket } from './admission.js';
import { FairScheduler, type SchedulerLimits } from './fairScheduler.js';
import type { VerifyTaskResult } from '../verification/types.js';

/**
 * Where verification work runs. The server only sees this interface, so the designs can
 * be compared. Work done where it is asked for (a server thread, inline) is answered at
 * once when nothing waits, without a promise. The ticket is the request's admission
 * (admission.ts): the dispatcher says on it when the work is queued and done.
 */
export interface Dispatcher {
  run(items: WorkItem[], ticket: Ticket): WorkResult[] | Promise<WorkResult[]>;
  close(): Promise<void>;
}

interface Pending {
  items: WorkItem[];
  resolve: (results: WorkResult[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs work on piscina workers. A dispatch costs about as much as one small lookup,
 * so the requests that arrive in one event-loop turn are gathered and sent together,
 * in tasks of at most `maxItemsPerTask` items (so both workers get a share).
 */
export class PoolDispatcher implements Dispatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  private constructor(private readonly pool: Piscina, private readonly maxItemsPerTask: number, private readonly metrics?: Metrics) {}

  /** Starts the workers and waits until each has opened the index, so a bad index fails here, not on a request. */
  static async start(opts: { buildPath: string; secretHex: string; values: 'sealed' | 'unsealed'; threads: number; maxItemsPerTask: number; metrics?: Metrics }): Promise<PoolDispatcher> {
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
    return new PoolDispatcher(pool, opts.maxItemsPerTask, opts.metrics);
  }

  /**
   * In the order asked (the workers' queue is one for all clients: this design keeps
   * admission's shares and shedding, not the server threads' turns). A request's wait is
   * its whole time here: running time is not told apart.
   */
  run(items: WorkItem[], ticket: Ticket): Promise<WorkResult[]> {
    ticket.hand(items.length);
    const asked = performance.now();
    const done = () => ticket.done(items.length, performance.now() - asked);
    return new Promise<WorkResult[]>((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    }).finally(done);
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

/** Runs work where it is asked for, in turns fair between clients: on a server thread, or on the one event loop (`--dispatch inline`). */
export class InlineDispatcher implements Dispatcher {
  private readonly scheduler: FairScheduler;

  constructor(private reader: IndexReader, limits: SchedulerLimits) {
    this.scheduler = new FairScheduler((items) => runItems(this.reader, items), limits);
  }

  /** Reads another build from the next slice of work on (a slice is synchronous: none is half done); returns the reader it replaces. */
  replaceReader(next: IndexReader): IndexReader {
    const previous = this.reader;
    this.reader = next;
    return previous;
  }

  run(items: WorkItem[], ticket: Ticket): WorkResult[] | Promise<WorkResult[]> {
    return this.scheduler.run(ticket, items);
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}
