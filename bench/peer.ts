import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { defaultSecretPath } from '../src/index/secret.js';
import { PACKAGE_ROOT } from '../src/packageFiles.js';
import { benchIndex, BENCH_SEED } from './benchIndex.js';
import { machine, median, today } from './machine.js';
import { saveRun, writeReport } from './report.js';

/**
 * The service beside the Fastify 5 + PostgreSQL 15 baseline of ../shared/peer, on the same
 * people (the bench index, and `idv gen` of the same seed loaded into PostgreSQL) and the
 * same request bodies, by the baseline's own side-by-side.sh: interleaved rounds of wrk
 * -t1 against the bare uWS ceiling, this service and the baseline, at each connection count.
 * What is missing is made first: the PostgreSQL load and the bodies, from the population file (made if they need it).
 *   npm run bench:peer -- --scale 10000000
 *   npm run bench:peer -- --scale 98000000 --connections 64
 */
const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '10000000' },
    peer: { type: 'string', default: join(PACKAGE_ROOT, '..', 'shared', 'peer') },
    data: { type: 'string', default: '/tmp/peer-data' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '16,64' },
  },
});
const scale = Number(args.scale);
const PG_PORT = 55432;
const database = `bench${scale}`;
const pgUrl = `postgres://postgres@127.0.0.1:${PG_PORT}/${database}`;
const run = promisify(execFile);
const log = (text: string) => process.stderr.write(text + '\n');

export interface PeerRun {
  connections: number;
  /** requests/s of each round, by what was measured: ceiling, idv-verify, peer-verify, idv-demographic, peer-demographic. */
  rps: Record<string, number[]>;
  p99Ms: Record<string, number[]>;
  non2xx: Record<string, number[]>;
}

export interface PeerResults {
  date: string;
  machine: string;
  node: string;
  scale: number;
  rounds: number;
  seconds: number;
  command: string;
  runs: PeerRun[];
}

/** Runs a command with its output on this process's stderr. */
function inherit(command: string, argv: string[], cwd = PACKAGE_ROOT): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${argv.join(' ')} exited ${code}`))));
  });
}

const psql = (sql: string, db = 'postgres') => run('psql', ['-h', '127.0.0.1', '-p', String(PG_PORT), '-U', 'postgres', '-d', db, '-tAc', sql]).then((r) => r.stdout.trim());

/** The baseline's database of the same people: made and loaded when it does not hold them all. */
async function ensurePeerData(population: () => Promise<string>): Promise<void> {
  await inherit(join(args.peer, 'pg-cluster.sh'), ['status']).catch(async () => {
    if (!existsSync(join(args.data, 'pg', 'data'))) await inherit(join(args.peer, 'pg-cluster.sh'), ['init']);
    await inherit(join(args.peer, 'pg-cluster.sh'), ['start']);
  });
  if ((await psql(`SELECT 1 FROM pg_database WHERE datname = '${database}'`)) !== '1') await psql(`CREATE DATABASE ${database}`);
  const rows = await psql('SELECT count(*) FROM citizens', database).catch(() => '0');
  if (Number(rows) === scale) return;
  log(`loading ${scale} citizens into PostgreSQL (${database})`);
  await inherit(process.execPath, [join(args.peer, 'load.mjs'), await population(), '--pg', pgUrl], args.peer);
}

/** A project directory as side-by-side.sh expects it: bin/idv.js, and the ceiling in dist/bench. */
function projectShim(): string {
  const dir = mkdtempSync(join(tmpdir(), 'idv-peer-'));
  symlinkSync(join(PACKAGE_ROOT, 'bin'), join(dir, 'bin'));
  mkdirSync(join(dir, 'dist'));
  symlinkSync(join(PACKAGE_ROOT, 'dist-bench', 'bench'), join(dir, 'dist', 'bench'));
  return dir;
}

const MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/** side-by-side.sh's lines: `name rps=N p50=T p99=T non2xx=N`. */
function parseLines(text: string, connections: number): PeerRun {
  const out: PeerRun = { connections, rps: {}, p99Ms: {}, non2xx: {} };
  for (const m of text.matchAll(/^(\S+) rps=([\d.]+) p50=\S* p99=([\d.]+)(us|ms|s) non2xx=(\d+)/gm)) {
    const [, name, rps, p99, unit, non2xx] = m;
    (out.rps[name] ??= []).push(Number(rps));
    (out.p99Ms[name] ??= []).push(Number(p99) * MS[unit]);
    (out.non2xx[name] ??= []).push(Number(non2xx));
  }
  return out;
}

async function main(): Promise<void> {
  const { dir } = await benchIndex(scale);
  mkdirSync(args.data, { recursive: true });
  // The bench index's people: `idv gen` of the same seed makes the same citizens.
  // Made only when the load or the bodies need it: 25 GB at 98M.
  const population = async () => {
    const path = join(args.data, `pop-${scale}.ndjson`);
    if (!existsSync(path)) await inherit(process.execPath, [join(PACKAGE_ROOT, 'bin', 'idv.js'), 'gen', '--count', String(scale), '--seed', String(BENCH_SEED), '--out', path]);
    return path;
  };
  await ensurePeerData(population);
  const bodies = join(args.data, `bodies-${scale}`);
  if (!existsSync(`${bodies}-demographic.ndjson`)) await inherit('python3', [join(args.peer, 'sample-bodies.py'), await population(), bodies, '100000']);

  const shim = projectShim();
  const runs: PeerRun[] = [];
  try {
    for (const connections of args.connections.split(',').map(Number)) {
      log(`side by side at ${connections} connections`);
      const { stdout } = await run('bash', [join(args.peer, 'side-by-side.sh'), shim, dir, defaultSecretPath(dir), pgUrl, `${bodies}-verify.ndjson`, `${bodies}-demographic.ndjson`, args.rounds, `${args.seconds}s`, String(connections)], { maxBuffer: 1 << 24 });
      log(stdout);
      runs.push(parseLines(stdout, connections));
    }
  } finally {
    rmSync(shim, { recursive: true, force: true });
  }
  const results: PeerResults = {
    date: today(),
    machine: machine(),
    node: process.versions.node,
    scale,
    rounds: Number(args.rounds),
    seconds: Number(args.seconds),
    command: `npm run bench:peer -- --scale ${scale}${args.connections === '16,64' ? '' : ` --connections ${args.connections}`}`,
    runs,
  };
  saveRun('peer', results);
  writeReport();
  for (const r of runs) log(`${r.connections} connections: search ${median(r.rps['idv-demographic'] ?? [])} req/s against the baseline's ${median(r.rps['peer-demographic'] ?? [])}`);
}

main().catch((err) => {
  log(String(err?.stack ?? err));
  process.exit(1);
});
