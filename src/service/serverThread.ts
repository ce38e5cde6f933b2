import { basename } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { auditKeys } from '../audit/chain.js';
import { RenderedEntries } from '../audit/trail.js';
import { IndexReader } from '../index/reader.js';
import { Secret } from '../index/secret.js';
import { CandidateRefs } from '../verification/candidateRef.js';
import { startServer } from '../routes/app.js';
import { ClientRegistry, defaultLimits } from '../clients/clients.js';
import { ClientTable } from '../clients/clientTable.js';
import { ThreadDispatcher } from './dispatch.js';
import { Metrics } from './metrics.js';
import { RelayedGuard } from '../clients/probing.js';
import { RateLimiter } from '../clients/rateLimit.js';
import { loggableError } from '../errors.js';
import { LiveState } from './liveState.js';
import type { FromThread, MainThreadCalls, ServerThreadCalls, ThreadData, ToThread } from './threads.js';
import { answer, Caller } from '../threads/rpc.js';
import { errorOf, type Register, type RegisterFailure } from '../register/thread.js';

/** The register as a server thread reaches it: through the main thread, which holds its one writer. */
function relayedRegister(main: Caller<ServerThreadCalls>): Register {
  return {
    apply: (client, batch) => main.call('register', { call: 'apply', client, batch }) as ReturnType<Register['apply']>,
    changes: (after, limit) => main.call('register', { call: 'changes', after, limit }) as ReturnType<Register['changes']>,
  };
}

/** A server thread that failed exits with this code (EX_SOFTWARE), once it has stopped serving. */
const FAILED_EXIT_CODE = 70;

/**
 * One server thread (threads.ts): opens the build the main thread registered, and serves
 * its share of the connections start to finish. It asks the main thread only for what is
 * one for the whole server: the probing guard's verdict on answers of the guessing kind,
 * the metrics of every thread when /metrics is scraped here, and the register.
 */
export async function runServerThread(parent: MessagePort, data: ThreadData): Promise<void> {
  const say = (m: FromThread) => parent.postMessage(m);
  try {
    const { config } = data;
    const secret = Secret.fromHex(data.secretHex);
    const reader = IndexReader.openBuild(data.buildPath, secret, { values: config.unprotected ? 'unsealed' : 'sealed' });
    const metrics = new Metrics({ process: false });
    const table = new ClientTable(data.table);
    const clients = new ClientRegistry(data.clients, defaultLimits(config));
    // Search results name people by references the same key opens in a follow-up verification.
    const candidateRefs = new CandidateRefs(secret.bytes);
    const dispatcher = new ThreadDispatcher(reader, candidateRefs, config);
    // Which name blocks hold somebody, learnt while serving: a search asks LMDB until it is.
    const fillNameFilter = (r: IndexReader) => {
      const started = performance.now();
      return r.fillNameFilterWhileServing().then(
        (filled) => filled && say({ type: 'log', event: { level: 'info', msg: 'name filter filled', build: basename(r.path), nameKeys: filled.keys, bytes: filled.bytes, seconds: Math.round(performance.now() - started) / 1000 } }),
        (err) => say({ type: 'log', event: { level: 'warn', msg: 'name filter not filled: every name block is looked up', ...loggableError(err) } }),
      );
    };
    void fillNameFilter(reader);

    // What this thread asks of the main thread; a failure there comes back as its catalogue error.
    const main = new Caller<ServerThreadCalls>(parent, (failure) => errorOf(failure as RegisterFailure));

    // Audit records are rendered here (the ID number hashed on this thread) and go to the
    // main thread, and on to the audit thread, twice per flush period.
    const audit = new RenderedEntries(auditKeys(secret), Math.max(5, config.auditFlushMs / 2), (text) => say({ type: 'audit', text }));

    const server = await startServer({
      config,
      dispatcher,
      clients,
      metrics,
      state: new LiveState(data.state),
      log: (event) => say({ type: 'log', event }),
      audit: config.unprotected ? undefined : (entry) => audit.record(entry),
      candidateRefs,
      limiter: new RateLimiter(undefined, undefined, table),
      guard: new RelayedGuard(table, (client, items, results) => main.call('guard', { client, items, results }), config.nats !== undefined),
      scrape: () => main.call('scrape', null),
      sharedPort: true,
      register: data.register ? relayedRegister(main) : undefined,
    });

    // A thread that fails stops serving before it ends: with its listen socket and connections
    // closed its event loop can close (with uWS's handles open, Node aborts the whole process,
    // every thread with it), and the main thread starts another in its place.
    let failing = false;
    const failed = (err: unknown) => {
      if (failing) return;
      failing = true;
      say({ type: 'log', event: { level: 'error', msg: 'server thread failed', ...loggableError(err) } });
      server.stop();
      audit.stop();
      setImmediate(() => process.exit(FAILED_EXIT_CODE));
    };
    process.on('uncaughtException', failed);
    process.on('unhandledRejection', failed);

    parent.on('message', (m: ToThread) => {
      if (m.type === 'clients') clients.replace(m.entries);
    });
    answer<MainThreadCalls>(parent, {
      collect: () => metrics.registry.getMetricsAsJSON(),
      build: ({ path }) => {
        // Work is done here in synchronous slices: the next slice reads the new build, no item is half on each.
        const next = IndexReader.openBuild(path, secret, { values: config.unprotected ? 'unsealed' : 'sealed' });
        void dispatcher.replaceReader(next).close();
        void fillNameFilter(next);
        return null;
      },
      close: () =>
        server.close().finally(() => audit.stop()).then(() => null),
    });
    say({ type: 'listening' });
  } catch (err) {
    // Opening the index or the port: nothing about a citizen in these messages.
    say({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}
