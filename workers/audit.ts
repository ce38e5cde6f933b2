// The audit thread: one per server, owning the trail's files and its chain (src/audit/writer.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { Secret } from '../src/index/secret.js';
import { TrailWriter } from '../src/audit/writer.js';
import type { TrailCalls, TrailMessage, WriterMessage } from '../src/audit/trail.js';
import { answer } from '../src/threads/rpc.js';

const { dir, secretHex, maxFileBytes, flushMs } = workerData as { dir: string; secretHex: string; maxFileBytes: number; flushMs: number };
const port = parentPort!;
const say = (m: WriterMessage) => port.postMessage(m);

try {
  const writer = await TrailWriter.open(dir, Secret.fromHex(secretHex), {
    maxFileBytes,
    onWritten: (records) => say({ type: 'written', records }),
    onError: (message) => say({ type: 'error', message }),
  });
  port.on('message', (m: TrailMessage) => {
    if (m.type !== 'entries') return;
    writer.take(m.text);
    void writer.flush();
  });
  answer<TrailCalls>(port, { close: () => writer.close() });
  // Records a failed write kept are tried again even when no new ones come.
  setInterval(() => void writer.flush(), flushMs).unref();
  say({ type: 'ready' });
} catch (err) {
  say({ type: 'failed', message: (err as Error).message });
}
