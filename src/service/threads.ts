import { Worker } from 'node:worker_threads';
import { AggregatorRegistry } from 'prom-client';
import type { ServeConfig } from '../config.js';
import type { AuditTrail } from '../audit/trail.js';
import { loggableError } from '../errors.js';
import type { Secret } from '../index/secret.js';
import type { WorkItem, WorkResult } from '../verification/types.js';
import { workerPath } from '../workers.js';
import type { RunningServer } from '../routes/app.js';
import { ClientRegistry, defaultLimits, type Client, type ClientEntry } from '../clients/clients.js';
import { SharedLimits } from '../clients/sharedLimits.js';
import { ClientTable } from '../clients/clientTable.js';
import type { Log } from '../http/exchange.js';
import type { Metrics } from './metrics.js';
import { ProbeGuard, type Verdict } from '../clients/probing.js';
import { reservePort, uwsBuild } from '../http/uws.js';
import type { LiveState } from './liveState.js';
import { failureOf, type RegisterCall, type RegisterThread } from '../register/thread.js';
import { answer, Caller, type Handlers } from '../threads/rpc.js';

/** What a server thread is started with. */
export interface ThreadData {
  config: ServeConfig;
  buildPath: string;
  secretHex: string;
  /** The instance's state for /readyz (LiveState's memory). */
  state: SharedArrayBuffer;
  /** The ClientTable's memory: rate buckets and the probing guard's attention flags. */
  table: SharedArrayBuffer;
  clients: ClientEntry[];
  /** Whether the server has a register writer to relay /v1/records and /v1/changes to. */
  register: boolean;
}

/** What a server thread asks of the main thread, which holds what is one for the whole server. */
export type ServerThreadCalls = {
  /** The probing guard's verdicts on answers of the guessing kind. */
  guard: { arg: { client: Pick<Client, 'id' | 'limits'>; items: WorkItem[]; results: WorkResult[] }; value: Verdict[] };
  /** Every thread's metrics, gathered, for /metrics asked on this one. */
  scrape: { arg: null; value: { contentType: string; text: string } };
  /** A call to the register (its writer is one for the server). */
  register: { arg: RegisterCall; value: unknown };
};

/** What the main thread asks of a server thread. */
export type MainThreadCalls = {
  /** This thread's metrics, to be gathered. */
  collect: { arg: null; value: object[] };
  /** Serve another build from the next request on. */
  build: { arg: { path: string }; value: null };
  /** Stop listening, answer what was taken in (up to the grace period), hand over the last audit entries. */
  close: { arg: null; value: null };
};

/** What a server thread says without asking: once at start, then its log lines and audit entries. */
export type FromThread =
  | { type: 'listening' }
  | { type: 'failed'; message: string }
  | { type: 'log'; event: Record<string, unknown> }
  /** Audit records rendered on the thread (renderEntry), joined by newlines. */
  | { type: 'audit'; text: string };

/** What the main thread says without asking: a reload of the clients file. */
export type ToThread = { type: 'clients'; entries: ClientEntry[] };

export interface ThreadedServer extends RunningServer {
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
  state: LiveState;
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
  let clients = opts.clients;
  // With a change stream, the guard's counts and the clients' rates are those of every instance.
  const shared = config.nats
    ? SharedLimits.start({ servers: config.nats, bucket: config.natsLimitsBucket, replicas: config.natsStreamReplicas, secret: opts.secret, table, registry: new ClientRegistry(clients, defaultLimits(config)), log, counted: (op, ok) => metrics.enableReplication().limitCalls.inc({ op, outcome: ok ? 'ok' : 'failed' }) })
    : undefined;
  const guard = shared ?? new ProbeGuard(undefined, table);
  let closing = false;
  // The threads serving (those that listen), with the main thread's calls to each.
  const threads = new Map<Worker, Caller<MainThreadCalls>>();

  /** Every thread's answer to a call; a thread that stops meanwhile is left out. */
  async function ofEveryThread<K extends keyof MainThreadCalls>(name: K, arg: MainThreadCalls[K]['arg']): Promise<MainThreadCalls[K]['value'][]> {
    const answers = await Promise.allSettled([...threads.values()].map((c) => c.call(name, arg)));
    return answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  }

  const mainThread: Handlers<ServerThreadCalls> = {
    guard: ({ client, items, results }) => guard.verdicts(client, items, results),
    scrape: async () => {
      const all = AggregatorRegistry.aggregate([await metrics.registry.getMetricsAsJSON(), ...(await ofEveryThread('collect', null))]);
      return { contentType: all.contentType, text: await all.metrics() };
    },
    // Called only by a thread told there is a register (ThreadData.register).
    register: (call) => (call.call === 'apply' ? opts.register!.apply(call.client, call.batch) : opts.register!.changes(call.after, call.limit)),
  };

  function heard(m: FromThread): void {
    if (m.type === 'log') log(m.event);
    else if (m.type === 'audit') opts.audit?.recordRendered(m.text);
  }

  function spawn(): Promise<Worker> {
    const data: ThreadData = { config: { ...config, port }, buildPath, secretHex: opts.secret.hex, state: opts.state.buffer, table: table.buffer, clients, register: opts.register !== undefined };
    const worker = new Worker(workerPath('server'), { workerData: data });
    const caller = new Caller<MainThreadCalls>(worker);
    answer<ServerThreadCalls>(worker, mainThread, failureOf);
    return new Promise((resolve, reject) => {
      let listening = false;
      worker.on('message', (m: FromThread) => {
        if (m.type === 'listening') {
          listening = true;
          threads.set(worker, caller);
          resolve(worker);
        } else if (m.type === 'failed') reject(new Error(m.message));
        else heard(m);
      });
      worker.on('error', (err) => {
        log({ level: 'error', msg: 'server thread failed', ...loggableError(err) });
        if (!listening) reject(err);
      });
      worker.on('exit', (code) => {
        threads.delete(worker);
        // A call waiting on this thread (a scrape, a build switch) goes on without it.
        caller.stop(new Error(`server thread stopped (exit code ${code})`));
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
    await Promise.all([...threads.keys()].map((t) => t.terminate()));
    throw (failure as PromiseRejectedResult).reason;
  }
  metrics.ready.set(1);
  log({ level: 'info', msg: 'listening', host: config.host, port, records: opts.state.records, threads: config.threads, node: process.versions.node, uws: uwsBuild.version });

  return {
    port,
    replaceClients(entries) {
      clients = entries;
      shared?.useClients(new ClientRegistry(entries, defaultLimits(config)));
      for (const t of threads.keys()) t.postMessage({ type: 'clients', entries } satisfies ToThread);
    },
    async switchBuild(path) {
      buildPath = path;
      await ofEveryThread('build', { path });
    },
    async close() {
      closing = true;
      metrics.ready.set(0);
      await ofEveryThread('close', null);
      await Promise.all([...threads.keys()].map((t) => t.terminate()));
      await shared?.stop();
    },
  };
}
