// Piscina entry point of the server: keyed hash, LMDB lookups and matching for a batch of requests.
import { workerData } from 'node:worker_threads';
import { IndexReader } from '../src/index/reader.js';
import { Secret } from '../src/index/secret.js';
import { answeringPing } from '../src/workers.js';
import { runItems } from '../src/verification/engine.js';
import type { VerifyTaskResult, WorkItem } from '../src/verification/types.js';

// The build the main thread registered: every thread reads the same one, whatever `current` says.
const { buildPath, secretHex, values } = workerData as { buildPath: string; secretHex: string; values: 'sealed' | 'unsealed' };
const reader = IndexReader.openBuild(buildPath, Secret.fromHex(secretHex), { values });

// A fault the fault tests inject (test/faults): a task with a claim of this name stops the
// worker as a crash in native code would, with the task in its hands. Unset in service.
const poison = process.env.IDV_FAULT_WORKER_EXIT_ON_NAME;
const poisoned = (items: WorkItem[]) => items.some((i) => (i.type === 'id' ? i.claim.fullName : i.query.fullName) === poison);

export default answeringPing((items: WorkItem[]): VerifyTaskResult => {
  if (poison && poisoned(items)) process.exit(70);
  const startedAt = performance.timeOrigin + performance.now();
  return { startedAt, results: runItems(reader, items) };
});
