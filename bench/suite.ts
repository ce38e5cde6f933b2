import { statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { currentBuildDir, DB_FILE } from '../src/index/layout.js';
import { readBuildFigures, type BuildFigures } from './build.js';
import { BENCH_KEY, benchIndex } from './benchIndex.js';
import { load, type LoadResult } from './load.js';
import { machine, median, today } from './machine.js';
import { microbenchmarks } from './micro.js';
import { saveResults, type SuiteResults } from './report.js';
import { anonMemory, durationBuckets, quantileBetween } from './scrape.js';
import { startBenchServer, startServerProcess, type ServerProcess } from './server.js';
import { check, targetsAt, type Figure } from './targets.js';
import { wrkAvailable, wrkLoad } from './wrk.js';
import { openLoop } from './openloop.js';
import { bodiesFrom, type Bodies } from './bodies.js';

/**
 * The benchmark suite: every figure of the national-scale targets, measured on one
 * index in one run, printed beside its target; exits 1 when a target is missed.
 *   npm run bench                    1,000,000 citizens (a few minutes)
 *   npm run bench:national           98,000,000 citizens (builds the index if absent)
 *   npm run bench -- --smoke         CI: a small index, short runs, lenient targets
 */
const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '10' },
    'overload-seconds': { type: 'string' },
    connections: { type: 'string', default: '256' },
    sample: { type: 'string', default: '20000' },
    smoke: { type: 'boolean', default: false },
    rebuild: { type: 'boolean', default: false },
  },
});
const smoke = args.smoke!;
const scale = smoke ? 20_000 : Number(args.scale);
const seconds = smoke ? 2 : Number(args.seconds);
const overloadSeconds = Number(args['overload-seconds'] ?? (smoke ? 3 : scale >= 50_000_000 ? 60 : 10));
const connections = Number(args.connections);
const targets = targetsAt(scale, smoke);
const KEY = BENCH_KEY;
const log = (text: string) => process.stderr.write(text + '\n');

