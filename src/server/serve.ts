import type { ServeConfig } from '../config.js';
import { IndexReader } from '../index/reader.js';
import { DB_FILE } from '../index/layout.js';
import { warmPageCache } from '../index/warm.js';
import { join } from 'node:path';
import { Secret } from '../index/secret.js';
import { ReaderRegistration } from '../index/readers.js';
import { AUDIT_DIR, AuditTrail } from '../audit/trail.js';
import { CandidateRefs } from '../verification/candidateRef.js';
import { startServer, type RunningServer } from './app.js';
import { ClientRegistry, followClientsFile, readClientsFile } from './clients.js';
import { InlineDispatcher, PoolDispatcher, type Dispatcher } from './dispatch.js';
import type { Log } from './exchange.js';
import { Metrics } from './metrics.js';

export interface Service {
  server: RunningServer;
  /** Set when no clients file was given: the demo key, to be shown once. */
  demoKey?: string;
  records: number;
}

/** Opens the index (refusing a foreign secret or format), starts the workers, then listens. */
export async function startService(config: Readonly<ServeConfig>, log: Log = () => {}): Promise<Service> {
  const secret = Secret.load(config.secretFile);
  // Registered for as long as the process serves: a new build never deletes this one meanwhile.
  const registration = ReaderRegistration.register(config.indexDir);
  let audit: AuditTrail | undefined;
  try {
    const metrics = new Metrics();
    if (config.unprotected) log({ level: 'warn', msg: 'serving without protections, for measurement: no audit trail, rate limits, quotas or probing limits' });
    else audit = await AuditTrail.open(config.auditDir ?? join(config.indexDir, AUDIT_DIR), secret, {
      flushMs: config.auditFlushMs,
      maxFileBytes: config.auditMaxFileBytes,
      log,
      onWritten: (n) => metrics.auditRecords.inc(n),
      onError: () => metrics.auditErrors.inc(),
    });
    const service = await serveBuild(config, secret, registration.buildPath, log, metrics, audit);
    const close = service.server.close;
    service.server.close = async () => {
      await close();
      // After the last answer: every decision recorded is written and synced.
      if (audit) {
        const head = await audit.close();
        log({ level: 'info', msg: 'audit trail closed', seq: head.seq, head: head.mac });
      }
      registration.release();
    };
    return service;
  } catch (err) {
    await audit?.close();
    registration.release();
    throw err;
  }
}

async function serveBuild(config: Readonly<ServeConfig>, secret: Secret, buildPath: string, log: Log, metrics: Metrics, audit: AuditTrail | undefined): Promise<Service> {
  // Opening on the main thread checks format and secret before any worker starts.
  const reader = IndexReader.openBuild(buildPath, secret, { values: config.unprotected ? 'unsealed' : 'sealed' });
  const records = reader.meta.records;
  const limits = { maxInFlightItems: config.maxInFlightItems, shedQueueDelayMs: config.shedQueueDelayMs };
  let dispatcher: Dispatcher;
  if (config.dispatch === 'inline') {
    dispatcher = new InlineDispatcher(reader, limits, metrics);
  } else {
    await reader.close();
    dispatcher = await PoolDispatcher.start({
      buildPath,
      secretHex: secret.hex,
      values: config.unprotected ? 'unsealed' : 'sealed',
      threads: config.threads,
      maxItemsPerTask: config.maxItemsPerTask,
      limits,
      metrics,
    });
  }
  let clients: ClientRegistry;
  let demoKey: string | undefined;
  let unfollow = () => {};
  const defaults = {
    ratePerSecond: config.defaultRatePerSecond,
    burst: config.defaultBurst,
    dailyQuota: config.defaultDailyQuota,
    mismatchesPerCitizen: config.defaultMismatchesPerCitizen,
    emptySearchesPerName: config.defaultEmptySearchesPerName,
    notFoundPerHour: config.defaultNotFoundPerHour,
  };
  try {
    if (config.clientsFile) {
      clients = new ClientRegistry(readClientsFile(config.clientsFile), defaults);
      unfollow = followClientsFile(config.clientsFile, clients, log);
    } else {
      ({ registry: clients, key: demoKey } = ClientRegistry.demo(defaults));
    }
    const candidateRefs = new CandidateRefs(secret.bytes);
    const server = await startServer({ config, dispatcher, clients, metrics, records, log, audit: audit && ((entry) => audit.record(entry)), candidateRefs });
    const close = server.close;
    server.close = async () => {
      unfollow();
      await close();
    };
    warmPageCache(join(buildPath, DB_FILE)).then(
      ({ bytes, seconds }) => log({ level: 'info', msg: 'index pages read into the page cache', bytes, seconds: +seconds.toFixed(1) }),
      (err) => log({ level: 'warn', msg: 'could not pre-read the index', err: String(err) }),
    );
    return { server, demoKey, records };
  } catch (err) {
    unfollow();
    await dispatcher.close();
    throw err;
  }
}
