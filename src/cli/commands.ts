import { snapshotBuild } from '../replication/snapshot.js';
import { createWriteStream, existsSync, readdirSync, renameSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { once } from 'node:events';
import { serveConfig } from '../config.js';
import { buildIndex, type BuildReport, type RecordSource } from '../index/build.js';
import { openDbs, readMeta, servedFormat } from '../index/layout.js';
import { BuildLock, buildLockHolder } from '../index/buildLock.js';
import { checkIndex } from '../index/check.js';
import { describeProcess } from '../index/processes.js';
import { liveReaders, ReaderRegistration, removeUnusedBuilds, type Cleanup } from '../index/readers.js';
import { FORMAT_VERSION } from '../index/codec.js';
import { Secret } from '../index/secret.js';
import { fileSource } from '../index/sources.js';
import { syntheticSource } from '../synth/source.js';
import { startService, type Service } from '../service/serve.js';
import { CHUNK_SIZE, PopulationGenerator } from '../synth/generator.js';
import { Piscina } from 'piscina';
import { inOrder, workerPath } from '../workers.js';
import type { Citizen } from '../domain/citizen.js';
import { positiveInt, UsageError } from './args.js';
import { log } from './log.js';
import { createLogger, logTo } from '../log.js';
import { progressBar } from './progress.js';
import { AUDIT_DIR } from '../audit/trail.js';
import { recordsAbout, recordsWithConsent, verifyTrail } from '../audit/reader.js';
import type { AuditRecord } from '../audit/chain.js';
import { secretPath } from './secretPath.js';
import { changesForBuild } from '../register/carry.js';
import { serveSettings } from './serveSettings.js';
import { endOfLifeReason, glibcVersion, runtimeStatus } from '../runtime.js';
import { uwsBuild } from '../http/uws.js';



/** Stretches of the population as NDJSON text, made on worker threads and given in order. */
async function* generatedText(count: number, seed: number): AsyncGenerator<{ text: string; people: number }> {
  const pool = new Piscina({ filename: workerPath('synth'), minThreads: 2, maxThreads: 2 });
  function* tasks() {
    for (let start = 0; start < count; start += CHUNK_SIZE) yield { seed, start, count: Math.min(CHUNK_SIZE, count - start) };
  }
  try {
    for await (const { task, result } of inOrder<{ count: number }, string>(pool, tasks(), 4)) yield { text: result, people: task.count };
  } finally {
    await pool.destroy();
  }
}

export async function gen(f: { count: string; seed: string; out?: string }): Promise<void> {
  const count = positiveInt('count', f.count);
  const seed = positiveInt('seed', f.seed);
  // Owner-only: the file holds (synthetic) personal data, like a register extract.
  const out = f.out ? createWriteStream(f.out, { mode: 0o600 }) : process.stdout;
  // A closed pipe (`idv gen ... | head`) ends the command quietly.
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const bar = f.out ? progressBar() : undefined;
  let done = 0;
  for await (const { text, people } of generatedText(count, seed)) {
    if (!out.write(text)) await once(out, 'drain');
    done += people;
    bar?.update('generate', done, count);
  }
  bar?.done();
  if (f.out) await new Promise<void>((r, j) => (out as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? j(e) : r())));
}

export async function runBuild(opts: { indexDir: string; source: RecordSource; secretFile?: string; threads?: number; rejects?: string; quiet?: boolean; unsealed?: boolean; includesChanges?: number }): Promise<BuildReport> {
  const indexDir = resolve(opts.indexDir);
  const path = secretPath(opts.secretFile, indexDir);
  const { secret, created } = Secret.loadOrCreate(path);
  if (created) log({ level: 'warn', msg: 'created a new secret (mode 0600); keep production secrets apart from the index', secretFile: path });
  const rejectsPath = resolve(opts.rejects ?? join(indexDir, 'rejects.ndjson'));
  if (opts.unsealed) log({ level: 'warn', msg: 'building unsealed, for measurement only: record values are readable without the secret, and the index is served only --unprotected' });
  const changes = await changesForBuild(indexDir, secret, opts.includesChanges);
  const bar = progressBar();
  const report = await buildIndex({ indexDir, secret, source: opts.source, rejectsPath, threads: opts.threads, sealed: !opts.unsealed, onProgress: (phase, done, total) => bar.update(phase, done, total), ...changes });
  bar.done();
  log({ level: 'info', msg: 'index built', path: report.path, records: report.records, rejects: report.rejects, rejectsFile: rejectsPath, seconds: report.seconds });
  logCleanup(report.cleanup);
  return report;
}

