// A server thread: one uWS App of the threads that share the server's port (src/server/threads.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runServerThread } from '../src/server/serverThread.js';
import type { ThreadData } from '../src/server/threads.js';

await runServerThread(parentPort!, workerData as ThreadData);
