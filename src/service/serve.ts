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
import { startThreads } from './threads.js';
import type { Log } from '../http/exchange.js';
import { Metrics } from './metrics.js';
import { RegisterThread } from '../register/thread.js';
import { LiveCount } from './liveCount.js';

export interface Service {
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
  /** Every server thread's move to another build. */
  switchBuild(path: string): Promise<void>;
}

/** The server writes in the index directory (its reader registration, the register's changes, the trail by default): refused at once if it cannot. */
function mustBeWritable(indexDir: string): void {
  try {
    accessSync(indexDir, constants.W_OK);
  } catch (err) {
    throw new Error(`index directory ${indexDir} is not writable (${(err as NodeJS.ErrnoException).code}): the server records its readers, the register's changes and the audit trail there`);
  }
}

// How often the server looks for a newly published build.
const BUILD_CHECK_MS = 2000;

/** Opens the index (refusing a foreign secret or format), starts the workers, then listens. */
export async function startService(config: Readonly<ServeConfig>, log: Log = () => {}): Promise<Service> {
  // Checked in the order an operator fixes them, each named for what it is: the index, its directory, the secret, then the trail.
  if (!currentBuildDir(config.indexDir)) throw new Error(`no index at ${config.indexDir} (build one with: idv build)`);
  mustBeWritable(config.indexDir);
  const secret = Secret.load(config.secretFile);
  const outdated = runtimeWarning();
  if (outdated) log(outdated);
  // Registered for as long as the process serves: a new build never deletes this one meanwhile.
  let registration = ReaderRegistration.register(config.indexDir);
  let audit: AuditTrail | undefined;
  let register: RegisterThread | undefined;
  try {
    const metrics = new Metrics();
    // The citizens held: the build's count at first, then the register's after each batch and build switch.
    const count = new LiveCount();
    const counted = (records: number) => {
      count.set(records);
      metrics.indexRecords.set(records);
    };
    // The register's writer opens the index first, checking the secret's fingerprint: a wrong secret is named so, not as a trail that fails to authenticate.
    register = await RegisterThread.start(registration.buildPath, secret, log, (outcome, done) => {
      metrics.registerBatches.inc({ outcome });
      if (!done) return;
      metrics.registerChanges.inc(done.changes);
      metrics.registerSequence.set(done.lastSequence);
      counted(done.records);
    });
    if (config.unprotected) log({ level: 'warn', msg: 'serving without protections, for measurement: no audit trail, rate limits, quotas or probing limits' });
    else audit = await AuditTrail.open(config.auditDir ?? join(config.indexDir, AUDIT_DIR), secret, {
      flushMs: config.auditFlushMs,
      maxFileBytes: config.auditMaxFileBytes,
      log,
      onWritten: (n) => metrics.auditRecords.inc(n),
      onError: () => metrics.auditErrors.inc(),
    });
    metrics.registerSequence.set(register.lastSequence);
    const service = await serveBuild(config, secret, registration.buildPath, log, metrics, audit, register, count);
    const writer = register;
    // A build refused (it does not say which changes it holds) is not tried again until `current` moves on.
    let refused: string | undefined;
    let switching: Promise<void> | undefined;
    const reload = async () => {
      const next = currentBuildDir(config.indexDir);
      if (!next || next === registration.buildPath || next === refused) return;
      const nextRegistration = ReaderRegistration.register(config.indexDir);
      try {
        // Opened here first: a build of another format or secret is refused before the register moves.
        await IndexReader.openBuild(nextRegistration.buildPath, secret, { values: config.unprotected ? 'unsealed' : 'sealed' }).close();
        const { carried, lastSequence, records } = await writer.switchTo(nextRegistration.buildPath);
        await service.switchBuild(nextRegistration.buildPath);
        counted(records);
        metrics.registerSequence.set(lastSequence);
        void warmPageCache(join(nextRegistration.buildPath, DB_FILE)).catch(() => {});
        const previous = registration;
        registration = nextRegistration;
        previous.release();
        log({ level: 'info', msg: 'serving a new build', build: basename(registration.buildPath), records, carriedChanges: carried });
      } catch (err) {
        nextRegistration.release();
        refused = nextRegistration.buildPath;
        log({ level: 'error', msg: 'a new build is not served; the previous one still is', build: basename(nextRegistration.buildPath), reason: (err as Error).message });
      }
    };
    service.reload = () => (switching ??= reload().finally(() => (switching = undefined)));
    const watch = setInterval(() => void service.reload(), BUILD_CHECK_MS);
    watch.unref();
    const close = service.server.close;
    service.server.close = async () => {
      clearInterval(watch);
      await switching;
      await close();
      // After the last answer: every batch acknowledged is on disk.
      await register?.close();
      // After the last answer: every decision recorded is written and synced.
      if (audit) {
        const head = await audit.close();
        log({ level: 'info', msg: 'audit trail closed', seq: head.seq, head: head.mac });
      }
      registration.release();
    };
    return service;
  } catch (err) {
    await register?.close();
    await audit?.close();
    registration.release();
    throw err;
  }
}

/** Where the clients come from: the clients file (followed), or a throwaway demo client. */
function clientSource(config: Readonly<ServeConfig>): { entries: ClientEntry[]; demoKey?: string } {
  if (config.clientsFile) return { entries: readClientsFile(config.clientsFile) };
  const { entries, key } = demoClient();
  return { entries, demoKey: key };
}

/**
 * The clients file followed into `replace` (nothing to follow for the demo client), the
 * following stopped when the server closes, and the index read into the page cache.
 */
function served(config: Readonly<ServeConfig>, server: RunningServer, replace: (entries: ClientEntry[]) => void, buildPath: string, log: Log, demoKey: string | undefined, records: number): Omit<Service, 'switchBuild'> {
  const unfollow = config.clientsFile ? followClientsFile(config.clientsFile, replace, log) : () => {};
  const close = server.close;
  server.close = async () => {
    unfollow();
    await close();
  };
  warmPageCache(join(buildPath, DB_FILE)).then(
    ({ bytes, seconds }) => log({ level: 'info', msg: 'index pages read into the page cache', bytes, seconds: +seconds.toFixed(1) }),
    (err) => log({ level: 'warn', msg: 'could not pre-read the index', err: String(err) }),
  );
  return { server, demoKey, records, reload: async () => {} };
}

/** The server threads over the build, with the clients file followed and handed to each. */
async function serveBuild(config: Readonly<ServeConfig>, secret: Secret, buildPath: string, log: Log, metrics: Metrics, audit: AuditTrail | undefined, register: RegisterThread, count: LiveCount): Promise<Service> {
  // Opened on the main thread first: a foreign format or secret is refused before any thread starts.
  await IndexReader.openBuild(buildPath, secret, { values: config.unprotected ? 'unsealed' : 'sealed' }).close();
  // The register's count: the build's, with the births and deaths applied to it since.
  count.set(register.records);
  const { entries, demoKey } = clientSource(config);
  const server = await startThreads({ config, secret, buildPath, count, clients: entries, metrics, audit, register, log });
  // The main thread follows the file and hands each version to every thread.
  const service = served(config, server, (next) => server.replaceClients(next), buildPath, log, demoKey, count.get());
  return { ...service, switchBuild: (path) => server.switchBuild(path) };
}
