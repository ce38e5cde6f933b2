import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Citizen } from '../src/domain/citizen.js';
import { IndexReader } from '../src/index/reader.js';
import { defaultSecretPath, Secret } from '../src/index/secret.js';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import { Random } from '../src/synth/random.js';
import { benchIndex, BENCH_KEY } from './benchIndex.js';
import { machine, today, runScript } from './machine.js';
import { fullDateWithin } from './matching/pairs.js';
import { savedRuns, saveRun, writeReport } from './report.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { changesAbout, changeStream, percentile, registerCopy } from './registerLoad.js';
import { earlierOf, STREAM_METHOD, streamCost, type RunSummary } from './registerRuns.js';
import { wrkAvailable, wrkLoad } from './wrk.js';

/**
 * The live register under load (the live-register issue's targets), on a copy of the bench
 * index of a scale (changes would otherwise alter the index the other benchmarks read):
 * - `idv apply` of a file of changes: changes per second;
 * - /v1/verify at its peak alone, and with a steady stream of changes (2,000 a second in
 *   batches of 100) sent meanwhile, in interleaved rounds: what the changes cost it, and
 *   how long a change takes from being sent to being seen by a verification.
 *   npm run bench:register -- --scale 10000000
 */
const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1000000' },
    changes: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
    smoke: { type: 'boolean', default: false },
  },
});
const smoke = args.smoke!;
const scale = smoke ? 20_000 : Number(args.scale);
const changeCount = smoke ? 5_000 : Number(args.changes);
const rate = smoke ? 200 : Number(args.rate);
const seconds = smoke ? 2 : Number(args.seconds);
const rounds = smoke ? 1 : Number(args.rounds);
const log = (text: string) => process.stderr.write(text + '\n');

export interface RegisterResults {
  date: string;
  machine: string;
  scale: number;
  command: string;
  /** How the stream was sent and probed (registerRuns.ts, STREAM_METHOD; absent: 1). */
  method?: number;
  apply: { changes: number; seconds: number; changesPerSecond: number };
  verifyAlone: number[];
  verifyWithChanges: number[];
  changesPerSecond: number[];
  visibleP50Ms: number;
  visibleP99Ms: number;
  visibleSamples: number;
  /** The first round of the stream, right after the bulk apply, kept apart: LMDB reuses the pages the bulk freed, and commits are slower meanwhile. */
  afterBulk?: { verifyAlone: number; verifyWithChanges: number; visibleP99Ms: number };
  /** The headline figures of the earlier runs at this scale, newest first (the verdict on the cost is their median with this run's). */
  earlier?: RunSummary[];
}

/** Changes of every kind about people drawn from the index: what a register sends in a day. */
function applyFile(dir: string, changes: object[]): RegisterResults['apply'] {
  const file = join(dir, 'changes.ndjson');
  writeFileSync(file, changes.map((c) => JSON.stringify(c)).join('\n') + '\n');
  const run = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'idv.js'), 'apply', '--index', dir, '--input', file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`idv apply failed: ${run.stderr}`);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  rmSync(file);
  return { changes: out.applied, seconds: out.seconds, changesPerSecond: out.changesPerSecond };
}

