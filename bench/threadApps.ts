/**
 * A measurement for the performance issue, not a server: one uWS App per worker thread,
 * all listening on one port (SO_REUSEPORT; the kernel spreads connections), each with its
 * own LMDB reader and matcher, answering POST /v1/verify start to finish on its thread:
 * body, JSON, validation, lookup, matching, JSON answer. No authentication, limits, audit
 * or metrics, so it bounds from above what that design can give, beside the bare ceiling
 * and the service in the same suite run.
 * Run as its own process: `node dist/bench/threadApps.js DIR THREADS` prints {"msg":"listening","port":N}.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createServer, type AddressInfo } from 'node:net';
import { currentBuildDir } from '../src/index/layout.js';
import { IndexReader } from '../src/index/reader.js';
import { defaultSecretPath, Secret } from '../src/index/secret.js';
import { readBody } from '../src/server/body.js';
import { App } from '../src/server/uws.js';
import { idItem } from '../src/server/validate.js';
import { runItems } from '../src/verification/engine.js';

if (isMainThread) {
  const [dir, threads = '2'] = process.argv.slice(2);
  // A free port first: uWS shares a named port between threads, never one the kernel picks (port 0).
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const build = currentBuildDir(dir)!;
  const ready = Array.from({ length: Number(threads) }, () => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { build, secretFile: defaultSecretPath(dir), port } });
    return new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  });
  await Promise.all(ready);
  process.stdout.write(JSON.stringify({ msg: 'listening', port }) + '\n');
} else {
  const { build, secretFile, port } = workerData as { build: string; secretFile: string; port: number };
  const reader = IndexReader.openBuild(build, Secret.load(secretFile));
  const app = App().post('/v1/verify', (res) => {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    readBody(res, 16 * 1024, (outcome) => {
      if (aborted) return;
      let status = '200 OK';
      let answer: string;
      try {
        if (!outcome.ok) throw new Error('body too large');
        const { item } = idItem(JSON.parse(outcome.body.toString('utf8')));
        answer = JSON.stringify(runItems(reader, [item])[0]);
      } catch (err) {
        status = '422 Unprocessable Entity';
        answer = JSON.stringify({ error: { code: 'VALIDATION_FAILED', message: (err as Error).message } });
      }
      res.cork(() => res.writeStatus(status).writeHeader('content-type', 'application/json').end(answer));
    });
  });
  app.listen('127.0.0.1', port, (socket) => {
    if (!socket) throw new Error(`thread cannot listen on ${port}`);
    parentPort!.postMessage('listening');
  });
}
