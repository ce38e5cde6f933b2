// Piscina entry point of the server: keyed hash, LMDB lookups and matching for a batch of requests.
import { workerData } from 'node:worker_threads';
import { IndexReader } from '../src/index/reader.js';
import { Secret } from '../src/index/secret.js';
import { runItems } from '../src/verification/engine.js';
import type { WorkItem, WorkResult } from '../src/verification/types.js';

const { indexDir, secretHex } = workerData as { indexDir: string; secretHex: string };
const reader = IndexReader.open(indexDir, Secret.fromHex(secretHex));

export default function verify(items: WorkItem[]): WorkResult[] {
  return runItems(reader, items);
}
