import type { ServeConfig } from '../config.js';
import { IndexReader } from '../index/reader.js';
import { currentBuildDir, DB_FILE } from '../index/layout.js';
import { warmPageCache } from '../index/warm.js';
import { accessSync, constants } from 'node:fs';
import { basename, join } from 'node:path';
import { Secret } from '../index/secret.js';
import { runtimeWarning } from '../runtime.js';
import { ReaderRegistration } from '../index/readers.js';
import { AUDIT_DIR, AuditTrail } from '../audit/trail.js';
import type { RunningServer } from '../routes/app.js';
import { demoClient, followClientsFile, readClientsFile, type ClientEntry } from '../clients/clients.js';
import { startThreads, type ThreadedServer } from './threads.js';
import type { Log } from '../http/exchange.js';
import { Metrics } from './metrics.js';
import { RegisterThread } from '../register/thread.js';
import { LiveState } from './liveState.js';
import type { ReplicationSettings } from '../replication/replication.js';
import { UNREADY_REASONS } from '../contract/schemas.js';

export interface Service {
  /** Where it listens, and its one shutdown (see stopService for the order). */
  server: RunningServer;
  /** Set when no clients file was given: the demo key, to be shown once. */
  demoKey?: string;
  records: number;
  /**
   * Serves the build `current` names if it is a new one, without a restart: the register
   * carries in the changes the new build's source lacks, then every server thread moves to
   * it between two requests. Checked every few seconds, and on SIGHUP.
   */
  reload(): Promise<void>;
}

/** The server writes in the index directory (its reader registration, the register's changes, the trail by default): refused at once if it cannot. */
function mustBeWritable(indexDir: string): void {
  try {
    accessSync(indexDir, constants.W_OK);
  } catch (err) {
    throw new Error(`index directory ${indexDir} is not writable (${(err as NodeJS.ErrnoException).code}): the server records its readers, the register's changes and the audit trail there`);
  }
}

/** What a running service holds, in the order it took it; a part is absent until taken. */
interface Parts {
  registration: ReaderRegistration;
  register?: RegisterThread;
  /** Reads the register's place in the change stream into the state and the metrics. */
  watch?: () => void;
  audit?: AuditTrail;
  threads?: ThreadedServer;
  unfollow?: () => void;
  builds?: { stop(): Promise<void> };
}

/**
 * Opens the index (refusing a foreign secret or format), starts the register, the audit
 * trail and the server threads, then listens. Everything is taken here, once; the
 * returned service's close gives it back in one order (stopService), as a failed start does.
 */
export async function startService(config: Readonly<ServeConfig>, log: Log = () => {}): Promise<Service> {
  // Checked in the order an operator fixes them, each named for what it is: the index, its directory, the secret, then the trail.
  if (!currentBuildDir(config.indexDir)) throw new Error(`no index at ${config.indexDir} (build one with: idv build)`);
  mustBeWritable(config.indexDir);
  const secret = Secret.load(config.secretFile);
  const outdated = runtimeWarning();
  if (outdated) log(outdated);
  // Registered for as long as the process serves: a new build never deletes this one meanwhile.
  const parts: Parts = { registration: ReaderRegistration.register(config.indexDir) };
  try {
    const metrics = new Metrics();
    // What every thread answers /readyz from: the register's count and sequence, after each batch and build switch.
    const state = new LiveState();
    state.build = basename(parts.registration.buildPath);
    state.role = config.replica ? 'replica' : config.nats ? 'primary' : 'standalone';
    metrics.recordsSource = () => state.records;
    // The register's writer opens the index first, checking the secret's fingerprint: a wrong secret is named so, not as a trail that fails to authenticate.
    parts.register = await RegisterThread.start(
      parts.registration.buildPath,
      secret,
      log,
      (outcome, done) => {
        metrics.registerBatches.inc({ outcome });
        if (!done) return;
        metrics.registerChanges.inc(done.changes);
        metrics.registerSequence.set(done.lastSequence);
        state.records = done.records;
        state.sequence = done.lastSequence;
      },
      replicationSettings(config),
    );
    metrics.registerSequence.set(parts.register.lastSequence);
    if (config.nats) parts.watch = watchReplication(parts.register, state, metrics);
    else metrics.replicationRole.set({ role: 'standalone' }, 1);
    state.records = parts.register.records;
    state.sequence = parts.register.lastSequence;
    if (config.unprotected) log({ level: 'warn', msg: 'serving without protections, for measurement: no audit trail, rate limits, quotas or probing limits' });
    else parts.audit = await AuditTrail.open(config.auditDir ?? join(config.indexDir, AUDIT_DIR), secret, {
      flushMs: config.auditFlushMs,
      maxFileBytes: config.auditMaxFileBytes,
      log,
      onWritten: (n) => metrics.auditRecords.inc(n),
      onError: () => metrics.auditErrors.inc(),
    });
    // Opened on the main thread first: a foreign format or secret is refused before any thread starts.
    await IndexReader.openBuild(parts.registration.buildPath, secret, { values: config.unprotected ? 'unsealed' : 'sealed' }).close();
    const { entries, demoKey } = clientSource(config);
    const threads = (parts.threads = await startThreads({ config, secret, buildPath: parts.registration.buildPath, state, clients: entries, metrics, audit: parts.audit, register: parts.register, log }));
    // The main thread follows the clients file and hands each version to every thread.
    if (config.clientsFile) parts.unfollow = followClientsFile(config.clientsFile, (next) => threads.replaceClients(next), log);
    warm(parts.registration.buildPath, log);
    const builds = (parts.builds = followBuilds(config, secret, parts, state, metrics, log));
    let stopping: Promise<void> | undefined;
    const close = () => (stopping ??= stopService(parts, log));
    return { server: { port: threads.port, close }, demoKey, records: state.records, reload: builds.reload };
  } catch (err) {
    await stopService(parts, log);
    throw err;
  }
}

