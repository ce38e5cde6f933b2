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
import { RelayedGuard, type Verdict } from '../clients/probing.js';
import { RateLimiter } from '../clients/rateLimit.js';
import { loggableError } from '../errors.js';
import { LiveCount } from './liveCount.js';
import type { FromThread, ThreadData, ToThread } from './threads.js';
import { errorOf, type Register, type RegisterCall } from '../register/thread.js';

type Ask = <T extends ToThread>(m: (id: number) => FromThread) => Promise<T>;

/** The register as a server thread reaches it: through the main thread, which holds its one writer. */
function relayedRegister(ask: Ask): Register {
  const call = <T>(c: RegisterCall) =>
    ask<Extract<ToThread, { type: 'registered' }>>((id) => ({ type: 'register', id, ...c })).then((m) => {
      if (m.failure) throw errorOf(m.failure);
      return m.value as T;
    });
  return {
    apply: (client, batch) => call({ call: 'apply', client, batch }),
    changes: (after, limit) => call({ call: 'changes', after, limit }),
  };
}

/**
 * One server thread (threads.ts): opens the build the main thread registered, and serves
 * its share of the connections start to finish. It asks the main thread only for what is
 * one for the whole server: the probing guard's verdict on answers of the guessing kind,
 * and the metrics of every thread when /metrics is scraped here.
 */
/** A server thread that failed exits with this code (EX_SOFTWARE), once it has stopped serving. */
export const FAILED_EXIT_CODE = 70;

export async function runServerThread(parent: MessagePort, data: ThreadData): Promise<void> {
  const say = (m: FromThread) => parent.postMessage(m);
  try {
    const { config } = data;
    const secret = Secret.fromHex(data.secretHex);
    const reader = IndexReader.openBuild(data.buildPath, secret, { values: config.unprotected ? 'unsealed' : 'sealed' });
    const metrics = new Metrics({ process: false });
    const table = new ClientTable(data.table);
    const clients = new ClientRegistry(data.clients, defaultLimits(config));
    const dispatcher = new ThreadDispatcher(reader, config);

    // Replies the main thread owes this one, by request number.
    const owed = new Map<number, (m: ToThread) => void>();
    let asked = 0;
    const ask = <T extends ToThread>(m: (id: number) => FromThread) =>
      new Promise<T>((resolve) => {
        const id = ++asked;
        owed.set(id, resolve as (m: ToThread) => void);
        say(m(id));
      });

    // Audit records are rendered here (the ID number hashed on this thread) and go to the
    // main thread, and on to the audit thread, twice per flush period.
    const audit = new RenderedEntries(auditKeys(secret), Math.max(5, config.auditFlushMs / 2), (text) => say({ type: 'audit', text }));

    const server = await startServer({
      config,
      dispatcher,
      clients,
      metrics,
      count: new LiveCount(data.count),
      log: (event) => say({ type: 'log', event }),
      audit: config.unprotected ? undefined : (entry) => audit.record(entry),
      candidateRefs: new CandidateRefs(secret.bytes),
      limiter: new RateLimiter(undefined, undefined, table),
      guard: new RelayedGuard(table, (client, items, results) =>
        ask<{ type: 'verdicts'; id: number; verdicts: Verdict[] }>((id) => ({ type: 'guard', id, client, items, results })).then((m) => m.verdicts),
      ),
      scrape: async () => {
        const m = await ask<Extract<ToThread, { type: 'scraped' }>>((id) => ({ type: 'scrape', id }));
        if (m.error !== undefined) throw new Error(`metrics not gathered: ${m.error}`);
        return { contentType: m.contentType!, text: m.text! };
      },
      sharedPort: true,
      register: data.register ? relayedRegister(ask) : undefined,
    });

    // A thread that fails stops serving before it ends: with its listen socket and connections
    // closed its event loop can close (with uWS's handles open, Node aborts the whole process,
    // every thread with it), and the main thread starts another in its place.
    const failed = (err: unknown) => {
      say({ type: 'log', event: { level: 'error', msg: 'server thread failed', ...loggableError(err) } });
      server.stop();
      audit.stop();
      setImmediate(() => process.exit(FAILED_EXIT_CODE));
    };
    process.on('uncaughtException', failed);
    process.on('unhandledRejection', failed);

    parent.on('message', (m: ToThread) => {
      switch (m.type) {
        case 'clients':
          return clients.replace(m.entries);
        case 'verdicts':
        case 'registered':
        case 'scraped': {
          const resolve = owed.get(m.id);
          owed.delete(m.id);
          return resolve?.(m);
        }
        case 'build': {
          // Work is done here in synchronous slices: the next slice reads the new build, no item is half on each.
          const next = IndexReader.openBuild(m.path, secret, { values: config.unprotected ? 'unsealed' : 'sealed' });
          void dispatcher.replaceReader(next).close();
          return say({ type: 'switched', path: m.path });
        }
        case 'collect':
          return void metrics.registry.getMetricsAsJSON().then((json) => say({ type: 'metrics', id: m.id, json }));
        case 'close':
          return void server.close().finally(() => {
            audit.stop();
            say({ type: 'closed' });
          });
      }
    });
    say({ type: 'listening' });
  } catch (err) {
    // Opening the index or the port: nothing about a citizen in these messages.
    say({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}
