import { Worker } from 'node:worker_threads';
import { AggregatorRegistry } from 'prom-client';
import type { ServeConfig } from '../config.js';
import type { AuditTrail } from '../audit/trail.js';
import { loggableError } from '../errors.js';
import type { Secret } from '../index/secret.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import { workerPath } from '../workers.js';
import type { RunningServer } from '../routes/app.js';
import type { Client, ClientEntry } from '../clients/clients.js';
import { ClientTable } from '../clients/clientTable.js';
import type { Log } from '../http/exchange.js';
import type { Metrics } from './metrics.js';
import { ProbeGuard, type Verdict } from '../clients/probing.js';
import { reservePort, uwsBuild } from '../http/uws.js';
import type { LiveCount } from './liveCount.js';
import type { RegisterCall, RegisterFailure, RegisterThread } from '../register/thread.js';

/** What a server thread is started with. */
export interface ThreadData {
  config: ServeConfig;
  buildPath: string;
  secretHex: string;
  /** The live count of citizens (LiveCount's memory). */
  count: SharedArrayBuffer;
  /** The ClientTable's memory: rate buckets and the probing guard's attention flags. */
  table: SharedArrayBuffer;
  clients: ClientEntry[];
  /** Whether the server has a register writer to relay /v1/records and /v1/changes to. */
  register: boolean;
}

/** What a server thread tells the main thread. */
export type FromThread =
  | { type: 'listening' }
  | { type: 'failed'; message: string }
  | { type: 'log'; event: Record<string, unknown> }
  /** Audit records rendered on the thread (renderEntry), joined by newlines. */
  | { type: 'audit'; text: string }
  | { type: 'guard'; id: number; client: Pick<Client, 'id' | 'limits'>; items: WorkItem[]; results: WorkResult[] }
  | { type: 'scrape'; id: number }
  | { type: 'metrics'; id: number; json: object[] }
  /** A call to the register (its writer is one for the server), answered with `registered`. */
  | ({ type: 'register'; id: number } & RegisterCall)
  | { type: 'switched'; path: string }
  | { type: 'closed' };

/** What the main thread tells a server thread. */
export type ToThread =
  | { type: 'clients'; entries: ClientEntry[] }
  | { type: 'verdicts'; id: number; verdicts: Verdict[] }
  | { type: 'collect'; id: number }
  | { type: 'scraped'; id: number; contentType?: string; text?: string; error?: string }
  | { type: 'registered'; id: number; value?: unknown; failure?: RegisterFailure }
  /** Serve another build from the next request on. */
  | { type: 'build'; path: string }
  | { type: 'close' };

export interface ThreadedServer extends RunningServer {
  /** The server threads serving now (a fault test terminates one, as a crash would stop it). */
  readonly threads: ReadonlySet<Worker>;
  /** Hands every thread a new set of clients (a reload of the clients file). */
  replaceClients(entries: ClientEntry[]): void;
  /** Every thread serves this build from its next request on; resolves once all do. */
  switchBuild(path: string): Promise<void>;
}

/**
 * Serving on every core: one uWS App per thread, all listening on one port (the kernel
 * spreads connections), each doing its requests start to finish: HTTP, JSON, validation,
 * lookup, matching and the answer, with no dispatch, copy or promise between. The main
 * thread only holds what must be one for the whole server: the port (bound exclusively
 * first, so another server cannot be sharing it), the probing guard's counts, the audit
 * trail, the clients file, and the gathering of every thread's metrics for /metrics.
 * Rate buckets are shared memory (ClientTable). A thread that dies is logged and replaced.
 */
