import type { IndexReader } from '../index/reader.js';
import { runItems } from '../verification/engine.js';
import type { CandidateRefs } from '../verification/candidateRef.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import type { Ticket } from '../clients/admission.js';
import { FairScheduler, type SchedulerLimits } from '../clients/fairScheduler.js';

/**
 * Where verification work runs: on the server thread that read the request
 * (ThreadDispatcher), or in a test, anywhere else. Work done where it is asked for is
 * answered at once when nothing waits, without a promise. The ticket is the request's
 * admission (admission.ts): the dispatcher says on it when the work is queued and done.
 */
export interface Dispatcher {
  run(items: WorkItem[], ticket: Ticket): WorkResult[] | Promise<WorkResult[]>;
  close(): Promise<void>;
}

/** Runs work on the server thread that read it, in turns fair between clients. */
export class ThreadDispatcher implements Dispatcher {
  private readonly scheduler: FairScheduler;

  constructor(private reader: IndexReader, refs: CandidateRefs, limits: SchedulerLimits) {
    this.scheduler = new FairScheduler((items) => runItems(this.reader, refs, items), limits);
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
