import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256Hex } from '../src/clients/clients.js';
import type { Citizen } from '../src/domain/citizen.js';
import { IndexReader } from '../src/index/reader.js';
import { defaultSecretPath, Secret } from '../src/index/secret.js';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import { syntheticCitizens } from '../src/synth/generator.js';
import { Random } from '../src/synth/random.js';
import { benchIndex, BENCH_CLIENT, BENCH_KEY, NO_LIMITS } from './benchIndex.js';
import { bodiesFrom } from './bodies.js';
import { machine, median, runScript, today } from './machine.js';
import { saveRun, writeReport } from './report.js';
import { changesAbout } from './registerLoad.js';
import { metricSum } from './scrape.js';
import { startBenchServer, startServerProcess, type ServerProcess } from './server.js';
import { wrkLoad } from './wrk.js';

/**
 * The replication issue's targets, on one machine, at one scale:
 * - a snapshot of the bench index taken while it serves (the replica's seed);
 * - change committed on the primary to visible on a replica, at 2,000 changes/s;
 * - a replica catching up after it was stopped while changes went on;
 * - failover: the primary killed (SIGKILL), a replica started with --promote, the first
 *   batch it accepts;
 * - what the shared limits cost a verifying instance, beside the same instance alone.
 *
 *   npm run bench:replication -- --scale 10000000
 *   npm run bench:replication -- --smoke          CI: 20,000 citizens, short runs, nothing saved
 */
const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '20' },
    catchUp: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    smoke: { type: 'boolean', default: false },
  },
});

export interface CatchUp {
  changes: number;
  seconds: number;
  perSecond: number;
}

export interface ReplicationResults {
  date: string;
  machine: string;
  node: string;
  cores: number;
  scale: number;
  command: string;
  snapshot: { seconds: number; bytes: number; whileServing: string };
  visible: { rate: number; offered: number; seconds: number; batches: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** The register's everyday changes (bench:register's mix). */
  catchUp: CatchUp;
  /** Births alone (absent from runs before it was measured). */
  catchUpBirths?: CatchUp;
  failover: { seconds: number; sequence: number };
  sharedLimits: {
    rounds: number;
    ceiling: number[];
    alone: number[];
    shared: number[];
    ratio: number;
    /** CPU of the instance's process (ms) per 1,000 answers, each round (absent from runs before it was measured). */
    cpuMsPer1000?: { alone: number[]; shared: number[] };
    /** Calls to the shared limits (counting guessing answers) per 1,000 answers, each round. */
    limitCallsPer1000?: number[];
  };
}

const REGISTRAR_KEY = 'bench-registrar-key-not-secret';

