import { ServiceError } from '../errors.js';
import type { Client } from './clients.js';

/** What a server thread admits, each figure its own share of the server's. */
export interface AdmissionLimits {
  /** Items of every client waiting or running; at or beyond, 503 OVERLOADED. */
  maxInFlightItems: number;
  /** A client whose work waited longer than this, beyond its own running time, all through a window is refused 503 OVERLOADED. */
  shedQueueDelayMs: number;
  /** The server's threads: a client's pending items (its limits) are shared out among them. */
  threads: number;
  /** Retry-After of a client refused for its pending items. */
  retryAfterSeconds: number;
  /** One turn of a client's queue (the scheduler's slice): a client with no more pending than this is never shed for waiting. */
  sliceItems: number;
}

/**
 * Sheds one client's load when its work keeps waiting (CoDel's test): if even the
 * shortest wait recorded in the last window was longer than the target, a queue is
 * standing, not passing through, and new requests are refused at once until a window
 * has one under the target (or none at all: the queue drained). The waits are of single
 * requests, from when the body was read to when the work ran (Ticket.done).
 */
export class WaitGuard {
  private windowStart: number;
  private least = Infinity;
  private overloaded = false;

  constructor(private readonly targetMs: number, private readonly windowMs = 100, private readonly now = () => performance.now()) {
    this.windowStart = now();
  }

  record(waitMs: number): void {
    this.roll();
    if (waitMs < this.least) this.least = waitMs;
  }

  get shedding(): boolean {
    this.roll();
    return this.overloaded;
  }

  private roll(): void {
    const t = this.now();
    if (t - this.windowStart < this.windowMs) return;
    // A window without answers (everything refused, or the client gone quiet) ends the shedding.
    this.overloaded = this.least !== Infinity && this.least > this.targetMs;
    this.windowStart = t;
    this.least = Infinity;
  }
}

/** One client's work on this thread: what it has been admitted for, and the queue the scheduler keeps for it. */
export class ClientLine {
  /** Admitted from the headers, the body not yet read: an estimate of its items. */
  reserved = 0;
  /** Items read and handed to the dispatcher, not yet done. */
  queued = 0;
  readonly guard: WaitGuard;
  constructor(readonly id: string, targetMs: number) {
    this.guard = new WaitGuard(targetMs);
  }
}

/**
 * A request's claim on its client's share: taken from the headers with an estimate of its
 * items, turned into the items it really has when its body is read (`hand`), and given
 * back when its work is done (`done`) or the request ends (`release`), whichever first.
 */
export class Ticket {
  private held: number;
  private handed = 0;
  constructor(private readonly admission: Admission, readonly line: ClientLine, estimate: number) {
    this.held = estimate;
    line.reserved += estimate;
    admission.total += estimate;
  }

  /** The body is read: its `items` are queued in place of the estimate. */
  hand(items: number): void {
    this.line.reserved -= this.held;
    this.admission.total += items - this.held;
    this.held = 0;
    this.handed += items;
    this.line.queued += items;
  }

  /**
   * `items` of the handed work are done; `waitMs` is how long the work waited, less its
   * own running time. Only a single request's wait is the client's signal: a batch waits
   * by nature (behind the client's other batches too), and its client is held to its share.
   */
  done(items: number, waitMs: number): void {
    const n = Math.min(items, this.handed);
    this.handed -= n;
    this.line.queued -= n;
    this.admission.total -= n;
    if (items === 1 && !Number.isNaN(waitMs)) this.line.guard.record(waitMs);
  }

  /** The request ended: whatever it still holds is given back (work still queued is given back as it finishes). */
  release(): void {
    this.line.reserved -= this.held;
    this.admission.total -= this.held;
    this.held = 0;
  }
}

/**
 * Admission on one server thread, from a request's headers alone: a bounded number of
 * items for all clients, a bounded share for each (its `pendingItems`, shared out among
 * the threads), and per client, shedding when its work keeps waiting. A client over its
 * share or shed is refused without its body being read, so a flood costs little more
 * than its refusals, and the clients within their share are served meanwhile.
 */
export class Admission {
  /** Items of every client held by tickets. */
  total = 0;
  private readonly lines = new Map<string, ClientLine>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** The line of a client, kept for the life of the server (one per client of the clients file). */
  lineOf(client: string): ClientLine {
    let line = this.lines.get(client);
    if (!line) this.lines.set(client, (line = new ClientLine(client, this.limits.shedQueueDelayMs)));
    return line;
  }

  /**
   * Admits a request of `estimate` items, or throws: OVERLOADED (503) when the thread is
   * full or the client's work keeps waiting, TOO_MANY_PENDING (429) when the client has
   * its whole share waiting. Admitted while below a limit, so a batch larger than the
   * share still gets in when the client has nothing else.
   *
   * A client with no more pending here than one turn's worth is never shed for waiting
   * (as FQ-CoDel spares sparse flows): its wait was the others' work, and refusing it
   * would relieve nothing. The clients that keep a queue standing are the ones refused.
   */
  admit(client: Client, estimate: number): Ticket {
    const line = this.lineOf(client.id);
    const pending = line.reserved + line.queued;
    if (this.total >= this.limits.maxInFlightItems || (pending > this.limits.sliceItems && line.guard.shedding)) throw new ServiceError('OVERLOADED');
    if (pending >= this.share(client)) {
      const error = new ServiceError('TOO_MANY_PENDING');
      error.retryAfterSeconds = this.limits.retryAfterSeconds;
      throw error;
    }
    return new Ticket(this, line, estimate);
  }

  /** A client's pending items on this thread. */
  private share(client: Client): number {
    return Math.max(1, Math.ceil(client.limits.pendingItems / this.limits.threads));
  }
}