async function timeToReady(dir: string, clients: string): Promise<number> {
  const started = performance.now();
  const server = await startServerProcess(['--index', dir, '--clients', clients]);
  for (;;) {
    const ok = await fetch(server.url + '/readyz').then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const elapsed = (performance.now() - started) / 1000;
  await server.stop();
  return elapsed;
}

type Generate = typeof wrkLoad;

/**
 * Peak closed-loop throughput, with wrk when installed (lighter than autocannon). Counts
 * answered requests only: past the shedding point some are refused with 503 by design.
 */
async function peak(generate: Generate, url: string, path: string, bodies: string[], conns = connections): Promise<LoadResult & { refusedShare: number }> {
  await settle();
  const result = await generate({ url, path, key: KEY, bodies, connections: conns, seconds });
  if (result.errors) throw new Error(`${path}: ${result.errors} socket errors at ${conns} connections`);
  const refusedShare = result.total ? result.non2xx / result.total : 0;
  return { ...result, requestsPerSecond: result.requestsPerSecond * (1 - refusedShare), refusedShare };
}

const refusedNote = (r: { refusedShare: number }) => (r.refusedShare ? `, ${(r.refusedShare * 100).toFixed(1)}% refused with 503 (shedding)` : '');

/** A pause between measurements, so one's backlog does not count against the next. */
const settle = () => new Promise((r) => setTimeout(r, 2000));

/** Latency at a fixed offered rate (open loop), with the server's own p99 for the same requests. */
async function fixedRate(server: ServerProcess, path: string, bodies: string[], rate: number) {
  await settle();
  const before = await durationBuckets(server.url, path);
  const result = await openLoop({ url: server.url, path, key: KEY, bodies, rate, seconds });
  const after = await durationBuckets(server.url, path);
  const refused = result.total ? (result.non2xx + result.errors) / result.total : 0;
  return { result, refused, serverP99Ms: quantileBetween(before, after, 0.99) * 1000, clientP99Ms: result.okP99Ms };
}

/** Twice the sustainable rate, open loop: the excess must be refused at once, without harm. */
async function overload(server: ServerProcess, bodies: string[], sustainable: number) {
  await settle();
  const memoryBefore = anonMemory(server.child.pid!);
  const before = await durationBuckets(server.url, '/v1/verify');
  const result = await openLoop({ url: server.url, path: '/v1/verify', key: KEY, bodies, rate: 2 * sustainable, seconds: overloadSeconds, connections: 1024 });
  const after = await durationBuckets(server.url, '/v1/verify');
  const alive = await fetch(server.url + '/readyz').then((r) => r.ok, () => false);
  const refused = result.statuses.get(503) ?? 0;
  const answered = result.latenciesMs.length;
  return {
    offered: result.deliveredPerSecond,
    scheduled: result.requestsPerSecond,
    answeredPerSecond: answered / overloadSeconds,
    okPerSecond: (result.statuses.get(200) ?? 0) / overloadSeconds,
    refusedShare: answered ? refused / answered : NaN,
    // Vacuously every 503 when there are none; the refused share says whether there should have been.
    retryAfterShare: refused ? result.retryAfter / refused : 1,
    unanswered: result.errors,
    // From when each request was written until its 200 came back: the server's queue in its sockets included, the generator's own backlog not.
    acceptedP99Ms: result.okSentP99Ms,
    serverP99Ms: quantileBetween(before, after, 0.99) * 1000,
    memoryGrowth: anonMemory(server.child.pid!) - memoryBefore,
    alive,
  };
}

/**
 * What encryption at rest, the audit trail, rate limits and probing limits cost: the
 * served index against the same people built --unsealed and served --unprotected, in
 * interleaved rounds of the same load, the median of each.
 */
async function protectionsCost(generate: Generate, tool: string, bodies: Bodies, add: (key: string, name: string, unit: string, value: number, note?: string) => void): Promise<void> {
  const on = await benchIndex(scale, args.rebuild);
  const off = await benchIndex(scale, args.rebuild, true);
  const offBuild = readBuildFigures(off.dir);
  if (offBuild) add('unsealedBuildSeconds', 'protections off: build wall time of the same people, unsealed', 's', offBuild.wallSeconds, `${(offBuild.bytesPerCitizen).toFixed(1)} bytes a citizen`);
  const servers = [await startServerProcess(['--index', on.dir, '--clients', on.clients]), await startServerProcess(['--index', off.dir, '--clients', off.clients, '--unprotected'])];
  try {
    await Promise.all(servers.map((s) => s.warm));
    const loads = [
      { key: 'Verify', name: `POST /v1/verify peak (${tool}, ${connections} connections)`, path: '/v1/verify', bodies: bodies.verify, conns: connections, unit: 'req/s', per: 1 },
      { key: 'Demographic', name: `POST /v1/verify/demographic peak (${tool}, ${connections} connections)`, path: '/v1/verify/demographic', bodies: bodies.demographic, conns: connections, unit: 'req/s', per: 1 },
      { key: 'Batch', name: `POST /v1/verify/batch of 1,000 items (${tool}, 4 connections)`, path: '/v1/verify/batch', bodies: bodies.batch, conns: 4, unit: 'items/s', per: 1000 },
    ];
    for (const l of loads) {
      const rates: [number[], number[]] = [[], []];
      for (let round = 0; round < 3; round++) {
        for (const i of [0, 1]) rates[i].push((await peak(generate, servers[i].url, l.path, l.bodies, l.conns)).requestsPerSecond * l.per);
      }
      const [protectedRate, bareRate] = rates.map(median);
      add(`protected${l.key}`, `protections on: ${l.name}`, l.unit, protectedRate, `median of 3 rounds interleaved with the run below: ${rates[0].map(Math.round).join(', ')}`);
      add(`unprotected${l.key}`, `protections off (--unsealed, --unprotected): ${l.name}`, l.unit, bareRate, `${rates[1].map(Math.round).join(', ')}; on/off ×${(protectedRate / bareRate).toFixed(2)}`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Where the load comes from, said from what the run knows rather than assumed. */
function placement(): string {
  // Every server of the suite listens on the loopback interface: the generator is on the same machine.
  return `the generator runs on this machine (loopback) and shares its ${cpus().length} cores with the server`;
}

async function main(): Promise<void> {
  const { dir, clients } = await benchIndex(scale, args.rebuild);
  const build: BuildFigures | undefined = readBuildFigures(dir);
  const bodies = bodiesFrom(dir, Number(smoke ? 2000 : args.sample));
  const useWrk = await wrkAvailable();
  const generate: Generate = useWrk ? wrkLoad : load;
  const tool = useWrk ? 'wrk' : 'autocannon';
  const figures: Figure[] = [];
  const add = (key: string, name: string, unit: string, value: number, note?: string) => {
    const f = check({ key, name, unit, value, note }, targets);
    figures.push(f);
    log(`${f.pass === false ? 'MISS' : f.pass ? 'ok  ' : '    '} ${name}: ${Number.isFinite(value) ? +value.toFixed(3) : value} ${unit}${f.target ? ` (target ${f.target.op} ${+f.target.value.toFixed(3)})` : ''}`);
  };

  if (build) {
    add('buildSeconds', 'build wall time', 's', build.wallSeconds);
    add('buildPeakAnonBytes', 'build peak anonymous memory', 'bytes', build.peakAnonBytes);
  }
  const indexBytes = statSync(join(currentBuildDir(dir)!, DB_FILE)).size;
  add('indexBytes', 'index on disk', 'bytes', indexBytes);
  add('bytesPerCitizen', 'index bytes per citizen', 'bytes', indexBytes / scale);
  add('startToReadySeconds', 'start to ready (median of 3)', 's', median([await timeToReady(dir, clients), await timeToReady(dir, clients), await timeToReady(dir, clients)]));

  const ceilingServer = await startBenchServer();
  const server = await startServerProcess(['--index', dir, '--clients', clients]);
  await server.warm;
  const results: Record<string, LoadResult & { refusedShare: number }> = {};
  try {
    await generate({ url: server.url, path: '/v1/verify', key: KEY, bodies: bodies.verify, connections, seconds: Math.min(5, seconds) }); // warm-up
    // The ceiling and the service at each concurrency, one after the other, so each ratio is of one moment.
    for (const conns of [16, 64, connections]) {
      const ceiling = await peak(generate, ceilingServer.url, '/v1/verify', bodies.verify, conns);
      const verify = await peak(generate, server.url, '/v1/verify', bodies.verify, conns);
      const suffix = conns === connections ? '' : String(conns);
      add(`ceiling${suffix}`, `bare uWS ceiling (${tool}, ${conns} connections)`, 'req/s', ceiling.requestsPerSecond, `p99 ${ceiling.p99} ms`);
      add(`verifyPeak${suffix}`, `POST /v1/verify peak (${tool}, ${conns} connections)`, 'req/s', verify.requestsPerSecond, `p99 ${verify.p99} ms${refusedNote(verify)}`);
      if (suffix) add(`verifyP99_${suffix}`, `POST /v1/verify p99 (${tool}, ${conns} connections)`, 'ms', verify.p99);
      add(`ceilingRatio${suffix}`, `verify peak / ceiling (${conns} connections)`, 'ratio', verify.requestsPerSecond / ceiling.requestsPerSecond);
      if (conns === connections) results.verify = verify;
    }
    results.demographic = await peak(generate, server.url, '/v1/verify/demographic', bodies.demographic, 64);
    add('demographicPeak', `POST /v1/verify/demographic peak (${tool}, 64 connections)`, 'req/s', results.demographic.requestsPerSecond, `p99 ${results.demographic.p99} ms${refusedNote(results.demographic)}`);

    const v20k = await fixedRate(server, '/v1/verify', bodies.verify, smoke ? 2000 : 20_000);
    // Client side, from when each request was due: a server on its own threads sees nothing of the wait in its sockets.
    add('verifyP99At20k', `POST /v1/verify p99 at ${smoke ? '2,000' : '20,000'} req/s offered (client side, from when each was due)`, 'ms', v20k.clientP99Ms, `open loop on 256 connections; p50 ${v20k.result.p50.toFixed(2)} ms; the server's own histogram: p99 ${v20k.serverP99Ms.toFixed(2)} ms; ${(v20k.refused * 100).toFixed(1)}% refused or unanswered`);
    const d7k = await fixedRate(server, '/v1/verify/demographic', bodies.demographic, smoke ? 750 : 7500);
    add('demographicP99At7500', `POST /v1/verify/demographic p99 at ${smoke ? '750' : '7,500'} req/s offered (client side, from when each was due)`, 'ms', d7k.clientP99Ms, `open loop on 256 connections; p50 ${d7k.result.p50.toFixed(2)} ms; the server's own histogram: p99 ${d7k.serverP99Ms.toFixed(2)} ms; ${(d7k.refused * 100).toFixed(1)}% refused or unanswered`);

    const batch = await peak(generate, server.url, '/v1/verify/batch', bodies.batch, 4);
    add('batchItemsPerSecond', `POST /v1/verify/batch of 1,000 items (${tool}, 4 connections)`, 'items/s', batch.requestsPerSecond * 1000, refusedNote(batch).slice(2));

    const o = await overload(server, bodies.verify, results.verify.requestsPerSecond);
    const note = `${overloadSeconds} s open loop scheduled at 2 × ${Math.round(results.verify.requestsPerSecond)} req/s on 1,024 connections: ${Math.round(o.offered)} req/s delivered, ${Math.round(o.answeredPerSecond)} answered/s, ${o.unanswered} unanswered`;
    add('overloadOfferedRatio', 'overload: delivered / peak', 'ratio', o.offered / results.verify.requestsPerSecond, note);
    add('overloadGoodputRatio', 'overload: answered 200 per second / peak', 'ratio', o.okPerSecond / results.verify.requestsPerSecond, `${Math.round(o.okPerSecond)} req/s answered 200`);
    add('overloadRefusedShare', 'overload: share refused with 503 OVERLOADED', 'ratio', o.refusedShare);
    add('overloadRetryAfterShare', 'overload: share of 503s with Retry-After', 'ratio', o.retryAfterShare);
    add('overloadAcceptedP99', 'overload: p99 of requests answered 200, from when each was written', 'ms', o.acceptedP99Ms, `the server's own histogram: p99 ${o.serverP99Ms.toFixed(2)} ms`);
    add('overloadMemoryGrowthBytes', 'overload: growth of anonymous memory', 'bytes', o.memoryGrowth);
    add('overloadSurvived', 'overload: server ready afterwards', 'yes=1', o.alive ? 1 : 0);
  } finally {
    await Promise.all([server.stop(), ceilingServer.stop()]);
  }

  await protectionsCost(generate, tool, bodies, add);

  const micro = smoke ? [] : microbenchmarks();
  const suite: SuiteResults = {
    date: today(),
    machine: machine(),
    scale,
    command: smoke ? 'npm run bench -- --smoke' : scale === 98_000_000 ? 'npm run bench:national' : `npm run bench -- --scale ${scale}`,
    loadGenerator: `${tool} for peaks, an open-loop generator (bench/openloop.ts) for fixed rates and overload; ${placement()}`,
    seconds,
    figures,
    build,
    micro,
  };
  if (!smoke) saveResults(suite);
  const missed = figures.filter((f) => f.pass === false);
  log(missed.length ? `${missed.length} target(s) missed: ${missed.map((f) => f.key).join(', ')}` : 'every target met');
  process.exitCode = missed.length ? 1 : 0;
}

main().catch((err) => {
  log(`bench failed: ${(err as Error).stack ?? err}`);
  process.exit(2);
});
