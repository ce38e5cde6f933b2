import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { IndexReader } from '../src/index/reader.js';
import { defaultSecretPath, Secret } from '../src/index/secret.js';
import { sha256Hex } from '../src/clients/clients.js';
import { Random } from '../src/synth/random.js';
import { BENCH_CLIENT, BENCH_KEY, benchIndex, NO_LIMITS } from './benchIndex.js';
import { machine, median, runScript, today } from './machine.js';
import { fullDateWithin } from './matching/pairs.js';
import { openLoop } from './openloop.js';
import { saveRun, writeReport } from './report.js';
import { startServerProcess } from './server.js';
import { wrkLoad } from './wrk.js';

/** The flooding client's key in the fairness bench's clients file. */
export const FLOOD_KEY = 'flood-key-not-secret';

export interface FairnessRound {
  /** The other client's single ID checks alone: p50 / p99 from when each was due, and how many were not answered 200. */
  quiet: { p50Ms: number | null; p99Ms: number | null; notOk: number; sent: number };
  /** The same during the flood. */
  flooded: { p50Ms: number | null; p99Ms: number | null; notOk: number; sent: number };
  /** The flood's requests answered (any status), refused (429 or 503), and its items answered 200 a second. */
  flood: { requests: number; refused: number; itemsPerSecond: number; socketErrors: number };
}

export interface FairnessResults {
  date: string;
  machine: string;
  scale: number;
  command: string;
  seconds: number;
  connections: number;
  otherRate: number;
  rounds: FairnessRound[];
}

/**
 * One client floods the server with 1,000-item search batches (wrk, 256 connections, no
 * limits of its own: a large client's allowance), while another client sends single ID
 * checks at a fixed rate (open loop: latency from when each was due, so a stall counts in
 * full). Each round measures the other client alone, then during the flood.
 *   npm run bench:fairness [-- --scale N --seconds S --rounds R]
 */
async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      scale: { type: 'string', default: '1000000' },
      seconds: { type: 'string', default: '15' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '256' },
      rate: { type: 'string', default: '100' },
    },
  });
  const scale = Number(args.scale);
  const seconds = Number(args.seconds);
  const connections = Number(args.connections);
  const otherRate = Number(args.rate);
  const { dir } = await benchIndex(scale);
  const bodies = fairnessBodies(dir);
  const clients = join(dir, 'fairness-clients.json');
  // No rate, quota or probing limit (a large client's allowance), and the server's default share of pending work: what fairness is about.
  const { pendingItems: _, ...unlimited } = NO_LIMITS;
  const client = (id: string, key: string, scopes: string[]) => ({ id, keySha256: sha256Hex(key), scopes, ...unlimited, consentRequired: false });
  writeFileSync(clients, JSON.stringify({ clients: [client(BENCH_CLIENT, BENCH_KEY, ['verify']), client('flood', FLOOD_KEY, ['demographic', 'batch'])] }));

  const server = await startServerProcess(['--index', dir, '--clients', clients]);
  await server.warm;
  const rounds: FairnessRound[] = [];
  try {
    const other = async () => {
      const r = await openLoop({ url: server.url, path: '/v1/verify', key: BENCH_KEY, bodies: bodies.checks, rate: otherRate, seconds, connections: 16 });

      return { p50Ms: r.p50, p99Ms: r.p99, notOk: r.total - (r.statuses.get(200) ?? 0), sent: r.total };
    };
    await other(); // warm-up
    for (let round = 0; round < Number(args.rounds); round++) {
      await new Promise((r) => setTimeout(r, 2000));
      const quiet = await other();
      const flooding = wrkLoad({ url: server.url, path: '/v1/verify/batch', key: FLOOD_KEY, bodies: bodies.batches, connections, seconds: seconds + 4 });
      await new Promise((r) => setTimeout(r, 2000)); // the flood's backlog builds up first
      const flooded = await other();
      const f = await flooding;
      const r: FairnessRound = { quiet, flooded, flood: { requests: f.total, refused: f.non2xx, itemsPerSecond: ((f.total - f.non2xx) * 1000) / (seconds + 4), socketErrors: f.errors } };
      process.stderr.write(`round ${round + 1}: ${JSON.stringify(r)}\n`);
      rounds.push(r);
    }
  } finally {
    await server.stop();
  }
  const results: FairnessResults = { date: today(), machine: machine(), scale, command: `npm run bench:fairness -- --scale ${scale}`, seconds, connections, otherRate, rounds };
  saveRun('fairness', results);
  writeReport();
  const p99 = median(rounds.map((r) => r.flooded.p99Ms ?? Infinity));
  process.stderr.write(`the other client's p99 during the flood: ${p99.toFixed(1)} ms (median of ${rounds.length} rounds)\n`);
}

/** Single ID checks of people in the index, and 1,000-item search batches of others. */
function fairnessBodies(dir: string): { checks: string[]; batches: string[] } {
  const reader = IndexReader.open(dir, Secret.load(defaultSecretPath(dir)));
  const random = new Random(7);
  const people = reader.sample(21_000, () => random.next());
  void reader.close();
  const checks = people.slice(0, 1000).map((p) => JSON.stringify({ idNumber: p.idNumber, fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random), gender: p.gender }));
  const searches = people.slice(1000).map((p) => JSON.stringify({ type: 'demographic', fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random) }));
  const batches: string[] = [];
  for (let at = 0; at + 1000 <= searches.length; at += 1000) batches.push(`{"items":[${searches.slice(at, at + 1000).join(',')}]}`);
  return { checks, batches };
}

runScript('fairness.js', main);
