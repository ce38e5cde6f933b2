// The register's one writer: batches of changes applied to the served build (src/register/thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runRegisterThread } from '../src/register/thread.js';

runRegisterThread(parentPort!, workerData as { buildPath: string; secretHex: string });