async function main(): Promise<void> {
  const scale = args.smoke ? 20_000 : Number(args.scale);
  const rate = Number(args.rate);
  const seconds = args.smoke ? 3 : Number(args.seconds);
  const rounds = args.smoke ? 1 : Number(args.rounds);
  const catchUp = args.smoke ? 5000 : Number(args.catchUp);
  const bench = await benchIndex(scale);
  const secretFile = defaultSecretPath(bench.dir);
  const work = join(PACKAGE_ROOT, '.idv', `replication-${scale}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const clients = join(work, 'clients.json');
  const limits = { ...NO_LIMITS, consentRequired: false, scores: true };
  writeFileSync(
    clients,
    JSON.stringify({
      clients: [
        { id: BENCH_CLIENT, keySha256: sha256Hex(BENCH_KEY), scopes: ['verify', 'demographic', 'batch'], ...limits },
        { id: 'registrar', keySha256: sha256Hex(REGISTRAR_KEY), scopes: ['admin'], ...limits },
      ],
    }),
  );
  const nats = await startNats(join(work, 'nats'));
  const stops: (() => Promise<void>)[] = [() => nats.stop()];
  // A server killed or stopped already is not waited for again.
  const stopped = (server: ServerProcess) => (server.child.exitCode !== null || server.child.signalCode !== null ? Promise.resolve() : server.stop());
  try {
    // The primary: a copy of the bench index (which stays as built), served with the stream.
    log('copying the bench index for the primary');
    snapshot(bench.dir, join(work, 'primary'), secretFile);
    const serveArgs = (dir: string, ...more: string[]) => ['--index', dir, '--secret-file', secretFile, '--clients', clients, '--nats', nats.url, '--shed-delay', '60000', ...more];
    let primary = await startServerProcess(serveArgs(join(work, 'primary')));
    stops.push(() => stopped(primary));
    await primary.warm;
    const births = syntheticCitizens(77, 0, 10_000_000);
    let batchNo = 0;
    const postBatch = async (url: string, size: number) => {
      const changes = Array.from({ length: size }, () => ({ op: 'upsert', record: births.next().value as Citizen }));
      const reply = await fetch(`${url}/v1/records`, { method: 'POST', headers: { authorization: `Bearer ${REGISTRAR_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ idempotencyKey: `bench-${batchNo++}`, changes }) });
      const body = (await reply.json()) as { lastSequence?: number };
      return { status: reply.status, lastSequence: body.lastSequence ?? 0 };
    };
    await retryUntilOk(() => postBatch(primary.url, 10));

    // The replica's seed, taken while the primary serves verifications.
    const bodies = bodiesFrom(bench.dir, 20_000);
    log('snapshot of the primary while it serves');
    const load = wrkLoad({ url: primary.url, path: '/v1/verify', key: BENCH_KEY, bodies: bodies.verify, connections: 8, seconds: 3600 }).catch(() => undefined);
    const started = performance.now();
    const seeded = snapshot(join(work, 'primary'), join(work, 'replica'), secretFile);
    const snapshotSeconds = (performance.now() - started) / 1000;
    spawnSync('pkill', ['-f', `wrk -t1 -c8`]);
    await load;
    let replica = await startServerProcess(serveArgs(join(work, 'replica'), '--replica'));
    stops.push(() => stopped(replica));
    await replica.warm;

    // Change to visible, at `rate` changes a second: batches of 100 every 50 ms (open loop),
    // each batch's acknowledgement against the first moment the replica's log holds it.
    log(`${rate} changes a second for ${seconds} s`);
    const perBatch = 100;
    const acknowledged: { seq: number; at: number }[] = [];
    const seen: { seq: number; at: number }[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const at = performance.now();
        const page = (await (await fetch(`${replica.url}/v1/changes?after=${seen.at(-1)?.seq ?? 0}&limit=1`, { headers: { authorization: `Bearer ${REGISTRAR_KEY}` } })).json()) as { lastSequence: number };
        if (!seen.length || page.lastSequence > seen.at(-1)!.seq) seen.push({ seq: page.lastSequence, at });
        await pause(2);
      }
    })();
    const sends: Promise<void>[] = [];
    const t0 = performance.now();
    const intervalMs = (1000 * perBatch) / rate;
    for (let k = 0; performance.now() - t0 < seconds * 1000; k++) {
      const due = t0 + k * intervalMs;
      if (due > performance.now()) await pause(due - performance.now());
      sends.push(postBatch(primary.url, perBatch).then(({ status, lastSequence }) => {
        if (status === 200) acknowledged.push({ seq: lastSequence, at: performance.now() });
      }));
    }
    await Promise.all(sends);
    const offered = (acknowledged.length * perBatch) / ((performance.now() - t0) / 1000);
    const lastSeq = Math.max(...acknowledged.map((a) => a.seq));
    while (!seen.length || seen.at(-1)!.seq < lastSeq) await pause(5);
    polling = false;
    await poll;
    const delays = acknowledged.map(({ seq, at }) => Math.max(0, seen.find((s) => s.seq >= seq)!.at - at)).sort((a, b) => a - b);
    const pct = (p: number) => delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))];
    const visible = { rate, offered: Math.round(offered), seconds, batches: delays.length, p50Ms: +pct(50).toFixed(1), p99Ms: +pct(99).toFixed(1), maxMs: +delays.at(-1)!.toFixed(1) };
    log(`visible on the replica: p50 ${visible.p50Ms} ms, p99 ${visible.p99Ms} ms, max ${visible.maxMs} ms (${visible.offered} changes/s acknowledged)`);

    // Catching up: the replica stopped while `catchUp` changes are applied (idv apply), then started again.
    // Twice: the register's everyday changes (those bench:register applies), then births alone (each a new record and new lookups).
    const catchUpRound = async (kind: string, changes: Iterable<object>): Promise<CatchUp> => {
      await replica.stop();
      const file = join(work, 'catch-up.ndjson');
      const out = createWriteStream(file);
      for (const change of changes) out.write(JSON.stringify(change) + '\n');
      await new Promise<void>((resolve) => out.end(resolve));
      const applied = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'idv.js'), 'apply', '--index', join(work, 'primary'), '--secret-file', secretFile, '--input', file], { encoding: 'utf8' });
      if (applied.status !== 0) throw new Error(`idv apply: ${applied.stderr}`);
      const target = (await readyz(primary.url)).sequence;
      await waitFor(async () => (await readyz(primary.url)).sequence >= target && (await backlog(primary.url)) === 0, 120_000);
      const restart = performance.now();
      replica = await startServerProcess(serveArgs(join(work, 'replica'), '--replica'));
      await waitFor(async () => (await readyz(replica.url)).sequence >= target, 600_000);
      const seconds = (performance.now() - restart) / 1000;
      log(`caught up ${catchUp} changes (${kind}) in ${seconds.toFixed(1)} s (from its start)`);
      return { changes: catchUp, seconds: +seconds.toFixed(1), perSecond: Math.round(catchUp / seconds) };
    };
    const reader = IndexReader.open(bench.dir, Secret.load(secretFile));
    const random = new Random(31);
    const onRecord = reader.sample(catchUp, () => random.next());
    await reader.close();
    const catchUpEveryday = await catchUpRound('everyday', changesAbout(onRecord, random));
    const catchUpBirths = await catchUpRound('births', (function* () {
      for (let i = 0; i < catchUp; i++) yield { op: 'upsert', record: births.next().value };
    })());

    // Failover: the primary killed, the replica started again as the primary.
    primary.child.kill('SIGKILL');
    const killed = performance.now();
    await replica.stop();
    replica = await startServerProcess(serveArgs(join(work, 'replica'), '--promote'));
    await retryUntilOk(() => postBatch(replica.url, 1));
    const failoverSeconds = (performance.now() - killed) / 1000;
    const promotedAt = (await readyz(replica.url)).sequence;
    log(`failover: a batch accepted by the promoted replica ${failoverSeconds.toFixed(1)} s after the primary was killed`);
    await replica.stop();

    // What the shared limits cost: verify throughput of one instance alone and with --nats, beside the bare ceiling, interleaved.
    // Each round runs the two in the other order from the round before: neither always comes first after the ceiling.
    const alone: number[] = [];
    const shared: number[] = [];
    const ceiling: number[] = [];
    const cost = { alone: [] as number[], shared: [] as number[], limitCalls: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      const bare = await startBenchServer();
      ceiling.push((await wrkLoad({ url: bare.url, path: '/v1/verify', key: BENCH_KEY, bodies: bodies.verify, connections: 64, seconds: args.smoke ? 2 : 10 })).requestsPerSecond);
      await bare.stop();
      const both = [['alone', alone, []], ['shared', shared, ['--nats', nats.url]]] as const;
      for (const [name, list, more] of round % 2 === 0 ? both : [...both].reverse()) {
        const instance: ServerProcess = await startServerProcess(['--index', join(work, 'replica'), '--secret-file', secretFile, '--clients', clients, '--shed-delay', '60000', ...more]);
        await instance.warm;
        const before = { cpu: await metricSum(instance.url, 'idv_process_cpu_seconds_total'), calls: await metricSum(instance.url, 'idv_shared_limits_calls_total', { op: 'count' }) };
        const result = await wrkLoad({ url: instance.url, path: '/v1/verify', key: BENCH_KEY, bodies: bodies.verify, connections: 64, seconds: args.smoke ? 2 : 10 });
        if (result.non2xx > 0) throw new Error(`${result.non2xx} answers were not 200 (${name})`);
        const requests = result.requestsPerSecond * (args.smoke ? 2 : 10);
        // CPU of the whole process (every thread) per 1,000 answers; calls to the shared limits per 1,000 answers.
        cost[name].push(+((((await metricSum(instance.url, 'idv_process_cpu_seconds_total')) - before.cpu) * 1e6) / requests).toFixed(1));
        if (name === 'shared') cost.limitCalls.push(+((((await metricSum(instance.url, 'idv_shared_limits_calls_total', { op: 'count' })) - before.calls) * 1000) / requests).toFixed(2));
        list.push(result.requestsPerSecond);
        log(`round ${round + 1}: ${name} ${Math.round(result.requestsPerSecond)} req/s, ${cost[name].at(-1)} ms of CPU per 1,000 (ceiling ${Math.round(ceiling.at(-1)!)})`);
        await instance.stop();
      }
    }
    const results: ReplicationResults = {
      date: today(),
      machine: machine(),
      node: process.versions.node,
      cores: availableParallelism(),
      scale,
      command: `npm run bench:replication -- --scale ${scale}`,
      snapshot: { seconds: +snapshotSeconds.toFixed(1), bytes: seeded.bytes, whileServing: 'POST /v1/verify at 8 connections' },
      visible,
      catchUp: catchUpEveryday,
      catchUpBirths,
      failover: { seconds: +failoverSeconds.toFixed(1), sequence: promotedAt },
      sharedLimits: { rounds, ceiling, alone, shared, ratio: +(median(shared) / median(alone)).toFixed(3), cpuMsPer1000: { alone: cost.alone, shared: cost.shared }, limitCallsPer1000: cost.limitCalls },
    };
    process.stdout.write(JSON.stringify(results) + '\n');
    if (args.smoke) return;
    saveRun('replication', results);
    writeReport();
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function snapshot(from: string, to: string, secretFile: string): { bytes: number } {
  const run = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'idv.js'), 'snapshot', '--index', from, '--out', to, '--secret-file', secretFile], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`idv snapshot: ${run.stderr}`);
  return JSON.parse(run.stdout) as { bytes: number };
}

async function readyz(url: string): Promise<{ sequence: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await (await fetch(`${url}/readyz`)).json()) as { sequence: number };
    } catch (err) {
      if (attempt === 5) throw new Error(`${url}/readyz: ${(err as Error).message} (${String((err as { cause?: unknown }).cause)})`);
      await pause(200);
    }
  }
}

async function backlog(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^idv_replication_backlog_changes (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function waitFor(done: () => Promise<boolean>, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (!(await done().catch(() => false))) {
    if (performance.now() > until) throw new Error(`not done within ${ms} ms`);
    await pause(5);
  }
}

async function retryUntilOk(attempt: () => Promise<{ status: number }>): Promise<void> {
  await waitFor(async () => (await attempt()).status === 200, 60_000);
}

/** Debian's nats-server with JetStream, on a free port, its store under `dir`. */
async function startNats(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  // Debian puts it in /usr/sbin, which a plain user's PATH (and CI's root) may lack.
  const program = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p)) ?? 'nats-server';
  const child = spawn(program, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  await pause(500);
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

runScript('bench/replication.js', main);
