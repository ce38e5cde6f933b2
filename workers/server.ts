// A server thread: one uWS App of the threads that share the server's port (src/service/threads.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runServerThread } from '../src/service/serverThread.js';
import type { ThreadData } from '../src/service/threads.js';

await runServerThread(parentPort!, workerData as ThreadData);