async function main(): Promise<void> {
  if (!(await wrkAvailable())) throw new Error('wrk is needed (apt-get install wrk)');
  const bench = await benchIndex(scale);
  const { dir, clients, remove } = registerCopy(bench.dir, scale);
  try {
    const reader = IndexReader.open(dir, Secret.load(defaultSecretPath(dir)));
    const random = new Random(17);
    // Apart: the people of the verify bodies, of the stream of changes, and of the applied file.
    const streamed = rate * seconds * rounds;
    const people = reader.sample(20_000 + streamed + Math.min(changeCount, scale), () => random.next());
    void reader.close();
    const bodies = people.slice(0, 20_000).map((p) => JSON.stringify({ idNumber: p.idNumber, fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random), gender: p.gender }));
    const streamPeople = people.slice(20_000, 20_000 + streamed);

    log(`idv apply of ${changeCount.toLocaleString('en')} changes`);
    const changes = changesAbout(people.slice(20_000 + streamed), random);
    while (changes.length < changeCount) changes.push(...changes.slice(0, changeCount - changes.length));
    const apply = applyFile(dir, changes);
    log(`  ${apply.changesPerSecond.toLocaleString('en')} changes/s`);
    // The copy and the applied file leave the disk with writing to do: done before anything is timed.
    execFileSync('sync');

    const server: ServerProcess = await startServerProcess(['--index', dir, '--clients', clients]);
    await server.warm;
    const verifyAlone: number[] = [];
    const verifyWithChanges: number[] = [];
    const delivered: number[] = [];
    const visible: number[] = [];
    let afterBulk: RegisterResults['afterBulk'];
    try {
      await wrkLoad({ url: server.url, path: '/v1/verify', key: BENCH_KEY, bodies, connections: 64, seconds: Math.min(5, seconds) }); // warm-up
      for (let round = smoke ? 1 : 0; round <= rounds; round++) {
        verifyAlone.push((await wrkLoad({ url: server.url, path: '/v1/verify', key: BENCH_KEY, bodies, connections: 64, seconds })).requestsPerSecond);
        const stream = changeStream(server.url, streamPeople, round * rate * seconds, random, rate, seconds);
        const loaded = await wrkLoad({ url: server.url, path: '/v1/verify', key: BENCH_KEY, bodies, connections: 64, seconds });
        const { sent, visibleMs } = await stream;
        if (round === 0) {
          afterBulk = { verifyAlone: verifyAlone.pop()!, verifyWithChanges: loaded.requestsPerSecond, visibleP99Ms: percentile(visibleMs, 0.99) };
          log(`  right after the bulk apply: verify ${Math.round(afterBulk.verifyAlone)} alone, ${Math.round(loaded.requestsPerSecond)} with changes; visible p99 ${afterBulk.visibleP99Ms.toFixed(1)} ms`);
          continue;
        }
        verifyWithChanges.push(loaded.requestsPerSecond);
        delivered.push(sent / seconds);
        visible.push(...visibleMs);
        log(`  round ${round}: verify ${Math.round(verifyAlone.at(-1)!)} alone, ${Math.round(loaded.requestsPerSecond)} with ${Math.round(sent / seconds)} changes/s (${((1 - loaded.requestsPerSecond / verifyAlone.at(-1)!) * 100).toFixed(1)}%); visible p99 ${percentile(visibleMs, 0.99).toFixed(1)} ms`);
      }
    } finally {
      await server.stop();
    }
    const results: RegisterResults = {
      date: today(),
      machine: machine(),
      scale,
      command: `npm run bench:register -- --scale ${scale}${rounds === 3 ? '' : ` --rounds ${rounds}`}`,
      method: STREAM_METHOD,
      apply,
      verifyAlone,
      verifyWithChanges,
      changesPerSecond: delivered,
      visibleP50Ms: percentile(visible, 0.5),
      visibleP99Ms: percentile(visible, 0.99),
      visibleSamples: visible.length,
      afterBulk,
      earlier: earlierOf(savedRuns<RegisterResults>('register').find((r) => r.scale === scale)),
    };
    const cost = streamCost(results);
    log(`verify cost of ${rate} changes/s: ${(cost * 100).toFixed(1)}%; change to visible p99 ${results.visibleP99Ms.toFixed(1)} ms; idv apply ${apply.changesPerSecond} changes/s`);
    if (!smoke) {
      saveRun('register', results);
      writeReport();
    } else if (!(apply.changesPerSecond > 0 && results.visibleP99Ms < 5000 && cost < 0.9)) {
      throw new Error('the register smoke run failed its lenient bounds');
    }
  } finally {
    remove();
  }
}

runScript('bench/register.js', main);
