import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { PACKAGE_ROOT } from './packageFiles.js';

/**
 * Worker entry points run as compiled JavaScript (a worker thread does not inherit a
 * TypeScript loader), so they are resolved in dist/ even when the caller runs from src/.
 */
export function workerPath(name: 'ingest' | 'synth' | 'check' | 'audit' | 'server' | 'register'): string {
  return join(PACKAGE_ROOT, 'dist', 'workers', `${name}.js`);
}

/**
 * Runs tasks on a pool, `window` at a time, and yields each task with its result in the
 * order given: the source is read only as fast as the workers keep up.
 */
export async function* inOrder<T, R>(pool: Piscina, tasks: AsyncIterable<T> | Iterable<T>, window: number): AsyncGenerator<{ task: T; result: R }> {
  const pending: { task: T; result: Promise<R> }[] = [];
  for await (const task of tasks) {
    const result = pool.run(task) as Promise<R>;
    // Awaited in turn below; until then a failure must not count as unhandled.
    result.catch(() => {});
    pending.push({ task, result });
    if (pending.length >= window) {
      const next = pending.shift()!;
      yield { task: next.task, result: await next.result };
    }
  }
  for (const next of pending) yield { task: next.task, result: await next.result };
}

/** The task every entry point that opens the index answers with its thread id (answeringPing). */
export const PING = 'ping';

/** An entry point that also answers PING, once its module (and so its native add-ons) has loaded. */
export function answeringPing<T, R>(run: (task: T) => R): (task: T | typeof PING) => R | number {
  return (task) => (task === PING ? threadId : run(task));
}

/**
 * Waits until every thread of a pool has loaded its entry point. A thread terminated while
 * it loads LMDB's native add-on aborts the whole process (napi_throw in the add-on's
 * registration), which a pool destroyed soon after a short job would otherwise risk.
 */
export async function allThreadsStarted(pool: Piscina, threads: number): Promise<void> {
  const seen = new Set<number>();
  for (let round = 0; seen.size < threads; round++) {
    if (round === 1000) throw new Error(`only ${seen.size} of ${threads} worker threads started`);
    const ids = (await Promise.all(Array.from({ length: threads * 2 }, () => pool.run(PING)))) as number[];
    for (const id of ids) seen.add(id);
  }
}
