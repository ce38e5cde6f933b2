import { statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runBuild } from '../src/cli/commands.js';
import { currentBuildDir } from '../src/index/layout.js';
import { syntheticSource } from '../src/index/sources.js';
import { sha256Hex } from '../src/server/clients.js';
import { PACKAGE_ROOT } from '../src/tsv.js';
import { load, type LoadResult } from './load.js';
import { wrkAvailable, wrkLoad } from './wrk.js';
import { machine, median, today } from './machine.js';
import { demographicBodies, samplePeople, verifyBodies } from './requests.js';
import { saveResults, type EndpointFigures, type ScaleResults } from './results.js';
import { startServerProcess, type ServerProcess } from './server.js';

/**
 * `npm run bench`: builds (once) a synthetic index at the given scale, then loads
 * /v1/verify and /v1/verify/demographic with varied bodies, with the work on the
 * piscina pool and inline on the event loop, and records medians in bench/RESULTS.md.
 */
const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32,256' }, // closed-loop clients: latency-bound, then throughput-bound
    'wrk-connections': { type: 'string', default: '256' },
    sample: { type: 'string', default: '20000' },
    smoke: { type: 'boolean', default: false }, // CI: measure, print, keep RESULTS.md as it is
  },
});
const scale = Number(args.scale);
const seed = Number(args.seed);
const runs = Number(args.runs);
const seconds = Number(args.seconds);
const connectionLevels = args.connections!.split(',').map(Number);
const KEY = 'bench-key-not-secret';
const ENDPOINTS = ['/v1/verify', '/v1/verify/demographic'] as const;

async function ensureIndex(dir: string): Promise<Record<string, number> | undefined> {
  if (currentBuildDir(dir)) return undefined;
  const report = await runBuild({ indexDir: dir, source: syntheticSource(scale, seed) });
  return report.seconds;
}

async function notFoundShare(server: ServerProcess): Promise<number> {
  const text = await (await fetch(server.url + '/metrics')).text();
  const count = (result: string) => Number(new RegExp(`idv_verification_results_total\\{kind="id",result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  const total = count('match') + count('mismatch') + count('not_found');
  return total ? count('not_found') / total : 0;
}

async function main(): Promise<void> {
  const dir = join(PACKAGE_ROOT, '.idv', `bench-${scale}`);
  mkdirSync(dir, { recursive: true });
  const buildSeconds = await ensureIndex(dir);
  const clients = join(dir, 'clients.json');
  writeFileSync(clients, JSON.stringify({ clients: [{ id: 'bench', keySha256: sha256Hex(KEY), scopes: ['verify', 'demographic', 'batch'] }] }));
  process.stderr.write(`sampling ${args.sample} request bodies from ${scale} citizens\n`);
  const people = samplePeople(scale, seed, Number(args.sample));
  const bodies = { '/v1/verify': verifyBodies(people, 0.1), '/v1/verify/demographic': demographicBodies(people) };

  const useWrk = await wrkAvailable();
  if (!useWrk) process.stderr.write('wrk not found (apt-get install wrk): autocannon figures only\n');
  const samples: Record<'pool' | 'inline', Record<string, EndpointFigures[]>> = { pool: {}, inline: {} };
  const shares: number[] = [];
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? (['pool', 'inline'] as const) : (['inline', 'pool'] as const);
    for (const mode of order) {
      const server = await startServerProcess(['--index', dir, '--clients', clients, '--dispatch', mode]);
      try {
        await load({ url: server.url, path: '/v1/verify', key: KEY, bodies: bodies['/v1/verify'], connections: 32, seconds: 2 }); // warm-up
        const plans: [string, number, typeof load][] = connectionLevels.map((c) => ['autocannon', c, load]);
        if (useWrk) plans.push(['wrk', Number(args['wrk-connections']), wrkLoad]);
        for (const [tool, connections, generate] of plans) {
          for (const path of ENDPOINTS) {
            const figures: LoadResult = await generate({ url: server.url, path, key: KEY, bodies: bodies[path], connections, seconds });
            if (figures.errors || figures.non2xx) throw new Error(`${mode} ${path}: ${figures.errors} errors, ${figures.non2xx} non-2xx`);
            (samples[mode][`${path} @${connections} ${tool}`] ??= []).push(figures);
            process.stderr.write(`run ${run + 1} ${mode} ${path} ${tool} ${connections} connections: ${Math.round(figures.requestsPerSecond)} req/s p99 ${figures.p99} ms\n`);
          }
        }
        shares.push(await notFoundShare(server));
      } finally {
        await server.stop();
      }
    }
  }
  const medians = (list: EndpointFigures[]): EndpointFigures => ({
    requestsPerSecond: median(list.map((f) => f.requestsPerSecond)),
    p50: median(list.map((f) => f.p50)),
    p97_5: median(list.map((f) => f.p97_5)),
    p99: median(list.map((f) => f.p99)),
  });
  const summary = (mode: 'pool' | 'inline') => Object.fromEntries(Object.entries(samples[mode]).map(([key, list]) => [key, medians(list)]));
  const bytes = statSync(join(currentBuildDir(dir)!, 'index.mdb')).size;
  const results: ScaleResults = {
    date: today(),
    machine: machine(),
    scale,
    command: `npm run bench -- --scale ${scale} --runs ${runs} --seconds ${seconds} --connections ${args.connections}` + (useWrk ? ` --wrk-connections ${args['wrk-connections']}` : ''),
    runs,
    seconds,
    index: { bytes, bytesPerCitizen: bytes / scale, buildSeconds },
    endpoints: { pool: summary('pool'), inline: summary('inline') },
    unknownShareSeen: median(shares),
  };
  if (args.smoke) {
    process.stdout.write(JSON.stringify(results.endpoints, null, 2) + '\n');
    return;
  }
  saveResults(results);
  process.stderr.write('wrote bench/RESULTS.md\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