export async function build(f: { input?: string; synthetic?: string; seed: string; index: string; secretFile?: string; rejects?: string; threads?: string; unsealed?: boolean; includesChanges?: string }): Promise<void> {
  if ((f.input === undefined) === (f.synthetic === undefined)) throw new UsageError('give exactly one of --input FILE or --synthetic N');
  const source = f.input !== undefined ? await fileSource(resolve(f.input)) : syntheticSource(positiveInt('synthetic', f.synthetic), positiveInt('seed', f.seed));
  const includesChanges = f.includesChanges === undefined ? undefined : positiveInt('includes-changes', f.includesChanges);
  await runBuild({ indexDir: f.index, source, secretFile: f.secretFile, threads: f.threads ? positiveInt('threads', f.threads) : undefined, rejects: f.rejects, unsealed: f.unsealed, includesChanges });
}

function logCleanup(cleanup: Cleanup): void {
  if (cleanup.removed.length) log({ level: 'info', msg: 'removed unused builds', builds: cleanup.removed });
  for (const { build, readers } of cleanup.kept) log({ level: 'info', msg: 'kept a build still read', build, readers });
}

/** Re-reads a source file and reports every record the served build does not hold as the file has it. */
export async function check(f: { index: string; input: string; secretFile?: string; rejects?: string }): Promise<void> {
  const indexDir = resolve(f.index);
  const secret = Secret.load(secretPath(f.secretFile, indexDir));
  const report = await checkIndex({
    indexDir,
    secret,
    input: resolve(f.input),
    rejectsFile: f.rejects && resolve(f.rejects),
    onDifference: (d) => process.stdout.write(JSON.stringify(d) + '\n'),
  });
  process.stdout.write(JSON.stringify({ summary: report }) + '\n');
  if (report.differences > 0) throw new Error(`${report.differences} source records differ from the index`);
}

/** What the served build was made from and holds, who reads it, and whether a build runs. */
export async function info(f: { index: string }): Promise<void> {
  const indexDir = resolve(f.index);
  const registration = ReaderRegistration.register(indexDir);
  try {
    const dbs = openDbs(registration.buildPath, 'read');
    try {
      const { dictionary: _, ...meta } = readMeta(dbs);
      const readers = Object.fromEntries([...liveReaders(indexDir)].map(([build, ps]) => [build, ps.filter((p) => p.pid !== process.pid).map(describeProcess)]));
      process.stdout.write(JSON.stringify({ build: registration.buildPath, ...meta, readers, buildRunning: buildLockHolder(indexDir) ?? null }, null, 2) + '\n');
    } finally {
      await dbs.env.close();
    }
  } finally {
    registration.release();
  }
}

/** What this process runs on: the Node release, the uWebSockets.js build that loaded, glibc, and the release's end of life. */
export function runtime(): void {
  const status = runtimeStatus();
  const glibc = glibcVersion();
  const reason = status.pastEndOfLife ? { why: endOfLifeReason(glibc) } : {};
  process.stdout.write(JSON.stringify({ node: status.node, abi: process.versions.modules, uws: uwsBuild.version, uwsPackage: uwsBuild.package, glibc: glibc ?? null, endOfLife: status.endOfLife ?? null, pastEndOfLife: status.pastEndOfLife, ...reason }) + '\n');
}

/** `idv snapshot`: a consistent copy of the served build, while it serves, for a replica to start from. */
export async function snapshot(f: { index: string; out: string; secretFile?: string }): Promise<void> {
  const indexDir = resolve(f.index);
  const secret = Secret.load(secretPath(f.secretFile, indexDir));
  process.stdout.write(JSON.stringify(await snapshotBuild(indexDir, resolve(f.out), secret)) + '\n');
}

