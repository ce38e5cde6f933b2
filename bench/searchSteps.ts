import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { currentBuildDir, DB_FILE } from '../src/index/layout.js';
import { IndexReader } from '../src/index/reader.js';
import { defaultSecretPath, Secret } from '../src/index/secret.js';
import { warmPageCache } from '../src/index/warm.js';
import { CandidateRefs } from '../src/verification/candidateRef.js';
import { runItems } from '../src/verification/engine.js';
import type { WorkItem } from '../src/verification/types.js';
import { Random } from '../src/synth/random.js';
import { benchIndex } from './benchIndex.js';
import { machine, today } from './machine.js';
import { fullDateWithin } from './matching/pairs.js';

/**
 * Where a search's time goes, step by step: bench:budget's search bodies (sampled people,
 * their date made full) run through the engine with V8's sampling profiler on, and each
 * sample charged to the innermost step on its stack. Printed, for bench/ANALYSIS.md.
 *   npm run bench:steps -- --scale 98000000
 */
const { values: args } = parseArgs({ options: { scale: { type: 'string', default: '1000000' }, sample: { type: 'string', default: '5000' } } });
const scale = Number(args.scale);

/**
 * Steps by the function that does them (name@file), innermost first: a sample counts for
 * the first step found on its stack.
 */
const STEPS: [string, RegExp][] = [
  ['open a record (LMDB read, XChaCha20-Poly1305, msgpack)', /^byRecordKey@/],
  ['open a name posting (but its SipHash: the name from its codes)', /^(open|iv|xorStream|person)@postings\.js$/],
  ['SipHash (block keys, and the seals of postings)', /^sipHash128@/],
  ['look up a name block (LMDB)', /^byNameGroups@/],
  ['score names (matchName, near names)', /^(matchName|isNearName|prepareName)@/],
  ['rank and list (dates, references)', /^rankCandidates@/],
  ['make the blocks to look up (words, slips, near names)', /^(queryBlockTexts|widerBlockTexts|nearBlockTexts)@/],
];

interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

async function main(): Promise<void> {
  const { dir } = await benchIndex(scale);
  await warmPageCache(join(currentBuildDir(dir)!, DB_FILE));
  const secret = Secret.load(defaultSecretPath(dir));
  const reader = IndexReader.open(dir, secret);
  reader.fillNameFilter();
  const random = new Random(42);
  const people = reader.sample(Number(args.sample), () => random.next());
  const items: WorkItem[] = people.map((p) => ({ type: 'demographic', query: { fullName: p.fullName, dateOfBirth: fullDateWithin(p.dateOfBirth, random) }, options: { nameThreshold: 85, maxCandidates: 20 }, client: 'bench' }));
  const refs = new CandidateRefs(secret.bytes);
  runItems(reader, refs, items); // warm-up
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
  const started = performance.now();
  runItems(reader, refs, items);
  const micros = ((performance.now() - started) * 1000) / items.length;
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: { nodes: Node[]; samples: number[] } };
  session.disconnect();
  await reader.close();

  const parent = new Map<number, Node>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const counts = new Map<string, number>();
  let inSearch = 0;
  for (const id of profile.samples) {
    let step = 'other (the engine, garbage collection)';
    let searching = false;
    for (let n = byId.get(id); n; n = parent.get(n.id)) {
      const name = n.callFrame.functionName;
      if (name === 'runItems') searching = true;
      const where = `${name}@${n.callFrame.url.split('/').pop()}`;
      if (step.startsWith('other')) for (const [label, re] of STEPS) if (re.test(where)) step = label;
    }
    if (!searching && !step.startsWith('other')) searching = true;
    if (!searching) continue;
    inSearch++;
    counts.set(step, (counts.get(step) ?? 0) + 1);
  }
  process.stdout.write(`${today()}, ${machine()}, ${scale.toLocaleString('en')} citizens: ${micros.toFixed(0)} µs a search under the profiler (${items.length} searches)\n`);
  process.stdout.write('| step | share | µs a search |\n|---|---:|---:|\n');
  for (const [label, n] of [...counts].sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`| ${label} | ${((100 * n) / inSearch).toFixed(0)}% | ${((micros * n) / inSearch).toFixed(0)} |\n`);
  }
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
