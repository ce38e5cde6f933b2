import { median } from './machine.js';
import type { RegisterResults } from './register.js';

/**
 * How the stream of changes is sent and probed. Its client shares the cores it measures,
 * so a change to it changes the cost measured: runs are compared (their median) only
 * within one method.
 * 1: fetch; 2: node:http keep-alive posts (at 10M, 0.03 of a core against fetch's 0.07).
 */
export const STREAM_METHOD = 2;

/**
 * What the stream cost verify in a run: the median over its rounds of each round's loss
 * against the round alone just before it. Paired, because the machine's speed drifts
 * within a run (in one run at 98M the rounds alone went from 23,858 to 20,252 req/s), and
 * a loss taken against rounds minutes away counts the drift as cost.
 */
export function streamCost(r: Pick<RegisterResults, 'verifyAlone' | 'verifyWithChanges'>): number {
  return median(r.verifyWithChanges.map((loaded, i) => 1 - loaded / r.verifyAlone[i]));
}

/** A run's headline figures, as later runs keep them. */
export interface RunSummary {
  date: string;
  /** STREAM_METHOD of the run (absent: 1). */
  method?: number;
  applyPerSecond: number;
  /** streamCost of the run. */
  cost: number;
  visibleP99Ms: number;
}

const summaryOf = (r: RegisterResults): RunSummary => ({
  date: r.date,
  method: r.method ?? 1,
  applyPerSecond: r.apply.changesPerSecond,
  cost: streamCost(r),
  visibleP99Ms: r.visibleP99Ms,
});

/** What a new run keeps of the saved run at its scale: it and the runs it kept, measured the same way, at most 4. */
export function earlierOf(saved: RegisterResults | undefined): RunSummary[] {
  if (!saved) return [];
  return [summaryOf(saved), ...(saved.earlier ?? [])].filter((run) => (run.method ?? 1) === STREAM_METHOD).slice(0, 4);
}
