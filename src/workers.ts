import { join } from 'node:path';
import type { Piscina } from 'piscina';
import { PACKAGE_ROOT } from './packageFiles.js';

/**
 * Worker entry points run as compiled JavaScript (a worker thread does not inherit a
 * TypeScript loader), so they are resolved in dist/ even when the caller runs from src/.
 */
export function workerPath(name: 'ingest' | 'verify' | 'synth' | 'check' | 'audit' | 'server'): string {
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