/**
 * The one shutdown, in order: no new build taken up; the clients file no longer followed;
 * the threads stop listening and answer what they took in (up to the grace period); then,
 * after the last answer, the register (every batch acknowledged is on disk) and the audit
 * trail (every decision recorded is written and synced, its head logged as an anchor
 * outside the trail); last, the build is let go.
 */
async function stopService(parts: Parts, log: Log): Promise<void> {
  await parts.builds?.stop();
  parts.unfollow?.();
  await parts.threads?.close();
  parts.watch?.();
  await parts.register?.close();
  if (parts.audit) {
    const head = await parts.audit.close();
    log({ level: 'info', msg: 'audit trail closed', seq: head.seq, head: head.mac });
  }
  parts.registration.release();
}

/** The change stream's settings for the register thread; none without --nats. */
function replicationSettings(config: Readonly<ServeConfig>): ReplicationSettings | undefined {
  if (!config.nats) return undefined;
  return {
    nats: config.nats,
    stream: config.natsStream,
    streamReplicas: config.natsStreamReplicas,
    replica: config.replica,
    promote: config.promote,
    ack: config.ack,
    timeoutMs: config.replicationTimeoutMs,
    maxLagSeconds: config.maxLagSeconds,
    indexDir: config.indexDir,
  };
}

// How often the main thread reads where the register stands in the change stream.
const REPLICATION_STATUS_MS = 250;

/**
 * Reads, a few times a second, where the register stands in the change stream, into the
 * state every thread answers /readyz from and into the metrics. Returns its stop.
 */
function watchReplication(register: RegisterThread, state: LiveState, metrics: Metrics): () => void {
  const read = async () => {
    const { lastSequence, records, replication } = await register.status();
    if (!replication) return;
    state.records = records;
    state.sequence = lastSequence;
    state.role = replication.role;
    state.setLag(replication.lag);
    state.unready = replication.unready;
    metrics.registerSequence.set(lastSequence);
    metrics.replicationRole.reset();
    metrics.replicationRole.set({ role: replication.role }, 1);
    const m = metrics.enableReplication();
    m.connected.set(replication.connected ? 1 : 0);
    m.lagChanges.set(replication.lag?.changes ?? 0);
    m.lagSeconds.set(replication.lag?.seconds ?? 0);
    m.backlog.set(replication.backlog);
    m.epoch.set(replication.epoch);
    for (const reason of UNREADY_REASONS) m.unready.set({ reason }, replication.unready === reason ? 1 : 0);
  };
  let reading: Promise<void> | undefined;
  const timer = setInterval(() => {
    reading ??= read().catch(() => {}).finally(() => (reading = undefined));
  }, REPLICATION_STATUS_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Reads the build into the page cache, in the background: the first requests need not wait for the disk. */
function warm(buildPath: string, log: Log): void {
  warmPageCache(join(buildPath, DB_FILE)).then(
    ({ bytes, seconds }) => log({ level: 'info', msg: 'index pages read into the page cache', bytes, seconds: +seconds.toFixed(1) }),
    (err) => log({ level: 'warn', msg: 'could not pre-read the index', err: String(err) }),
  );
}

/**
 * Looks for a newly published build every few seconds (and when asked: SIGHUP), and moves
 * the register and then every server thread to it. One switch at a time.
 */
function followBuilds(config: Readonly<ServeConfig>, secret: Secret, parts: Parts, state: LiveState, metrics: Metrics, log: Log): { reload(): Promise<void>; stop(): Promise<void> } {
  // A build refused (it does not say which changes it holds) is not tried again until `current` moves on.
  let refused: string | undefined;
  let switching: Promise<void> | undefined;
  const switchBuild = async () => {
    const next = currentBuildDir(config.indexDir);
    if (!next || next === parts.registration.buildPath || next === refused) return;
    const nextRegistration = ReaderRegistration.register(config.indexDir);
    try {
      // Opened here first: a build of another format or secret is refused before the register moves.
      await IndexReader.openBuild(nextRegistration.buildPath, secret, { values: config.unprotected ? 'unsealed' : 'sealed' }).close();
      const { carried, lastSequence, records } = await parts.register!.switchTo(nextRegistration.buildPath);
      await parts.threads!.switchBuild(nextRegistration.buildPath);
      state.records = records;
      state.sequence = lastSequence;
      state.build = basename(nextRegistration.buildPath);
      metrics.registerSequence.set(lastSequence);
      void warmPageCache(join(nextRegistration.buildPath, DB_FILE)).catch(() => {});
      const previous = parts.registration;
      parts.registration = nextRegistration;
      previous.release();
      log({ level: 'info', msg: 'serving a new build', build: basename(parts.registration.buildPath), records, carriedChanges: carried });
    } catch (err) {
      nextRegistration.release();
      refused = nextRegistration.buildPath;
      log({ level: 'error', msg: 'a new build is not served; the previous one still is', build: basename(nextRegistration.buildPath), reason: (err as Error).message });
    }
  };
  const reload = () => (switching ??= switchBuild().finally(() => (switching = undefined)));
  const watch = config.buildCheckMs > 0 ? setInterval(() => void reload(), config.buildCheckMs) : undefined;
  watch?.unref();
  return {
    reload,
    async stop() {
      clearInterval(watch);
      await switching;
    },
  };
}

/** Where the clients come from: the clients file (followed), or a throwaway demo client. */
function clientSource(config: Readonly<ServeConfig>): { entries: ClientEntry[]; demoKey?: string } {
  if (config.clientsFile) return { entries: readClientsFile(config.clientsFile) };
  const { entries, key } = demoClient();
  return { entries, demoKey: key };
}
