import type { WorkItem, WorkResult } from '../verification/types.js';
import type { ClientLine, Ticket } from './admission.js';

export interface SchedulerLimits {
  /** Items of one client run before the next client's turn. */
  sliceItems: number;
  /** Work done in one go before the thread reads its sockets again. */
  turnMs: number;
}

/** A request's work waiting on its client's queue, run a slice at a time. */
interface Job {
  ticket: Ticket;
  items: WorkItem[];
  results: WorkResult[];
  /** Items run so far. */
  done: number;
  queuedAt: number;
  /** Time spent running its own items. */
  ranMs: number;
  resolve: (results: WorkResult[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs a server thread's work fairly between clients. Work is synchronous, so without
 * this a request runs as soon as its body is read, and one client's 1,000-item batches
 * (a tenth of a second each) hold every other client's requests behind them in the
 * sockets. Here each client has a queue, and the queues take turns of `sliceItems` items
 * (round robin by items: a batch is its items' worth of work, not one request's), in
 * turns of at most `turnMs`, between which the thread goes back to its sockets for new
 * requests. Another client's single check waits at most one turn of each busy client.
 *
 * When nothing is queued and the thread has not been working for a turn already, work is
 * run at once, without a promise: the cost of fairness is paid only under load.
 */
export class FairScheduler {
  /** The clients with queued work, in turn order. */
  private readonly ring: ClientLine[] = [];
  private readonly queues = new Map<ClientLine, Job[]>();
  private pumping = false;
  /** When the work of this event-loop turn began, or NaN when the thread has been idle since its last turn ended. */
  private turnStart = NaN;

  constructor(
    private readonly execute: (items: WorkItem[]) => WorkResult[],
    private readonly limits: SchedulerLimits,
    private readonly now = () => performance.now(),
  ) {}

  run(ticket: Ticket, items: WorkItem[]): WorkResult[] | Promise<WorkResult[]> {
    ticket.hand(items.length);
    const t = this.now();
    if (!this.ring.length && items.length <= this.limits.sliceItems && !this.turnSpent(t)) return this.runAtOnce(ticket, items, t);
    return new Promise((resolve, reject) => {
      const job: Job = { ticket, items, results: new Array(items.length), done: 0, queuedAt: t, ranMs: 0, resolve, reject };
      let jobs = this.queues.get(ticket.line);
      if (!jobs) this.queues.set(ticket.line, (jobs = []));
      jobs.push(job);
      if (jobs.length === 1) this.ring.push(ticket.line);
      this.schedule();
    });
  }

  private runAtOnce(ticket: Ticket, items: WorkItem[], t: number): WorkResult[] {
    this.beginTurn(t);
    try {
      const results = this.execute(items);
      // It waited for nothing here; what it waited in the sockets shows as the turn grows, when work is queued.
      ticket.done(items.length, t - this.turnStart);
      return results;
    } catch (err) {
      ticket.done(items.length, NaN);
      throw err;
    }
  }

  /** Whether this event-loop turn has already worked its share: then new work queues, and the sockets are read again sooner. */
  private turnSpent(t: number): boolean {
    return !Number.isNaN(this.turnStart) && t - this.turnStart >= this.limits.turnMs;
  }

  private beginTurn(t: number): void {
    if (!Number.isNaN(this.turnStart)) return;
    this.turnStart = t;
    // After the sockets' callbacks of this turn: the thread was idle, or goes on with the queues.
    setImmediate(() => {
      this.turnStart = NaN;
    });
  }

  private schedule(): void {
    if (this.pumping) return;
    this.pumping = true;
    setImmediate(() => this.pump());
  }

  /** One turn: slices of each client's queue in turn, until the turn's time is spent or nothing is left. */
  private pump(): void {
    this.pumping = false;
    const start = this.now();
    this.turnStart = start;
    while (this.ring.length) {
      const line = this.ring.shift()!;
      const jobs = this.queues.get(line)!;
      this.slice(jobs[0]);
      if (jobs[0].done === jobs[0].items.length) jobs.shift();
      if (jobs.length) this.ring.push(line);
      else this.queues.delete(line);
      if (this.now() - start >= this.limits.turnMs) break;
    }
    this.turnStart = NaN;
    if (this.ring.length) this.schedule();
  }

  private slice(job: Job): void {
    const count = Math.min(this.limits.sliceItems, job.items.length - job.done);
    const part = count === job.items.length ? job.items : job.items.slice(job.done, job.done + count);
    const t = this.now();
    let results: WorkResult[];
    try {
      results = this.execute(part);
    } catch (err) {
      job.done = job.items.length;
      job.ticket.done(job.items.length, NaN);
      job.reject(err);
      return;
    }
    const end = this.now();
    job.ranMs += end - t;
    for (let i = 0; i < count; i++) job.results[job.done + i] = results[i];
    job.done += count;
    if (job.done < job.items.length) return;
    job.ticket.done(job.items.length, end - job.queuedAt - job.ranMs);
    job.resolve(job.results);
  }
}
