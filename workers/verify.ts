// Piscina entry point of the server: keyed hash, LMDB lookups and matching for a batch of requests.
import { workerData } from 'node:worker_threads';
import { IndexReader } from '../src/index/reader.js';
import { Secret } from '../src/index/secret.js';
import { answeringPing } from '../src/workers.js';
import { runItems } from '../src/verification/engine.js';
import type { WorkItem, WorkResult } from '../src/verification/types.js';

// The build the main thread registered: every thread reads the same one, whatever `current` says.
const { buildPath, secretHex, values } = workerData as { buildPath: string; secretHex: string; values: 'sealed' | 'unsealed' };
const reader = IndexReader.openBuild(buildPath, Secret.fromHex(secretHex), { values });

export interface VerifyTaskResult {
  /** When this worker picked the task up (epoch ms): the dispatcher derives queue delay from it. */
  startedAt: number;
  results: WorkResult[];
}

export default answeringPing((items: WorkItem[]): VerifyTaskResult => {
  const startedAt = performance.timeOrigin + performance.now();
  return { startedAt, results: runItems(reader, items) };
});
