import { Piscina } from 'piscina';
import { ServiceError } from '../errors.js';
import type { IndexReader } from '../index/reader.js';
import { runItems } from '../verification/engine.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import { workerPath } from '../workers.js';
import type { Metrics } from './metrics.js';

/** Where verification work runs. The server only sees this interface, so pool and inline can be compared. */
export interface Dispatcher {
  run(items: WorkItem[]): Promise<WorkResult[]>;
  readonly inFlightItems: number;
  close(): Promise<void>;
}

interface Pending {
  items: WorkItem[];
  resolve: (results: WorkResult[]) => void;
  reject: (err: unknown) => void;
}

/** Admission control shared by both dispatchers: a bounded number of items in flight. */
abstract class Bounded implements Dispatcher {
  inFlightItems = 0;
  constructor(protected readonly maxInFlightItems: number, protected readonly metrics?: Metrics) {}

  run(items: WorkItem[]): Promise<WorkResult[]> {
    if (this.inFlightItems + items.length > this.maxInFlightItems) return Promise.reject(new ServiceError('OVERLOADED'));
    this.inFlightItems += items.length;
    this.metrics?.inFlight.set(this.inFlightItems);
    return this.execute(items).finally(() => {
      this.inFlightItems -= items.length;
      this.metrics?.inFlight.set(this.inFlightItems);
    });
  }

  protected abstract execute(items: WorkItem[]): Promise<WorkResult[]>;
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

  private constructor(private readonly pool: Piscina, private readonly maxItemsPerTask: number, maxInFlightItems: number, metrics?: Metrics) {
    super(maxInFlightItems, metrics);
  }

  /** Starts the workers and waits until each has opened the index, so a bad index fails here, not on a request. */
  static async start(opts: { indexDir: string; secretHex: string; threads: number; maxItemsPerTask: number; maxInFlightItems: number; metrics?: Metrics }): Promise<PoolDispatcher> {
    const pool = new Piscina({
      filename: workerPath('verify'),
      minThreads: opts.threads,
      maxThreads: opts.threads,
      idleTimeout: Number.MAX_SAFE_INTEGER, // never let a worker exit and reopen the index
      recordTiming: false, // we time tasks ourselves (idv_pool_task_seconds)
      workerData: { indexDir: opts.indexDir, secretHex: opts.secretHex },
    });
    try {
      await Promise.all(Array.from({ length: opts.threads }, () => pool.run([])));
    } catch (err) {
      await pool.destroy();
      throw err;
    }
    return new PoolDispatcher(pool, opts.maxItemsPerTask, opts.maxInFlightItems, opts.metrics);
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
      Promise.all(tasks.slice(first, last + 1)).then((parts) => p.resolve(parts.flat().slice(offset, offset + count)), p.reject);
      at += count;
    }
  }

  private async runTask(items: WorkItem[]): Promise<WorkResult[]> {
    const start = performance.now();
    try {
      return (await this.pool.run(items)) as WorkResult[];
    } finally {
      this.metrics?.taskItems.observe(items.length);
      this.metrics?.taskSeconds.observe((performance.now() - start) / 1000);
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** Runs work on the event loop: the baseline the pool must beat. */
export class InlineDispatcher extends Bounded {
  constructor(private readonly reader: IndexReader, maxInFlightItems: number, metrics?: Metrics) {
    super(maxInFlightItems, metrics);
  }

  protected execute(items: WorkItem[]): Promise<WorkResult[]> {
    try {
      return Promise.resolve(runItems(this.reader, items));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}