export async function startThreads(opts: {
  config: Readonly<ServeConfig>;
  secret: Secret;
  buildPath: string;
  count: LiveCount;
  clients: ClientEntry[];
  metrics: Metrics;
  audit?: AuditTrail;
  register?: RegisterThread;
  log: Log;
}): Promise<ThreadedServer> {
  const { config, metrics, log } = opts;
  // The build served; a thread started later (a replacement) opens this one.
  let buildPath = opts.buildPath;
  const port = await reservePort(config.host, config.port);
  const table = new ClientTable();
  const guard = new ProbeGuard(undefined, table);
  let clients = opts.clients;
  let closing = false;
  const threads = new Set<Worker>();
  // Scrapes in progress: the metrics of each thread, gathered for the thread that was asked.
  const scrapes = new Map<number, { from: Worker; id: number; owing: Set<Worker>; json: object[][] }>();
  let scrapeSeq = 0;

  const send = (worker: Worker, m: ToThread) => worker.postMessage(m);

  function heard(worker: Worker, m: FromThread): void {
    switch (m.type) {
      case 'log':
        return log(m.event);
      case 'audit':
        return opts.audit?.recordRendered(m.text);
      case 'guard':
        return send(worker, { type: 'verdicts', id: m.id, verdicts: guard.verdicts(m.client, m.items, m.results) });
      case 'scrape': {
        const id = ++scrapeSeq;
        scrapes.set(id, { from: worker, id: m.id, owing: new Set(threads), json: [] });
        for (const t of threads) send(t, { type: 'collect', id });
        return;
      }
      case 'metrics':
        scrapes.get(m.id)?.json.push(m.json);
        return paid(m.id, worker);
      case 'register': {
        // Sent only by a thread told there is a register (ThreadData.register).
        const { type: _, id, ...call } = m;
        return void opts.register!.relay(call).then((answer) => send(worker, { type: 'registered', id, ...answer }));
      }
    }
  }

  /** A thread has sent its metrics for a scrape, or will never (it stopped): the last one gathers them. */
  function paid(scrapeId: number, worker: Worker): void {
    const scrape = scrapes.get(scrapeId);
    if (!scrape || !scrape.owing.delete(worker) || scrape.owing.size > 0) return;
    scrapes.delete(scrapeId);
    void gathered(scrape.from, scrape.id, scrape.json);
  }

  async function gathered(to: Worker, id: number, threadsJson: object[][]): Promise<void> {
    try {
      const all = AggregatorRegistry.aggregate([await metrics.registry.getMetricsAsJSON(), ...threadsJson]);
      send(to, { type: 'scraped', id, contentType: all.contentType, text: await all.metrics() });
    } catch (err) {
      send(to, { type: 'scraped', id, error: (err as Error).message });
    }
  }

  function spawn(): Promise<Worker> {
    const data: ThreadData = { config: { ...config, port }, buildPath, secretHex: opts.secret.hex, count: opts.count.buffer, table: table.buffer, clients, register: opts.register !== undefined };
    const worker = new Worker(workerPath('server'), { workerData: data });
    return new Promise((resolve, reject) => {
      let listening = false;
      worker.on('message', (m: FromThread) => {
        if (m.type === 'listening') {
          listening = true;
          threads.add(worker);
          resolve(worker);
        } else if (m.type === 'failed') reject(new Error(m.message));
        else heard(worker, m);
      });
      worker.on('error', (err) => {
        log({ level: 'error', msg: 'server thread failed', ...loggableError(err) });
        if (!listening) reject(err);
      });
      worker.on('exit', (code) => {
        threads.delete(worker);
        // A scrape waiting on this thread goes on without it.
        for (const id of [...scrapes.keys()]) paid(id, worker);
        if (!listening) return reject(new Error(`a server thread stopped before it listened (exit code ${code})`));
        if (closing) return;
        log({ level: 'error', msg: 'server thread stopped; starting another', code });
        spawn().catch((err) => log({ level: 'error', msg: 'could not replace a server thread', err: (err as Error).message }));
      });
    });
  }

  const started = await Promise.allSettled(Array.from({ length: config.threads }, spawn));
  const failure = started.find((s) => s.status === 'rejected');
  if (failure) {
    closing = true;
    await Promise.all([...threads].map((t) => t.terminate()));
    throw (failure as PromiseRejectedResult).reason;
  }
  metrics.indexRecords.set(opts.count.get());
  metrics.ready.set(1);
  log({ level: 'info', msg: 'listening', host: config.host, port, records: opts.count.get(), threads: config.threads, node: process.versions.node, uws: uwsBuild.version });

  return {
    port,
    threads,
    replaceClients(entries) {
      clients = entries;
      for (const t of threads) send(t, { type: 'clients', entries });
    },
    async switchBuild(path) {
      buildPath = path;
      await Promise.all(
        [...threads].map(
          (t) =>
            new Promise<void>((resolve) => {
              const heardSwitched = (m: FromThread) => {
                if (m.type !== 'switched' || m.path !== path) return;
                t.off('message', heardSwitched);
                resolve();
              };
              t.on('message', heardSwitched);
              t.once('exit', () => resolve());
              send(t, { type: 'build', path });
            }),
        ),
      );
    },
    async close() {
      closing = true;
      metrics.ready.set(0);
      // Each thread stops listening, answers what it took in (up to the grace period), and hands over its last audit entries.
      await Promise.all(
        [...threads].map(
          (t) =>
            new Promise<void>((resolve) => {
              t.on('message', (m: FromThread) => m.type === 'closed' && resolve());
              t.once('exit', () => resolve());
              send(t, { type: 'close' });
            }),
        ),
      );
      await Promise.all([...threads].map((t) => t.terminate()));
    },
  };
}