/** Removes builds no process reads any more, and partial builds of killed runs. */
export async function gc(f: { index: string }): Promise<void> {
  const indexDir = resolve(f.index);
  const lock = BuildLock.acquire(indexDir, 'gc');
  try {
    process.stdout.write(JSON.stringify(removeUnusedBuilds(indexDir)) + '\n');
  } finally {
    lock.release();
  }
}

type AuditOptions = { index?: string; auditDir?: string; trails?: string; secretFile?: string };

/**
 * The trails to read, and the secret that authenticates them: one trail (DIR/audit, or
 * --audit-dir), or with --trails every trail in a directory, one folder per instance
 * (each instance's trail copied there, for example with rsync), named by its folder.
 */
function trailsOf(f: AuditOptions): { trails: { name: string; dir: string }[]; secret: Secret } {
  if (!f.index && !f.auditDir && !f.trails) throw new UsageError('--index DIR (or --audit-dir DIR, or --trails DIR) is required');
  if (f.trails && f.auditDir) throw new UsageError('give --audit-dir D or --trails D, not both');
  const indexDir = resolve(f.index ?? '.');
  if (f.trails && !f.index && !f.secretFile) throw new UsageError('--trails needs the secret: --secret-file F (or --index DIR for its default place)');
  const secret = Secret.load(secretPath(f.secretFile, indexDir));
  if (f.trails) {
    const root = resolve(f.trails);
    const trails = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => ({ name: e.name, dir: join(root, e.name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (trails.length === 0) throw new Error(`${root} holds no trail folders (one folder per instance)`);
    return { trails, secret };
  }
  const dir = resolve(f.auditDir ?? process.env.IDV_AUDIT_DIR ?? join(indexDir, AUDIT_DIR));
  return { trails: [{ name: basename(dir), dir }], secret };
}

/** `idv audit verify` walks each trail's chain and names the first broken link (exit 1 if any trail is broken). */
export async function auditVerify(f: AuditOptions): Promise<void> {
  const { trails, secret } = trailsOf(f);
  const broken: string[] = [];
  for (const { name, dir } of trails) {
    const check = await verifyTrail(dir, secret);
    process.stdout.write(JSON.stringify(f.trails ? { trail: name, ...check } : check) + '\n');
    if (check.broken) broken.push(`${f.trails ? `trail ${name}: ` : ''}the audit trail is broken at ${check.broken.file} line ${check.broken.line}: ${check.broken.problem}`);
  }
  if (broken.length) throw new Error(broken.join('; '));
}

/**
 * `idv audit query --id N` lists the decisions about one citizen, oldest first; `--consent-ref REF` those that stated a consent reference.
 * Across several trails (--trails), every instance's decisions in one list by time, each naming its trail.
 */
export async function auditQuery(f: AuditOptions & { id?: string; consentRef?: string }): Promise<void> {
  if ((f.id === undefined) === (f.consentRef === undefined)) throw new UsageError('give one of --id N or --consent-ref REF');
  if (f.id !== undefined && !/^(\d{9}|\d{12})$/.test(f.id)) throw new UsageError('--id takes a 12-digit ID number or a 9-digit legacy number');
  const { trails, secret } = trailsOf(f);
  const found: { trail: string; record: AuditRecord }[] = [];
  for (const { name, dir } of trails) {
    const records = f.id !== undefined ? recordsAbout(dir, secret, f.id) : recordsWithConsent(dir, secret, f.consentRef!);
    for await (const record of records) found.push({ trail: name, record });
  }
  // One trail is in order already; several are merged by time (a stable sort keeps each trail's own order).
  if (trails.length > 1) found.sort((a, b) => a.record.time.localeCompare(b.record.time));
  for (const { trail, record } of found) {
    const { prev: _, subject: __, found: ___, ...shown } = record;
    process.stdout.write(JSON.stringify(f.trails ? { trail, ...shown } : shown) + '\n');
  }
}

/** Shows the demo key once, with a curl line that works as printed when an example citizen is known. */
function announce(service: Service, host: string, example?: Citizen): void {
  if (!service.demoKey) return;
  const claim = example
    ? { idNumber: example.idNumber, fullName: example.fullName, dateOfBirth: example.dateOfBirth }
    : { idNumber: '<12-digit ID number>', fullName: '<full name>' };
  const curl =
    `curl -s http://${host}:${service.server.port}/v1/verify -H 'Authorization: Bearer ${service.demoKey}' ` +
    `-H 'Content-Type: application/json' -d '${JSON.stringify(claim)}'`;
  process.stdout.write(
    `\nServing ${service.records} citizens on http://${host}:${service.server.port}\n` +
      `Demo API key (shown once, not stored): ${service.demoKey}\n` +
      `Try:\n  ${curl}\n\n`,
  );
}

/** Past the grace period, this long again for the register, the audit trail and the change stream to close. */
const CLOSE_MARGIN_MS = 10_000;

function stopOnSignals(service: Service, graceMs: number): void {
  const stop = (signal: string) => {
    log({ level: 'info', msg: 'shutting down', signal });
    // A shutdown that cannot finish (a peer that never answers) must not keep the process: it exits failed, saying so.
    setTimeout(() => {
      log({ level: 'error', msg: 'shutdown did not finish in time: exiting', afterMs: graceMs + CLOSE_MARGIN_MS });
      process.exit(1);
    }, graceMs + CLOSE_MARGIN_MS).unref();
    service.server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // A newly published build is served without a restart (it is also looked for every buildCheckMs).
  process.on('SIGHUP', () => void service.reload());
}

/** What `serve` and `demo` take (defined in program.ts): a flag for every setting (serveSettings.ts). */
export type ServeOptions = Record<string, unknown> & { index?: string; secretFile?: string; auditDir?: string };

async function serveWith(f: ServeOptions, example?: Citizen): Promise<Service> {
  const given = serveSettings(f);
  if (given.indexDir === undefined) throw new UsageError('serve needs the index directory: --index DIR (or IDV_INDEX, or indexDir in --config)');
  const indexDir = resolve(String(given.indexDir));
  const config = serveConfig({
    ...given,
    indexDir,
    secretFile: secretPath(given.secretFile as string | undefined, indexDir),
    auditDir: given.auditDir === undefined ? undefined : resolve(String(given.auditDir)),
  });
  const service = await startService(config, logTo(createLogger(config.logLevel)));
  announce(service, config.host, example);
  stopOnSignals(service, config.shutdownGraceMs);
  return service;
}

export async function serve(f: ServeOptions): Promise<void> {
  await serveWith(f);
}

/** `demo`'s defaults (program.ts shows them in its help). */
export const DEMO_DIR = '.idv/demo-index';
export const DEMO_SIZE = 1_000_000;
const DEMO_SEED = 1;

/**
 * A rebuilt demo index starts a new audit trail: the old one may be sealed under another
 * secret (older versions kept the default secret inside the index directory), and a
 * trail that does not authenticate stops a server at start. It is kept, renamed, for
 * `idv audit verify` with its own secret.
 */
function setAsideDemoTrail(indexDir: string): void {
  const trail = join(indexDir, AUDIT_DIR);
  if (!existsSync(trail)) return;
  const aside = `${trail}-before-${new Date().toISOString().replace(/[-:.]/g, '')}`;
  renameSync(trail, aside);
  process.stderr.write(`The demo's earlier audit trail is kept in ${aside}; a new one starts.\n`);
}

/** `npm start`: builds a demo index of 1,000,000 synthetic citizens on first run, then serves it. */
export async function demo(f: ServeOptions & { index: string; count: string }): Promise<void> {
  const indexDir = resolve(f.index);
  // The first citizen of the demo population: the printed curl line asks about them.
  const example = new PopulationGenerator(DEMO_SEED).next();
  const format = await servedFormat(indexDir);
  if (format !== FORMAT_VERSION) {
    const count = positiveInt('count', f.count);
    const why = format === undefined ? `No index at ${indexDir}` : `The index at ${indexDir} is of format ${format}, not ${FORMAT_VERSION}`;
    process.stderr.write(`${why}: building a demo index of ${count} synthetic citizens.\n`);
    await runBuild({ indexDir, source: syntheticSource(count, DEMO_SEED), secretFile: f.secretFile });
    if (!f.auditDir && !process.env.IDV_AUDIT_DIR) setAsideDemoTrail(indexDir);
  }
  await serveWith({ ...f, index: indexDir, demo: true }, example);
}
