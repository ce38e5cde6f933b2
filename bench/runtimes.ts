import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import { benchIndex, BENCH_KEY } from './benchIndex.js';
import { bodiesFrom } from './bodies.js';
import { machine, median, runScript, today } from './machine.js';
import { saveRun, writeReport } from './report.js';
import { startBenchServer, startServerProcess } from './server.js';
import { wrkLoad } from './wrk.js';

/**
 * The two runtimes side by side on one index, in interleaved rounds: Node 20 with
 * uWebSockets.js 20.30 on this machine (Debian 12), and the project's Node 24 with
 * uWebSockets.js 20.57 in the Debian 13 root of .ci/debian13, each beside the bare uWS
 * ceiling of its own runtime (dist-bench/bench/ceiling.js). wrk, on this machine, drives both.
 *
 *   bash .ci/debian13 -- sh -c 'npm ci && npm run build:bench'   # installs this tree in the root, once
 *   npm run bench:runtimes -- --scale 10000000       # 3 rounds of 10 s a figure
 */
const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    root: { type: 'string', default: '/var/cache/idv-ci/trixie' },
  },
});

export interface RuntimeFigures {
  /** What the server said it runs on. */
  node: string;
  uws: string;
  where: string;
  ceiling: number[];
  verify: number[];
  verifyP99Ms: number[];
  demographic: number[];
  demographicP99Ms: number[];
  batchItems: number[];
}

export interface RuntimesResults {
  date: string;
  machine: string;
  scale: number;
  command: string;
  rounds: number;
  seconds: number;
  connections: number;
  runtimes: RuntimeFigures[];
}

interface Runtime {
  where: string;
  idv: string[];
  ceiling: string[];
}

function runtimes(root: string): Runtime[] {
  const inRoot = [join(PACKAGE_ROOT, 'bench', 'in-debian13.sh'), root, '/work/idv/node_modules/.bin/node'];
  if (!existsSync(join(root, 'work/idv/dist-bench/bench/ceiling.js'))) throw new Error(`the tree and its benches are not installed in ${root}: bash .ci/debian13 -- sh -c 'npm ci && npm run build:bench'`);
  return [
    { where: 'Debian 12 (this machine)', idv: [process.execPath, join(PACKAGE_ROOT, 'bin', 'idv.js')], ceiling: [process.execPath, join(PACKAGE_ROOT, 'dist-bench', 'bench', 'ceiling.js')] },
    { where: 'Debian 13 root', idv: ['bash', ...inRoot, '/work/idv/bin/idv.js'], ceiling: ['bash', ...inRoot, '/work/idv/dist-bench/bench/ceiling.js'] },
  ];
}

async function main(): Promise<void> {
  const scale = Number(args.scale);
  const rounds = Number(args.rounds);
  const seconds = Number(args.seconds);
  const connections = Number(args.connections);
  const { dir, clients } = await benchIndex(scale);
  const bodies = bodiesFrom(dir, 20_000);
  const load = (url: string, path: string, list: string[], conns = connections) => wrkLoad({ url, path, key: BENCH_KEY, bodies: list, connections: conns, seconds });
  const settle = () => new Promise((r) => setTimeout(r, 2000));
  const all = runtimes(args.root!);
  const figures: RuntimeFigures[] = all.map((r) => ({ node: '', uws: '', where: r.where, ceiling: [], verify: [], verifyP99Ms: [], demographic: [], demographicP99Ms: [], batchItems: [] }));

  for (let round = 0; round < rounds; round++) {
    // Interleaved: each round starts with the other runtime, so drift on the machine falls on both.
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const runtime = all[i];
      const out = figures[i];
      const ceiling = await startBenchServer('ceiling.js', [], runtime.ceiling);
      await settle();
      out.ceiling.push((await load(ceiling.url, '/v1/verify', bodies.verify)).requestsPerSecond);
      await ceiling.stop();

      const server = await startServerProcess(['--index', dir, '--clients', clients], runtime.idv);
      await server.warm;
      out.node = server.runtime!.node;
      out.uws = server.runtime!.uws;
      await settle();
      const verify = await load(server.url, '/v1/verify', bodies.verify);
      out.verify.push(verify.requestsPerSecond);
      out.verifyP99Ms.push(verify.p99);
      await settle();
      const demographic = await load(server.url, '/v1/verify/demographic', bodies.demographic);
      out.demographic.push(demographic.requestsPerSecond);
      out.demographicP99Ms.push(demographic.p99);
      await settle();
      out.batchItems.push((await load(server.url, '/v1/verify/batch', bodies.batch, 4)).requestsPerSecond * 1000);
      await server.stop();
      process.stderr.write(`round ${round + 1}, Node ${out.node} + uWS ${out.uws}: ceiling ${out.ceiling.at(-1)!.toFixed(0)}, verify ${verify.requestsPerSecond.toFixed(0)} req/s\n`);
    }
  }
  const results: RuntimesResults = { date: today(), machine: machine(), scale, command: `npm run bench:runtimes -- --scale ${scale} --rounds ${rounds} --seconds ${seconds}`, rounds, seconds, connections, runtimes: figures };
  saveRun('runtimes', results);
  writeReport();
  for (const f of figures) process.stderr.write(`Node ${f.node} + uWS ${f.uws} (${f.where}): ceiling ${median(f.ceiling).toFixed(0)}, verify ${median(f.verify).toFixed(0)} req/s (${(median(f.verify) / median(f.ceiling)).toFixed(2)} of it), search ${median(f.demographic).toFixed(0)} req/s\n`);
}

runScript('runtimes.js', main);
